import frappe
from frappe import _
from frappe.model.document import Document


class ChannelListing(Document):
	def validate(self):
		self.listing_id = (self.listing_id or "").strip()
		self.variant_id = (self.variant_id or "").strip()
		self.sku = (self.sku or "").strip()
		if not (self.listing_id or self.variant_id or self.sku):
			frappe.throw(_("A listing needs a product id, a variant id or a SKU"))

	def on_update(self):
		if self.item_code and self.has_value_changed("item_code"):
			from oms_connector.erp.scheduler import enqueue_held_orders_for_channel

			enqueue_held_orders_for_channel(self.sales_channel)


def on_doctype_update():
	frappe.db.add_unique(
		"Channel Listing", ["sales_channel", "listing_id", "variant_id", "sku"], constraint_name="channel_listing_key"
	)
