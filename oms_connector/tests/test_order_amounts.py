"""Amounts the ledgers must get right on every order: the shipping fee invoiced when packages
list only the goods, no order booked at 0 for a missing price, and returns booked once per unit
sent back, whatever the number of packages or return events."""

from __future__ import annotations

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from oms_connector.api import orders as orders_api
from oms_connector.erp import intake
from oms_connector.tests import fixtures as fx

WEB = "OMS Amounts Web"
STORE = "OMS Amounts Store"
UNPRICED = "OMS-UNPRICED"


def new_id(prefix: str) -> str:
	return f"{prefix}-{frappe.generate_hash(length=8).upper()}"


def receive(order: dict) -> str:
	return intake.receive_order(WEB, json.dumps(order), source="Webhook")


def docs(doctype: str, name: str, **filters) -> list:
	return frappe.get_all(
		doctype, filters={"oms_channel_order": name, "docstatus": 1, **filters}, fields=["name", "grand_total"], order_by="creation"
	)


def returned_qty(name: str, doctype: str) -> dict[str, float]:
	rows = frappe.db.sql(
		f"""select i.item_code, sum(-i.qty) from `tab{doctype} Item` i join `tab{doctype}` d on d.name = i.parent
		where d.oms_channel_order = %s and d.docstatus = 1 and d.is_return = 1 group by i.item_code""",
		name,
	)
	return {item: flt(qty) for item, qty in rows}


class TestOrderAmounts(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		shipping = fx.ensure_item("OMS-SHIPPING", 0, stock_item=False)
		fx.ensure_channel(WEB, shipping_fee_item=shipping, invoice_policy="On Shipment")
		fx.ensure_channel(STORE, platform="Store/Phone", taxes_and_charges=None)
		for item in ("OMS-TSHIRT", "OMS-CAP", "OMS-MUG"):
			fx.set_stock(item, fx.wh("OMS Hanoi"), 50)
		if not frappe.db.exists("Item", UNPRICED):
			fx.ensure_item(UNPRICED, 1000)
		frappe.db.delete("Item Price", {"item_code": UNPRICED})
		fx.set_stock(UNPRICED, fx.wh("OMS Hanoi"), 10)
		frappe.db.commit()

	def test_shipping_fee_is_delivered_and_invoiced_with_a_goods_only_package(self):
		"""Every platform's package lists the goods; the shipping line must still ship and bill."""
		order_id = new_id("SHP")
		name = receive(fx.canonical_order(order_id))
		package = {"package_id": "PKG-1", "tracking_number": "VN-PKG-1", "lines": {"OMS-TSHIRT": 2, "OMS-CAP": 1}}
		receive(fx.canonical_order(order_id, "shipped", shipments=[package]))
		doc = frappe.get_doc("Channel Order", name)
		self.assertEqual(doc.status, "Shipped", doc.error)
		[dn] = docs("Delivery Note", name)
		self.assertIn("OMS-SHIPPING", frappe.get_all("Delivery Note Item", filters={"parent": dn.name}, pluck="item_code"))
		[si] = docs("Sales Invoice", name)
		self.assertEqual(flt(si.grand_total), 390000)  # what the buyer paid, shipping included
		so = frappe.get_doc("Sales Order", doc.sales_order)
		self.assertEqual(flt(so.per_billed), 100)

	def test_a_line_without_a_price_holds_the_order_instead_of_selling_at_zero(self):
		name = orders_api.create_manual_order(
			STORE,
			{"buyer": {"name": "Hà", "phone": "0900000009"}, "shipping_address": {"line1": "1 Huế", "province": "Hà Nội"},
				"lines": [{"sku": UNPRICED, "qty": 1}], "payment_method": "COD"},
		)
		doc = frappe.get_doc("Channel Order", name)
		self.assertEqual(doc.status, "Held")
		self.assertIn(f"No price in price list {fx.PRICE_LIST}", doc.error)
		self.assertEqual([(p.problem, p.item_code) for p in doc.problems], [("No Price", UNPRICED)])
		self.assertFalse(frappe.get_all("Sales Order", filters={"oms_channel_order": name}))
		# the price arrives: the order goes round again by itself
		frappe.get_doc({"doctype": "Item Price", "item_code": UNPRICED, "price_list": fx.PRICE_LIST, "price_list_rate": 1000}).insert()
		self.assertEqual(frappe.db.get_value("Channel Order", name, "needs_processing"), 1)
		frappe.db.commit()
		intake.drain_orders()
		doc.reload()
		self.assertEqual(doc.status, "Ordered", doc.error)
		self.assertEqual(flt(frappe.db.get_value("Sales Order", doc.sales_order, "grand_total")), 1000)

	def test_return_of_a_line_shipped_in_two_packages_is_booked_once_and_a_second_return_too(self):
		order_id = new_id("RET")
		name = receive(fx.canonical_order(order_id))
		packages = [
			{"package_id": "P1", "tracking_number": "T1", "lines": {"OMS-TSHIRT": 1}},
			{"package_id": "P2", "tracking_number": "T2", "lines": {"OMS-TSHIRT": 1, "OMS-CAP": 1}},
		]
		receive(fx.canonical_order(order_id, "completed", shipments=packages))
		self.assertEqual(len(docs("Delivery Note", name, is_return=0)), 2)

		receive(fx.canonical_order(order_id, "returned", shipments=packages, returned_lines={"OMS-TSHIRT": 1}))
		self.assertEqual(returned_qty(name, "Delivery Note"), {"OMS-TSHIRT": 1})  # not once per package
		self.assertEqual(returned_qty(name, "Sales Invoice"), {"OMS-TSHIRT": 1})
		# prepaid: the money goes back to the buyer from the account it came into
		[credit] = docs("Sales Invoice", name, is_return=1)
		refunds = frappe.get_all(
			"Payment Entry", filters={"oms_channel_order": name, "payment_type": "Pay", "docstatus": 1}, fields=["paid_amount", "paid_from"]
		)
		self.assertEqual([(flt(r.paid_amount), r.paid_from) for r in refunds], [(-flt(credit.grand_total), fx.ensure_basics()["cash"])])
		self.assertEqual(flt(frappe.db.get_value("Sales Invoice", credit.name, "outstanding_amount")), 0)
		self.assertEqual(frappe.db.get_value("Channel Order", name, "status"), "Returned")

		# the buyer sends the rest back later: what is new is booked, nothing twice
		receive(fx.canonical_order(order_id, "returned", shipments=packages, returned_lines={"OMS-TSHIRT": 2, "OMS-CAP": 1}))
		self.assertEqual(returned_qty(name, "Delivery Note"), {"OMS-TSHIRT": 2, "OMS-CAP": 1})
		self.assertEqual(returned_qty(name, "Sales Invoice"), {"OMS-TSHIRT": 2, "OMS-CAP": 1})
		self.assertEqual(frappe.db.count("Payment Entry", {"oms_channel_order": name, "payment_type": "Pay", "docstatus": 1}), 2)
		intake.process_order(name)  # again: nothing more
		self.assertEqual(len(docs("Delivery Note", name, is_return=1)), 2)
		self.assertEqual(len(docs("Delivery Note", name, is_return=0)), 2)  # nothing returned was shipped again
