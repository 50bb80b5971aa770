import frappe
from frappe.model.document import Document


class ChannelOrderImport(Document):
	def validate(self):
		if self.has_value_changed("import_file") and self.status not in ("Draft", "Previewed"):
			frappe.throw(frappe._("This import has run; start a new one for another file"))
		if self.has_value_changed("import_file"):
			self.status = "Draft"
