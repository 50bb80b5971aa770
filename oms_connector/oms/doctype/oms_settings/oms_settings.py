from frappe.model.document import Document


class OMSSettings(Document):
	pass
