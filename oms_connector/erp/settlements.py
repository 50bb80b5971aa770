"""Marketplace settlements, adjustments and payouts booked into ERPNext's ledgers.

The model (domain/settlement.py, README "Money"): an order's invoices are paid into the
channel's clearing account when invoiced (the marketplace owes them); a settlement takes each
charge out of the clearing account into its own account with a Journal Entry, leaving what the
platform pays out; a payout is an Internal Transfer Payment Entry from the clearing account to
the bank, matched to the bank's Bank Transaction.

Every record is keyed on the platform's ids and booked to a desired state: fetching the same
figures again books nothing, changed figures cancel the booking and make its amendment.
"""

from __future__ import annotations

import functools
import hashlib
import json
from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import flt, getdate, nowdate, strip_html

from oms_connector.domain.settlement import (
	Adjustment,
	Charge,
	ChargeKind,
	FinancePeriod,
	OrderSettlement,
	Payout,
	SettlementError,
	combine_parts,
	merge_parts,
	plan_booking,
)
from oms_connector.erp import fieldnames
from oms_connector.erp.money_accounts import DIFFERENCE, UNMATCHED, charge_account

SETTLEMENT = "Marketplace Settlement"
PAYOUT = "Marketplace Payout"
# statuses a later event (an invoice, a saved channel, the daily fetch) may move on
OPEN_STATUSES = ("Waiting for Invoice", "Order Unknown", "Error")
REVIEW_STATUSES = ("Difference", "Order Unknown", "Error")
BOOKING_SAVEPOINT = "oms_settlement_booking"


# --- recording what the platform says -------------------------------------------------------


def record_finance(channel_name: str, period: FinancePeriod) -> dict:
	"""Store and book a period's finance data; returns how many of each kind were seen."""
	channel = frappe.get_doc("Sales Channel", channel_name)
	for settlement in period.settlements:
		record_settlement(channel, settlement)
	for adjustment in period.adjustments:
		record_adjustment(channel, adjustment)
	for payout in period.payouts:
		record_payout(channel, payout)
	return {
		"settlements": len(period.settlements),
		"adjustments": len(period.adjustments),
		"payouts": len(period.payouts),
	}


def record_settlement(channel, part: OrderSettlement) -> str:
	"""Store what the platform now says of an order's settlement and book it. A statement's part
	(Lazada, TikTok) is added to the parts held before; a whole-order read replaces them."""
	key = f"{channel.name}:order:{part.order_id}"
	doc = _locked(SETTLEMENT, "settlement_key", key)
	parts = combine_parts(_stored_parts(doc), part)
	settlement = merge_parts(parts)
	error = ""
	try:
		settlement.check()
	except SettlementError as exc:
		error = str(exc)
	fingerprint = settlement.fingerprint()
	if not doc.is_new() and doc.fingerprint == fingerprint and bool(doc.final) == settlement.final and not error:
		if doc.status in OPEN_STATUSES:
			_book_settlement(doc, channel)
		return doc.name
	doc.update(
		{
			"settlement_key": key,
			"sales_channel": channel.name,
			"company": channel.company,
			"settlement_type": "Order",
			"external_order_id": settlement.order_id,
			"final": int(settlement.final),
			"settled_on": settlement.settled_on,
			"payout_id": settlement.payout_id,
			"reference": settlement.reference[:140],
			"currency": settlement.currency,
			"revenue": float(settlement.revenue),
			"charges_total": float(settlement.charges_total),
			"payout": float(settlement.payout),
			"fingerprint": fingerprint,
			"raw_data": _json(settlement.raw if len(parts) == 1 else [p.raw for p in parts]),
			"parts": json.dumps([_part_to_dict(p) for p in parts], ensure_ascii=False),
		}
	)
	doc.set("charges", [])
	for charge in settlement.charges:
		doc.append(
			"charges",
			{"charge_kind": charge.kind.value, "label": charge.label, "amount": float(charge.amount), "currency": settlement.currency},
		)
	if error:
		_set_status(doc, "Error", error)
		doc.save(ignore_permissions=True)
		return doc.name
	_book_settlement(doc, channel)
	return doc.name


