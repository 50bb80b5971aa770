"""The money reports on real ledgers: Channel Profitability's revenue, charges by kind, cost of
goods and margin per channel, order and item; Settlement Reconciliation's payouts against their
settlements, settled money not yet paid out, overdue unsettled orders, the review queue and the
clearing balance, which the other parts explain to the cent.

One fresh channel (own clearing and bank accounts) carries every flow, built once:
  A  shipped, settled (commission, transaction fee, withheld VAT and PIT), payout P1
  B  shipped, settled (commission, service, shipping, marketing), compensation 20,000, payout P1
  R  shipped, the cap returned and refunded, settled with the platform's refund charge, payout P1
  C  shipped, the platform paid 9,000 short (Difference), its payout not booked yet
  D  shipped, settled, no payout named
  E  shipped, never settled: listed once older than the channel's overdue days
  ads 50,000 without an order in P1; P1 took a 2,000 withdrawal fee and came 1,000 short.
"""

from __future__ import annotations

import json
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, flt, getdate, nowdate

from oms_connector.domain.settlement import Adjustment, Charge, ChargeKind, Payout
from oms_connector.erp import intake, settlements
from oms_connector.oms.report.channel_profitability import channel_profitability as profitability_report
from oms_connector.oms.report.settlement_reconciliation import settlement_reconciliation as reconciliation_report
from oms_connector.tests import fixtures as fx
from oms_connector.tests import test_settlements as ts

D = Decimal
OVERDUE_DAYS = 3
E_AGE = 5  # days E's invoice is backdated: older than OVERDUE_DAYS


def b_charges() -> list[Charge]:
	return [
		Charge(ChargeKind.COMMISSION, D(15000), "commission_fee"),
		Charge(ChargeKind.SERVICE, D(5000), "service_fee"),
		Charge(ChargeKind.SHIPPING, D(12000), "shipping_fee"),
		Charge(ChargeKind.MARKETING, D(3000), "affiliate_commission"),
	]


def refund_of_cap() -> int:
	# the cap, less its share of the order's 10,000 voucher (lines and shipping 409,000)
	return 99000 - round(10000 * 99000 / 409000)


