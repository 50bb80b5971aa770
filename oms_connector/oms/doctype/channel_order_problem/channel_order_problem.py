from frappe.model.document import Document


class ChannelOrderProblem(Document):
	pass
