from frappe.model.document import Document


class StockPushLog(Document):
	pass
