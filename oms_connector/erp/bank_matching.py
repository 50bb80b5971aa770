"""A marketplace payout and the bank's deposit of it, reconciled in one step.

Whichever arrives second does the match: a payout booked after the bank statement was
imported finds its Bank Transaction, a Bank Transaction submitted after the payout finds the
payout. The reconciliation itself is ERPNext's (Bank Reconciliation Tool's reconcile_vouchers).
"""

from __future__ import annotations

import json

import frappe
from frappe.utils import date_diff, flt

PAYOUT = "Marketplace Payout"
MATCH_DAYS = 7  # a bank books a transfer within a few days of the platform sending it


def match_payout(payout_name: str) -> str | None:
	"""Reconcile the payout's Payment Entry with its Bank Transaction; returns the transaction."""
	payout = frappe.db.get_value(
		PAYOUT,
		payout_name,
		["name", "payment_entry", "amount", "paid_on", "payout_id", "bank_reference", "bank_transaction", "sales_channel"],
		as_dict=True,
	)
	if not payout or not payout.payment_entry or payout.bank_transaction:
		return payout.bank_transaction if payout else None
	bank_gl = frappe.db.get_value("Sales Channel", payout.sales_channel, "payout_bank_account")
	bank_accounts = frappe.get_all("Bank Account", filters={"account": bank_gl}, pluck="name")
	if not bank_accounts:
		return None
	candidates = frappe.get_all(
		"Bank Transaction",
		filters={
			"bank_account": ("in", bank_accounts),
			"docstatus": 1,
			"deposit": flt(payout.amount),
			"unallocated_amount": flt(payout.amount),
		},
		fields=["name", "date", "reference_number", "description"],
	)
	chosen = _choose(candidates, payout)
	if not chosen:
		return None
	frappe.db.savepoint("oms_bank_matching")
	try:
		_reconcile(chosen, payout)
	except frappe.ValidationError:
		# the payout stays booked; the accountant reconciles this deposit in the tool by hand
		frappe.db.rollback(save_point="oms_bank_matching")
		frappe.log_error(title=f"Could not reconcile payout {payout.name} with {chosen}")
		return None
	return chosen


def match_bank_transaction(doc, method=None) -> None:
	"""Bank Transaction on_submit: a deposit that is a booked, unmatched marketplace payout."""
	if not flt(doc.deposit) or not doc.bank_account:
		return
	bank_gl = frappe.db.get_value("Bank Account", doc.bank_account, "account")
	channels = frappe.get_all("Sales Channel", filters={"payout_bank_account": bank_gl}, pluck="name")
	if not channels:
		return
	payouts = frappe.get_all(
		PAYOUT,
		filters={
			"sales_channel": ("in", channels),
			"status": "Booked",
			"amount": flt(doc.deposit),
			"bank_transaction": ("is", "not set"),
		},
		fields=["name", "paid_on", "payout_id", "bank_reference"],
	)
	row = frappe._dict(name=doc.name, date=doc.date, reference_number=doc.reference_number, description=doc.description)
	matching = [payout for payout in payouts if _choose([row], payout)]
	if len(matching) == 1:
		match_payout(matching[0].name)


def _choose(candidates: list, payout) -> str | None:
	"""The transaction naming the payout's id or bank reference; else the only one dated
	within MATCH_DAYS of the payout. Two equal candidates are left to the accountant."""
	ids = [value for value in (payout.payout_id, payout.bank_reference) if value]
	named = [row for row in candidates if any(i in f"{row.reference_number or ''} {row.description or ''}" for i in ids)]
	if len(named) == 1:
		return named[0].name
	if named:
		return None
	near = [row for row in candidates if payout.paid_on and abs(date_diff(row.date, payout.paid_on)) <= MATCH_DAYS]
	return near[0].name if len(near) == 1 else None


def _reconcile(bank_transaction: str, payout) -> None:
	from erpnext.accounts.doctype.bank_reconciliation_tool.bank_reconciliation_tool import reconcile_vouchers

	vouchers = [{"payment_doctype": "Payment Entry", "payment_name": payout.payment_entry, "amount": flt(payout.amount)}]
	reconcile_vouchers(bank_transaction, json.dumps(vouchers))
	frappe.db.set_value(PAYOUT, payout.name, "bank_transaction", bank_transaction, update_modified=False)
