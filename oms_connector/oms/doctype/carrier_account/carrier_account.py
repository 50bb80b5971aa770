import frappe
from frappe import _
from frappe.model.document import Document


class CarrierAccount(Document):
	def validate(self):
		if self.warehouse and frappe.get_cached_value("Warehouse", self.warehouse, "company") != self.company:
			frappe.throw(_("Warehouse {0} belongs to another company").format(self.warehouse))
		if self.carrier == "Viettel Post":
			if not self.username or not (self.password or self.get_password("password", raise_exception=False)):
				frappe.throw(_("Viettel Post needs the username and password its API logs in with"))
		elif not self.token:
			frappe.throw(_("{0} needs the shop's API token").format(self.carrier))
		if self.carrier == "GHN" and not self.shop_id:
			frappe.throw(_("GHN needs the Shop ID of the pickup shop"))
