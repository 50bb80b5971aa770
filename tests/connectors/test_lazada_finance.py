"""Lazada's finance data as settlements, adjustments and payouts: the pure mappers of
oms_connector/connectors/lazada/finance.py on Lazada's published examples and on rows as Lazada
posts them, and the client's finance calls against the stand-in (oms_connector/sandbox/lazada_server.py)."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from oms_connector.connectors.base import AuthError, ConnectorError, RetryableError
from oms_connector.connectors.lazada.finance import (
	FEE_TYPES,
	fee_type_of,
	finance_from_transactions,
	order_settlement,
	payout_from_statement,
	payouts_from_statements,
	unique_transactions,
)
from oms_connector.connectors.lazada.mapper import order_from_lazada
from oms_connector.domain.settlement import ChargeKind, SettlementError, plan_booking
from oms_connector.sandbox.lazada_server import FakeLazada

from .test_lazada import cod_items, cod_order, make_connector, prepaid_order

PUBLISHED = Path(__file__).parent / "lazada_published"
VN = timezone(timedelta(hours=7))
DETAILS = "/finance/transaction/details/get"
PAYOUTS = "/finance/payout/status/get"
ORDER_ID = "479311210034529"


def published(name: str) -> list[dict]:
	return json.loads((PUBLISHED / name).read_text(encoding="utf-8"))["data"]


def row(fee_type: str, amount: str, fee_name: str = "", order_no: str = ORDER_ID, number: str = "", **extra) -> dict:
	"""A QueryTransactionDetails row with the fields the mapper reads."""
	data = {
		"order_no": order_no,
		"fee_type": fee_type,
		"fee_name": fee_name or (FEE_TYPES[fee_type].name if fee_type in FEE_TYPES else ""),
		"amount": amount,
		"transaction_number": number or f"VN-{fee_type or 'x'}-{amount}-{fee_name}",
		"transaction_date": "17 May 2024",
		"paid_status": "Not paid",
		"statement": "13 May 2024 - 19 May 2024",
	}
	data.update(extra)
	return data


@pytest.fixture
def fake():
	with FakeLazada() as server:
		yield server


@pytest.fixture
def connector(fake):
	return make_connector(fake, *fake.issue_tokens())


# --- Lazada's published examples --------------------------------------------------------------
def test_published_transaction_example_is_refused_its_row_names_another_kind_of_money():
	"""QueryTransactionDetails' Response Example (open.lazada.com/apps/doc/api?path=%2Ffinance%2Ftransaction%2Fdetails%2Fget,
	lazada_published/README.md): fee_type 13 is the Item Price Credit in Lazada's fee_type enum list
	(docId 120956), but the row calls itself "Payment Fee" (fee_type 3) and debits 0.62."""
	rows = published("query_transaction_details.json")
	# the order comes back unreadable with the reason (booked as an Error to review), not raised:
	# one bad order must not hold up the rest of a period
	[refused] = finance_from_transactions(rows, "SGD").settlements
	assert refused.order_id == "123445666666" and refused.payout == Decimal("-0.62")
	with pytest.raises(SettlementError, match=r"SG103EF-1P9VK1A: fee_type 13 is Lazada's 'Item Price Credit', but the row names it 'Payment Fee' \(fee_type 3\)"):
		refused.check()
	with pytest.raises(SettlementError, match="SG103EF-1P9VK1A"):
		order_settlement("123445666666", rows, "SGD").check()


def test_published_transaction_example_read_either_way():
	"""The same published row with its conflict settled each way (the test's change, not Lazada's):
	as the Payment Fee its name says, and as the Item Price Credit its fee_type says."""
	(example,) = published("query_transaction_details.json")
	as_fee = finance_from_transactions([dict(example, fee_type="3")], "SGD").settlements[0]
	assert (as_fee.order_id, as_fee.revenue, as_fee.payout, as_fee.currency) == ("123445666666", Decimal(0), Decimal("-0.62"), "SGD")
	assert [(c.kind, c.amount, c.label) for c in as_fee.charges] == [(ChargeKind.TRANSACTION, Decimal("0.62"), "feeName")]
	assert as_fee.final and as_fee.settled_on == date(2016, 5, 17) and as_fee.payout_id == "11 May 2016 - 17 May 2016"
	as_fee.check()
	as_sale = finance_from_transactions([dict(example, transaction_type="Item Price Credit")], "SGD").settlements[0]
	assert (as_sale.revenue, as_sale.charges, as_sale.payout) == (Decimal("-0.62"), [], Decimal("-0.62"))
	as_sale.check()


def test_published_payout_example_pays_its_closing_balance():
	"""GetPayoutStatus' Response Example (open.lazada.com/apps/doc/api?path=%2Ffinance%2Fpayout%2Fstatus%2Fget):
	payout "3962.41 EUR", paid "0". Its subtotals break Lazada's own formulas (docId 120249); nothing
	is booked from them, so the statement is read as published."""
	(statement,) = published("get_payout_status.json")
	payout = payout_from_statement(statement, "EUR")
	assert (payout.payout_id, payout.amount, payout.currency, payout.paid, payout.paid_on) == (
		"EG100RT-20141228", Decimal("3962.41"), "EUR", False, None,
	)
	assert payout.raw == statement
	# A Vietnamese shop's books are in VND: a statement in EUR is not booked into them.
	with pytest.raises(SettlementError, match="EG100RT-20141228 pays out in EUR, not the shop's VND"):
		payout_from_statement(statement, "VND")


# --- the fee types ---------------------------------------------------------------------------
@pytest.mark.parametrize(
	("fee_type", "name", "kind", "order_fee"),
	[
		("13", "Item Price Credit", None, True),
		("501", "Item Price", None, True),
		("59", "Item Price Subsidy", None, True),
		("502", "Lazada Subsidy on Item Price", None, True),
		("8", "Shipping Fee (Paid By Customer)", None, True),
		("118", "Promotional Charges Vouchers", None, True),  # the seller's voucher: out of the invoice price
		("202", "Seller Funded Marketing Voucher", None, True),
		("14", "Reversal Item Price", ChargeKind.REFUND, True),
		("121", "Reversal Promotional Charges Vouchers", ChargeKind.REFUND, True),
		("16", "Commission", ChargeKind.COMMISSION, True),
		("15", "Reversal Commission", ChargeKind.COMMISSION, True),
		("3", "Payment Fee", ChargeKind.TRANSACTION, True),
		("7", "Shipping Fee Paid by Seller", ChargeKind.SHIPPING, True),
		("157", "Auto. Shipping fee subsidy (by Lazada)", ChargeKind.SHIPPING, True),
		("274", "Seller Picks Commission", ChargeKind.SERVICE, True),
		("298", "Free Shipping Max Fee", ChargeKind.SERVICE, True),
		("119", "Promotional Charge General", ChargeKind.MARKETING, True),
		("201", "Reimbursements Withholding tax", ChargeKind.WITHHELD_TAX, True),
		("112", "Sponsored Product Fee", ChargeKind.ADVERTISING, False),
		("239", "Sponsored Affiliates", ChargeKind.MARKETING, False),
		("54", "Penalty", ChargeKind.PENALTY, False),
		("47", "Lost Or Damaged - Product", ChargeKind.COMPENSATION, False),
		("235", "Seller balance adjustments - Debit", ChargeKind.OTHER, False),
		("254", "Storage Fee", ChargeKind.SERVICE, False),
	],
)
def test_fee_types_of_the_published_enum_list(fee_type, name, kind, order_fee):
	"""Names and classifications (transaction_type column) of Lazada's fee_type enum list, docId 120956."""
	fee = fee_type_of({"fee_type": fee_type, "fee_name": name})
	assert (fee.name, fee.kind, fee.order_fee) == (name, kind, order_fee)


