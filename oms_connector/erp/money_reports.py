"""The figures behind the money reports: Channel Profitability and Settlement Reconciliation.

Channel Profitability follows each order through its whole life: an order belongs to the
period of its first (forward) Sales Invoice, and everything it brings afterwards counts with
it (its credit notes, its settlement's charges, the stock its Delivery Notes took out and
brought back), so an order is counted once and its margin is whole. Charges are read from the
settlement's Journal Entry, i.e. as booked: a platform refund the books already hold as a
credit note is not taken twice, and what the platform paid short is the settlement difference.
Amounts are in the company's currency.

Settlement Reconciliation ties each payout to the settlements that make it up, lists what is
settled but not yet paid out, the orders invoiced long ago and never settled, the settlements
waiting for review, and each channel's clearing account balance.
"""

from __future__ import annotations

from collections import defaultdict

import frappe
from frappe import _
from frappe.query_builder.functions import Coalesce, Date, Min, Sum
from frappe.utils import add_days, date_diff, flt, get_first_day, get_last_day, getdate, nowdate

from oms_connector.domain.settlement import ChargeKind as K
from oms_connector.erp import fieldnames
from oms_connector.erp.money_accounts import DIFFERENCE, UNMATCHED
from oms_connector.erp.settlements import PAYOUT, SETTLEMENT

CO = fieldnames.CHANNEL_ORDER
SC = fieldnames.SALES_CHANNEL
BOOKED = ("Booked", "Difference")

# report column -> the charge kinds it sums; withheld taxes are prepaid tax, not cost
FEE_GROUPS = {
	"commission": (K.COMMISSION.value,),
	"service_fee": (K.SERVICE.value,),
	"transaction_fee": (K.TRANSACTION.value,),
	"shipping_fee": (K.SHIPPING.value,),
	"marketing": (K.MARKETING.value, K.ADVERTISING.value),
	"other_charges": (K.REFUND.value, K.PENALTY.value, K.COMPENSATION.value, K.OTHER.value, DIFFERENCE, UNMATCHED),
	"withheld_tax": (K.WITHHELD_VAT.value, K.WITHHELD_PIT.value, K.WITHHELD_TAX.value),
}
COST_FEES = tuple(column for column in FEE_GROUPS if column != "withheld_tax")
KIND_COLUMN = {kind: column for column, kinds in FEE_GROUPS.items() for kind in kinds}
APPORTIONED = ("vat", "platform_funded", *FEE_GROUPS)
GROUP_BY = ("Channel", "Order", "Item")
MONEY_PRECISION = 2  # shares of an order's charges are cents, whatever the currency shows


def normalize(filters) -> frappe._dict:
	filters = frappe._dict(filters or {})
	if not filters.company:
		frappe.throw(_("Select a Company"))
	today = getdate(nowdate())
	filters.from_date = getdate(filters.from_date or get_first_day(today))
	filters.to_date = getdate(filters.to_date or get_last_day(today))
	if filters.from_date > filters.to_date:
		frappe.throw(_("From Date must be before To Date"))
	filters.group_by = filters.group_by or "Channel"
	if filters.group_by not in GROUP_BY:
		frappe.throw(_("Group By must be one of {0}").format(", ".join(_(g) for g in GROUP_BY)))
	return filters


# --- Channel Profitability ------------------------------------------------------------------


def channel_profitability(filters) -> list[dict]:
	filters = normalize(filters)
	cohort = _cohort(filters)
	orders = _order_figures(cohort)
	loose = _loose_adjustments(filters)
	currency = frappe.get_cached_value("Company", filters.company, "default_currency")
	if filters.group_by == "Order":
		rows = [*orders.values(), *loose.values()]
		rows.sort(key=_order_sort_key)
	elif filters.group_by == "Item":
		rows = _item_rows(orders, cohort, loose)
	else:
		rows = _channel_rows(orders, loose)
	for row in rows:
		_finish(row, currency)
	return rows


def _order_sort_key(row: dict) -> tuple:
	# by channel, then invoice date; a channel's adjustments without an order come last
	return (row["sales_channel"] or "", str(row.get("invoice_date") or "9999"), row.get("channel_order") or "")


