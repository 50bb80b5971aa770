"""The settlement arithmetic every platform's finance data is booked by (domain/settlement.py)."""

from decimal import Decimal

import pytest

from oms_connector.domain.settlement import (
	Charge,
	ChargeKind,
	OrderSettlement,
	SettlementError,
	combine_parts,
	merge_parts,
	plan_booking,
)

D = Decimal


def settlement(payout="890000", **changes) -> OrderSettlement:
	base = dict(
		order_id="2405017HD347PQ",
		revenue=D("1000000"),
		charges=[
			Charge(ChargeKind.COMMISSION, D("60000"), "commission_fee"),
			Charge(ChargeKind.SERVICE, D("30000"), "service_fee"),
			Charge(ChargeKind.TRANSACTION, D("5000"), "seller_transaction_fee"),
			Charge(ChargeKind.WITHHELD_VAT, D("10000"), "withholding_vat_tax"),
			Charge(ChargeKind.WITHHELD_PIT, D("5000"), "withholding_pit_tax"),
		],
		payout=D(payout),
	)
	base.update(changes)
	return OrderSettlement(**base)


def test_revenue_less_charges_must_be_the_payout():
	settlement().check()
	with pytest.raises(SettlementError, match="off by 1"):
		settlement(payout="889999").check()
	with pytest.raises(SettlementError, match="no order id"):
		settlement(order_id=" ").check()


def test_charges_are_summed_per_kind_and_zero_kinds_dropped():
	s = settlement(
		charges=[
			Charge(ChargeKind.COMMISSION, D("60000")),
			Charge(ChargeKind.COMMISSION, D("-10000"), "commission reversal"),
			Charge(ChargeKind.SHIPPING, D("0")),
		],
		payout="950000",
	)
	assert s.by_kind() == {ChargeKind.COMMISSION: D("50000")}


def test_fingerprint_changes_with_any_booked_figure_only():
	same = settlement(reference="other reference", raw={"x": 1})
	assert settlement().fingerprint() == same.fingerprint()
	changed = settlement(payout="889000", charges=[*settlement().charges, Charge(ChargeKind.OTHER, D("1000"))])
	assert changed.fingerprint() != settlement().fingerprint()


def test_booking_leaves_the_payout_in_clearing_when_the_books_agree():
	booking = plan_booking(settlement(), invoiced=D("1000000"), refunded=D(0))
	assert booking.difference == 0
	assert booking.total == D("110000")
	assert D("1000000") - booking.total == D("890000")


def test_what_the_books_and_the_platform_disagree_on_is_the_difference():
	booking = plan_booking(settlement(), invoiced=D("1020000"), refunded=D(0))
	assert booking.difference == D("20000")  # invoiced 20,000 more than the platform counts as sold
	assert D("1020000") - booking.total == D("890000")


def test_a_refund_already_booked_is_not_taken_twice():
	refund = Charge(ChargeKind.REFUND, D("150000"), "seller_return_refund")
	s = settlement(charges=[*settlement().charges, refund], payout="740000")
	s.check()
	booked = plan_booking(s, invoiced=D("1000000"), refunded=D("150000"))
	assert ChargeKind.REFUND not in booked.charges and booked.difference == 0
	not_booked = plan_booking(s, invoiced=D("1000000"), refunded=D(0))
	assert not_booked.charges[ChargeKind.REFUND] == D("150000") and not_booked.difference == 0
	partly = plan_booking(s, invoiced=D("1000000"), refunded=D("100000"))
	assert partly.charges[ChargeKind.REFUND] == D("50000") and partly.difference == 0


def part(reference: str, payout: str, commission: str, whole=False) -> OrderSettlement:
	charges = [Charge(ChargeKind.COMMISSION, D(commission))]
	return OrderSettlement("O1", D(payout) + D(commission), charges, D(payout), reference=reference, whole_order=whole)


def test_statement_parts_of_one_order_add_up_and_a_reread_replaces_itself():
	first = part("S1", "90000", "10000")
	refund = part("S2", "-45000", "-5000")  # a later statement gives back half, commission too
	parts = combine_parts(combine_parts([], first), refund)
	merged = merge_parts(parts)
	assert (merged.payout, merged.revenue, merged.by_kind()) == (D("45000"), D("50000"), {ChargeKind.COMMISSION: D("5000")})
	merged.check()
	corrected = part("S1", "89000", "11000")  # the same statement read again, corrected
	assert merge_parts(combine_parts(parts, corrected)).payout == D("44000")


def test_a_larger_read_supersedes_the_parts_it_holds_and_a_smaller_one_is_already_counted():
	parts = [part("T1", "50000", "1000"), part("T2", "30000", "1000")]
	larger = part("T1+T2+T3", "100000", "3000")
	assert combine_parts(parts, larger) == [larger]
	assert combine_parts([larger], part("T2", "30000", "1000")) == [larger]
	whole = part("", "99000", "3000", whole=True)
	assert combine_parts(parts, whole) == [whole]
