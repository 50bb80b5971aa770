from frappe.model.document import Document


class MarketplaceSettlement(Document):
	def validate(self):
		if self.reviewed:
			self.needs_review = 0  # an accountant looked at it: off the review list