def test_rows_without_a_known_fee_type_go_by_name():
	assert fee_type_of({"fee_type": "", "fee_name": "Commission"}).kind == ChargeKind.COMMISSION
	other = fee_type_of({"fee_type": "9999", "fee_name": "Brand New Fee"})
	assert (other.kind, other.name, other.order_fee) == (ChargeKind.OTHER, "Brand New Fee", True)
	assert fee_type_of({"fee_type": "9999"}).name == "fee_type 9999"
	# A renamed row of the same kind is no conflict (Lazada has both "Item Price Credit" and "Item Price").
	assert fee_type_of({"fee_type": "13", "fee_name": "Item Price"}).kind is None


@pytest.mark.parametrize(
	("name", "kind"),
	[
		("Withholding VAT", ChargeKind.WITHHELD_VAT),
		("Withholding Tax - PIT", ChargeKind.WITHHELD_PIT),
		("Thuế GTGT khấu trừ", ChargeKind.WITHHELD_VAT),
		("Thuế TNCN khấu trừ", ChargeKind.WITHHELD_PIT),
		("Withheld personal income tax", ChargeKind.WITHHELD_PIT),
		("Reimbursements Withholding tax", ChargeKind.WITHHELD_TAX),
	],
)
def test_vietnam_withholding_is_told_by_name(name, kind):
	"""Vietnam's VAT and PIT withheld since 1 July 2025 (Decree 117/2025): no published fee_type."""
	fee = fee_type_of({"fee_type": "", "fee_name": name})
	assert (fee.kind, fee.order_fee) == (kind, True)
	assert fee_type_of({"fee_type": "201", "fee_name": name}).kind == kind


