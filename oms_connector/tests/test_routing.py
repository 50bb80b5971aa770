"""Orders from across Vietnam land on the right warehouse of a 4-warehouse company, split and
reserved correctly; a rejecting warehouse makes the order re-route."""

from __future__ import annotations

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from oms_connector.api.orders import reroute_order
from oms_connector.erp import intake, routing
from oms_connector.tests import fixtures as fx

CHANNEL = "OMS Test Routing"
RULE = "OMS Test Routing Rule"
WAREHOUSES = {"OMS Route HN": "Hà Nội", "OMS Route DN": "Đà Nẵng", "OMS Route HCM": "TP HCM", "OMS Route CT": "Cần Thơ"}
EVERYWHERE, NORTH_SOUTH = "OMS-RT-1", "OMS-RT-2"


def wh(short: str) -> str:
	return fx.wh(short)


def order(province: str, lines: list[tuple[str, int]], **extra) -> dict:
	payload = fx.canonical_order(f"RT-{frappe.generate_hash(length=8).upper()}", shipping_fee=0, seller_voucher=0)
	payload["shipping_address"]["province"] = province
	payload["shipping_address"]["ward"] = ""
	payload["lines"] = [{"sku": sku, "qty": qty, "unit_price": 100000} for sku, qty in lines]
	payload.update(extra)
	return payload


def reserved(item: str, warehouse: str) -> float:
	return flt(frappe.db.get_value("Bin", {"item_code": item, "warehouse": warehouse}, "reserved_qty"))


