"""Available stock as a person entering an order needs to see it."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import flt


def available_by_item(item_codes: list[str], warehouses: list[str]) -> dict[str, float]:
	"""actual − reserved for sales orders, summed over the warehouses, in one query."""
	if not item_codes or not warehouses:
		return {}
	rows = frappe.db.sql(
		"""select item_code, sum(actual_qty - reserved_qty) from `tabBin`
		where item_code in %(items)s and warehouse in %(warehouses)s group by item_code""",
		{"items": tuple(item_codes), "warehouses": tuple(warehouses)},
	)
	return {item: flt(qty) for item, qty in rows}


def shortfalls(sales_channel: str, lines: list[dict]) -> list[str]:
	warehouses = frappe.get_all("Sales Channel Warehouse", filters={"parent": sales_channel}, pluck="warehouse")
	wanted: dict[str, float] = {}
	for line in lines:
		code = line.get("item_code") or line.get("sku")
		if code:
			wanted[code] = wanted.get(code, 0) + flt(line.get("qty"))
	available = available_by_item(list(wanted), warehouses)
	return [
		_("{0}: {1} ordered, only {2} available").format(item, f"{qty:g}", f"{max(available.get(item, 0), 0):g}")
		for item, qty in wanted.items()
		if qty > available.get(item, 0)
	]
