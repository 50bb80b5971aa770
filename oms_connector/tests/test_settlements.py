"""Marketplace money in the ledgers: an order's invoice paid into the channel's clearing account,
the platform's charges booked out of it by settlement, the payout moved to the bank and matched
to the bank's deposit; exactly once, corrected when the platform changes its figures.

The settlements here are domain objects, as every platform's connector makes them (each
connector's mapping of its platform's published finance examples is tested in tier 1)."""

from __future__ import annotations

import json
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt, nowdate

from oms_connector.domain.settlement import Adjustment, Charge, ChargeKind, FinancePeriod, OrderSettlement, Payout
from oms_connector.erp import intake, returned_goods, settlements
from oms_connector.tests import fixtures as fx

CHANNEL = "OMS Settling Shop"
D = Decimal


def new_id(prefix: str) -> str:
	return f"{prefix}-{frappe.generate_hash(length=8).upper()}"


def receive(order: dict) -> str:
	return intake.receive_order(CHANNEL, json.dumps(order), source="Webhook")


def shipped_order(order_id: str, **overrides) -> str:
	"""An order the channel reports shipped: Sales Order, Delivery Note, invoice, payment."""
	receive(fx.canonical_order(order_id, **overrides))
	return receive(fx.canonical_order(order_id, "shipped", **overrides))


def charges(commission=20000, vat=3990, pit=1995) -> list[Charge]:
	return [
		Charge(ChargeKind.COMMISSION, D(commission), "commission_fee"),
		Charge(ChargeKind.TRANSACTION, D(8000), "seller_transaction_fee"),
		Charge(ChargeKind.WITHHELD_VAT, D(vat), "withholding_vat_tax"),
		Charge(ChargeKind.WITHHELD_PIT, D(pit), "withholding_pit_tax"),
	]


def settlement_of(order_id: str, revenue=399000, charge_list=None, final=True, payout_id="PAYOUT-1") -> OrderSettlement:
	charge_list = charges() if charge_list is None else charge_list
	total = sum((c.amount for c in charge_list), D(0))
	return OrderSettlement(
		order_id=order_id,
		revenue=D(revenue),
		charges=charge_list,
		payout=D(revenue) - total,
		final=final,
		settled_on=frappe.utils.getdate(nowdate()),
		payout_id=payout_id,
		reference=f"ESCROW-{order_id}",
	)


def balance(account: str) -> float:
	return flt(
		frappe.db.sql("select sum(debit - credit) from `tabGL Entry` where account = %s and is_cancelled = 0", account)[0][0]
	)


def gl_of(voucher_type: str, voucher_no: str) -> dict[str, float]:
	rows = frappe.get_all(
		"GL Entry",
		filters={"voucher_type": voucher_type, "voucher_no": voucher_no, "is_cancelled": 0},
		fields=["account", "debit", "credit"],
	)
	totals: dict[str, float] = {}
	for row in rows:
		totals[row.account] = totals.get(row.account, 0) + flt(row.debit) - flt(row.credit)
	return totals


