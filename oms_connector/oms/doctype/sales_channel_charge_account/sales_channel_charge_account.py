from frappe.model.document import Document


class SalesChannelChargeAccount(Document):
	pass
