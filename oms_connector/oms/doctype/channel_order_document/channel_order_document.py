from frappe.model.document import Document


class ChannelOrderDocument(Document):
	pass