def record_adjustment(channel, adjustment: Adjustment) -> str:
	key = f"{channel.name}:adjustment:{adjustment.adjustment_id}"
	doc = _locked(SETTLEMENT, "settlement_key", key)
	fingerprint = hashlib.sha256(f"{adjustment.kind.value}={adjustment.amount}".encode()).hexdigest()[:20]
	if not doc.is_new() and doc.fingerprint == fingerprint and doc.status not in OPEN_STATUSES:
		return doc.name
	doc.update(
		{
			"settlement_key": key,
			"sales_channel": channel.name,
			"company": channel.company,
			"settlement_type": "Adjustment",
			"external_order_id": adjustment.order_id,
			"channel_order": _channel_order(channel.name, adjustment.order_id),
			"final": 1,
			"settled_on": adjustment.posted_on,
			"payout_id": adjustment.payout_id,
			"reference": adjustment.adjustment_id,
			"currency": adjustment.currency,
			"revenue": 0,
			"charges_total": float(adjustment.amount),
			"payout": float(-adjustment.amount),
			"fingerprint": fingerprint,
			"raw_data": _json(adjustment.raw),
		}
	)
	doc.set("charges", [])
	doc.append(
		"charges",
		{
			"charge_kind": adjustment.kind.value,
			"label": adjustment.label,
			"amount": float(adjustment.amount),
			"currency": adjustment.currency,
		},
	)
	_book_adjustment(doc, channel)
	return doc.name


def record_payout(channel, payout: Payout) -> str:
	key = f"{channel.name}:payout:{payout.payout_id}"
	doc = _locked(PAYOUT, "payout_key", key)
	doc.update(
		{
			"payout_key": key,
			"sales_channel": channel.name,
			"company": channel.company,
			"payout_id": payout.payout_id,
			"paid_on": payout.paid_on,
			"currency": payout.currency,
			"amount": float(payout.amount),
			"fee": float(payout.fee),
			"bank_reference": payout.bank_reference,
			"order_count": len(payout.order_ids),
			"order_ids": "\n".join(payout.order_ids)[:10000],
			"raw_data": _json(payout.raw),
		}
	)
	if payout.fee:
		record_adjustment(
			channel,
			Adjustment(
				adjustment_id=f"{payout.payout_id}:withdrawal-fee",
				kind=ChargeKind.TRANSACTION,
				amount=payout.fee,
				label=_("Withdrawal fee"),
				posted_on=payout.paid_on,
				currency=payout.currency,
				payout_id=payout.payout_id,
			),
		)
	_book_payout(doc, channel, payout.paid)
	return doc.name


# --- booking ------------------------------------------------------------------------------


def book_waiting_for_order(channel_order_name: str) -> None:
	"""Book the settlements that waited for this order to be known or invoiced."""
	order = frappe.db.get_value("Channel Order", channel_order_name, ["sales_channel", "external_order_id"], as_dict=True)
	if not order:
		return
	names = frappe.get_all(
		SETTLEMENT,
		filters={
			"sales_channel": order.sales_channel,
			"external_order_id": order.external_order_id,
			"settlement_type": "Order",
			"status": ("in", OPEN_STATUSES),
		},
		pluck="name",
	)
	if not names:
		return
	channel = frappe.get_doc("Sales Channel", order.sales_channel)
	for name in names:
		doc = _locked(SETTLEMENT, "name", name)
		if doc.status in OPEN_STATUSES:
			_book_settlement(doc, channel)


def retry(name: str) -> str:
	"""Book a settlement or payout again after its cause was put right (a desk button)."""
	doctype = SETTLEMENT if frappe.db.exists(SETTLEMENT, name) else PAYOUT
	doc = _locked(doctype, "name", name)
	channel = frappe.get_doc("Sales Channel", doc.sales_channel)
	if doctype == PAYOUT:
		_book_payout(doc, channel, True)
	elif doc.settlement_type == "Adjustment":
		_book_adjustment(doc, channel)
	else:
		_book_settlement(doc, channel)
	return frappe.db.get_value(doctype, name, "status")