def _cohort(filters):
	"""The orders whose first forward invoice falls in the period (a subquery)."""
	si = frappe.qb.DocType("Sales Invoice")
	query = (
		frappe.qb.from_(si)
		.select(si[CO])
		.where((si.docstatus == 1) & (si.is_return == 0) & (si.company == filters.company))
		.where(si[CO].isnotnull() & (si[CO] != ""))
		.groupby(si[CO])
		.having(Min(si.posting_date).between(filters.from_date, filters.to_date))
	)
	if filters.sales_channel:
		query = query.where(si[SC] == filters.sales_channel)
	return query


def _blank(**values) -> dict:
	row = {"orders": 0, "revenue": 0.0, "vat": 0.0, "platform_funded": 0.0, "cogs": 0.0}
	row.update({column: 0.0 for column in FEE_GROUPS})
	row.update(values)
	return row


def _order_figures(cohort) -> dict[str, dict]:
	"""{channel order: its row}, with revenue, VAT, subsidies, charges and cost of goods."""
	co = frappe.qb.DocType("Channel Order")
	found = (
		frappe.qb.from_(co)
		.select(co.name, co.sales_channel, co.external_order_id)
		.where(co.name.isin(cohort))
		.run(as_dict=True)
	)
	orders = {
		o.name: _blank(sales_channel=o.sales_channel, channel_order=o.name, external_order_id=o.external_order_id, orders=1)
		for o in found
	}
	for invoice in _invoices(cohort):
		row = orders[invoice.channel_order]
		row["revenue"] += flt(invoice.base_net_total)
		row["vat"] += flt(invoice.base_total_taxes_and_charges)
		if not invoice.is_return:
			row["invoice_date"] = min(filter(None, (row.get("invoice_date"), invoice.posting_date)))
	for name, funded in _subsidies(cohort).items():
		orders[name]["platform_funded"] += funded
	for (name, _item), value in _cost_of_goods(cohort).items():
		orders[name]["cogs"] += value
	for name, columns in _order_charges(cohort).items():
		for column, amount in columns.items():
			orders[name][column] += amount
	return orders


def _invoices(cohort) -> list:
	si = frappe.qb.DocType("Sales Invoice")
	return (
		frappe.qb.from_(si)
		.select(si[CO].as_("channel_order"), si.is_return, si.posting_date, si.base_net_total, si.base_total_taxes_and_charges)
		.where((si.docstatus == 1) & si[CO].isin(cohort))
		.run(as_dict=True)
	)


def _invoice_items(cohort) -> list:
	si = frappe.qb.DocType("Sales Invoice")
	item = frappe.qb.DocType("Sales Invoice Item")
	return (
		frappe.qb.from_(item)
		.join(si)
		.on(item.parent == si.name)
		.select(si[CO].as_("channel_order"), si.is_return, item.item_code, item.item_name, item.base_net_amount)
		.where((si.docstatus == 1) & si[CO].isin(cohort))
		.run(as_dict=True)
	)


def _subsidies(cohort) -> dict[str, float]:
	"""What the platform funds of each order's sale (its Sales Order), in company currency."""
	so = frappe.qb.DocType("Sales Order")
	rows = (
		frappe.qb.from_(so)
		.select(so[CO], Sum(so[fieldnames.PLATFORM_FUNDED] * so.conversion_rate))
		.where((so.docstatus == 1) & so[CO].isin(cohort))
		.groupby(so[CO])
		.run()
	)
	return {name: flt(amount) for name, amount in rows}


def _cost_of_goods(cohort) -> dict[tuple[str, str], float]:
	"""{(order, item): stock value its Delivery Notes (and stock-updating invoices) took out,
	less what their returns brought back}."""
	totals: dict[tuple[str, str], float] = defaultdict(float)
	sle = frappe.qb.DocType("Stock Ledger Entry")
	for doctype in ("Delivery Note", "Sales Invoice"):
		voucher = frappe.qb.DocType(doctype)
		rows = (
			frappe.qb.from_(sle)
			.join(voucher)
			.on((sle.voucher_type == doctype) & (sle.voucher_no == voucher.name))
			.select(voucher[CO], sle.item_code, Sum(sle.stock_value_difference))
			.where((sle.is_cancelled == 0) & (voucher.docstatus == 1) & voucher[CO].isin(cohort))
			.groupby(voucher[CO], sle.item_code)
			.run()
		)
		for name, item_code, value in rows:
			totals[(name, item_code)] -= flt(value)
	return totals


