"""What a newcomer met in the desk on the first hour, each caught here again: the Sales Channel
form's defaults, accounts that fail only at shipment, store orders that never moved past
Ordered, the Tab row, Item Prices made behind the user's back, the app's roles."""

from __future__ import annotations

import frappe
from erpnext.selling.doctype.sales_order.sales_order import make_delivery_note
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt
from frappe.utils.password import remove_encrypted_password

from oms_connector.api import channels as channels_api
from oms_connector.api import orders as orders_api
from oms_connector.erp import intake
from oms_connector.tests import fixtures as fx

STORE = "OMS Test Store"
WEB = "OMS First Hour Web"  # its own: these tests change the channel
OMS_USER = "oms.clerk@example.com"


def store_order(**overrides) -> dict:
	order = {
		"buyer": {"name": "Lê Văn Cường", "phone": "0912345678"},
		"shipping_address": {"line1": "12 Lý Thường Kiệt", "province": "Hà Nội", "phone": "0912345678"},
		"lines": [{"sku": "OMS-MUG", "qty": 1}],
		"payment_method": "COD",
	}
	order.update(overrides)
	return order


def drain() -> None:
	"""What the RQ worker does after a commit (tier 3 proves it over a real worker)."""
	frappe.db.commit()
	intake.drain_orders()


