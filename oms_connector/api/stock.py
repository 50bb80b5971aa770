"""Stock sync actions."""

from __future__ import annotations

import frappe

from oms_connector.erp import stock_sync


@frappe.whitelist(methods=["POST"])
def sync_stock_now(channel: str) -> str:
	"""Push every listing of the channel whose shown quantity is stale, in the background."""
	frappe.has_permission("Sales Channel", "write", doc=channel, throw=True)
	if not stock_sync.stock_channels(channel):
		frappe.throw(frappe._("Stock is pushed only to enabled marketplace channels with Push Stock ticked"))
	if stock_sync.enqueue_reconcile(channel, trigger="Manual", progress=True):
		return frappe._("Stock push started; progress shows here")
	return frappe._("A stock push you asked for is already waiting to start; it will read the stock when it does")