def _booked_charges(condition) -> list:
	"""Each booked settlement's Journal Entry lines, clearing account left out: (sales channel,
	channel order, account, amount) summed per settlement and account."""
	ms = frappe.qb.DocType(SETTLEMENT)
	je = frappe.qb.DocType("Journal Entry")
	jea = frappe.qb.DocType("Journal Entry Account")
	channel = frappe.qb.DocType("Sales Channel")
	return (
		frappe.qb.from_(ms)
		.join(je)
		.on(je.name == ms.journal_entry)
		.join(jea)
		.on((jea.parent == je.name) & (jea.parenttype == "Journal Entry"))
		.join(channel)
		.on(channel.name == ms.sales_channel)
		.select(ms.sales_channel, ms.channel_order, jea.account, Sum(jea.debit - jea.credit).as_("amount"))
		.where(condition & (je.docstatus == 1) & (jea.account != channel.clearing_account))
		.groupby(ms.name, jea.account)
		.run(as_dict=True)
	)


def _order_charges(cohort) -> dict[str, dict[str, float]]:
	ms = frappe.qb.DocType(SETTLEMENT)
	rows = _booked_charges(ms.status.isin(BOOKED) & ms.channel_order.isin(cohort))
	return _by_column(rows, "channel_order")


def _loose_adjustments(filters) -> dict[str, dict]:
	"""Adjustments that name no order (ads, penalties…), by the posting date of their booking:
	one row per channel."""
	ms = frappe.qb.DocType(SETTLEMENT)
	je = frappe.qb.DocType("Journal Entry")
	condition = (
		(ms.settlement_type == "Adjustment")
		& (ms.status == "Booked")
		& (ms.channel_order.isnull() | (ms.channel_order == ""))
		& (ms.company == filters.company)
		& je.posting_date.between(filters.from_date, filters.to_date)
	)
	if filters.sales_channel:
		condition &= ms.sales_channel == filters.sales_channel
	rows = _booked_charges(condition)
	loose = {}
	for channel, columns in _by_column(rows, "sales_channel").items():
		loose[channel] = _blank(sales_channel=channel, external_order_id=_("Adjustments without an order"), **columns)
	return loose


def _by_column(rows: list, key: str) -> dict[str, dict[str, float]]:
	kinds = _account_kinds({row.sales_channel for row in rows}, {row.account for row in rows})
	totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
	for row in rows:
		kind = kinds.get((row.sales_channel, row.account)) or kinds.get((None, row.account))
		totals[row[key]][KIND_COLUMN.get(kind, "other_charges")] += flt(row.amount)
	return totals


def _account_kinds(channels: set, accounts: set) -> dict[tuple, str]:
	"""{(channel, account): charge kind} from the channels' charge accounts, and {(None,
	account): kind} from the settlements' own charge lines, for accounts changed since."""
	if not accounts:
		return {}
	kinds: dict[tuple, str] = {}
	for row in frappe.get_all(
		"Marketplace Settlement Charge",
		filters={"account": ("in", list(accounts)), "parenttype": SETTLEMENT},
		fields=["account", "charge_kind"],
		distinct=True,
	):
		kinds.setdefault((None, row.account), row.charge_kind)
	for row in frappe.get_all(
		"Sales Channel Charge Account",
		filters={"parent": ("in", list(channels)), "parenttype": "Sales Channel"},
		fields=["parent", "account", "charge_kind"],
		order_by="idx asc",
	):
		kinds.setdefault((row.parent, row.account), row.charge_kind)
	return kinds


def _channel_rows(orders: dict, loose: dict) -> list[dict]:
	platforms = dict(frappe.get_all("Sales Channel", fields=["name", "platform"], as_list=True))
	rows: dict[str, dict] = {}
	for row in [*orders.values(), *loose.values()]:
		channel = row["sales_channel"]
		total = rows.setdefault(channel, _blank(sales_channel=channel, platform=platforms.get(channel)))
		_add(total, row)
	return sorted(rows.values(), key=lambda row: row["sales_channel"] or "")