# --- settlements, adjustments, payouts -------------------------------------------------------
def cod_order_rows(item_credit_is_paid_price: bool) -> list[dict]:
	"""cod_order's transactions (3 units of 150000; seller vouchers 30000, Lazada's 20000; shipping
	15000 paid of 30000, Lazada paying 15000), posted either way Lazada posts a sale: the item price
	credit is the price and the seller's vouchers a promotional charge, or the credit is what the buyer
	paid and Lazada's vouchers an item price subsidy."""
	if item_credit_is_paid_price:
		sale = [row("13", "135000.00", number="a"), row("13", "135000.00", number="b"), row("13", "130000.00", number="c"), row("59", "20000.00")]
	else:
		sale = [row("13", "150000.00", number="a"), row("13", "150000.00", number="b"), row("13", "150000.00", number="c"), row("118", "-30000.00")]
	return sale + [
		row("8", "15000.00"),
		row("7", "-30000.00"),
		row("157", "15000.00"),
		row("16", "-21000.00"),
		row("3", "-8000.00"),
		row("", "-4200.00", "Withholding VAT"),
		row("", "-2100.00", "Withholding PIT"),
	]


@pytest.mark.parametrize("item_credit_is_paid_price", [False, True])
def test_revenue_is_the_order_mappers_seller_revenue(item_credit_is_paid_price):
	"""The settlement's revenue is what the invoice of the mapped order carries, however Lazada splits
	the sale, so booking the charges out of the invoice leaves exactly the payout."""
	order = order_from_lazada(cod_order(), cod_items())
	assert (order.buyer_paid, order.platform_funded, order.seller_revenue) == (Decimal(415000), Decimal(20000), Decimal(435000))
	settlement = order_settlement(ORDER_ID, cod_order_rows(item_credit_is_paid_price))
	assert settlement.revenue == order.seller_revenue
	assert settlement.by_kind() == {
		ChargeKind.SHIPPING: Decimal(15000),
		ChargeKind.COMMISSION: Decimal(21000),
		ChargeKind.TRANSACTION: Decimal(8000),
		ChargeKind.WITHHELD_VAT: Decimal(4200),
		ChargeKind.WITHHELD_PIT: Decimal(2100),
	}
	assert settlement.payout == Decimal(384700)
	booking = plan_booking(settlement, invoiced=order.seller_revenue, refunded=Decimal(0))
	assert booking.difference == 0 and booking.total == order.seller_revenue - settlement.payout