def _guarded(book):
	"""Book with the record's figures saved first: whatever ERPNext refuses (a closed period, a
	frozen account) is undone and leaves the record in Error with ERPNext's reason, its figures
	kept for Retry Booking, so one refused booking never stops the others or an order's processing."""

	@functools.wraps(book)
	def run(doc, channel, *args) -> None:
		doc.save(ignore_permissions=True)
		frappe.db.savepoint(BOOKING_SAVEPOINT)
		try:
			book(doc, channel, *args)
		except frappe.ValidationError as exc:
			frappe.db.rollback(save_point=BOOKING_SAVEPOINT)
			failed = frappe.get_doc(doc.doctype, doc.name)
			reason = strip_html(str(exc)) or exc.__class__.__name__
			if failed.doctype == SETTLEMENT:
				_set_status(failed, "Error", reason)
			else:
				failed.status, failed.error = "Error", reason
			failed.save(ignore_permissions=True)

	return run


@_guarded
def _book_settlement(doc, channel) -> None:
	if not doc.final:
		_set_status(doc, "Estimate")
		doc.save(ignore_permissions=True)
		return
	order_name = doc.channel_order or _channel_order(channel.name, doc.external_order_id)
	doc.channel_order = order_name
	try:
		rows, status = _settlement_rows(doc, channel, order_name)
	except frappe.ValidationError as exc:
		_set_status(doc, "Error", str(exc))
		doc.save(ignore_permissions=True)
		return
	if rows is None:
		_set_status(doc, status)
		doc.save(ignore_permissions=True)
		return
	_post(doc, channel, rows, status)
	if order_name:
		frappe.db.set_value("Channel Order", order_name, "marketplace_settlement", doc.name, update_modified=False)


def _settlement_rows(doc, channel, order_name: str | None):
	"""(ledger rows, status), rows None while the order cannot be booked yet."""
	payout = Decimal(str(doc.payout))
	if not order_name:
		unmatched = charge_account(channel, UNMATCHED)
		return [(channel.clearing_account, payout), (unmatched, -payout)], "Order Unknown"
	receipts, refunds = _clearing_for_order(order_name, channel.clearing_account)
	if receipts <= 0:
		if doc.journal_entry:  # booked as unknown before: it stays until the order is invoiced
			return None, doc.status
		return None, "Waiting for Invoice"
	booking = plan_booking(_as_settlement(doc), invoiced=receipts, refunded=refunds)
	doc.in_clearing = float(receipts - refunds)
	doc.difference = float(booking.difference)
	for row in doc.charges:
		row.account = charge_account(channel, row.charge_kind)
	rows = [(charge_account(channel, kind.value), amount) for kind, amount in booking.charges.items()]
	if booking.difference:
		rows.append((charge_account(channel, DIFFERENCE), booking.difference))
	rows.append((channel.clearing_account, -booking.total))
	return rows, "Difference" if booking.difference else "Booked"


@_guarded
def _book_adjustment(doc, channel) -> None:
	try:
		row = doc.charges[0]
		row.account = charge_account(channel, row.charge_kind)
		amount = Decimal(str(row.amount))
		rows = [(row.account, amount), (channel.clearing_account, -amount)]
	except frappe.ValidationError as exc:
		_set_status(doc, "Error", str(exc))
		doc.save(ignore_permissions=True)
		return
	_post(doc, channel, rows, "Booked")