def _item_rows(orders: dict, cohort, loose: dict) -> list[dict]:
	"""Revenue and cost of goods per item as invoiced and delivered; the order's VAT, subsidies
	and charges shared out by each item's part of the order's net revenue."""
	lines: dict[str, dict[str, dict]] = defaultdict(dict)  # order -> item -> figures
	names = {}
	for line in _invoice_items(cohort):
		names[line.item_code] = line.item_name
		figures = lines[line.channel_order].setdefault(line.item_code, {"revenue": 0.0, "forward": 0.0, "cogs": 0.0})
		figures["revenue"] += flt(line.base_net_amount)
		figures["forward"] += 0 if line.is_return else flt(line.base_net_amount)
	for (name, item_code), value in _cost_of_goods(cohort).items():
		lines[name].setdefault(item_code, {"revenue": 0.0, "forward": 0.0, "cogs": 0.0})["cogs"] += value
	rows: dict[str, dict] = {}
	for name, items in lines.items():
		order = orders[name]
		shares = _shares(items)
		for item_code, figures in items.items():
			row = rows.setdefault(item_code, _blank(item_code=item_code, item_name=names.get(item_code) or item_code))
			row["orders"] += 1
			row["revenue"] += figures["revenue"]
			row["cogs"] += figures["cogs"]
			for column in APPORTIONED:
				row[column] += order[column] * shares[item_code]
	result = sorted(rows.values(), key=lambda row: row["item_code"] or "")
	if loose:
		total = _blank(item_name=_("Adjustments without an order"))
		for row in loose.values():
			_add(total, row)
		result.append(total)
	return result


def _shares(items: dict[str, dict]) -> dict[str, float]:
	"""Each item's part of the order: by net revenue; by invoiced revenue when returns took
	it all back; equal when nothing was invoiced."""
	for key in ("revenue", "forward"):
		weights = {item: figures[key] for item, figures in items.items()}
		total = sum(weights.values())
		if total:
			return {item: weight / total for item, weight in weights.items()}
	return {item: 1 / len(items) for item in items}


def _add(total: dict, row: dict) -> None:
	for column in ("orders", "revenue", "cogs", *APPORTIONED):
		total[column] += row[column]


def _finish(row: dict, currency: str) -> None:
	for column in ("revenue", "cogs", *APPORTIONED):
		row[column] = flt(row[column], MONEY_PRECISION)
	row["fees"] = flt(sum(row[column] for column in COST_FEES), MONEY_PRECISION)
	row["margin"] = flt(row["revenue"] - row["fees"] - row["cogs"], MONEY_PRECISION)
	row["margin_percent"] = flt(100 * row["margin"] / row["revenue"], 2) if row["revenue"] else 0
	row["currency"] = currency


# --- Settlement Reconciliation --------------------------------------------------------------


def settlement_reconciliation(filters) -> list[dict]:
	filters = normalize(filters)
	channels = _settling_channels(filters)
	return [
		*_payout_rows(filters),
		*_unpaid_rows(filters),
		*_unsettled_rows(filters, channels),
		*_review_rows(filters),
		*_clearing_rows(filters, channels),
	]


def _settling_channels(filters) -> list:
	conditions = {"company": filters.company, "clearing_account": ("is", "set")}
	if filters.sales_channel:
		conditions["name"] = filters.sales_channel
	return frappe.get_all(
		"Sales Channel",
		filters=conditions,
		fields=["name", "clearing_account", "settlement_overdue_days", "currency"],
		order_by="name asc",
	)


def withdrawal_fee_reference(payout_id: str) -> str:
	"""The adjustment record_payout makes of a payout's withdrawal fee (erp/settlements.py)."""
	return f"{payout_id}:withdrawal-fee"


def _payout_rows(filters) -> list[dict]:
	"""Per payout: what its settlements say it should carry, and what it carried (the amount
	that reached the bank plus the withdrawal fee the platform took on the way)."""
	conditions = {"company": filters.company, "paid_on": ("between", [filters.from_date, filters.to_date])}
	if filters.sales_channel:
		conditions["sales_channel"] = filters.sales_channel
	payouts = frappe.get_all(
		PAYOUT,
		filters=conditions,
		fields=["name", "sales_channel", "payout_id", "paid_on", "amount", "fee", "status", "bank_transaction", "currency"],
		order_by="paid_on asc, name asc",
	)
	expected = _expected_by_payout(filters, {payout.payout_id for payout in payouts})
	rows = []
	for payout in payouts:
		total, count = expected.get((payout.sales_channel, payout.payout_id), (0.0, 0))
		received = flt(payout.amount) + flt(payout.fee)
		rows.append(
			{
				"section": _("Payout"),
				"sales_channel": payout.sales_channel,
				"document_type": PAYOUT,
				"document": payout.name,
				"platform_id": payout.payout_id,
				"date": payout.paid_on,
				"settlements": count,
				"expected": total,
				"received": received,
				"fee": flt(payout.fee),
				"difference": total - received,
				"bank_matched": int(bool(payout.bank_transaction)),
				"bank_transaction": payout.bank_transaction,
				"status": _(payout.status),
				"currency": payout.currency,
			}
		)
	return rows


