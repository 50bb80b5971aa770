"""Every kind of stock transaction reaches a channel, through a local server that checks
requests the way Lazada does."""

from __future__ import annotations

import json
import frappe
from frappe.tests.utils import FrappeTestCase

from oms_connector.erp import intake, stock_sync
from oms_connector.tests import fixtures as fx
from oms_connector.sandbox import FakeLazada

LAZADA = "OMS Test Lazada Stock"
WEB = "OMS Test Web"
ITEM_A, ITEM_B, BUNDLE = "OMS-STK-A", "OMS-STK-B", "OMS-STK-BUNDLE"


def ensure_bundle():
	fx.ensure_item(BUNDLE, 300000, stock_item=False)
	if not frappe.db.exists("Product Bundle", BUNDLE):
		frappe.get_doc(
			{
				"doctype": "Product Bundle",
				"new_item_code": BUNDLE,
				"items": [{"item_code": ITEM_A, "qty": 2}, {"item_code": ITEM_B, "qty": 1}],
			}
		).insert(ignore_permissions=True)


def ensure_listing(sku: str, item_code: str, **values) -> str:
	name = frappe.db.get_value("Channel Listing", {"sales_channel": LAZADA, "sku": sku})
	doc = frappe.get_doc("Channel Listing", name) if name else frappe.new_doc("Channel Listing")
	doc.update({"sales_channel": LAZADA, "listing_id": f"ITEM-{sku}", "sku": sku, "item_code": item_code})
	doc.update(values)
	doc.save(ignore_permissions=True)
	return doc.name