class TestRouting(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		fx.ensure_basics()
		for index, (name, province) in enumerate(WAREHOUSES.items()):
			fx.ensure_warehouse(name, oms_province=province, oms_routing_priority=index, oms_daily_capacity=0)
		for item in (EVERYWHERE, NORTH_SOUTH):
			fx.ensure_item(item, 100000)
		channel = fx.ensure_channel(CHANNEL, taxes_and_charges=None, invoice_policy="Never")
		doc = frappe.get_doc("Sales Channel", channel)
		doc.set("warehouses", [{"warehouse": wh(name), "priority": i} for i, name in enumerate(WAREHOUSES)])
		doc.save(ignore_permissions=True)
		if not frappe.db.exists("Fulfilment Rule", RULE):
			frappe.get_doc(
				{
					"doctype": "Fulfilment Rule",
					"rule_name": RULE,
					"company": fx.COMPANY,
					"priority": 1,
					"sales_channel": CHANNEL,
					"split_policy": "Split When Needed",
					"max_shipments": 2,
					"base_cost_per_shipment": 20000,
					"cost_per_km": 20,
					"cost_per_kg": 5000,
					"split_penalty": 15000,
				}
			).insert(ignore_permissions=True)
		frappe.db.commit()

	def setUp(self):
		for name in WAREHOUSES:
			fx.set_stock(EVERYWHERE, wh(name), 20)
		frappe.db.commit()

	def receive(self, payload) -> frappe._dict:
		name = intake.receive_order(CHANNEL, json.dumps(payload), source="Test")
		return frappe.get_doc("Channel Order", name)

	def sales_order_rows(self, co) -> list[tuple[str, str, float]]:
		so = frappe.get_doc("Sales Order", co.sales_order)
		return sorted((row.item_code, row.warehouse, flt(row.qty)) for row in so.items)

	def test_orders_land_on_the_nearest_warehouse_with_stock(self):
		expected = {
			"Hải Phòng": "OMS Route HN",
			"Lào Cai": "OMS Route HN",
			"Thừa Thiên Huế": "OMS Route DN",
			"Quảng Nam": "OMS Route DN",
			"Sài Gòn": "OMS Route HCM",
			"Bình Dương": "OMS Route HCM",
			"Cà Mau": "OMS Route CT",
			"Tỉnh An Giang": "OMS Route CT",
		}
		for province, warehouse in expected.items():
			co = self.receive(order(province, [(EVERYWHERE, 1)]))
			self.assertEqual(co.status, "Ordered", f"{province}: {co.error}")
			self.assertEqual(self.sales_order_rows(co), [(EVERYWHERE, wh(warehouse), 1)], province)
			self.assertEqual(co.fulfilment_rule, RULE)
			self.assertIn(wh(warehouse), co.routing_summary)

	def test_line_splits_into_rows_and_reserves_in_each_warehouse(self):
		for name in WAREHOUSES:
			fx.set_stock(NORTH_SOUTH, wh(name), 0)
		fx.set_stock(NORTH_SOUTH, wh("OMS Route HN"), 5)
		fx.set_stock(NORTH_SOUTH, wh("OMS Route HCM"), 5)
		free_hn = fx.free_qty(NORTH_SOUTH, wh("OMS Route HN"))
		free_hcm = fx.free_qty(NORTH_SOUTH, wh("OMS Route HCM"))
		wanted = int(min(free_hn, free_hcm)) + 2  # more than either holds alone
		before = {name: reserved(NORTH_SOUTH, wh(name)) for name in WAREHOUSES}

		co = self.receive(order("Đà Nẵng", [(NORTH_SOUTH, wanted)]))
		self.assertEqual(co.status, "Ordered", co.error)
		rows = self.sales_order_rows(co)
		self.assertEqual({row[1] for row in rows}, {wh("OMS Route HN"), wh("OMS Route HCM")})
		self.assertEqual(sum(row[2] for row in rows), wanted)
		for _item, warehouse, qty in rows:
			short = next(name for name in WAREHOUSES if wh(name) == warehouse)
			self.assertEqual(reserved(NORTH_SOUTH, warehouse), before[short] + qty)
		self.assertEqual(reserved(NORTH_SOUTH, wh("OMS Route DN")), before["OMS Route DN"])
		decision = json.loads(co.routing_decision)
		self.assertEqual(len(decision["shipments"]), 2)

	def test_reject_reroutes_to_the_next_best_warehouse(self):
		co = self.receive(order("Hải Phòng", [(EVERYWHERE, 2)]))
		first_so = co.sales_order
		self.assertEqual(self.sales_order_rows(co), [(EVERYWHERE, wh("OMS Route HN"), 2)])
		hn_reserved = reserved(EVERYWHERE, wh("OMS Route HN"))

		self.assertEqual(reroute_order(co.name, reject_warehouse=wh("OMS Route HN")), "Ordered")
		co.reload()
		self.assertNotEqual(co.sales_order, first_so)
		self.assertEqual(self.sales_order_rows(co), [(EVERYWHERE, wh("OMS Route DN"), 2)])
		self.assertEqual(frappe.db.get_value("Sales Order", first_so, "docstatus"), 2)
		self.assertEqual(frappe.db.get_value("Sales Order", co.sales_order, "amended_from"), first_so)
		self.assertEqual(reserved(EVERYWHERE, wh("OMS Route HN")), hn_reserved - 2)
		self.assertIn(wh("OMS Route HN"), co.rejected_warehouses)

	def test_capacity_sends_the_next_order_elsewhere(self):
		used = routing.routed_orders_today([wh("OMS Route HCM")]).get(wh("OMS Route HCM"), 0)
		frappe.db.set_value("Warehouse", wh("OMS Route HCM"), "oms_daily_capacity", used + 1)
		try:
			first = self.receive(order("TP HCM", [(EVERYWHERE, 1)]))
			second = self.receive(order("TP HCM", [(EVERYWHERE, 1)]))
		finally:
			frappe.db.set_value("Warehouse", wh("OMS Route HCM"), "oms_daily_capacity", 0)
			frappe.db.commit()
		self.assertEqual(self.sales_order_rows(first)[0][1], wh("OMS Route HCM"))
		self.assertEqual(self.sales_order_rows(second)[0][1], wh("OMS Route CT"))

	def test_unplaceable_address_still_routes_and_says_so(self):
		co = self.receive(order("Atlantis", [(EVERYWHERE, 1)]))
		self.assertEqual(co.status, "Ordered", co.error)
		self.assertEqual(self.sales_order_rows(co), [(EVERYWHERE, wh("OMS Route HN"), 1)])  # first by priority
		self.assertIn("could not be placed", co.routing_summary.lower())

	def test_no_stock_anywhere_holds_then_retry_after_stock_arrives(self):
		item = f"OMS-RT-OOS-{frappe.generate_hash(length=5).upper()}"
		fx.ensure_item(item, 100000)
		frappe.db.commit()
		co = self.receive(order("Huế", [(item, 3)]))
		self.assertEqual(co.status, "Held")
		self.assertIn("Out of stock", co.error)
		self.assertIn(item, co.error)
		self.assertEqual([(row.problem, row.item_code, row.qty_short) for row in co.problems], [("Out of Stock", item, 3)])
		self.assertNotIn(co.name, intake.held_for_stock(["OMS-TSHIRT"]))  # held for this item only
		fx.add_stock(item, wh("OMS Route HCM"), 3)
		frappe.db.commit()
		self.assertIn(co.name, intake.held_for_stock([item]))
		self.assertEqual(intake.retry_order(co.name), "Ordered")
		co.reload()
		self.assertEqual(self.sales_order_rows(co), [(item, wh("OMS Route HCM"), 3)])