def test_stand_in_posts_what_the_order_mapper_books(fake, connector):
	"""settle_order posts from the order the stand-in holds; what comes back ties to the mapped order."""
	fake.add_order(cod_order(), cod_items())
	order, items = prepaid_order()
	fake.add_order(order, items)
	for order_id in (ORDER_ID, str(order["order_id"])):
		assert fake.settle_order(order_id)
		(raw,) = connector.get_order_details([order_id])
		settlement = connector.get_order_settlement(order_id)
		assert settlement.revenue == connector.map_order(raw).seller_revenue
		settlement.check()
	assert connector.get_order_settlement(ORDER_ID).payout == Decimal(384700)


def test_a_return_is_a_refund_and_its_fees_go_back_to_their_kinds():
	rows = cod_order_rows(False) + [
		row("14", "-150000.00", number="r1"),
		row("121", "10000.00", number="r2"),
		row("15", "7000.00", number="r3"),
		row("200", "-10000.00", number="r4"),
	]
	settlement = order_settlement(ORDER_ID, rows)
	charges = settlement.by_kind()
	assert charges[ChargeKind.REFUND] == Decimal(140000)  # the unit's price less the seller's voucher on it
	assert charges[ChargeKind.COMMISSION] == Decimal(14000)
	assert charges[ChargeKind.SHIPPING] == Decimal(25000)
	assert settlement.revenue == Decimal(435000) and settlement.payout == Decimal(384700 - 150000 + 10000 + 7000 - 10000)
	# Before the books hold the return, the refund is Lazada's charge; once they hold it, it is not taken twice.
	before = plan_booking(settlement, invoiced=Decimal(435000), refunded=Decimal(0))
	assert before.charges[ChargeKind.REFUND] == Decimal(140000) and before.difference == 0
	after = plan_booking(settlement, invoiced=Decimal(435000), refunded=Decimal(140000))
	assert ChargeKind.REFUND not in after.charges and after.difference == 0


def test_rows_without_an_order_and_account_fees_are_adjustments():
	rows = [
		row("13", "100000.00", number="s1"),
		row("112", "-50000.00", order_no="", number="ads-1", transaction_date="20 May 2024"),
		row("54", "-20000.00", number="pen-1"),  # a penalty naming the order is still no order fee
		row("47", "90000.00", order_no="5550001", number="lost-1"),
		row("", "-3000.00", "Bank transfer correction", order_no="", number="misc-1"),
	]
	period = finance_from_transactions(rows)
	assert [(s.order_id, s.revenue, s.payout) for s in period.settlements] == [(ORDER_ID, Decimal(100000), Decimal(100000))]
	assert [(a.adjustment_id, a.kind, a.amount, a.label, a.order_id) for a in period.adjustments] == [
		("ads-1", ChargeKind.ADVERTISING, Decimal(50000), "Sponsored Product Fee", ""),
		("pen-1", ChargeKind.PENALTY, Decimal(20000), "Penalty", ORDER_ID),
		("lost-1", ChargeKind.COMPENSATION, Decimal(-90000), "Lost Or Damaged - Product", "5550001"),
		("misc-1", ChargeKind.OTHER, Decimal(3000), "Bank transfer correction", ""),
	]
	ads = period.adjustments[0]
	assert (ads.posted_on, ads.payout_id, ads.currency, ads.raw) == (date(2024, 5, 20), "13 May 2024 - 19 May 2024", "VND", rows[1])


def test_a_row_without_a_number_gets_a_stable_id():
	nameless = row("112", "-50000.00", order_no="")
	del nameless["transaction_number"]
	first = finance_from_transactions([nameless]).adjustments[0].adjustment_id
	assert first.startswith("LZ-") and first == finance_from_transactions([copy.deepcopy(nameless)]).adjustments[0].adjustment_id


def test_posted_rows_are_final_whether_or_not_their_statement_is_paid_out():
	"""Lazada corrects a posted transaction only with further rows, so what is posted is booked
	at once; paid_status is about the payout, which is booked from GetPayoutStatus."""
	rows = [row("13", "100000.00", paid_status="Paid"), row("16", "-5000.00", paid_status="Not paid", transaction_date="24 May 2024", statement="20 May 2024 - 26 May 2024")]
	settlement = order_settlement(ORDER_ID, rows)
	assert settlement.final
	assert (settlement.settled_on, settlement.payout_id) == (date(2024, 5, 24), "20 May 2024 - 26 May 2024")


