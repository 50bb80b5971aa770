import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt

from oms_connector.domain.limits import MAX_ORDER_ID_LENGTH

# a Channel Order is named "<channel>:<order id>" and Frappe's names hold 140 characters
MAX_CHANNEL_NAME_LENGTH = 140 - 1 - MAX_ORDER_ID_LENGTH
PAYMENT_ACCOUNT_TYPES = ("Bank", "Cash")


class SalesChannel(Document):
	def before_validate(self):
		from oms_connector.erp.money_accounts import fill_defaults

		fill_defaults(self)

	def validate(self):
		if len(self.channel_name or "") > MAX_CHANNEL_NAME_LENGTH:
			frappe.throw(
				_("Channel Name may be at most {0} characters: orders are named after it").format(MAX_CHANNEL_NAME_LENGTH)
			)
		self._validate_warehouses()
		self._validate_accounts()
		if self.shipping_fee_item and frappe.get_cached_value("Item", self.shipping_fee_item, "is_stock_item"):
			frappe.throw(_("The shipping fee item must not be a stock item"))
		# the desk sends a field's default as text ("100") until the user types in it
		self.stock_share_percent = flt(self.stock_share_percent)
		self.stock_buffer = flt(self.stock_buffer)
		if not 0 <= self.stock_share_percent <= 100:
			frappe.throw(_("Share of stock must be between 0 and 100%"))

	def _validate_warehouses(self):
		if self.returns_warehouse and frappe.get_cached_value("Warehouse", self.returns_warehouse, "company") != self.company:
			frappe.throw(_("Returned Goods Go To: warehouse {0} belongs to another company").format(self.returns_warehouse))
		for row in self.warehouses:
			company = frappe.get_cached_value("Warehouse", row.warehouse, "company")
			if company != self.company:
				frappe.throw(_("Warehouse {0} belongs to {1}, not {2}").format(row.warehouse, company, self.company))

	def _validate_accounts(self):
		"""Wrong accounts fail only when an order ships; say so when the channel is saved."""
		if self.prepaid_payment_account:
			account = self._ledger_account(self.prepaid_payment_account, _("Prepaid Payment Account"))
			if account.account_type not in PAYMENT_ACCOUNT_TYPES:
				frappe.throw(
					_("Prepaid Payment Account {0} must be a Bank or Cash account (it is: {1})").format(
						self.prepaid_payment_account, _(account.account_type or "no account type")
					)
				)
		if self.shipping_fee_account:
			self._ledger_account(self.shipping_fee_account, _("Shipping Fee Account"))
		for fieldname, label, types in (
			("clearing_account", _("Clearing Account"), PAYMENT_ACCOUNT_TYPES),
			("payout_bank_account", _("Payout Bank Account"), ("Bank",)),
		):
			if self.get(fieldname):
				account = self._ledger_account(self.get(fieldname), label)
				if account.account_type not in types:
					frappe.throw(
						_("{0} {1} must be of account type {2} (it is: {3})").format(
							label, self.get(fieldname), " / ".join(_(t) for t in types), _(account.account_type or "no account type")
						)
					)
		if self.clearing_account and self.clearing_account == self.payout_bank_account:
			frappe.throw(_("The Clearing Account and the Payout Bank Account must differ: payouts move money from one to the other"))
		kinds = set()
		for row in self.charge_accounts:
			if row.charge_kind in kinds:
				frappe.throw(_("Charge Accounts: {0} is listed twice").format(_(row.charge_kind)))
			kinds.add(row.charge_kind)
			self._ledger_account(row.account, _("Charge Account for {0}").format(_(row.charge_kind)))

	def _ledger_account(self, name: str, label: str):
		account = frappe.get_cached_value("Account", name, ["is_group", "company", "account_type"], as_dict=True)
		if account.is_group:
			frappe.throw(_("{0} {1} is a group account: choose an account that takes entries").format(label, name))
		if account.company != self.company:
			frappe.throw(_("{0} {1} belongs to {2}, not {3}").format(label, name, account.company, self.company))
		return account

	def on_update(self):
		before = self.get_doc_before_save()
		stock_fields = ("stock_buffer", "stock_share_percent", "sync_stock", "enabled")
		warehouses = [row.warehouse for row in self.warehouses]
		if (
			not before
			or any(before.get(field) != self.get(field) for field in stock_fields)
			or [row.warehouse for row in before.warehouses] != warehouses
		):
			from oms_connector.erp.stock_sync import enqueue_reconcile

			enqueue_reconcile(self.name)
