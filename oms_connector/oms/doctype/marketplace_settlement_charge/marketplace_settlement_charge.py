from frappe.model.document import Document


class MarketplaceSettlementCharge(Document):
	pass