def test_a_row_listed_twice_counts_once_two_rows_under_one_number_are_refused():
	once = row("13", "100000.00", number="T1")
	assert unique_transactions([once, dict(once)]) == [once]
	assert order_settlement(ORDER_ID, [once, dict(once)]).payout == Decimal(100000)
	with pytest.raises(SettlementError, match="T1 is listed twice with different figures"):
		order_settlement(ORDER_ID, [once, dict(once, amount="90000.00")])


@pytest.mark.parametrize(
	("bad", "message"),
	[
		("a lot", "transaction T9 amount: not a money amount"),
		("", "transaction T9 amount is missing"),
		(True, "not a money amount"),
	],
)
def test_unreadable_amounts_are_refused(bad, message):
	[settlement] = finance_from_transactions([row("13", bad, number="T9")]).settlements
	with pytest.raises(SettlementError, match=message):
		settlement.check()


def test_payout_statements():
	statement = {
		"statement_number": "VN344XRB8H-2026-0803",
		"payout": "99303.00 VND",
		"paid": "1",
		"created_at": "2026-08-04 02:20:11",
		"updated_at": "2026-08-05 09:00:00",
		"closing_balance": "99303.00",
	}
	payout = payout_from_statement(statement)
	assert (payout.payout_id, payout.amount, payout.paid, payout.paid_on, payout.currency) == (
		"VN344XRB8H-2026-0803", Decimal(99303), True, date(2026, 8, 5), "VND",
	)
	assert payout_from_statement(dict(statement, payout="120000")).amount == Decimal(120000)  # no currency: the shop's
	assert [p.payout_id for p in payouts_from_statements([statement, statement])] == ["VN344XRB8H-2026-0803"]
	for broken, message in (
		({"statement_number": ""}, "no statement_number"),
		({"payout": "n/a"}, "payout 'n/a' is not an amount"),
		({"payout": "-5.00 VND"}, "negative amount"),
	):
		with pytest.raises(SettlementError, match=message):
			payout_from_statement(dict(statement, **broken))


# --- the client against the stand-in ---------------------------------------------------------
def test_fetch_finance_groups_a_period_and_its_payouts(fake, connector):
	now = datetime.now(VN)
	fake.add_order(cod_order(), cod_items())
	fake.settle_order(ORDER_ID, at=now - timedelta(days=2))
	fake.add_transaction("112", "-50000", at=now - timedelta(days=1))
	fake.add_transaction("13", "99000", order_no="777000111", at=now - timedelta(days=1))  # an order the app never saw
	fake.add_transaction("16", "-1000", order_no="777000111", at=now - timedelta(days=40))  # before the period
	statement = fake.pay_out(at=now - timedelta(hours=1))
	period = connector.fetch_finance(now - timedelta(days=3), now)
	assert sorted(s.order_id for s in period.settlements) == [ORDER_ID, "777000111"]
	by_order = {s.order_id: s for s in period.settlements}
	assert by_order[ORDER_ID].payout == Decimal(384700) and by_order[ORDER_ID].final
	assert by_order["777000111"].revenue == by_order["777000111"].payout == Decimal(99000)
	assert [(a.kind, a.amount) for a in period.adjustments] == [(ChargeKind.ADVERTISING, Decimal(50000))]
	(payout,) = period.payouts
	paid_rows = by_order[ORDER_ID].payout + Decimal(99000) - Decimal(50000) - Decimal(1000)
	assert (payout.payout_id, payout.amount, payout.paid) == (statement, paid_rows, True)
	assert fake.calls_to(PAYOUTS)[0]["params"]["created_after"] == str((now - timedelta(days=3)).date())