def _expected_by_payout(filters, payout_ids: set) -> dict[tuple, tuple[float, int]]:
	"""{(channel, payout id): (Σ payout of its settlements and Σ −charges of its adjustments,
	how many)}, the payout's own withdrawal fee left out (it is in `received`)."""
	if not payout_ids:
		return {}
	records = frappe.get_all(
		SETTLEMENT,
		filters={"company": filters.company, "payout_id": ("in", list(payout_ids))},
		fields=["sales_channel", "payout_id", "settlement_type", "reference", "payout", "charges_total"],
	)
	totals: dict[tuple, list] = defaultdict(lambda: [0.0, 0])
	for record in records:
		if record.settlement_type == "Adjustment" and record.reference == withdrawal_fee_reference(record.payout_id):
			continue
		amount = -flt(record.charges_total) if record.settlement_type == "Adjustment" else flt(record.payout)
		total = totals[(record.sales_channel, record.payout_id)]
		total[0] += amount
		total[1] += 1
	return {key: (amount, count) for key, (amount, count) in totals.items()}


def _unpaid_rows(filters) -> list[dict]:
	"""Settlements of the period (settled then, or recorded then when the platform gave no date)
	that no booked payout, paid by the end of the period, carries yet."""
	ms = frappe.qb.DocType(SETTLEMENT)
	settled_on = Coalesce(ms.settled_on, Date(ms.creation))
	query = (
		frappe.qb.from_(ms)
		.select(
			ms.name, ms.sales_channel, ms.external_order_id, ms.reference, settled_on.as_("settled_on"),
			ms.payout_id, ms.payout, ms.status, ms.currency,
		)
		.where((ms.company == filters.company) & settled_on.between(filters.from_date, filters.to_date))
		.orderby(settled_on)
		.orderby(ms.name)
	)
	if filters.sales_channel:
		query = query.where(ms.sales_channel == filters.sales_channel)
	records = query.run(as_dict=True)
	paid = _paid_out(filters, {record.payout_id for record in records if record.payout_id})
	rows = []
	for record in records:
		if record.payout_id and (record.sales_channel, record.payout_id) in paid:
			continue
		note = _("Payout {0} not booked yet").format(record.payout_id) if record.payout_id else _("No payout named")
		rows.append(
			{
				"section": _("Not Paid Out"),
				"sales_channel": record.sales_channel,
				"document_type": SETTLEMENT,
				"document": record.name,
				"platform_id": record.external_order_id or record.reference,
				"date": record.settled_on,
				"expected": flt(record.payout),
				"amount": flt(record.payout),
				"status": _(record.status),
				"note": note,
				"currency": record.currency,
			}
		)
	return rows


def _paid_out(filters, payout_ids: set) -> set[tuple]:
	if not payout_ids:
		return set()
	rows = frappe.get_all(
		PAYOUT,
		filters={
			"company": filters.company,
			"payout_id": ("in", list(payout_ids)),
			"status": "Booked",
			"paid_on": ("<=", filters.to_date),
		},
		fields=["sales_channel", "payout_id"],
	)
	return {(row.sales_channel, row.payout_id) for row in rows}


def _as_of(filters):
	return min(filters.to_date, getdate(nowdate()))


