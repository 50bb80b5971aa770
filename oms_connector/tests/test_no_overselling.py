"""Two workers taking 200 orders at once for an item with 10 units allocate exactly 10."""

from __future__ import annotations

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from oms_connector.erp import intake
from oms_connector.tests import fixtures as fx
from oms_connector.tests.concurrency import run_workers

CHANNEL = "OMS Test Web"
ORDERS_PER_WORKER = 100
UNITS = 10


def take_orders(item: str, order_ids: list[str]):
	for order_id in order_ids:
		payload = fx.canonical_order(order_id, shipping_fee=0, seller_voucher=0)
		payload["lines"] = [{"sku": item, "qty": 1, "unit_price": 100000}]
		intake.receive_order(CHANNEL, json.dumps(payload), source="Worker")
		frappe.db.commit()


class TestNoOverselling(FrappeTestCase):
	def test_two_hundred_concurrent_orders_on_ten_units(self):
		fx.ensure_channel(CHANNEL)
		item = f"OMS-LAST-{frappe.generate_hash(length=6).upper()}"
		fx.ensure_item(item, 100000)
		hanoi = fx.wh("OMS Hanoi")
		fx.add_stock(item, hanoi, UNITS)
		frappe.db.commit()

		ids = [f"{item}-{n}" for n in range(2 * ORDERS_PER_WORKER)]
		errors = run_workers(take_orders, [(item, ids[0::2]), (item, ids[1::2])])
		self.assertEqual(errors, [])
		frappe.db.rollback()  # fresh snapshot of what the workers committed

		names = [intake.channel_order_name(CHANNEL, order_id) for order_id in ids]
		statuses = frappe.get_all("Channel Order", filters={"name": ("in", names)}, pluck="status")
		self.assertEqual(len(statuses), 2 * ORDERS_PER_WORKER)
		self.assertEqual(statuses.count("Ordered"), UNITS)
		self.assertEqual(statuses.count("Held"), 2 * ORDERS_PER_WORKER - UNITS)
		sold = frappe.db.sql(
			"""select sum(soi.qty) from `tabSales Order Item` soi join `tabSales Order` so on so.name = soi.parent
			where so.docstatus = 1 and soi.item_code = %s""",
			item,
		)[0][0]
		self.assertEqual(flt(sold), UNITS)
		bin_row = frappe.db.get_value("Bin", {"item_code": item, "warehouse": hanoi}, ["actual_qty", "reserved_qty"], as_dict=True)
		self.assertEqual((flt(bin_row.actual_qty), flt(bin_row.reserved_qty)), (UNITS, UNITS))
		held = frappe.get_all("Channel Order", filters={"name": ("in", names), "status": "Held"}, pluck="error", limit=1)
		self.assertIn(f"{item} short by 1", held[0])