def test_fetch_finance_reads_long_periods_in_windows_and_pages(fake, connector):
	now = datetime.now(VN)
	for n in range(1100):
		fake.add_transaction("13", "1000", order_no=str(800000000 + n % 7), at=now - timedelta(days=n % 400))
	period = connector.fetch_finance(now - timedelta(days=399), now)
	assert sum(s.payout for s in period.settlements) == Decimal(1100 * 1000)
	calls = fake.calls_to(DETAILS)
	windows = sorted({(c["params"]["start_time"], c["params"]["end_time"]) for c in calls})
	assert len(windows) == 3
	assert all((date.fromisoformat(end) - date.fromisoformat(start)).days < 180 for start, end in windows)
	assert max(int(c["params"]["offset"]) for c in calls) == 500  # 1100 rows in 3 windows: one page past 500


def test_a_refetch_answers_the_same(fake, connector):
	now = datetime.now(VN)
	fake.add_order(cod_order(), cod_items())
	fake.settle_order(ORDER_ID)
	fake.add_transaction("54", "-20000", fee_name="Penalty", order_no=ORDER_ID)
	fake.pay_out()
	first, second = (connector.fetch_finance(now - timedelta(days=1), now + timedelta(hours=1)) for _ in range(2))
	assert [s.fingerprint() for s in first.settlements] == [s.fingerprint() for s in second.settlements]
	assert first.adjustments == second.adjustments and first.payouts == second.payouts
	assert connector.get_order_settlement(ORDER_ID).fingerprint() == first.settlements[0].fingerprint()


def test_payouts_outside_the_period_are_left_out(fake, connector):
	now = datetime.now(VN)
	fake.add_transaction("13", "1000", order_no="1")
	early = fake.pay_out(at=now - timedelta(days=10))
	fake.add_transaction("13", "2000", order_no="2")
	late = fake.pay_out(at=now - timedelta(days=1))
	assert [p.payout_id for p in connector.fetch_finance(now - timedelta(days=2), now).payouts] == [late]
	both = connector.fetch_finance(now - timedelta(days=11), now).payouts
	assert [(p.payout_id, p.amount) for p in both] == [(early, Decimal(1000)), (late, Decimal(2000))]


def test_finance_calls_are_retried_like_every_call(fake, connector):
	fake.add_transaction("13", "1000", order_no=ORDER_ID)
	fake.fail(DETAILS, "429")
	fake.fail(DETAILS, "503")
	assert connector.get_order_settlement(ORDER_ID).payout == Decimal(1000)
	assert [c["code"] for c in fake.calls_to(DETAILS, ok_only=False)] == ["429", "503", "0"]
	fake.fail(PAYOUTS, "ApiCallLimit")
	now = datetime.now(VN)
	assert connector.fetch_finance(now - timedelta(days=1), now).settlements
	fake.fail(DETAILS, "500", times=3)
	with pytest.raises(RetryableError):
		connector.get_order_settlement(ORDER_ID)
	fake.expire_access_token()
	with pytest.raises(AuthError):
		connector.fetch_finance(now - timedelta(days=1), now)


def test_finance_calls_are_signed(fake):
	connector = make_connector(fake, *fake.issue_tokens())
	connector.config.app_secret = "not-the-secret"
	with pytest.raises(ConnectorError, match="IncompleteSignature"):
		connector.get_order_settlement(ORDER_ID)
	assert fake.calls_to(DETAILS, ok_only=False) == []  # refused before anything was read


def test_stand_in_enforces_the_documented_parameters(fake, connector):
	today = datetime.now(VN).date()
	call = connector._call
	with pytest.raises(ConnectorError, match="MissingParameter"):
		call(DETAILS, {"start_time": str(today)})
	with pytest.raises(ConnectorError, match="Invalid Date Format"):
		call(DETAILS, {"start_time": "20240101", "end_time": str(today)})
	with pytest.raises(ConnectorError, match="1000012"):
		call(DETAILS, {"start_time": str(today), "end_time": str(today - timedelta(days=1))})
	with pytest.raises(ConnectorError, match="Invalid Limit"):
		call(DETAILS, {"start_time": str(today), "end_time": str(today), "limit": 501})
	with pytest.raises(ConnectorError, match="1000014"):
		call(DETAILS, {"start_time": str(today), "end_time": str(today), "trans_type": "424242"})
	with pytest.raises(ConnectorError, match="MissingParameter"):
		call(PAYOUTS, {})
	fake.add_transaction("16", "-1000", order_no=ORDER_ID)
	fake.add_transaction("13", "5000", order_no=ORDER_ID)
	only = call(DETAILS, {"start_time": str(today), "end_time": str(today), "trans_type": "16"})["data"]
	assert [r["fee_type"] for r in only] == ["16"]


