from frappe.model.document import Document


class ChannelOrderItem(Document):
	pass