class TestFirstHour(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		fx.ensure_channel(STORE, platform="Store/Phone", taxes_and_charges=None, invoice_policy="On Delivery")
		fx.ensure_channel(WEB, shipping_fee_item=fx.ensure_item("OMS-SHIPPING", 0, stock_item=False))
		frappe.db.delete("Item Price", {"item_code": "OMS-SHIPPING"})
		for item in ("OMS-MUG", "OMS-TSHIRT", "OMS-CAP"):
			fx.set_stock(item, fx.wh("OMS Hanoi"), 50)
		frappe.db.commit()

	def tearDown(self):
		frappe.set_user("Administrator")

	# --- the Sales Channel form ---------------------------------------------------------
	def test_channel_saves_with_defaults_as_the_desk_sends_them(self):
		"""The desk sends an untouched Percent default as text; saving failed with '<=' int vs str."""
		name = "OMS Desk Defaults"
		frappe.delete_doc_if_exists("Sales Channel", name)
		fx.ensure_channel(name, platform="Store/Phone", stock_share_percent="100", stock_buffer="0")
		self.assertEqual(frappe.db.get_value("Sales Channel", name, "stock_share_percent"), 100)
		with self.assertRaises(frappe.ValidationError):
			fx.ensure_channel(name, stock_share_percent="150")

	def test_group_or_non_bank_account_is_refused_as_prepaid_account(self):
		group = frappe.db.get_value("Account", {"company": fx.COMPANY, "is_group": 1, "root_type": "Asset"}, "name")
		with self.assertRaisesRegex(frappe.ValidationError, "group account"):
			fx.ensure_channel(WEB, prepaid_payment_account=group)
		income = fx.ensure_account("OMS Shipping Income", "Income")
		with self.assertRaisesRegex(frappe.ValidationError, "Bank or Cash"):
			fx.ensure_channel(WEB, prepaid_payment_account=income)
		fx.ensure_channel(WEB, prepaid_payment_account=fx.ensure_basics()["cash"])

	def test_custom_api_channel_shows_webhook_address_and_makes_a_secret(self):
		remove_encrypted_password("Sales Channel", WEB, "webhook_secret")
		info = channels_api.connection_addresses(WEB)
		self.assertIn("/api/method/oms_connector.api.webhooks.order?channel=OMS%20First%20Hour%20Web", info["webhook_url"])
		self.assertFalse(info["has_secret"])
		secret = channels_api.generate_webhook_secret(WEB)
		self.assertEqual(len(secret), 64)
		self.assertTrue(channels_api.connection_addresses(WEB)["has_secret"])
		stored = frappe.get_doc("Sales Channel", WEB).get_password("webhook_secret")
		self.assertEqual(stored, secret)
		with self.assertRaises(frappe.ValidationError):
			channels_api.generate_webhook_secret(STORE)

	# --- store/phone orders move on ---------------------------------------------------------
	def test_blank_row_from_tab_is_not_an_order_line(self):
		order = store_order(lines=[{"sku": "OMS-MUG", "qty": 1}, {"sku": "", "qty": 1}])
		name = orders_api.create_manual_order(STORE, order)
		doc = frappe.get_doc("Channel Order", name)
		self.assertEqual(doc.status, "Ordered", doc.error)
		self.assertEqual(len(doc.items), 1)
		self.assertTrue(doc.external_order_id.startswith("DESK-"), doc.external_order_id)
		self.assertEqual(doc.title, f"Lê Văn Cường · {STORE}")
		with self.assertRaisesRegex(frappe.ValidationError, "at least one item"):
			orders_api.create_manual_order(STORE, store_order(lines=[{"sku": "", "qty": 1}]))

	def test_hand_made_delivery_note_moves_the_store_order(self):
		name = orders_api.create_manual_order(STORE, store_order())
		so = frappe.get_doc("Sales Order", frappe.db.get_value("Channel Order", name, "sales_order"))
		dn = make_delivery_note(so.name)
		dn.insert()
		self.assertEqual(dn.get("oms_channel_order"), name)  # the draft already belongs to the order
		dn.submit()
		self.assertEqual(frappe.db.get_value("Channel Order", name, "needs_processing"), 1)
		drain()
		doc = frappe.get_doc("Channel Order", name)
		self.assertEqual(doc.status, "Shipped", doc.error)
		self.assertIn(("Delivery Note", dn.name), [(row.document_type, row.document_name) for row in doc.documents])
		# delivered from the desk: the invoice follows (On Delivery); COD stays receivable
		self.assertEqual(orders_api.mark_progress(name, "delivered"), "Completed")
		invoices = frappe.get_all("Sales Invoice", filters={"oms_channel_order": name, "docstatus": 1}, pluck="name")
		self.assertEqual(len(invoices), 1)
		# cancelling the invoice by hand is followed too
		frappe.get_doc("Sales Invoice", invoices[0]).cancel()
		drain()
		doc.reload()
		self.assertIn("Cancelled", [row.docstatus_label for row in doc.documents if row.document_type == "Sales Invoice"])

	def test_mark_shipped_then_delivered_from_the_desk(self):
		name = orders_api.create_manual_order(STORE, store_order(payment_method="Prepaid"))
		with self.assertRaises(frappe.ValidationError):
			orders_api.mark_progress(name, "teleported")
		self.assertEqual(orders_api.mark_progress(name, "shipped", tracking_number="GHN123"), "Shipped")
		doc = frappe.get_doc("Channel Order", name)
		self.assertEqual(doc.tracking_number, "GHN123")
		self.assertEqual(frappe.db.count("Delivery Note", {"oms_channel_order": name, "docstatus": 1}), 1)
		with self.assertRaises(frappe.ValidationError):
			orders_api.mark_progress(name, "shipped")  # already shipped
		self.assertEqual(orders_api.mark_progress(name, "delivered"), "Completed")
		self.assertEqual(frappe.db.count("Payment Entry", {"oms_channel_order": name, "docstatus": 1}), 1)

	def test_marketplace_orders_are_not_marked_from_the_desk(self):
		name = intake.receive_order(WEB, fx.canonical_order(f"FH-{frappe.generate_hash(length=6)}"), source="Webhook")
		with self.assertRaisesRegex(frappe.ValidationError, "reports this order's progress itself"):
			orders_api.mark_progress(name, "shipped")

	# --- nothing made behind the user's back -------------------------------------------------
	def test_processing_and_retrying_make_no_item_price(self):
		frappe.db.set_single_value("Stock Settings", "auto_insert_price_list_rate_if_missing", 1)
		order_id = f"FH-{frappe.generate_hash(length=6)}"
		name = intake.receive_order(WEB, fx.canonical_order(order_id, status="shipped"), source="Webhook")
		self.assertEqual(frappe.db.get_value("Channel Order", name, "status"), "Shipped", frappe.db.get_value("Channel Order", name, "error"))
		intake.retry_order(name)
		intake.process_order(name)
		self.assertFalse(frappe.db.exists("Item Price", {"item_code": "OMS-SHIPPING"}))
		so = frappe.get_doc("Sales Order", frappe.db.get_value("Channel Order", name, "sales_order"))
		self.assertIn("OMS-SHIPPING", [row.item_code for row in so.items])

	# --- roles ---------------------------------------------------------------------------
	def test_app_roles_exist_and_an_oms_user_can_take_a_phone_order(self):
		for role in ("OMS Manager", "OMS User", "Warehouse User"):
			self.assertTrue(frappe.db.exists("Role", role), role)
		if not frappe.db.exists("User", OMS_USER):
			user = frappe.get_doc({"doctype": "User", "email": OMS_USER, "first_name": "Clerk", "send_welcome_email": 0})
			user.insert(ignore_permissions=True)
		user = frappe.get_doc("User", OMS_USER)
		user.add_roles("OMS User")
		frappe.db.commit()
		frappe.set_user(OMS_USER)
		self.assertTrue(frappe.has_permission("Channel Order", "create"))
		self.assertFalse(frappe.has_permission("Sales Channel", "write"))
		name = orders_api.create_manual_order(STORE, store_order())
		self.assertEqual(frappe.db.get_value("Channel Order", name, "status"), "Ordered")
		quote = orders_api.quote_manual_order(STORE, [{"item_code": "OMS-MUG", "qty": 2}], shipping_fee=20000, discount=5000)
		self.assertEqual(flt(quote["lines"][0]["rate"]), flt(quote["lines"][0]["amount"]) / 2)
		self.assertEqual(flt(quote["total"]), flt(quote["lines_total"]) + 15000)
