from frappe.model.document import Document


class ChannelOrderEvent(Document):
	pass