def _post(doc, channel, rows: list, status: str) -> None:
	"""Make the booking's Journal Entry unless the one in place already books these rows."""
	rows = _merge(rows)
	key = hashlib.sha256(json.dumps(sorted((a, str(v)) for a, v in rows)).encode()).hexdigest()[:20]
	current = doc.journal_entry and frappe.db.get_value("Journal Entry", doc.journal_entry, "docstatus") == 1
	if not (current and doc.booked_rows == key) and not (not current and not rows):
		previous = doc.journal_entry if current else None
		if previous:
			_cancel("Journal Entry", previous)
			doc.corrections = (doc.corrections or 0) + 1
		doc.journal_entry = _journal_entry(doc, channel, rows, previous) if rows else None
	doc.booked_rows = key
	_set_status(doc, status)
	doc.save(ignore_permissions=True)


def _journal_entry(doc, channel, rows: list, amended_from: str | None) -> str:
	cost_center = channel.cost_center or frappe.get_cached_value("Company", channel.company, "cost_center")
	posting_date = doc.settled_on or nowdate()
	je = frappe.new_doc("Journal Entry")
	je.update(
		{
			"voucher_type": "Journal Entry",
			"company": channel.company,
			"posting_date": posting_date,
			"cheque_no": (doc.reference or doc.external_order_id or doc.name)[:140],
			"cheque_date": posting_date,
			"user_remark": _remark(doc),
			"amended_from": amended_from,
			fieldnames.CHANNEL_ORDER: doc.channel_order,
		}
	)
	for account, amount in rows:
		je.append(
			"accounts",
			{
				"account": account,
				"debit_in_account_currency": float(amount) if amount > 0 else 0,
				"credit_in_account_currency": float(-amount) if amount < 0 else 0,
				"cost_center": cost_center,
			},
		)
	je.insert(ignore_permissions=True)
	je.submit()
	return je.name


def _remark(doc) -> str:
	what = _("Marketplace settlement") if doc.settlement_type == "Order" else _("Marketplace adjustment")
	parts = [f"{what} {doc.name}", doc.sales_channel]
	if doc.external_order_id:
		parts.append(_("order {0}").format(doc.external_order_id))
	if doc.payout_id:
		parts.append(_("payout {0}").format(doc.payout_id))
	parts += [f"{row.label or _(row.charge_kind)}: {row.amount}" for row in doc.charges]
	return "; ".join(parts)


@_guarded
def _book_payout(doc, channel, paid: bool) -> None:
	if not paid:
		doc.status, doc.error = "Pending", ""
		doc.save(ignore_permissions=True)
		return
	current = doc.payment_entry and frappe.db.get_value(
		"Payment Entry", doc.payment_entry, ["docstatus", "paid_amount"], as_dict=True
	)
	if current and current.docstatus == 1 and flt(current.paid_amount) == flt(doc.amount):
		doc.status, doc.error = "Booked", ""
		doc.save(ignore_permissions=True)
		return
	if not channel.payout_bank_account:
		doc.status = "Error"
		doc.error = _("Set the Payout Bank Account on Sales Channel {0}, then Retry").format(channel.name)
		doc.save(ignore_permissions=True)
		return
	if current and current.docstatus == 1:
		_cancel("Payment Entry", doc.payment_entry)
	doc.payment_entry = _transfer(doc, channel)
	doc.status, doc.error = "Booked", ""
	doc.save(ignore_permissions=True)
	from oms_connector.erp.bank_matching import match_payout

	match_payout(doc.name)


def _transfer(doc, channel) -> str:
	pe = frappe.new_doc("Payment Entry")
	posting_date = doc.paid_on or nowdate()
	pe.update(
		{
			"payment_type": "Internal Transfer",
			"company": channel.company,
			"posting_date": posting_date,
			"paid_from": channel.clearing_account,
			"paid_to": channel.payout_bank_account,
			"paid_amount": flt(doc.amount),
			"received_amount": flt(doc.amount),
			"source_exchange_rate": 1,
			"target_exchange_rate": 1,
			"reference_no": (doc.bank_reference or doc.payout_id)[:140],
			"reference_date": posting_date,
			"remarks": _("Payout {0} of {1}").format(doc.payout_id, channel.name),
		}
	)
	if channel.mode_of_payment:
		pe.mode_of_payment = channel.mode_of_payment
	pe.insert(ignore_permissions=True)
	pe.submit()
	return pe.name


