import frappe
from frappe import _
from frappe.model.document import Document

from oms_connector.domain.limits import MAX_ORDER_ID_LENGTH

# a Channel Order is named "<channel>:<order id>" and Frappe's names hold 140 characters
MAX_CHANNEL_NAME_LENGTH = 140 - 1 - MAX_ORDER_ID_LENGTH


class SalesChannel(Document):
	def validate(self):
		if len(self.channel_name or "") > MAX_CHANNEL_NAME_LENGTH:
			frappe.throw(
				_("Channel Name may be at most {0} characters: orders are named after it").format(MAX_CHANNEL_NAME_LENGTH)
			)
		for row in self.warehouses:
			company = frappe.get_cached_value("Warehouse", row.warehouse, "company")
			if company != self.company:
				frappe.throw(_("Warehouse {0} belongs to {1}, not {2}").format(row.warehouse, company, self.company))
		if self.shipping_fee_item and frappe.get_cached_value("Item", self.shipping_fee_item, "is_stock_item"):
			frappe.throw(_("The shipping fee item must not be a stock item"))
		if not 0 <= (self.stock_share_percent or 0) <= 100:
			frappe.throw(_("Share of stock must be between 0 and 100%"))

	def on_update(self):
		before = self.get_doc_before_save()
		stock_fields = ("stock_buffer", "stock_share_percent", "sync_stock", "enabled")
		warehouses = [row.warehouse for row in self.warehouses]
		if (
			not before
			or any(before.get(field) != self.get(field) for field in stock_fields)
			or [row.warehouse for row in before.warehouses] != warehouses
		):
			from oms_connector.erp.stock_sync import enqueue_reconcile

			enqueue_reconcile(self.name)
