"""Settlement Reconciliation: each payout against the settlements it carries, what is settled
but not paid out, orders invoiced and never settled, settlements to review and each channel's
clearing account balance, one flat table whose Section column tells the parts apart
(figures: oms_connector/erp/money_reports.py)."""

from __future__ import annotations

from frappe import _

from oms_connector.erp.money_reports import normalize, settlement_reconciliation


def execute(filters=None):
	filters = normalize(filters)
	rows = settlement_reconciliation(filters)
	return get_columns(), rows, None, get_chart(rows), get_summary(rows)


def get_columns() -> list[dict]:
	def money(fieldname: str, label: str) -> dict:
		return {"fieldname": fieldname, "label": label, "fieldtype": "Currency", "options": "currency", "width": 120}

	return [
		{"fieldname": "section", "label": _("Section"), "fieldtype": "Data", "width": 130},
		{"fieldname": "sales_channel", "label": _("Sales Channel"), "fieldtype": "Link", "options": "Sales Channel", "width": 150},
		{"fieldname": "document_type", "label": _("Document Type"), "fieldtype": "Data", "hidden": 1},
		{"fieldname": "document", "label": _("Document"), "fieldtype": "Dynamic Link", "options": "document_type", "width": 170},
		{"fieldname": "platform_id", "label": _("Platform ID"), "fieldtype": "Data", "width": 150},
		{"fieldname": "date", "label": _("Date"), "fieldtype": "Date", "width": 100},
		{"fieldname": "invoice", "label": _("Sales Invoice"), "fieldtype": "Link", "options": "Sales Invoice", "width": 140},
		{"fieldname": "settlements", "label": _("Settlements"), "fieldtype": "Int", "width": 90},
		money("expected", _("Expected")),
		money("received", _("Received")),
		money("fee", _("Withdrawal Fee")),
		money("difference", _("Difference")),
		money("amount", _("Amount")),
		{"fieldname": "days_open", "label": _("Days Open"), "fieldtype": "Int", "width": 80},
		{"fieldname": "bank_matched", "label": _("Bank Matched"), "fieldtype": "Check", "width": 80},
		{"fieldname": "bank_transaction", "label": _("Bank Transaction"), "fieldtype": "Link", "options": "Bank Transaction", "width": 140},
		{"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 110},
		{"fieldname": "note", "label": _("Note"), "fieldtype": "Data", "width": 220},
		{"fieldname": "currency", "label": _("Currency"), "fieldtype": "Link", "options": "Currency", "hidden": 1},
	]


def get_chart(rows: list[dict]) -> dict | None:
	payouts = [row for row in rows if row["section"] == _("Payout")]
	if payouts:
		datasets = [
			{"name": _("Expected"), "values": [row["expected"] for row in payouts]},
			{"name": _("Received"), "values": [row["received"] for row in payouts]},
		]
		labels = [row["platform_id"] for row in payouts]
	else:
		clearing = [row for row in rows if row["section"] == _("Clearing Balance")]
		if not clearing:
			return None
		datasets = [{"name": _("Clearing Balance"), "values": [row["amount"] for row in clearing]}]
		labels = [row["sales_channel"] for row in clearing]
	chart = {"data": {"labels": labels, "datasets": datasets}, "type": "bar", "fieldtype": "Currency"}
	return {**chart, "currency": rows[0].get("currency")}


def get_summary(rows: list[dict]) -> list[dict]:
	def total(section: str, field: str) -> float:
		return sum(row.get(field) or 0 for row in rows if row["section"] == section)

	def count(section: str) -> int:
		return sum(1 for row in rows if row["section"] == section)

	currency = rows[0].get("currency") if rows else None

	def money(label: str, value: float, indicator: str) -> dict:
		return {"label": label, "value": value, "datatype": "Currency", "currency": currency, "indicator": indicator}

	def number(label: str, value: int) -> dict:
		return {"label": label, "value": value, "datatype": "Int", "indicator": "Orange" if value else "Green"}

	difference = total(_("Payout"), "difference")
	return [
		money(_("Payout Differences"), difference, "Red" if difference else "Green"),
		money(_("Not Paid Out"), total(_("Not Paid Out"), "amount"), "Blue"),
		number(_("Unsettled Orders"), count(_("Unsettled Order"))),
		number(_("Needing Review"), count(_("Needs Review"))),
		money(_("Clearing Balance"), total(_("Clearing Balance"), "amount"), "Blue"),
	]
