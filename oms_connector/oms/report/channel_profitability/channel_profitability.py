"""Channel Profitability: revenue, platform subsidies, marketplace charges by kind, cost of
goods and margin per channel, order or item (figures: oms_connector/erp/money_reports.py)."""

from __future__ import annotations

from frappe import _
from frappe.utils import flt

from oms_connector.erp.money_reports import APPORTIONED, FEE_GROUPS, MONEY_PRECISION, channel_profitability, normalize

CHART_ROWS = 10


def execute(filters=None):
	filters = normalize(filters)
	rows = channel_profitability(filters)
	if len(rows) > 1:
		rows.append(total_row(rows, filters.group_by))
	return get_columns(filters.group_by), rows, None, get_chart(rows, filters.group_by)


def get_columns(group_by: str) -> list[dict]:
	return [*_key_columns(group_by), *_figure_columns()]


def _key_columns(group_by: str) -> list[dict]:
	if group_by == "Order":
		return [
			{"fieldname": "channel_order", "label": _("Channel Order"), "fieldtype": "Link", "options": "Channel Order", "width": 150},
			{"fieldname": "external_order_id", "label": _("Order ID"), "fieldtype": "Data", "width": 170},
			{"fieldname": "sales_channel", "label": _("Sales Channel"), "fieldtype": "Link", "options": "Sales Channel", "width": 150},
			{"fieldname": "invoice_date", "label": _("Invoice Date"), "fieldtype": "Date", "width": 100},
		]
	if group_by == "Item":
		return [
			{"fieldname": "item_code", "label": _("Item"), "fieldtype": "Link", "options": "Item", "width": 150},
			{"fieldname": "item_name", "label": _("Item Name"), "fieldtype": "Data", "width": 180},
		]
	return [
		{"fieldname": "sales_channel", "label": _("Sales Channel"), "fieldtype": "Link", "options": "Sales Channel", "width": 170},
		{"fieldname": "platform", "label": _("Platform"), "fieldtype": "Data", "width": 100},
	]


def _figure_columns() -> list[dict]:
	def money(fieldname: str, label: str, width: int = 120) -> dict:
		return {"fieldname": fieldname, "label": label, "fieldtype": "Currency", "options": "currency", "width": width}

	labels = fee_labels()
	fees = [money(fieldname, labels[fieldname]) for fieldname in FEE_GROUPS if fieldname != "withheld_tax"]
	return [
		{"fieldname": "orders", "label": _("Orders"), "fieldtype": "Int", "width": 70},
		money("revenue", _("Net Revenue"), 130),
		money("vat", _("VAT")),
		money("platform_funded", _("Platform Subsidies")),
		*fees,
		money("fees", _("Fees (excl. Withheld Taxes)"), 140),
		money("withheld_tax", labels["withheld_tax"]),
		money("cogs", _("Cost of Goods"), 130),
		money("margin", _("Margin"), 130),
		{"fieldname": "margin_percent", "label": _("Margin %"), "fieldtype": "Percent", "width": 90},
		{"fieldname": "currency", "label": _("Currency"), "fieldtype": "Link", "options": "Currency", "hidden": 1},
	]


def fee_labels() -> dict[str, str]:
	"""The fee columns' labels (the charge kinds each sums: FEE_GROUPS)."""
	return {
		"commission": _("Commission"),
		"service_fee": _("Service Fees"),
		"transaction_fee": _("Transaction Fees"),
		"shipping_fee": _("Shipping Fees"),
		"marketing": _("Marketing & Ads"),
		"other_charges": _("Refunds & Other"),
		"withheld_tax": _("Withheld Taxes"),
	}


def total_row(rows: list[dict], group_by: str) -> dict:
	label_field = {"Order": "external_order_id", "Item": "item_name"}.get(group_by, "platform")
	total = {label_field: _("Total"), "currency": rows[0].get("currency"), "is_total_row": 1}
	for column in ("orders", "revenue", "cogs", "fees", "margin", *APPORTIONED):
		total[column] = flt(sum(row.get(column) or 0 for row in rows), MONEY_PRECISION)
	total["orders"] = int(total["orders"])
	total["margin_percent"] = round(100 * total["margin"] / total["revenue"], 2) if total["revenue"] else 0
	return total


def get_chart(rows: list[dict], group_by: str) -> dict | None:
	rows = [row for row in rows if not row.get("is_total_row") and (row.get("revenue") or row.get("fees"))]
	rows = sorted(rows, key=lambda row: -abs(row["revenue"]))[:CHART_ROWS]
	if not rows:
		return None
	label = {"Order": "external_order_id", "Item": "item_code"}.get(group_by, "sales_channel")
	return {
		"data": {
			"labels": [row.get(label) or row.get("external_order_id") or row.get("item_name") or "" for row in rows],
			"datasets": [
				{"name": _("Net Revenue"), "values": [row["revenue"] for row in rows]},
				{"name": _("Fees"), "values": [row["fees"] for row in rows]},
				{"name": _("Cost of Goods"), "values": [row["cogs"] for row in rows]},
				{"name": _("Margin"), "values": [row["margin"] for row in rows]},
			],
		},
		"type": "bar",
		"fieldtype": "Currency",
		"currency": rows[0].get("currency"),
	}