class TestSettlements(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		fx.ensure_basics()
		shipping = fx.ensure_item("OMS-SHIPPING", 0, stock_item=False)
		run = frappe.generate_hash(length=5).upper()
		# fresh clearing and bank accounts per run, so their balances are this run's alone
		cls.clearing = fx.ensure_account(f"OMS Clearing {run}", "Asset", "Bank", parent_hint="Bank Accounts")
		cls.bank = fx.ensure_account(f"OMS Payout Bank {run}", "Asset", "Bank", parent_hint="Bank Accounts")
		fx.ensure_channel(
			CHANNEL,
			shipping_fee_item=shipping,
			invoice_policy="On Shipment",
			clearing_account=cls.clearing,
			payout_bank_account=cls.bank,
		)
		cls.channel = frappe.get_doc("Sales Channel", CHANNEL)
		cls.accounts = {row.charge_kind: row.account for row in cls.channel.charge_accounts}
		cls.bank_account = _bank_account(cls.bank, run)
		for item in ("OMS-TSHIRT", "OMS-CAP"):
			fx.set_stock(item, fx.wh("OMS Hanoi"), 200)
		frappe.db.commit()

	def test_default_charge_accounts_are_made_for_every_kind(self):
		kinds = set(self.accounts)
		self.assertTrue({kind.value for kind in ChargeKind} <= kinds, kinds)
		self.assertEqual(frappe.db.get_value("Account", self.accounts["Withheld VAT"], "account_type"), "Tax")
		self.assertEqual(frappe.db.get_value("Account", self.accounts["Commission"], "root_type"), "Expense")
		self.assertEqual(frappe.db.get_value("Account", self.accounts["Compensation"], "root_type"), "Income")

	def test_platform_funded_discount_is_revenue_owed_by_the_platform_not_lost(self):
		order_id = new_id("FUND")
		name = shipped_order(order_id)
		so = frappe.get_doc("Sales Order", frappe.db.get_value("Channel Order", name, "sales_order"))
		# lines 300,000 + 99,000 - seller's 20,000 and 10,000 + shipping 30,000; the platform's 9,000 stays
		self.assertEqual(flt(so.grand_total), 399000)
		self.assertEqual(flt(so.oms_buyer_paid), 390000)
		self.assertEqual(flt(so.oms_platform_funded), 9000)
		[si] = frappe.get_all("Sales Invoice", filters={"oms_channel_order": name, "docstatus": 1}, fields=["name", "outstanding_amount", "grand_total"])
		self.assertEqual((flt(si.grand_total), flt(si.outstanding_amount)), (399000, 0))
		[pe] = frappe.get_all("Payment Entry", filters={"oms_channel_order": name, "docstatus": 1}, fields=["paid_to", "paid_amount"])
		self.assertEqual((pe.paid_to, flt(pe.paid_amount)), (self.clearing, 399000))

	def test_cod_on_a_marketplace_is_owed_by_the_marketplace_not_the_buyer(self):
		name = shipped_order(new_id("COD"), payment_method="COD")
		[si] = frappe.get_all("Sales Invoice", filters={"oms_channel_order": name, "docstatus": 1}, fields=["outstanding_amount"])
		self.assertEqual(flt(si.outstanding_amount), 0)
		[pe] = frappe.get_all("Payment Entry", filters={"oms_channel_order": name, "docstatus": 1}, fields=["paid_to"])
		self.assertEqual(pe.paid_to, self.clearing)

	def test_settlement_books_each_charge_once_and_corrects_a_change(self):
		order_id = new_id("STL")
		name = shipped_order(order_id)
		record = settlements.record_settlement(self.channel, settlement_of(order_id))
		doc = frappe.get_doc("Marketplace Settlement", record)
		self.assertEqual((doc.status, doc.channel_order, flt(doc.difference)), ("Booked", name, 0), doc.error)
		self.assertEqual(
			gl_of("Journal Entry", doc.journal_entry),
			{
				self.accounts["Commission"]: 20000,
				self.accounts["Transaction Fee"]: 8000,
				self.accounts["Withheld VAT"]: 3990,
				self.accounts["Withheld PIT"]: 1995,
				self.clearing: -33985,
			},
		)
		# the same figures again book nothing
		settlements.record_settlement(self.channel, settlement_of(order_id))
		self.assertEqual(frappe.db.count("Journal Entry", {"oms_channel_order": name, "docstatus": 1}), 1)
		# the platform corrects its commission: the booking is amended, not duplicated
		corrected = settlements.record_settlement(self.channel, settlement_of(order_id, charge_list=charges(commission=25000)))
		doc.reload()
		self.assertEqual((corrected, doc.corrections), (record, 1))
		self.assertEqual(frappe.db.count("Journal Entry", {"oms_channel_order": name, "docstatus": 1}), 1)
		self.assertEqual(frappe.db.get_value("Journal Entry", doc.journal_entry, "amended_from") is not None, True)
		self.assertEqual(gl_of("Journal Entry", doc.journal_entry)[self.accounts["Commission"]], 25000)
		self.assertEqual(frappe.db.get_value("Channel Order", name, "marketplace_settlement"), record)

	def test_estimate_books_nothing_until_final(self):
		order_id = new_id("EST")
		shipped_order(order_id)
		record = settlements.record_settlement(self.channel, settlement_of(order_id, final=False))
		self.assertEqual(frappe.db.get_value("Marketplace Settlement", record, ["status", "journal_entry"]), ("Estimate", None))
		settlements.record_settlement(self.channel, settlement_of(order_id))
		self.assertEqual(frappe.db.get_value("Marketplace Settlement", record, "status"), "Booked")

	def test_settlement_before_the_invoice_waits_then_books(self):
		order_id = new_id("WAIT")
		name = receive(fx.canonical_order(order_id))
		record = settlements.record_settlement(self.channel, settlement_of(order_id))
		self.assertEqual(frappe.db.get_value("Marketplace Settlement", record, "status"), "Waiting for Invoice")
		receive(fx.canonical_order(order_id, "shipped"))
		self.assertEqual(frappe.db.get_value("Marketplace Settlement", record, ["status", "channel_order"]), ("Booked", name))

	def test_settlement_of_an_unknown_order_is_booked_to_suspense_then_matched(self):
		order_id = new_id("UNK")
		record = settlements.record_settlement(self.channel, settlement_of(order_id))
		doc = frappe.get_doc("Marketplace Settlement", record)
		self.assertEqual((doc.status, doc.needs_review), ("Order Unknown", 1))
		self.assertEqual(gl_of("Journal Entry", doc.journal_entry), {self.clearing: 365015, self.accounts["Unmatched Settlement"]: -365015})
		first = doc.journal_entry
		shipped_order(order_id)  # the order turns up later
		doc.reload()
		self.assertEqual(doc.status, "Booked")
		self.assertEqual(frappe.db.get_value("Journal Entry", first, "docstatus"), 2)
		self.assertNotIn(self.accounts["Unmatched Settlement"], gl_of("Journal Entry", doc.journal_entry))

	def test_what_the_platform_did_not_pay_is_a_difference_for_review(self):
		order_id = new_id("DIF")
		shipped_order(order_id)
		record = settlements.record_settlement(self.channel, settlement_of(order_id, revenue=390000))
		doc = frappe.get_doc("Marketplace Settlement", record)
		self.assertEqual((doc.status, flt(doc.difference), doc.needs_review), ("Difference", 9000, 1))
		self.assertEqual(gl_of("Journal Entry", doc.journal_entry)[self.accounts["Settlement Difference"]], 9000)
		doc.reviewed = 1
		doc.save()
		self.assertEqual(frappe.db.get_value("Marketplace Settlement", record, "needs_review"), 0)

	def test_refund_on_return_is_not_charged_again_by_the_settlement(self):
		order_id = new_id("RET")
		name = shipped_order(order_id)
		receive(fx.canonical_order(order_id, "returned", returned_lines={"OMS-CAP": 1}))
		refunds = frappe.get_all(
			"Payment Entry", filters={"oms_channel_order": name, "docstatus": 1, "payment_type": "Pay"}, fields=["paid_from", "paid_amount"]
		)
		# the cap, less its share of the order's 10,000 voucher (lines and shipping 409,000)
		expected = 99000 - round(10000 * 99000 / 409000)
		self.assertEqual([(r.paid_from, flt(r.paid_amount)) for r in refunds], [(self.clearing, expected)])
		refund = Charge(ChargeKind.REFUND, D(expected), "seller_return_refund")
		record = settlements.record_settlement(self.channel, settlement_of(order_id, charge_list=[*charges(), refund]))
		doc = frappe.get_doc("Marketplace Settlement", record)
		self.assertEqual((doc.status, flt(doc.difference)), ("Booked", 0), doc.error)
		self.assertNotIn(self.accounts["Refund"], gl_of("Journal Entry", doc.journal_entry))

	def test_payout_moves_the_period_to_the_bank_and_matches_the_deposit(self):
		payout_id = new_id("PAY")
		order_ids = [new_id("PO"), new_id("PO")]
		for order_id in order_ids:
			shipped_order(order_id)
			settlements.record_settlement(self.channel, settlement_of(order_id, payout_id=payout_id))
		ads = Adjustment(new_id("ADS"), ChargeKind.ADVERTISING, D(50000), "Ads top-up", payout_id=payout_id)
		settlements.record_adjustment(self.channel, ads)
		compensation = Adjustment(new_id("LOST"), ChargeKind.COMPENSATION, D(-20000), "Lost parcel", payout_id=payout_id)
		settlements.record_adjustment(self.channel, compensation)
		amount = 2 * 365015 - 50000 + 20000
		# the bank statement is imported first; the payout then matches it by its id
		transaction = _deposit(self.bank_account, amount, f"SHOPEE {payout_id}")
		record = settlements.record_payout(
			self.channel, Payout(payout_id, D(amount), frappe.utils.getdate(nowdate()), order_ids=order_ids)
		)
		payout = frappe.get_doc("Marketplace Payout", record)
		self.assertEqual((payout.status, payout.bank_transaction), ("Booked", transaction), payout.error)
		self.assertEqual(gl_of("Payment Entry", payout.payment_entry), {self.clearing: -amount, self.bank: amount})
		self.assertEqual(frappe.db.get_value("Bank Transaction", transaction, "status"), "Reconciled")
		# re-reading the payout books nothing more
		settlements.record_payout(self.channel, Payout(payout_id, D(amount), frappe.utils.getdate(nowdate())))
		self.assertEqual(frappe.db.count("Payment Entry", {"reference_no": payout_id, "docstatus": 1}), 1)
		adjustment = frappe.get_doc("Marketplace Settlement", {"reference": ads.adjustment_id})
		self.assertEqual((adjustment.settlement_type, adjustment.needs_review), ("Adjustment", 1))

	def test_clearing_nets_to_zero_once_a_settled_period_is_paid_out(self):
		channel = _fresh_channel()
		order_id = new_id("NET")
		intake.receive_order(channel.name, json.dumps(fx.canonical_order(order_id)), source="Webhook")
		intake.receive_order(channel.name, json.dumps(fx.canonical_order(order_id, "shipped")), source="Webhook")
		settlements.record_settlement(channel, settlement_of(order_id, payout_id="NET-1"))
		self.assertEqual(balance(channel.clearing_account), 365015)
		settlements.record_payout(channel, Payout("NET-1", D(365015), frappe.utils.getdate(nowdate())))
		self.assertEqual(balance(channel.clearing_account), 0)

	def test_payout_without_a_bank_account_is_an_error_to_retry(self):
		channel = _fresh_channel(payout_bank_account=None)
		record = settlements.record_payout(channel, Payout(new_id("NOBANK"), D(1000), frappe.utils.getdate(nowdate())))
		self.assertEqual(frappe.db.get_value("Marketplace Payout", record, "status"), "Error")
		self.assertIn("Payout Bank Account", frappe.db.get_value("Marketplace Payout", record, "error"))
		frappe.db.set_value("Sales Channel", channel.name, "payout_bank_account", self.bank)
		self.assertEqual(settlements.retry(record), "Booked")


	def test_a_booking_erpnext_refuses_is_an_error_to_retry_and_holds_up_nothing(self):
		channel = _fresh_channel()
		frozen = fx.ensure_account(f"OMS Frozen Commission {frappe.generate_hash(length=5)}", "Expense", parent_hint="Indirect Expenses")
		for row in channel.charge_accounts:
			if row.charge_kind == "Commission":
				row.account = frozen
		channel.save()
		frappe.db.set_value("Account", frozen, "freeze_account", "Yes")
		refused, fine = new_id("FRZ"), new_id("FRZ")
		for order_id in (refused, fine):
			for status in ("confirmed", "shipped"):
				intake.receive_order(channel.name, json.dumps(fx.canonical_order(order_id, status)), source="Webhook")
		period = FinancePeriod(
			settlements=[settlement_of(refused), settlement_of(fine, charge_list=[Charge(ChargeKind.TRANSACTION, D(8000))])]
		)
		settlements.record_finance(channel.name, period)
		failed = frappe.get_doc("Marketplace Settlement", {"external_order_id": refused})
		self.assertEqual((failed.status, failed.needs_review, failed.journal_entry), ("Error", 1, None))
		self.assertIn("frozen", failed.error)
		self.assertEqual(flt(failed.payout), 365015)  # the platform's figures are kept
		self.assertEqual(frappe.db.get_value("Marketplace Settlement", {"external_order_id": fine}, "status"), "Booked")
		frappe.db.set_value("Account", frozen, "freeze_account", "No")
		self.assertEqual(settlements.retry(failed.name), "Booked")

	def test_returned_goods_go_where_the_channel_decides(self):
		damaged = fx.ensure_warehouse("OMS Damaged Returns")
		channel = _fresh_channel(returns_warehouse=damaged)
		order_id = new_id("DMG")
		for status in ("confirmed", "shipped"):
			intake.receive_order(channel.name, json.dumps(fx.canonical_order(order_id, status)), source="Webhook")
		before = fx.actual_qty("OMS-CAP", damaged)
		name = intake.receive_order(
			channel.name, json.dumps(fx.canonical_order(order_id, "returned", returned_lines={"OMS-CAP": 1})), source="Webhook"
		)
		[ret] = frappe.get_all("Delivery Note", filters={"oms_channel_order": name, "is_return": 1, "docstatus": 1}, pluck="name")
		self.assertEqual(set(frappe.get_all("Delivery Note Item", filters={"parent": ret}, pluck="warehouse")), {damaged})
		self.assertEqual(fx.actual_qty("OMS-CAP", damaged), before + 1)
		# the operator looks at it: back on the shelf it shipped from, once
		shipped_from = frappe.get_all(
			"Delivery Note Item", filters={"parent": ("in", _forward_notes(name)), "item_code": "OMS-CAP"}, pluck="warehouse"
		)[0]
		on_shelf = fx.actual_qty("OMS-CAP", shipped_from)
		entry = returned_goods.decide(name, returned_goods.RESTOCK)
		self.assertEqual(frappe.db.get_value("Stock Entry", entry, ["stock_entry_type", "docstatus"]), ("Material Transfer", 1))
		self.assertEqual((fx.actual_qty("OMS-CAP", damaged), fx.actual_qty("OMS-CAP", shipped_from)), (before, on_shelf + 1))
		self.assertEqual(frappe.db.get_value("Channel Order", name, "return_decision"), "Restocked")
		self.assertRaises(frappe.ValidationError, returned_goods.decide, name, returned_goods.WRITE_OFF)
		# another buyer's return is damaged: written off
		other = new_id("DMG")
		for status in ("confirmed", "shipped"):
			intake.receive_order(channel.name, json.dumps(fx.canonical_order(other, status)), source="Webhook")
		name = intake.receive_order(
			channel.name, json.dumps(fx.canonical_order(other, "returned", returned_lines={"OMS-CAP": 1})), source="Webhook"
		)
		entry = returned_goods.decide(name, returned_goods.WRITE_OFF)
		self.assertEqual(frappe.db.get_value("Stock Entry", entry, "stock_entry_type"), "Material Issue")
		self.assertEqual(fx.actual_qty("OMS-CAP", damaged), before)


def _forward_notes(channel_order: str) -> list[str]:
	return frappe.get_all("Delivery Note", filters={"oms_channel_order": channel_order, "is_return": 0, "docstatus": 1}, pluck="name")


def _fresh_channel(**values):
	run = frappe.generate_hash(length=5).upper()
	clearing = fx.ensure_account(f"OMS Net Clearing {run}", "Asset", "Bank", parent_hint="Bank Accounts")
	bank = fx.ensure_account(f"OMS Net Bank {run}", "Asset", "Bank", parent_hint="Bank Accounts")
	name = fx.ensure_channel(
		f"OMS Settling {run}",
		shipping_fee_item="OMS-SHIPPING",
		invoice_policy="On Shipment",
		clearing_account=clearing,
		**{"payout_bank_account": bank, **values},
	)
	return frappe.get_doc("Sales Channel", name)


def _bank_account(gl_account: str, run: str) -> str:
	bank = frappe.db.get_value("Bank", "OMS Test Bank") or frappe.get_doc({"doctype": "Bank", "bank_name": "OMS Test Bank"}).insert().name
	return (
		frappe.get_doc(
			{
				"doctype": "Bank Account",
				"account_name": f"Payouts {run}",
				"bank": bank,
				"account": gl_account,
				"company": fx.COMPANY,
				"is_company_account": 1,
			}
		)
		.insert()
		.name
	)


def _deposit(bank_account: str, amount: float, reference: str) -> str:
	transaction = frappe.get_doc(
		{
			"doctype": "Bank Transaction",
			"date": nowdate(),
			"bank_account": bank_account,
			"company": fx.COMPANY,
			"deposit": amount,
			"currency": "VND",
			"reference_number": reference,
			"description": f"Transfer {reference}",
		}
	)
	transaction.insert()
	transaction.submit()
	return transaction.name