class TestMoneyReports(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		fx.ensure_basics()
		fx.ensure_item("OMS-SHIPPING", 0, stock_item=False)
		run = frappe.generate_hash(length=5).upper()
		cls.clearing = fx.ensure_account(f"OMS Reports Clearing {run}", "Asset", "Bank", parent_hint="Bank Accounts")
		cls.bank = fx.ensure_account(f"OMS Reports Bank {run}", "Asset", "Bank", parent_hint="Bank Accounts")
		cls.channel_name = fx.ensure_channel(
			f"OMS Reports {run}",
			shipping_fee_item="OMS-SHIPPING",
			invoice_policy="On Shipment",
			clearing_account=cls.clearing,
			payout_bank_account=cls.bank,
			settlement_overdue_days=OVERDUE_DAYS,
		)
		cls.channel = frappe.get_doc("Sales Channel", cls.channel_name)
		cls.bank_account = ts._bank_account(cls.bank, run)
		for item in ("OMS-TSHIRT", "OMS-CAP"):
			fx.set_stock(item, fx.wh("OMS Hanoi"), 200)
		frappe.db.commit()
		cls.ids = {key: ts.new_id(f"RPT{key}") for key in "ABRCDE"}
		cls.orders = {key: cls.ship(order_id) for key, order_id in cls.ids.items()}
		cls.receive(fx.canonical_order(cls.ids["R"], "returned", returned_lines={"OMS-CAP": 1}))
		cls.book_finance()
		cls.filters = {
			"company": fx.COMPANY,
			"sales_channel": cls.channel_name,
			"from_date": add_days(nowdate(), -30),
			"to_date": nowdate(),
		}
		cls.unsettled_before = cls.section(cls.reconciliation(), "Unsettled Order")
		# E was invoiced E_AGE days ago
		[invoice] = frappe.get_all("Sales Invoice", filters={"oms_channel_order": cls.orders["E"], "docstatus": 1}, pluck="name")
		frappe.db.set_value("Sales Invoice", invoice, "posting_date", add_days(nowdate(), -E_AGE))
		cls.e_invoice = invoice
		frappe.db.commit()

	@classmethod
	def receive(cls, order: dict) -> str:
		return intake.receive_order(cls.channel_name, json.dumps(order), source="Webhook")

	@classmethod
	def ship(cls, order_id: str) -> str:
		cls.receive(fx.canonical_order(order_id))
		return cls.receive(fx.canonical_order(order_id, "shipped"))

	@classmethod
	def book_finance(cls):
		channel, ids = cls.channel, cls.ids
		cls.payouts = {}
		for key, charge_list, revenue, payout_id in (
			("A", ts.charges(), 399000, "P1"),
			("B", b_charges(), 399000, "P1"),
			("R", [*ts.charges(), Charge(ChargeKind.REFUND, D(refund_of_cap()), "refund")], 399000, "P1"),
			("C", ts.charges(), 390000, "P2"),
			("D", ts.charges(), 399000, ""),
		):
			settlement = ts.settlement_of(ids[key], revenue=revenue, charge_list=charge_list, payout_id=cls.pid(payout_id))
			settlements.record_settlement(channel, settlement)
			cls.payouts[key] = float(settlement.payout)
		settlements.record_adjustment(channel, Adjustment(ts.new_id("ADS"), ChargeKind.ADVERTISING, D(50000), "Ads", payout_id=cls.pid("P1")))
		compensation = Adjustment(ts.new_id("LOST"), ChargeKind.COMPENSATION, D(-20000), "Lost", order_id=ids["B"], payout_id=cls.pid("P1"))
		settlements.record_adjustment(channel, compensation)
		cls.expected_p1 = cls.payouts["A"] + cls.payouts["B"] + cls.payouts["R"] - 50000 + 20000
		cls.p1_amount = cls.expected_p1 - 2000 - 1000  # the withdrawal fee, and 1,000 the platform kept
		cls.deposit = ts._deposit(cls.bank_account, cls.p1_amount, f"PAYOUT {cls.pid('P1')}")
		settlements.record_payout(
			channel, Payout(cls.pid("P1"), D(cls.p1_amount), getdate(nowdate()), fee=D(2000), order_ids=[ids[k] for k in "ABR"])
		)
		frappe.db.commit()

	@classmethod
	def pid(cls, payout_id: str) -> str:
		return f"{payout_id}-{cls.channel_name[-5:]}" if payout_id else ""

	@classmethod
	def profitability(cls, group_by: str) -> list[dict]:
		columns, rows, _message, chart = profitability_report.execute({**cls.filters, "group_by": group_by})
		cls.assert_columns(columns, rows)
		assert chart and chart["data"]["datasets"], chart
		return [row for row in rows if not row.get("is_total_row")]

	@classmethod
	def reconciliation(cls) -> list[dict]:
		columns, rows, _message, _chart, summary = reconciliation_report.execute(dict(cls.filters))
		cls.assert_columns(columns, rows)
		assert summary, summary
		return rows

	@staticmethod
	def assert_columns(columns: list[dict], rows: list[dict]):
		fieldnames = {column["fieldname"] for column in columns}
		for row in rows:
			assert set(row) - {"is_total_row"} <= fieldnames, set(row) - fieldnames

	@staticmethod
	def section(rows: list[dict], section: str) -> list[dict]:
		return [row for row in rows if row["section"] == section]

	# --- what the documents say, read independently of the report ---------------------------

	def invoiced(self, key: str) -> tuple[float, float]:
		"""(net revenue, VAT) of the order's invoices net of credit notes."""
		rows = frappe.get_all(
			"Sales Invoice",
			filters={"oms_channel_order": self.orders[key], "docstatus": 1},
			fields=["base_net_total", "base_total_taxes_and_charges"],
		)
		return sum(flt(r.base_net_total) for r in rows), sum(flt(r.base_total_taxes_and_charges) for r in rows)

	def stock_value(self, key: str) -> float:
		"""The stock value the order's Delivery Notes took out, less what their returns brought back."""
		rows = frappe.get_all(
			"Delivery Note Item",
			filters={"parent": ("in", frappe.get_all("Delivery Note", {"oms_channel_order": self.orders[key], "docstatus": 1}, pluck="name"))},
			fields=["stock_qty", "incoming_rate"],
		)
		return sum(flt(r.stock_qty) * flt(r.incoming_rate) for r in rows)

	# --- Channel Profitability ---------------------------------------------------------------

	def test_order_rows_carry_revenue_charges_by_kind_cost_of_goods_and_margin(self):
		rows = {row.get("channel_order"): row for row in self.profitability("Order")}
		self.assertEqual(set(self.orders.values()) | {None}, set(rows))
		a = rows[self.orders["A"]]
		revenue, vat = self.invoiced("A")
		# 399,000 invoiced with VAT 10% included: 362,727.27 net
		self.assertAlmostEqual(revenue, 362727.27, places=2)
		self.assertAlmostEqual(a["revenue"], revenue, places=2)
		self.assertAlmostEqual(a["vat"], vat, places=2)
		self.assertAlmostEqual(a["revenue"] + a["vat"], 399000, places=2)
		self.assertEqual(a["platform_funded"], 9000)
		self.assertEqual(
			{k: a[k] for k in ("commission", "service_fee", "transaction_fee", "shipping_fee", "marketing", "other_charges", "withheld_tax")},
			{"commission": 20000, "service_fee": 0, "transaction_fee": 8000, "shipping_fee": 0, "marketing": 0, "other_charges": 0, "withheld_tax": 5985},
		)
		self.assertEqual(a["fees"], 28000)  # withheld taxes are prepaid tax, not cost
		self.assertGreater(a["cogs"], 0)
		self.assertAlmostEqual(a["cogs"], self.stock_value("A"), places=2)
		self.assertAlmostEqual(a["margin"], revenue - 28000 - a["cogs"], places=2)
		self.assertAlmostEqual(a["margin_percent"], round(100 * a["margin"] / revenue, 2), places=2)
		self.assertEqual((a["orders"], a["sales_channel"], a["external_order_id"]), (1, self.channel_name, self.ids["A"]))

	def test_each_kind_goes_to_its_column_and_compensation_lowers_the_fees(self):
		rows = {row.get("channel_order"): row for row in self.profitability("Order")}
		b = rows[self.orders["B"]]
		self.assertEqual(
			{k: b[k] for k in ("commission", "service_fee", "shipping_fee", "marketing", "other_charges", "withheld_tax")},
			{"commission": 15000, "service_fee": 5000, "shipping_fee": 12000, "marketing": 3000, "other_charges": -20000, "withheld_tax": 0},
		)
		self.assertEqual(b["fees"], 15000)
		c = rows[self.orders["C"]]
		self.assertEqual((c["other_charges"], c["fees"]), (9000, 37000))  # what the platform paid short
		e = rows[self.orders["E"]]
		self.assertEqual((e["fees"], e["withheld_tax"]), (0, 0))  # not settled yet
		loose = rows[None]
		self.assertEqual((loose["marketing"], loose["transaction_fee"], loose["revenue"], loose["orders"]), (50000, 2000, 0, 0))

	def test_a_return_lowers_revenue_and_cost_of_goods_and_its_refund_is_not_charged_twice(self):
		rows = {row.get("channel_order"): row for row in self.profitability("Order")}
		r, a = rows[self.orders["R"]], rows[self.orders["A"]]
		revenue, _vat = self.invoiced("R")
		self.assertAlmostEqual(r["revenue"], revenue, places=2)
		# the credit note takes the cap's net back: its refund less VAT
		self.assertAlmostEqual(a["revenue"] - r["revenue"], refund_of_cap() / 1.1, delta=1)
		self.assertAlmostEqual(r["cogs"], self.stock_value("R"), places=2)
		self.assertGreater(r["cogs"], 0)
		self.assertLess(r["cogs"], a["cogs"])  # the cap came back into stock
		self.assertEqual((r["other_charges"], r["fees"]), (0, 28000))

	def test_channel_row_sums_its_orders_and_adjustments(self):
		orders = self.profitability("Order")
		[channel] = self.profitability("Channel")
		self.assertEqual((channel["sales_channel"], channel["platform"], channel["orders"]), (self.channel_name, "Custom API", 6))
		for column in ("revenue", "vat", "platform_funded", "commission", "marketing", "transaction_fee", "other_charges", "withheld_tax", "fees", "cogs", "margin"):
			self.assertAlmostEqual(channel[column], sum(row[column] for row in orders), places=2, msg=column)
		# commission: A, R, C, D 20,000 each and B 15,000; marketing: B 3,000 and the ads 50,000
		self.assertEqual((channel["commission"], channel["marketing"], channel["platform_funded"]), (95000, 53000, 6 * 9000))
		self.assertEqual(channel["withheld_tax"], 4 * 5985)
		self.assertAlmostEqual(channel["cogs"], sum(self.stock_value(k) for k in "ABRCDE"), places=2)
		self.assertAlmostEqual(channel["margin"], channel["revenue"] - channel["fees"] - channel["cogs"], places=2)

	def test_item_rows_share_each_orders_charges_by_its_part_of_the_revenue(self):
		items = {row.get("item_code"): row for row in self.profitability("Item")}
		[channel] = self.profitability("Channel")
		self.assertEqual(set(items), {"OMS-TSHIRT", "OMS-CAP", "OMS-SHIPPING", None})
		for column in ("revenue", "vat", "platform_funded", "commission", "fees", "cogs", "margin"):
			# shares are rounded to cents per item
			self.assertAlmostEqual(sum(row[column] for row in items.values()), channel[column], delta=0.05, msg=column)
		self.assertEqual(items["OMS-SHIPPING"]["cogs"], 0)
		self.assertEqual(items["OMS-TSHIRT"]["orders"], 6)
		# A's commission shared out by its invoice lines
		lines = frappe.get_all(
			"Sales Invoice Item",
			filters={"parent": ("in", frappe.get_all("Sales Invoice", {"oms_channel_order": ("in", list(self.orders.values())), "docstatus": 1}, pluck="name"))},
			fields=["parent", "item_code", "base_net_amount"],
		)
		expected = 0.0
		for key, commission in (("A", 20000), ("B", 15000), ("R", 20000), ("C", 20000), ("D", 20000)):
			invoices = set(frappe.get_all("Sales Invoice", {"oms_channel_order": self.orders[key], "docstatus": 1}, pluck="name"))
			mine = [line for line in lines if line.parent in invoices]
			cap = sum(flt(line.base_net_amount) for line in mine if line.item_code == "OMS-CAP")
			expected += commission * cap / sum(flt(line.base_net_amount) for line in mine)
		self.assertAlmostEqual(items["OMS-CAP"]["commission"], expected, delta=0.05)
		self.assertAlmostEqual(items[None]["marketing"], 50000, places=2)

	# --- Settlement Reconciliation -----------------------------------------------------------

	def test_a_payout_is_checked_against_its_settlements(self):
		[row] = self.section(self.reconciliation(), "Payout")
		self.assertEqual(row["platform_id"], self.pid("P1"))
		self.assertEqual(row["settlements"], 5)  # A, B, R, the ads and the compensation
		self.assertAlmostEqual(row["expected"], self.expected_p1, places=2)
		self.assertAlmostEqual(row["received"], self.p1_amount + 2000, places=2)
		self.assertEqual((row["fee"], row["difference"]), (2000, 1000))
		self.assertEqual((row["bank_matched"], row["bank_transaction"]), (1, self.deposit))

	def test_settled_money_not_paid_out_is_listed(self):
		rows = {row["document"]: row for row in self.section(self.reconciliation(), "Not Paid Out")}
		by_order = {frappe.db.get_value("Marketplace Settlement", name, "channel_order"): row for name, row in rows.items()}
		self.assertEqual(set(by_order), {self.orders["C"], self.orders["D"]})
		self.assertEqual(by_order[self.orders["C"]]["amount"], self.payouts["C"])
		self.assertIn(self.pid("P2"), by_order[self.orders["C"]]["note"])
		self.assertEqual(by_order[self.orders["D"]]["amount"], self.payouts["D"])

	def test_an_order_never_settled_is_listed_once_overdue(self):
		self.assertEqual([row["document"] for row in self.unsettled_before], [])  # invoiced today: not yet
		[row] = self.section(self.reconciliation(), "Unsettled Order")
		self.assertEqual((row["document"], row["platform_id"], row["invoice"]), (self.orders["E"], self.ids["E"], self.e_invoice))
		self.assertEqual((row["amount"], row["days_open"], getdate(row["date"])), (399000, E_AGE, getdate(add_days(nowdate(), -E_AGE))))

	def test_settlements_needing_review_are_listed(self):
		rows = self.section(self.reconciliation(), "Needs Review")
		names = {row["document"] for row in rows}
		expected = set(frappe.get_all("Marketplace Settlement", {"sales_channel": self.channel_name, "needs_review": 1}, pluck="name"))
		self.assertEqual(names, expected)
		# C's difference and the three adjustments (ads, compensation, withdrawal fee)
		self.assertEqual(len(rows), 4)
		[difference] = [row for row in rows if row["difference"]]
		self.assertEqual(difference["difference"], 9000)

	def test_the_clearing_balance_is_explained_by_the_other_parts(self):
		rows = self.reconciliation()
		[clearing] = self.section(rows, "Clearing Balance")
		self.assertEqual((clearing["document"], clearing["sales_channel"]), (self.clearing, self.channel_name))
		self.assertAlmostEqual(clearing["amount"], ts.balance(self.clearing), places=2)
		# what the platform still owes: what it kept of P1, what is settled and not paid out, E's invoice
		explained = (
			sum(row["difference"] for row in self.section(rows, "Payout"))
			+ sum(row["amount"] for row in self.section(rows, "Not Paid Out"))
			+ sum(row["amount"] for row in self.section(rows, "Unsettled Order"))
		)
		self.assertAlmostEqual(clearing["amount"], explained, places=2)
		self.assertAlmostEqual(clearing["amount"], 1000 + self.payouts["C"] + self.payouts["D"] + 399000, places=2)