# --- helpers ------------------------------------------------------------------------------


def _clearing_for_order(order_name: str, clearing: str) -> tuple[Decimal, Decimal]:
	"""(paid into the clearing account for the order, refunded out of it)."""
	entries = frappe.get_all(
		"Payment Entry",
		filters={fieldnames.CHANNEL_ORDER: order_name, "docstatus": 1},
		fields=["payment_type", "paid_from", "paid_to", "paid_amount", "received_amount"],
	)
	receipts = sum(
		(Decimal(str(pe.received_amount)) for pe in entries if pe.payment_type == "Receive" and pe.paid_to == clearing),
		Decimal(0),
	)
	refunds = sum(
		(Decimal(str(pe.paid_amount)) for pe in entries if pe.payment_type == "Pay" and pe.paid_from == clearing),
		Decimal(0),
	)
	return receipts, refunds


def _as_settlement(doc) -> OrderSettlement:
	return OrderSettlement(
		order_id=doc.external_order_id,
		revenue=Decimal(str(doc.revenue)),
		charges=[Charge(ChargeKind(row.charge_kind), Decimal(str(row.amount)), row.label or "") for row in doc.charges],
		payout=Decimal(str(doc.payout)),
		currency=doc.currency,
	)


def _stored_parts(doc) -> list[OrderSettlement]:
	return [_part_from_dict(part) for part in json.loads(doc.parts or "[]")]


def _part_to_dict(part: OrderSettlement) -> dict:
	return {
		"order_id": part.order_id,
		"revenue": str(part.revenue),
		"payout": str(part.payout),
		"charges": [[charge.kind.value, str(charge.amount), charge.label] for charge in part.charges],
		"currency": part.currency,
		"final": part.final,
		"settled_on": part.settled_on.isoformat() if part.settled_on else None,
		"payout_id": part.payout_id,
		"reference": part.reference,
		"problem": part.problem,
		"whole_order": part.whole_order,
	}


def _part_from_dict(data: dict) -> OrderSettlement:
	return OrderSettlement(
		order_id=data["order_id"],
		revenue=Decimal(data["revenue"]),
		charges=[Charge(ChargeKind(kind), Decimal(amount), label) for kind, amount, label in data["charges"]],
		payout=Decimal(data["payout"]),
		currency=data["currency"],
		final=data["final"],
		settled_on=getdate(data["settled_on"]) if data.get("settled_on") else None,
		payout_id=data.get("payout_id") or "",
		reference=data.get("reference") or "",
		problem=data.get("problem") or "",
		whole_order=data.get("whole_order", True),
	)


def _merge(rows: list) -> list:
	totals: dict[str, Decimal] = {}
	for account, amount in rows:
		totals[account] = totals.get(account, Decimal(0)) + Decimal(str(amount))
	return [(account, amount) for account, amount in totals.items() if amount]


def _channel_order(channel_name: str, order_id: str) -> str | None:
	if not order_id:
		return None
	return frappe.db.get_value("Channel Order", {"sales_channel": channel_name, "external_order_id": order_id}, "name")


def _set_status(doc, status: str, error: str = "") -> None:
	doc.status = status
	doc.error = error
	doc.needs_review = int(
		not doc.reviewed and (status in REVIEW_STATUSES or (doc.settlement_type == "Adjustment" and status == "Booked"))
	)


def _cancel(doctype: str, name: str) -> None:
	document = frappe.get_doc(doctype, name)
	document.flags.ignore_permissions = True
	document.cancel()


def _locked(doctype: str, key_field: str, key: str):
	"""The record for `key`, its row locked for this transaction; a new document when none."""
	name = frappe.db.get_value(doctype, {key_field: key}, "name", for_update=True)
	if name:
		return frappe.get_doc(doctype, name)
	doc = frappe.new_doc(doctype)
	doc.set(key_field, key)
	return doc


def _json(value) -> str:
	return json.dumps(value or {}, ensure_ascii=False, indent=1, default=str)[:500000]
