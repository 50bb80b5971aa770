"""The ledger accounts a marketplace channel books to, made with sensible defaults.

One clearing account per channel (account type Bank, so ERPNext's Payment Entry can pay
invoices into it and transfer payouts out of it); the charge accounts are shared by a
company's channels unless the accountant points a channel elsewhere.
"""

from __future__ import annotations

import frappe
from frappe import _

from oms_connector.domain.settlement import ChargeKind

MARKETPLACES = ("Shopee", "Lazada", "TikTok Shop")
# booked when the platform's payout and the books disagree, and for orders the app never saw
DIFFERENCE = "Settlement Difference"
UNMATCHED = "Unmatched Settlement"

EXPENSE_GROUP = "Marketplace Charges"
# charge kind -> (account name, where it lives: root type of its parent group, account type)
DEFAULT_ACCOUNTS = {
	ChargeKind.COMMISSION.value: ("Marketplace Commission", "Expense", ""),
	ChargeKind.SERVICE.value: ("Marketplace Service Fees", "Expense", ""),
	ChargeKind.TRANSACTION.value: ("Marketplace Transaction Fees", "Expense", ""),
	ChargeKind.SHIPPING.value: ("Marketplace Shipping", "Expense", ""),
	ChargeKind.MARKETING.value: ("Marketplace Marketing", "Expense", ""),
	ChargeKind.ADVERTISING.value: ("Marketplace Advertising", "Expense", ""),
	ChargeKind.PENALTY.value: ("Marketplace Penalties", "Expense", ""),
	ChargeKind.REFUND.value: ("Marketplace Refunds", "Expense", ""),
	ChargeKind.OTHER.value: ("Marketplace Other Charges", "Expense", ""),
	DIFFERENCE: ("Marketplace Settlement Differences", "Expense", ""),
	ChargeKind.COMPENSATION.value: ("Marketplace Compensation", "Income", ""),
	# tax the platform paid on the shop's behalf: a prepaid tax, set off when the shop declares
	ChargeKind.WITHHELD_VAT.value: ("VAT Withheld by Marketplaces", "Tax Asset", "Tax"),
	ChargeKind.WITHHELD_PIT.value: ("PIT Withheld by Marketplaces", "Tax Asset", "Tax"),
	ChargeKind.WITHHELD_TAX.value: ("Other Tax Withheld by Marketplaces", "Tax Asset", "Tax"),
	# money paid out for orders the app never saw: owed to no one yet, until they are matched
	UNMATCHED: ("Marketplace Unmatched Settlements", "Liability", ""),
}


def is_marketplace(channel) -> bool:
	return channel.platform in MARKETPLACES


def fill_defaults(channel) -> None:
	"""Give a marketplace channel its clearing account, and a channel with a clearing account a
	charge account for every kind it lacks (Sales Channel.before_validate). Accounts that exist
	are reused, never duplicated."""
	if not channel.company:
		return
	if is_marketplace(channel) and not channel.clearing_account:
		channel.clearing_account = _ensure_account(
			channel.company, f"{channel.channel_name} Clearing"[:140], _bank_group(channel.company), "Bank"
		)
	if not channel.clearing_account:
		return  # a channel that books no settlements needs no charge accounts
	have = {row.charge_kind for row in channel.charge_accounts}
	for kind, (name, place, account_type) in DEFAULT_ACCOUNTS.items():
		if kind not in have:
			parent = _parent_group(channel.company, place)
			channel.append("charge_accounts", {"charge_kind": kind, "account": _ensure_account(channel.company, name, parent, account_type)})


def charge_account(channel, kind: str) -> str:
	for row in channel.charge_accounts:
		if row.charge_kind == kind:
			return row.account
	frappe.throw(_("Sales Channel {0} has no account for {1}: add it under Charge Accounts").format(channel.name, _(kind)))


def _ensure_account(company: str, account_name: str, parent: str, account_type: str = "", is_group: int = 0) -> str:
	existing = frappe.db.get_value("Account", {"company": company, "account_name": account_name}, "name")
	if existing:
		return existing
	account = frappe.get_doc(
		{
			"doctype": "Account",
			"company": company,
			"account_name": account_name,
			"parent_account": parent,
			"account_type": account_type,
			"is_group": is_group,
		}
	)
	account.insert(ignore_permissions=True)
	return account.name


def _parent_group(company: str, place: str) -> str:
	if place == "Expense":
		return _ensure_account(company, EXPENSE_GROUP, _group(company, "Expense", "Indirect Expenses"), is_group=1)
	if place == "Income":
		return _group(company, "Income", "Indirect Income")
	if place == "Tax Asset":
		return _group(company, "Asset", "Tax Assets")
	return _group(company, "Liability", "Current Liabilities")


def _bank_group(company: str) -> str:
	group = frappe.db.get_value("Account", {"company": company, "is_group": 1, "account_type": "Bank"}, "name")
	return group or _group(company, "Asset", "Current Assets")


def _group(company: str, root_type: str, preferred: str) -> str:
	"""The standard chart's group of that name, else the company's first group of the root type."""
	filters = {"company": company, "is_group": 1, "root_type": root_type}
	name = frappe.db.get_value("Account", {**filters, "account_name": preferred}, "name")
	name = name or frappe.db.get_value("Account", filters, "name", order_by="lft asc")
	if not name:
		frappe.throw(_("Company {0} has no {1} account group to put marketplace accounts under").format(company, _(root_type)))
	return name
