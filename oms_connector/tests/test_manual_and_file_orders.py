"""Store/phone orders and order files: ERPNext prices them, bad rows are shown, good orders flow."""

from __future__ import annotations

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from oms_connector.api import orders as orders_api
from oms_connector.domain.order_file import COLUMNS
from oms_connector.erp import order_import
from oms_connector.tests import fixtures as fx

STORE = "OMS Test Store"
FILES = "OMS Test Files"


def ensure_mug_promotion():
	title = "OMS Mug 10 percent"
	if not frappe.db.exists("Pricing Rule", {"title": title}):
		frappe.get_doc(
			{
				"doctype": "Pricing Rule",
				"title": title,
				"apply_on": "Item Code",
				"items": [{"item_code": "OMS-MUG"}],
				"selling": 1,
				"company": fx.COMPANY,
				"currency": "VND",
				"for_price_list": fx.PRICE_LIST,
				"rate_or_discount": "Discount Percentage",
				"discount_percentage": 10,
			}
		).insert(ignore_permissions=True)


class TestManualAndFileOrders(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		fx.ensure_channel(STORE, platform="Store/Phone", taxes_and_charges=None, invoice_policy="On Delivery")
		fx.ensure_channel(FILES, platform="File Import", taxes_and_charges=None)
		ensure_mug_promotion()
		cls.hanoi = fx.wh("OMS Hanoi")
		for item in ("OMS-TSHIRT", "OMS-MUG"):
			fx.set_stock(item, cls.hanoi, 100)
		frappe.db.commit()

	def test_phone_order_takes_price_list_and_pricing_rule(self):
		name = orders_api.create_manual_order(
			STORE,
			{
				"buyer": {"name": "Phạm Minh", "phone": "0901234567"},
				"shipping_address": {"line1": "3 Tràng Tiền", "province": "Hà Nội", "phone": "0901234567"},
				"lines": [{"sku": "OMS-MUG", "qty": 2}, {"sku": "OMS-TSHIRT", "qty": 1}],
				"payment_method": "COD",
			},
		)
		co = frappe.get_doc("Channel Order", name)
		self.assertEqual(co.status, "Ordered", co.error)
		so = frappe.get_doc("Sales Order", co.sales_order)
		rates = {row.item_code: flt(row.rate) for row in so.items}
		self.assertEqual(rates["OMS-MUG"], 45000)  # 50,000 less the 10% pricing rule
		self.assertEqual(rates["OMS-TSHIRT"], 150000)
		self.assertEqual(flt(co.grand_total), flt(so.grand_total))
		self.assertEqual(flt(so.grand_total), 240000)

	def test_manual_orders_only_on_store_channels(self):
		fx.ensure_channel("OMS Test Web")
		with self.assertRaises(frappe.ValidationError):
			orders_api.create_manual_order("OMS Test Web", {"lines": [{"sku": "OMS-MUG", "qty": 1}]})

	def test_stock_warning_before_saving(self):
		warnings = orders_api.stock_warnings(STORE, [{"item_code": "OMS-MUG", "qty": 100000}])
		self.assertEqual(len(warnings), 1)
		self.assertIn("OMS-MUG: 100000 ordered, only", warnings[0])
		self.assertEqual(orders_api.stock_warnings(STORE, [{"item_code": "OMS-MUG", "qty": 1}]), [])

	def test_file_import_reports_bad_rows_and_imports_good_orders(self):
		suffix = frappe.generate_hash(length=6).upper()
		rows = [
			{"order_id": f"F1-{suffix}", "customer_name": "Hoa", "phone": "0911111111", "address_line1": "9 Lê Lợi", "province": "Huế", "sku": "OMS-MUG", "qty": "3"},
			{"order_id": f"F1-{suffix}", "sku": "OMS-TSHIRT", "qty": "1", "unit_price": "120000"},
			{"order_id": f"F2-{suffix}", "customer_name": "Lan", "address_line1": "1 Bạch Đằng", "province": "Đà Nẵng", "sku": "OMS-MUG", "qty": "two"},
			{"order_id": f"F3-{suffix}", "customer_name": "Quân", "address_line1": "5 Trần Phú", "province": "Khánh Hòa", "sku": "NO-SUCH-SKU", "qty": "1"},
			{"order_id": "", "sku": "OMS-MUG", "qty": "1"},
		]
		lines = [",".join(COLUMNS)] + [",".join(row.get(c, "") for c in COLUMNS) for row in rows]
		file_doc = frappe.get_doc(
			{"doctype": "File", "file_name": f"orders-{suffix}.csv", "content": "\n".join(lines).encode(), "is_private": 1}
		).insert(ignore_permissions=True)
		imp = frappe.get_doc(
			{"doctype": "Channel Order Import", "sales_channel": FILES, "import_file": file_doc.file_url}
		).insert(ignore_permissions=True)

		result = order_import.preview(imp.name)
		self.assertEqual(result["orders"], 2)  # F1 and F3 are readable; F3's SKU is checked on intake
		reasons = {(e["row"], e["order_id"]): e["reason"] for e in result["errors"]}
		self.assertIn("not a number", reasons[(4, f"F2-{suffix}")])
		self.assertEqual(reasons[(6, "")], "order_id is empty")

		order_import.run_import(imp.name)
		imp.reload()
		self.assertEqual(imp.status, "Completed With Problems")
		self.assertEqual((imp.imported, imp.held_or_failed, imp.bad_rows), (1, 1, 2))
		log = {row["order_id"]: row for row in json.loads(imp.import_log)}
		self.assertEqual(log[f"F1-{suffix}"]["status"], "Ordered")
		self.assertEqual(log[f"F3-{suffix}"]["status"], "Held")
		so = frappe.get_doc("Sales Order", frappe.db.get_value("Channel Order", log[f"F1-{suffix}"]["channel_order"], "sales_order"))
		rates = {row.item_code: flt(row.rate) for row in so.items}
		self.assertEqual(rates, {"OMS-MUG": 45000, "OMS-TSHIRT": 120000})

		# importing the same file again makes nothing new
		order_import.run_import(imp.name)
		self.assertEqual(frappe.db.count("Sales Order", {"oms_channel_order": log[f"F1-{suffix}"]["channel_order"]}), 1)
