from frappe.model.document import Document


class MarketplacePayout(Document):
	pass
