"""Orders staff type in the desk (store and phone sales): prices as ERPNext will charge them,
and the canonical order the intake receives."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.naming import make_autoname
from frappe.utils import flt, nowdate

DESK_ORDER_SERIES = "DESK-.YY.MM.DD.-.####"


def quote(sales_channel: str, lines: list[dict], shipping_fee=0, discount=0) -> dict:
	"""Each line's rate from the channel's price list and pricing rules (ERPNext's own
	get_item_details), and the order total the buyer is told: lines + shipping − discount."""
	from erpnext.stock.get_item_details import get_item_details

	channel = frappe.get_cached_doc("Sales Channel", sales_channel)
	priced = []
	for line in lines:
		if not line.get("item_code"):
			continue
		details = get_item_details(
			{
				"doctype": "Sales Order",
				"item_code": line["item_code"],
				"company": channel.company,
				"price_list": channel.selling_price_list,
				"currency": channel.currency,
				"price_list_currency": channel.currency,
				"conversion_rate": 1,
				"plc_conversion_rate": 1,
				"customer_group": channel.customer_group,
				"territory": channel.territory,
				"qty": flt(line.get("qty")) or 1,
				"transaction_date": nowdate(),
			}
		)
		rate = flt(details.get("rate") or details.get("price_list_rate"))
		qty = flt(line.get("qty"))
		priced.append({"item_code": line["item_code"], "qty": qty, "rate": rate, "amount": rate * qty, "has_price": bool(rate)})
	lines_total = sum(line["amount"] for line in priced)
	return {
		"lines": priced,
		"lines_total": lines_total,
		"total": max(lines_total + flt(shipping_fee) - flt(discount), 0),
		"currency": channel.currency,
	}


def canonical_order(payload: dict) -> dict:
	"""The dialog's order as the intake reads it: rows without an item (a blank row the table
	adds on Tab) dropped, a readable order id, the time it was taken."""
	lines = [line for line in payload.get("lines") or [] if (line.get("sku") or "").strip()]
	if not lines:
		frappe.throw(_("Add at least one item to the order"))
	order = {**payload, "lines": lines}
	order["order_id"] = order.get("order_id") or make_autoname(DESK_ORDER_SERIES)
	order.setdefault("created_at", frappe.utils.now_datetime().isoformat())
	return order
