from frappe.model.document import Document


class SalesChannelWarehouse(Document):
	pass
