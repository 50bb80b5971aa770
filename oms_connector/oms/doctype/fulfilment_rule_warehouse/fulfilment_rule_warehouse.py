from frappe.model.document import Document


class FulfilmentRuleWarehouse(Document):
	pass
