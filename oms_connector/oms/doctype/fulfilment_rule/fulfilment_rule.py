from frappe.model.document import Document


class FulfilmentRule(Document):
	pass
