"""Every whitelisted desk action refuses a user without the rights, before doing anything."""

from __future__ import annotations

import frappe
from frappe.tests.utils import FrappeTestCase

from oms_connector.api import imports, marketplace, orders, stock
from oms_connector.tests import fixtures as fx

OUTSIDER = "oms.outsider@example.com"
CHANNEL = "OMS Test Web"


class TestPermissions(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		fx.ensure_channel(CHANNEL)
		if not frappe.db.exists("User", OUTSIDER):
			frappe.get_doc(
				{"doctype": "User", "email": OUTSIDER, "first_name": "Outsider", "send_welcome_email": 0}
			).insert(ignore_permissions=True)
		frappe.db.commit()

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_actions_refuse_a_user_without_rights(self):
		order = frappe.get_all("Channel Order", pluck="name", limit=1)[0]
		note = frappe.db.get_value("Delivery Note", {}, "name")
		frappe.set_user(OUTSIDER)
		calls = [
			lambda: orders.retry_orders([order]),
			lambda: orders.create_manual_order(CHANNEL, {"lines": [{"sku": "OMS-MUG", "qty": 1}]}),
			lambda: orders.stock_warnings(CHANNEL, [{"item_code": "OMS-MUG", "qty": 1}]),
			lambda: orders.reroute_order(order),
			lambda: orders.record_cod_remittance(order, "Cash - OTC"),
			lambda: orders.decide_returned_goods(order, "Restock"),
			*([lambda: orders.quote_carriers(note), lambda: orders.book_carrier(note)] if note else []),
			lambda: stock.sync_stock_now(CHANNEL),
			lambda: imports.download_template(),
			lambda: marketplace.connect(CHANNEL),
			lambda: marketplace.sync_orders_now(CHANNEL),
			lambda: marketplace.pull_products(CHANNEL),
			lambda: marketplace.ship(order),
			lambda: marketplace.cancel(order),
			lambda: marketplace.fetch_settlement(order),
			lambda: marketplace.fetch_finance_now(CHANNEL),
			lambda: marketplace.retry_settlement("MS-000001"),
		]
		for index, call in enumerate(calls):
			with self.assertRaises(frappe.PermissionError, msg=f"call {index} was allowed"):
				call()