def test_settle_order_rates_cancelled_units_and_withholding_dates(fake, connector):
	items = cod_items()
	items[2]["status"] = "canceled"
	fake.add_order(cod_order(), items)
	numbers = fake.settle_order(ORDER_ID, at=datetime(2025, 6, 30, 12, tzinfo=VN), fees={"commission": "0.1", "payment": 0})
	posted = [r for r in fake.transactions if r["transaction_number"] in numbers]
	assert {r["fee_name"] for r in posted} == {
		"Item Price Credit", "Promotional Charges Vouchers", "Commission",
		"Shipping Fee (Paid By Customer)", "Shipping Fee Paid by Seller", "Auto. Shipping fee subsidy (by Lazada)",
	}  # no payment fee at rate 0; no withholding before 1 July 2025
	assert [r["amount"] for r in posted if r["fee_name"] == "Commission"] == ["-14000.00", "-14000.00"]
	assert {r["transaction_date"] for r in posted} == {"30 Jun 2025"}
	later = fake.settle_order(ORDER_ID, at=datetime(2025, 7, 1, 9, tzinfo=VN))
	names = [r["fee_name"] for r in fake.transactions if r["transaction_number"] in later]
	assert names.count("Withholding VAT") == names.count("Withholding PIT") == 2
	with pytest.raises(ValueError, match="unknown fee rates"):
		fake.settle_order(ORDER_ID, fees={"tip": 1})


def test_pay_out_closes_the_unpaid_rows_and_carries_a_negative_balance(fake, connector):
	fake.add_transaction("13", "10000", order_no="1")
	fake.add_transaction("16", "-3000", order_no="1")
	first = fake.pay_out(at=datetime(2025, 8, 4, 2, 20, tzinfo=VN))
	assert first == "VNFAKE01-2025-0804"
	assert {r["paid_status"] for r in fake.transactions} == {"Paid"}
	fake.add_transaction("54", "-9000")
	second = fake.pay_out(at=datetime(2025, 8, 4, 5, tzinfo=VN), paid=False)
	assert second == "VNFAKE01-2025-0804-2"
	statements = {s["statement_number"]: s for s in fake.statements}
	assert (statements[first]["payout"], statements[first]["paid"], statements[first]["subtotal1"]) == ("7000.00 VND", "1", "7000.00")
	assert (statements[second]["closing_balance"], statements[second]["payout"], statements[second]["paid"]) == ("-9000.00", "0.00 VND", "0")
	fake.add_transaction("13", "20000", order_no="2")
	third = fake.pay_out(at=datetime(2025, 8, 11, tzinfo=VN))
	assert (statements := {s["statement_number"]: s for s in fake.statements})[third]["opening_balance"] == "-9000.00"
	assert statements[third]["payout"] == "11000.00 VND"
	payouts = payouts_from_statements(fake.statements)
	assert [(p.amount, p.paid) for p in payouts] == [(Decimal(7000), True), (Decimal(0), False), (Decimal(11000), True)]


def test_stand_in_restart_keeps_finance(fake, connector):
	fake.add_order(cod_order(), cod_items())
	fake.settle_order(ORDER_ID)
	statement = fake.pay_out()
	state = json.loads(json.dumps(fake.export_state()))
	with FakeLazada() as restarted:
		restarted.import_state(state)
		restarted.import_state(state)  # taking it twice changes nothing
		again = make_connector(restarted, *restarted.issue_tokens())
		assert again.get_order_settlement(ORDER_ID) == connector.get_order_settlement(ORDER_ID)
		assert [s["statement_number"] for s in restarted.statements] == [statement]
		assert restarted.add_transaction("13", "1") not in {r["transaction_number"] for r in fake.transactions}
