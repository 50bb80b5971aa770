"""Documents staff make by hand for a channel order (a Delivery Note from its Sales Order, an
invoice, a payment) belong to it like the ones the intake makes: they carry its link, and
submitting or cancelling one makes the Channel Order read its documents again."""

from __future__ import annotations

import frappe

from oms_connector.erp import intake
from oms_connector.erp.fieldnames import CHANNEL_ORDER

SOURCE_LINKS = {
	"Delivery Note": (("Sales Order", "against_sales_order"),),
	"Sales Invoice": (("Sales Order", "sales_order"), ("Delivery Note", "delivery_note")),
}
PAYMENT_SOURCES = ("Sales Order", "Sales Invoice")


def link_channel_order(doc, method=None) -> None:
	"""validate: take the Channel Order of the document this one was made from."""
	if not doc.get(CHANNEL_ORDER):
		doc.set(CHANNEL_ORDER, channel_order_of(doc))


def channel_order_of(doc) -> str | None:
	for doctype, name in _sources(doc):
		if name and (linked := frappe.db.get_value(doctype, name, CHANNEL_ORDER)):
			return linked
	return None


def _sources(doc):
	if doc.doctype == "Payment Entry":
		for ref in doc.get("references") or []:
			if ref.reference_doctype in PAYMENT_SOURCES:
				yield ref.reference_doctype, ref.reference_name
		return
	for doctype, field in SOURCE_LINKS.get(doc.doctype, ()):
		for row in doc.get("items") or []:
			yield doctype, row.get(field)


def follow_document(doc, method=None) -> None:
	"""on_submit / on_cancel: the order's status and document list follow (in the background)."""
	name = doc.get(CHANNEL_ORDER)
	if name and not frappe.flags.get(intake.MAKING_DOCUMENTS) and frappe.db.exists("Channel Order", name):
		intake.enqueue_processing(name)
