"""Desk actions on channel orders."""

from __future__ import annotations

import json

import frappe
from frappe import _

from oms_connector.erp import desk_orders, intake, stock_check

INLINE_RETRY_LIMIT = 5  # more than this goes to the background so the desk stays responsive


@frappe.whitelist()
def retry_orders(names: str | list[str]) -> dict:
	"""Retry Held or Error orders: a few at once inline, larger selections in the background."""
	if isinstance(names, str):
		names = json.loads(names) if names.startswith("[") else [names]
	for name in names:
		frappe.has_permission("Channel Order", "write", doc=name, throw=True)
	if len(names) <= INLINE_RETRY_LIMIT:
		results = {name: intake.retry_order(name) for name in names}
		return {"processed": results}
	intake.enqueue_processing(names)
	return {"queued": len(names)}


@frappe.whitelist()
def create_manual_order(sales_channel: str, order: str | dict) -> str:
	"""A store or phone order typed in the desk, in the canonical order format. Returns the Channel Order."""
	frappe.has_permission("Channel Order", "create", throw=True)
	platform = frappe.db.get_value("Sales Channel", sales_channel, "platform")
	if platform != "Store/Phone":
		frappe.throw(_("Orders can only be entered by hand on a Store/Phone channel"))
	payload = desk_orders.canonical_order(json.loads(order) if isinstance(order, str) else order)
	return intake.receive_order(sales_channel, payload, source=intake.DESK_SOURCE, process=True)


@frappe.whitelist()
def quote_manual_order(sales_channel: str, lines: str | list, shipping_fee: float = 0, discount: float = 0) -> dict:
	"""Prices and total of an order being typed in, as the Sales Order will have them."""
	frappe.has_permission("Channel Order", "create", throw=True)
	frappe.has_permission("Sales Channel", "read", doc=sales_channel, throw=True)
	return desk_orders.quote(sales_channel, json.loads(lines) if isinstance(lines, str) else lines, shipping_fee, discount)


@frappe.whitelist(methods=["POST"])
def mark_progress(name: str, progress: str, tracking_number: str | None = None) -> str:
	"""A store/phone or file order was shipped, or delivered / picked up: its documents follow."""
	frappe.has_permission("Channel Order", "write", doc=name, throw=True)
	frappe.has_permission("Delivery Note", "create", throw=True)
	if progress not in intake.DESK_PROGRESS:
		frappe.throw(_("Unknown progress {0}").format(progress))
	return intake.record_desk_progress(name, progress, tracking_number)


@frappe.whitelist()
def stock_warnings(sales_channel: str, lines: str | list) -> list[str]:
	"""Lines asking for more than the channel's warehouses have available, said plainly."""
	frappe.has_permission("Channel Order", "create", throw=True)
	frappe.has_permission("Sales Channel", "read", doc=sales_channel, throw=True)
	if isinstance(lines, str):
		lines = json.loads(lines)
	return stock_check.shortfalls(sales_channel, lines)


@frappe.whitelist()
def reroute_order(name: str, reject_warehouse: str | None = None) -> str:
	"""Route an unshipped order again; with `reject_warehouse`, that warehouse is left out from now on."""
	frappe.has_permission("Channel Order", "write", doc=name, throw=True)
	frappe.has_permission("Sales Order", "cancel", throw=True)
	if reject_warehouse:
		rejected = frappe.db.get_value("Channel Order", name, "rejected_warehouses") or ""
		if reject_warehouse not in rejected.split("\n"):
			rejected = "\n".join(filter(None, [*rejected.split("\n"), reject_warehouse]))
			frappe.db.set_value("Channel Order", name, "rejected_warehouses", rejected)
	return intake.process_order(name, reroute=True)


@frappe.whitelist()
def record_cod_remittance(name: str, account: str, reference: str | None = None) -> list[str]:
	"""Payment Entries for a COD order's open invoices into `account` (a Bank or Cash account)."""
	frappe.has_permission("Channel Order", "write", doc=name, throw=True)
	frappe.has_permission("Payment Entry", "create", throw=True)
	return intake.record_remittance(name, account, reference)


@frappe.whitelist(methods=["POST"])
def decide_returned_goods(name: str, decision: str) -> str:
	"""Put an order's returned goods back in stock or write them off (a Stock Entry)."""
	frappe.has_permission("Channel Order", "write", doc=name, throw=True)
	frappe.has_permission("Stock Entry", "create", throw=True)
	from oms_connector.erp import returned_goods

	return returned_goods.decide(name, decision)


@frappe.whitelist(methods=["POST"])
def quote_carriers(delivery_note: str) -> dict:
	"""Every enabled carrier's quotes for the note's parcel; the choice and why, onto the note."""
	frappe.has_permission("Delivery Note", "write", doc=delivery_note, throw=True)
	from oms_connector.erp import carriers

	return _carrier_call(carriers.quote_delivery_note, delivery_note)


@frappe.whitelist(methods=["POST"])
def book_carrier(delivery_note: str) -> dict:
	"""Book the chosen carrier service; tracking number and label onto the note."""
	frappe.has_permission("Delivery Note", "write", doc=delivery_note, throw=True)
	from oms_connector.erp import carriers

	return _carrier_call(carriers.book_delivery_note, delivery_note)


def _carrier_call(fn, delivery_note: str):
	"""A carrier's refusal or an address it can't place is news for the user, not a server error."""
	from oms_connector.connectors.base import ConnectorError
	from oms_connector.domain.shipping import AddressProblem

	try:
		return fn(delivery_note)
	except (ConnectorError, AddressProblem) as exc:
		frappe.throw(str(exc), title=_("The carrier refused"))