def _unsettled_rows(filters, channels: list) -> list[dict]:
	"""Orders invoiced longer ago than their channel's overdue days that no booked settlement
	covers: money the platform owes and has not accounted for."""
	as_of = _as_of(filters)
	rows = []
	for channel in channels:
		cutoff = add_days(as_of, -max(int(channel.settlement_overdue_days or 0), 0))
		open_orders = _open_invoices(filters.company, channel.name, cutoff)
		returned = _returned(filters.company, [order.channel_order for order in open_orders])
		for order in open_orders:
			amount = flt(order.amount) + returned.get(order.channel_order, 0)
			if amount <= 0:
				continue  # credited in full: nothing to settle
			rows.append(
				{
					"section": _("Unsettled Order"),
					"sales_channel": channel.name,
					"document_type": "Channel Order",
					"document": order.channel_order,
					"platform_id": order.external_order_id,
					"date": order.posting_date,
					"invoice": order.invoice,
					"amount": amount,
					"days_open": date_diff(as_of, order.posting_date),
					"status": _("Not settled"),
					"currency": frappe.get_cached_value("Company", filters.company, "default_currency"),
				}
			)
	return rows


def _open_invoices(company: str, channel: str, cutoff) -> list:
	si = frappe.qb.DocType("Sales Invoice")
	ms = frappe.qb.DocType(SETTLEMENT)
	co = frappe.qb.DocType("Channel Order")
	settled = (
		frappe.qb.from_(ms)
		.select(ms.channel_order)
		.where((ms.settlement_type == "Order") & ms.status.isin(BOOKED) & ms.channel_order.isnotnull())
	)
	return (
		frappe.qb.from_(si)
		.join(co)
		.on(co.name == si[CO])
		.select(
			si[CO].as_("channel_order"),
			co.external_order_id,
			Min(si.name).as_("invoice"),
			Min(si.posting_date).as_("posting_date"),
			Sum(si.base_grand_total).as_("amount"),
		)
		.where((si.docstatus == 1) & (si.is_return == 0) & (si.company == company) & (si[SC] == channel))
		.where(si[CO].notin(settled))
		.groupby(si[CO], co.external_order_id)
		.having(Min(si.posting_date) < cutoff)
		.orderby(Min(si.posting_date))
		.run(as_dict=True)
	)


def _returned(company: str, orders: list[str]) -> dict[str, float]:
	if not orders:
		return {}
	si = frappe.qb.DocType("Sales Invoice")
	rows = (
		frappe.qb.from_(si)
		.select(si[CO], Sum(si.base_grand_total))
		.where((si.docstatus == 1) & (si.is_return == 1) & (si.company == company) & si[CO].isin(orders))
		.groupby(si[CO])
		.run()
	)
	return {name: flt(amount) for name, amount in rows}


def _review_rows(filters) -> list[dict]:
	conditions = {"company": filters.company, "needs_review": 1}
	if filters.sales_channel:
		conditions["sales_channel"] = filters.sales_channel
	records = frappe.get_all(
		SETTLEMENT,
		filters=conditions,
		fields=[
			"name", "sales_channel", "settlement_type", "external_order_id", "reference",
			"settled_on", "payout", "difference", "status", "error", "currency",
		],
		order_by="settled_on asc, name asc",
	)
	return [
		{
			"section": _("Needs Review"),
			"sales_channel": record.sales_channel,
			"document_type": SETTLEMENT,
			"document": record.name,
			"platform_id": record.external_order_id or record.reference,
			"date": record.settled_on,
			"amount": flt(record.payout),
			"difference": flt(record.difference),
			"status": _(record.status),
			"note": record.error or _(record.settlement_type),
			"currency": record.currency,
		}
		for record in records
	]


def _clearing_rows(filters, channels: list) -> list[dict]:
	currency = frappe.get_cached_value("Company", filters.company, "default_currency")
	return [
		{
			"section": _("Clearing Balance"),
			"sales_channel": channel.name,
			"document_type": "Account",
			"document": channel.clearing_account,
			"date": filters.to_date,
			"amount": clearing_balance(filters.company, channel.clearing_account, filters.to_date),
			"note": _("What the platform still owes by the books"),
			"currency": currency,
		}
		for channel in channels
	]


def clearing_balance(company: str, account: str, on_date) -> float:
	gle = frappe.qb.DocType("GL Entry")
	rows = (
		frappe.qb.from_(gle)
		.select(Sum(gle.debit - gle.credit))
		.where((gle.company == company) & (gle.account == account) & (gle.is_cancelled == 0) & (gle.posting_date <= on_date))
		.run()
	)
	return flt(rows[0][0]) if rows else 0.0

