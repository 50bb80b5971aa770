import frappe
from frappe import _
from frappe.model.document import Document


class SalesChannel(Document):
	def validate(self):
		for row in self.warehouses:
			company = frappe.get_cached_value("Warehouse", row.warehouse, "company")
			if company != self.company:
				frappe.throw(_("Warehouse {0} belongs to {1}, not {2}").format(row.warehouse, company, self.company))
		if self.shipping_fee_item and frappe.get_cached_value("Item", self.shipping_fee_item, "is_stock_item"):
			frappe.throw(_("The shipping fee item must not be a stock item"))
		if not 0 <= (self.stock_share_percent or 0) <= 100:
			frappe.throw(_("Share of stock must be between 0 and 100%"))
