import frappe
from frappe.model.document import Document


class ChannelOrder(Document):
	def autoname(self):
		# The name is the uniqueness guarantee: one record per (channel, order id).
		from oms_connector.erp.intake import channel_order_name

		self.name = channel_order_name(self.sales_channel, self.external_order_id)


def on_doctype_update():
	frappe.db.add_unique("Channel Order", ["sales_channel", "external_order_id"], constraint_name="channel_order_id")