class TestStockSync(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.fake = FakeLazada().start()
		cls.fake.products = [  # the shop's catalogue, as Lazada reports it
			{"item_id": f"ITEM-{sku}", "skus": [{"SellerSku": sku}]} for sku in ("LZ-A", "LZ-B", "LZ-BUNDLE")
		]
		basics = fx.ensure_basics()
		cls.hanoi, cls.saigon = basics["warehouses"]
		fx.ensure_channel(WEB)
		fx.ensure_lazada_channel(LAZADA, cls.fake, sync_stock=1, stock_buffer=0, stock_share_percent=100)
		for code in (ITEM_A, ITEM_B):
			fx.ensure_item(code, 100000)
		ensure_bundle()
		ensure_listing("LZ-A", ITEM_A)
		ensure_listing("LZ-B", ITEM_B)
		ensure_listing("LZ-BUNDLE", BUNDLE)
		frappe.db.set_single_value("OMS Settings", {"stock_sync_enabled": 1, "stock_sync_debounce_seconds": 0})
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.fake.stop()
		super().tearDownClass()

	def sync(self):
		"""Commit (which queues the marked pairs) and run the job the worker would run."""
		frappe.db.commit()
		stock_sync.push_pending_changes()
		frappe.db.commit()

	def shown(self, sku: str) -> int | None:
		return self.fake.stock.get(sku)

	def expected(self, item: str) -> int:
		bins = stock_sync.read_bins({item}, [self.hanoi, self.saigon])
		return int(sum(b.free_qty() for b in bins.values()))

	def test_each_kind_of_stock_transaction_reaches_the_channel(self):
		fx.add_stock(ITEM_A, self.hanoi, 10)
		self.sync()
		self.assertEqual(self.shown("LZ-A"), self.expected(ITEM_A))

		receipt = frappe.get_doc(
			{
				"doctype": "Stock Entry",
				"stock_entry_type": "Material Receipt",
				"company": fx.COMPANY,
				"items": [{"item_code": ITEM_A, "t_warehouse": self.saigon, "qty": 5, "basic_rate": 40000}],
			}
		).insert()
		receipt.submit()
		self.sync()
		before_cancel = self.expected(ITEM_A)
		self.assertEqual(self.shown("LZ-A"), before_cancel)

		receipt.reload()
		receipt.cancel()
		self.sync()
		self.assertEqual(self.shown("LZ-A"), before_cancel - 5)

		issue = frappe.get_doc(
			{
				"doctype": "Stock Entry",
				"stock_entry_type": "Material Issue",
				"company": fx.COMPANY,
				"items": [{"item_code": ITEM_A, "s_warehouse": self.hanoi, "qty": 1}],
			}
		).insert()
		issue.submit()
		self.sync()
		self.assertEqual(self.shown("LZ-A"), before_cancel - 6)

		reco = frappe.get_doc(
			{
				"doctype": "Stock Reconciliation",
				"company": fx.COMPANY,
				"purpose": "Stock Reconciliation",
				"expense_account": frappe.db.get_value(
					"Account", {"company": fx.COMPANY, "account_type": "Stock Adjustment", "is_group": 0}
				),
				"items": [{"item_code": ITEM_A, "warehouse": self.hanoi, "qty": 40, "valuation_rate": 40000}],
			}
		).insert()
		reco.submit()
		self.sync()
		self.assertEqual(self.shown("LZ-A"), self.expected(ITEM_A))
		log = frappe.get_last_doc("Stock Push Log", filters={"sales_channel": LAZADA})
		self.assertEqual(log.status, "Success")

	def test_order_on_another_channel_lowers_this_one_and_cancel_releases(self):
		fx.set_stock(ITEM_B, self.hanoi, 20)
		self.sync()
		start = self.shown("LZ-B")
		self.assertEqual(start, self.expected(ITEM_B))

		order_id = f"STK-{frappe.generate_hash(length=8).upper()}"
		payload = fx.canonical_order(order_id)
		payload["lines"] = [{"sku": ITEM_B, "qty": 3, "unit_price": 100000}]
		name = intake.receive_order(WEB, json.dumps(payload), source="Test")
		self.assertEqual(frappe.db.get_value("Channel Order", name, "status"), "Ordered")
		self.sync()
		self.assertEqual(self.shown("LZ-B"), start - 3)  # reserved by the Sales Order

		intake.receive_order(WEB, json.dumps({**payload, "status": "shipped"}), source="Test")
		self.sync()
		self.assertEqual(self.shown("LZ-B"), start - 3)  # delivered: gone from stock, no longer reserved

		second = fx.canonical_order(f"{order_id}-2")
		second["lines"] = [{"sku": ITEM_B, "qty": 2, "unit_price": 100000}]
		second_name = intake.receive_order(WEB, json.dumps(second), source="Test")
		self.sync()
		self.assertEqual(self.shown("LZ-B"), start - 5)
		intake.receive_order(WEB, json.dumps({**second, "status": "cancelled"}), source="Test")
		self.assertEqual(frappe.db.get_value("Channel Order", second_name, "status"), "Cancelled")
		self.sync()
		self.assertEqual(self.shown("LZ-B"), start - 3)  # the cancelled reservation is free again

	def test_closing_a_sales_order_releases_its_reservation(self):
		fx.set_stock(ITEM_B, self.hanoi, 20)
		self.sync()
		payload = fx.canonical_order(f"CLS-{frappe.generate_hash(length=8).upper()}")
		payload["lines"] = [{"sku": ITEM_B, "qty": 4, "unit_price": 100000}]
		so = frappe.db.get_value("Channel Order", intake.receive_order(WEB, json.dumps(payload), source="Test"), "sales_order")
		self.sync()
		reserved = self.shown("LZ-B")
		frappe.get_doc("Sales Order", so).update_status("Closed")
		self.sync()
		self.assertEqual(self.shown("LZ-B"), reserved + 4)

	def test_bundle_shows_the_minimum_over_its_components(self):
		fx.set_stock(ITEM_A, self.hanoi, 10)
		fx.set_stock(ITEM_B, self.hanoi, 10)
		stock_sync.reconcile_channel(LAZADA)
		fx.add_stock(ITEM_B, self.hanoi, 3)  # a component moves: the bundle follows
		self.sync()
		expected = min(self.expected(ITEM_A) // 2, self.expected(ITEM_B))
		self.assertEqual(self.shown("LZ-BUNDLE"), expected)

	def test_buffer_share_and_overrides(self):
		fx.set_stock(ITEM_A, self.hanoi, 10)
		frappe.db.set_value("Sales Channel", LAZADA, {"stock_buffer": 2, "stock_share_percent": 50})
		frappe.clear_document_cache("Sales Channel", LAZADA)
		try:
			stock_sync.reconcile_channel(LAZADA)
			self.assertEqual(self.shown("LZ-A"), max((self.expected(ITEM_A) - 2) * 50 // 100, 0))
			ensure_listing("LZ-B", ITEM_B, stock_mode="Paused")
			stock_sync.reconcile_channel(LAZADA)
			self.assertEqual(self.shown("LZ-B"), 0)
		finally:
			frappe.db.set_value("Sales Channel", LAZADA, {"stock_buffer": 0, "stock_share_percent": 100})
			frappe.clear_document_cache("Sales Channel", LAZADA)
			ensure_listing("LZ-B", ITEM_B, stock_mode="Computed")
			frappe.db.commit()
			stock_sync.reconcile_channel(LAZADA)

	def test_platform_failure_leaves_listing_marked_for_next_run(self):
		fx.set_stock(ITEM_A, self.hanoi, 10)
		self.sync()
		self.fake.stock_failures["LZ-A"] = "quantity below what a running campaign holds"
		fx.add_stock(ITEM_A, self.hanoi, 1)
		self.sync()
		listing = frappe.get_doc("Channel Listing", {"sales_channel": LAZADA, "sku": "LZ-A"})
		self.assertEqual(listing.push_status, "Failed")
		self.assertNotEqual(self.shown("LZ-A"), self.expected(ITEM_A))
		self.fake.stock_failures.clear()
		stock_sync.reconcile_channel(LAZADA)
		self.assertEqual(self.shown("LZ-A"), self.expected(ITEM_A))
		self.assertEqual(frappe.db.get_value("Channel Listing", listing.name, "push_status"), "Synced")

	def test_only_changed_listings_are_pushed(self):
		fx.set_stock(ITEM_A, self.hanoi, 10)
		self.sync()
		stock_sync.reconcile_channel(LAZADA)
		calls = len(self.fake.calls_to("/product/stock/sellable/update", ok_only=False))
		stock_sync.reconcile_channel(LAZADA)  # nothing changed since
		self.assertEqual(len(self.fake.calls_to("/product/stock/sellable/update", ok_only=False)), calls)

	def test_reconciliation_lists_what_the_platform_shows_differently(self):
		fx.set_stock(ITEM_A, self.hanoi, 10)
		self.sync()
		stock_sync.reconcile_channel(LAZADA)
		self.fake.stock["LZ-A"] = 999  # someone edited stock in the seller centre
		stock_sync.reconcile_channel(LAZADA)  # the hourly run trusts what the channel last accepted
		self.assertEqual(self.shown("LZ-A"), 999)
		stock_sync.reconcile_channel(LAZADA, trigger="Drift Check")
		log = frappe.get_last_doc("Stock Push Log", filters={"sales_channel": LAZADA, "trigger": "Drift Check"})
		self.assertGreaterEqual(log.listings_drifted, 1)
		drift = {row["sku"]: row for row in json.loads(log.drift)}
		self.assertEqual(drift["LZ-A"]["platform"], 999)
		self.assertEqual(drift["LZ-A"]["erpnext"], self.expected(ITEM_A))
		self.assertEqual(self.shown("LZ-A"), self.expected(ITEM_A))  # and put right

	def test_purchase_receipt_reaches_the_channel(self):
		if not frappe.db.exists("Supplier", "OMS Test Supplier"):
			frappe.get_doc(
				{"doctype": "Supplier", "supplier_name": "OMS Test Supplier", "supplier_group": frappe.db.get_value("Supplier Group", {"is_group": 0}) or "All Supplier Groups"}
			).insert(ignore_permissions=True)
		self.sync()
		receipt = frappe.get_doc(
			{
				"doctype": "Purchase Receipt",
				"company": fx.COMPANY,
				"supplier": "OMS Test Supplier",
				"currency": "VND",
				"items": [{"item_code": ITEM_A, "qty": 4, "rate": 40000, "warehouse": self.hanoi}],
			}
		).insert()
		receipt.submit()
		self.sync()
		self.assertEqual(self.shown("LZ-A"), self.expected(ITEM_A))

	def test_stock_reservation_entries_reach_the_channel(self):
		fx.set_stock(ITEM_B, self.hanoi, 20)
		self.sync()
		frappe.db.set_single_value("Stock Settings", "enable_stock_reservation", 1)
		try:
			payload = fx.canonical_order(f"SRE-{frappe.generate_hash(length=8).upper()}")
			payload["lines"] = [{"sku": ITEM_B, "qty": 2, "unit_price": 100000}]
			before = self.shown("LZ-B")
			so = frappe.db.get_value("Channel Order", intake.receive_order(WEB, json.dumps(payload), source="Test"), "sales_order")
			self.assertTrue(frappe.db.exists("Stock Reservation Entry", {"voucher_no": so, "docstatus": 1}))
			self.sync()
			self.assertEqual(self.shown("LZ-B"), before - 2)  # reserved once, not twice
			self.assertEqual(self.shown("LZ-B"), self.expected(ITEM_B))
		finally:
			frappe.db.set_single_value("Stock Settings", "enable_stock_reservation", 0)
			frappe.db.commit()
