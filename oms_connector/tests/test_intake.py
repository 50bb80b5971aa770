"""The intake chain on a real ERPNext site: documents, ledgers, stock, failures and retries."""

from __future__ import annotations

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from oms_connector.erp import intake
from oms_connector.tests import fixtures as fx

CHANNEL = "OMS Test Web"
COD_CHANNEL = "OMS Test Web COD"


def new_id(prefix="T") -> str:
	return f"{prefix}-{frappe.generate_hash(length=8).upper()}"


def gl(voucher_type: str, voucher_no: str) -> dict[str, float]:
	"""Net debit per account for one voucher."""
	rows = frappe.get_all(
		"GL Entry",
		filters={"voucher_type": voucher_type, "voucher_no": voucher_no, "is_cancelled": 0},
		fields=["account", "sum(debit) - sum(credit) as net"],
		group_by="account",
	)
	return {row.account: flt(row.net) for row in rows}


def linked(doctype: str, order: str, **filters) -> list:
	return frappe.get_all(
		doctype,
		filters={"oms_channel_order": order, **filters},
		fields=["name", "docstatus", "grand_total", "is_return"] if doctype != "Sales Order" else ["name", "docstatus", "grand_total"],
		order_by="creation asc",
	)


class TestIntakeChain(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.basics = fx.ensure_basics()
		fx.ensure_channel(CHANNEL)
		fx.ensure_channel(COD_CHANNEL)
		cls.hanoi = cls.basics["warehouses"][0]
		for item in ("OMS-TSHIRT", "OMS-CAP"):
			fx.set_stock(item, cls.hanoi, 500)
		frappe.db.commit()

	def receive(self, payload, channel=CHANNEL, source="Test"):
		return intake.receive_order(channel, json.dumps(payload), source=source)

	def test_prepaid_order_whole_chain_with_ledgers_and_stock(self):
		order_id = new_id("PRE")
		tshirt_before = fx.actual_qty("OMS-TSHIRT", self.hanoi)

		name = self.receive(fx.canonical_order(order_id))
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Ordered", co.error)
		so = frappe.get_doc("Sales Order", co.sales_order)
		self.assertEqual(so.docstatus, 1)
		self.assertEqual(flt(so.grand_total), 390000)  # what the buyer paid
		self.assertEqual(so.po_no, order_id)
		self.assertEqual({row.warehouse for row in so.items}, {self.hanoi})
		tshirt = next(row for row in so.items if row.item_code == "OMS-TSHIRT")
		self.assertEqual(flt(tshirt.rate), 140000)  # 20,000 line discount spread over 2 units

		self.receive(fx.canonical_order(order_id, "shipped", shipments=[{"tracking_number": "VN123"}]))
		co.reload()
		self.assertEqual(co.status, "Shipped", co.error)
		[dn] = linked("Delivery Note", name)
		self.assertEqual(dn.docstatus, 1)
		self.assertEqual(frappe.db.get_value("Delivery Note", dn.name, "oms_tracking_number"), "VN123")
		self.assertEqual(fx.actual_qty("OMS-TSHIRT", self.hanoi), tshirt_before - 2)
		self.assertTrue(
			frappe.db.exists(
				"Stock Ledger Entry",
				{"voucher_no": dn.name, "warehouse": self.hanoi, "item_code": "OMS-TSHIRT", "actual_qty": -2},
			)
		)

		self.receive(fx.canonical_order(order_id, "completed"))
		co.reload()
		self.assertEqual(co.status, "Completed", co.error)
		[si] = linked("Sales Invoice", name)
		self.assertEqual(flt(si.grand_total), 390000)
		entries = gl("Sales Invoice", si.name)
		debtors = frappe.get_cached_value("Company", fx.COMPANY, "default_receivable_account")
		income = frappe.get_cached_value("Company", fx.COMPANY, "default_income_account")
		self.assertEqual(entries[debtors], 390000)
		self.assertEqual(entries[self.basics["shipping"]], -30000)
		# goods net of discounts 360,000 include 10% VAT: 327,273 income + 32,727 VAT
		self.assertAlmostEqual(entries[self.basics["vat"]], -32727, delta=1)
		self.assertAlmostEqual(entries[income], -327273, delta=1)
		self.assertEqual(sum(entries.values()), 0)

		[pe] = frappe.get_all("Payment Entry", filters={"oms_channel_order": name, "docstatus": 1}, pluck="name")
		pe_gl = gl("Payment Entry", pe)
		self.assertEqual(pe_gl[self.basics["cash"]], 390000)
		self.assertEqual(pe_gl[debtors], -390000)
		self.assertEqual(flt(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")), 0)
		self.assertEqual({row.purpose for row in co.documents}, {"Sales Order", "Delivery", "Invoice", "Payment"})

	def test_cod_order_stays_receivable(self):
		order_id = new_id("COD")
		name = self.receive(fx.canonical_order(order_id, "completed", payment_method="COD"), channel=COD_CHANNEL)
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Completed", co.error)
		[si] = linked("Sales Invoice", name)
		self.assertEqual(flt(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")), 390000)
		self.assertFalse(frappe.get_all("Payment Entry", filters={"oms_channel_order": name}))

		# the carrier remits the cash: one Payment Entry settles the invoice, and only once
		[pe] = intake.record_remittance(name, self.basics["cash"], reference="REMIT-1")
		self.assertEqual(frappe.db.get_value("Payment Entry", pe, ["docstatus", "reference_no"]), (1, "REMIT-1"))
		self.assertEqual(flt(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")), 0)
		self.assertEqual(intake.record_remittance(name, self.basics["cash"]), [])

	def test_completed_before_shipped_and_duplicates_change_nothing(self):
		order_id = new_id("OOO")
		payload = fx.canonical_order(order_id, "completed")
		name = self.receive(payload)
		for _ in range(3):
			self.receive(payload)  # the same bytes again
		self.receive(fx.canonical_order(order_id, "shipped"))  # late, older news
		self.receive(fx.canonical_order(order_id, "confirmed"))
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Completed", co.error)
		self.assertEqual(len(linked("Sales Order", name)), 1)
		self.assertEqual(len(linked("Delivery Note", name)), 1)
		self.assertEqual(len(linked("Sales Invoice", name)), 1)
		self.assertEqual(frappe.db.count("Channel Order Event", {"channel_order": name}), 3)  # completed, shipped, confirmed: repeats not stored twice
		self.assertEqual(frappe.db.count("Channel Order", {"external_order_id": order_id}), 1)

	def test_cancel_before_shipment_cancels_sales_order(self):
		order_id = new_id("CXL")
		name = self.receive(fx.canonical_order(order_id))
		so = frappe.db.get_value("Channel Order", name, "sales_order")
		self.receive(fx.canonical_order(order_id, "cancelled"))
		self.assertEqual(frappe.db.get_value("Channel Order", name, "status"), "Cancelled")
		self.assertEqual(frappe.db.get_value("Sales Order", so, "docstatus"), 2)
		self.assertFalse(linked("Delivery Note", name))

	def test_cancel_after_shipment_takes_goods_back(self):
		order_id = new_id("CXS")
		before = fx.actual_qty("OMS-CAP", self.hanoi)
		name = self.receive(fx.canonical_order(order_id, "shipped"))
		self.assertEqual(fx.actual_qty("OMS-CAP", self.hanoi), before - 1)
		self.receive(fx.canonical_order(order_id, "cancelled"))
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Returned", co.error)
		returns = linked("Delivery Note", name, is_return=1, docstatus=1)
		self.assertEqual(len(returns), 1)
		self.assertEqual(fx.actual_qty("OMS-CAP", self.hanoi), before)
		self.assertEqual(frappe.db.get_value("Sales Order", co.sales_order, "docstatus"), 1)

	def test_return_after_completion_makes_return_and_credit_note(self):
		order_id = new_id("RET")
		before = fx.actual_qty("OMS-TSHIRT", self.hanoi)
		name = self.receive(fx.canonical_order(order_id, "completed"))
		self.receive(fx.canonical_order(order_id, "returned", returned_lines={"OMS-TSHIRT": 1}))
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Returned", co.error)
		[ret] = linked("Delivery Note", name, is_return=1)
		self.assertEqual(frappe.db.get_value("Delivery Note Item", {"parent": ret.name}, "qty"), -1)
		self.assertEqual(fx.actual_qty("OMS-TSHIRT", self.hanoi), before - 1)
		[credit] = linked("Sales Invoice", name, is_return=1)
		self.assertEqual(credit.docstatus, 1)
		self.assertLess(flt(credit.grand_total), 0)
		debtors = frappe.get_cached_value("Company", fx.COMPANY, "default_receivable_account")
		self.assertLess(gl("Sales Invoice", credit.name)[debtors], 0)

	def test_unknown_sku_is_held_then_mapping_and_retry_complete_it(self):
		order_id = new_id("HLD")
		sku = f"SHOP-{order_id}"
		payload = fx.canonical_order(order_id)
		payload["lines"].append({"sku": sku, "qty": 1, "unit_price": 50000})
		name = self.receive(payload)
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Held")
		self.assertIn(sku, co.error)
		self.assertEqual([(row.problem, row.sku) for row in co.problems], [("Unknown SKU", sku)])
		self.assertIn(name, intake.held_for_unknown_sku(CHANNEL))
		self.assertFalse(frappe.get_all("Sales Order", filters={"oms_channel_order": name}))
		self.assertFalse(frappe.db.exists("Customer", {"oms_buyer_key": f"{CHANNEL}:buyer-{order_id}"}))

		frappe.get_doc(
			{"doctype": "Channel Listing", "sales_channel": CHANNEL, "sku": sku, "item_code": "OMS-MUG"}
		).insert(ignore_permissions=True)
		fx.set_stock("OMS-MUG", self.hanoi, 10)
		self.assertEqual(intake.retry_order(name), "Ordered")
		co.reload()
		self.assertEqual(co.error, "")
		self.assertEqual(co.problems, [])
		self.assertEqual(co.attempts, 2)
		so = frappe.get_doc("Sales Order", co.sales_order)
		self.assertIn("OMS-MUG", [row.item_code for row in so.items])

	def test_order_time_sent_in_utc_is_stored_in_the_site_time_zone(self):
		name = self.receive(fx.canonical_order(new_id("UTC"), created_at="2026-12-01T17:30:00Z"))
		expected = frappe.utils.convert_utc_to_system_timezone(frappe.utils.get_datetime("2026-12-01 17:30:00"))
		self.assertEqual(frappe.db.get_value("Channel Order", name, "order_date"), expected.replace(tzinfo=None))

	def test_missing_address_is_held(self):
		name = self.receive(fx.canonical_order(new_id("ADR"), shipping_address=None))
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Held")
		self.assertIn("shipping address", co.error)
		self.assertEqual([row.problem for row in co.problems], ["No Address"])

	def test_malformed_payload_is_kept_in_error(self):
		raw = '{"order_id": "BROKEN-1", "lines": [{"sku": "OMS-CAP", "qty": "lots"}]}'
		name = intake.receive_order(CHANNEL, raw, source="Test")
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Error")
		self.assertIn("not a number", co.error)
		self.assertEqual(co.raw_payload, raw)
		garbage = "this is not json " + frappe.generate_hash()
		co2 = frappe.get_doc("Channel Order", intake.receive_order(CHANNEL, garbage, source="Test"))
		self.assertEqual(co2.status, "Error")
		self.assertTrue(co2.external_order_id.startswith("UNREADABLE-"))
		self.assertEqual(co2.raw_payload, garbage)

	def test_failure_rolls_back_that_orders_documents(self):
		"""A Sales Order that can't be submitted leaves no Customer, Address or draft behind."""
		order_id = new_id("RBK")
		payload = fx.canonical_order(order_id, total=390000)
		payload["buyer"]["id"] = f"rollback-{order_id}"
		frappe.db.set_value("Sales Channel", CHANNEL, "shipping_fee_account", fx.wh("Nonexistent Account"))
		try:
			name = self.receive(payload)
		finally:
			frappe.db.set_value("Sales Channel", CHANNEL, "shipping_fee_account", self.basics["shipping"])
			frappe.db.commit()
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Error")
		self.assertFalse(frappe.db.exists("Customer", {"oms_buyer_key": f"{CHANNEL}:rollback-{order_id}"}))
		self.assertFalse(frappe.get_all("Sales Order", filters={"oms_channel_order": name}))
		self.assertEqual(intake.retry_order(name), "Ordered")

	def test_unmasked_phone_merges_customers_across_channels(self):
		phone = "09" + frappe.generate_hash(length=8).translate(str.maketrans("abcdef", "123456"))[:8]
		first = fx.canonical_order(new_id("C1"))
		first["buyer"] = {"name": "Lê Văn Cường", "phone": phone, "id": None}
		second = fx.canonical_order(new_id("C2"), payment_method="COD")
		second["buyer"] = {"name": "Le Van Cuong", "phone": "+84" + phone[1:], "id": None}
		masked = fx.canonical_order(new_id("C3"))
		masked["buyer"] = {"name": "Lê Văn Cường", "phone": "******" + phone[-2:], "id": None}
		a = frappe.db.get_value("Channel Order", self.receive(first), "customer")
		b = frappe.db.get_value("Channel Order", self.receive(second, channel=COD_CHANNEL), "customer")
		c = frappe.db.get_value("Channel Order", self.receive(masked), "customer")
		self.assertEqual(a, b)
		self.assertNotEqual(a, c)
