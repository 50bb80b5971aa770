import frappe
from frappe.model.document import Document
from frappe.query_builder import Interval
from frappe.query_builder.functions import Now


class StockPushLog(Document):
	@staticmethod
	def clear_old_logs(days: int = 30):
		"""Log Settings calls this daily; the age is set there (default in hooks.py)."""
		table = frappe.qb.DocType("Stock Push Log")
		frappe.db.delete(table, filters=(table.creation < (Now() - Interval(days=days))))
