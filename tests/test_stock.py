"""Available-to-promise maths, changed-only pushes, batching, debounce, lock order, retries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms_connector.connectors.base import PushResult, StockUpdate
from oms_connector.domain.stock import (
	BinQty,
	ChannelStockPolicy,
	ListingOverride,
	StockChangeQueue,
	allocate_with_lock_order,
	available_to_promise,
	batch_updates,
	bundle_atp,
	changed_listings,
	free_qty,
	listing_key,
	plan_push_retry,
)

HN, HCM, STORE = "Kho HN - C", "Kho HCM - C", "Cua hang Q1 - C"


def bins_of(*rows: BinQty) -> dict:
	return {(b.item_code, b.warehouse): b for b in rows}


def policy(**kw) -> ChannelStockPolicy:
	kw.setdefault("warehouses", [HN, HCM])
	return ChannelStockPolicy(**kw)


# --- ATP -----------------------------------------------------------------------------------


def test_sums_channel_warehouses_minus_all_reservations():
	bins = bins_of(
		BinQty("AO-1", HN, actual_qty=100, reserved_qty=10, reserved_stock=5, reserved_qty_for_production=3, reserved_qty_for_sub_contract=2),
		BinQty("AO-1", HCM, actual_qty=50.0, reserved_qty=Decimal("0")),
	)
	assert available_to_promise("AO-1", bins, policy()) == 80 + 50


def test_warehouses_outside_the_channel_are_ignored():
	bins = bins_of(BinQty("AO-1", HN, actual_qty=10), BinQty("AO-1", STORE, actual_qty=1000))
	assert available_to_promise("AO-1", bins, policy()) == 10
	assert available_to_promise("AO-1", bins, policy(warehouses=[HN, STORE])) == 1010


def test_missing_bin_or_item_is_zero():
	assert available_to_promise("NOPE", {}, policy()) == 0
	bins = bins_of(BinQty("AO-1", HN, actual_qty=7))
	assert available_to_promise("AO-1", bins, policy()) == 7  # no HCM bin


def test_duplicate_warehouse_in_policy_counts_once():
	bins = bins_of(BinQty("AO-1", HN, actual_qty=10))
	assert available_to_promise("AO-1", bins, policy(warehouses=[HN, HN])) == 10


def test_production_reservations_switch():
	bins = bins_of(BinQty("AO-1", HN, actual_qty=20, reserved_qty_for_production=5, reserved_qty_for_sub_contract=3))
	assert available_to_promise("AO-1", bins, policy(include_production_reservations=True)) == 12
	assert available_to_promise("AO-1", bins, policy(include_production_reservations=False)) == 20


def test_buffer_then_share_then_floor():
	bins = bins_of(BinQty("AO-1", HN, actual_qty=105))
	assert available_to_promise("AO-1", bins, policy(buffer=5)) == 100
	assert available_to_promise("AO-1", bins, policy(buffer=5, share_percent=50)) == 50
	# (105 - 4) * 0.5 = 50.5 -> 50: rounding always down
	assert available_to_promise("AO-1", bins, policy(buffer=4, share_percent=50)) == 50
	# 7 * 33% = 2.31 -> 2
	bins = bins_of(BinQty("AO-1", HN, actual_qty=7))
	assert available_to_promise("AO-1", bins, policy(share_percent=33)) == 2
	assert available_to_promise("AO-1", bins, policy(share_percent=0)) == 0


def test_fractional_stock_rounds_down():
	bins = bins_of(BinQty("GAO-KG", HN, actual_qty=2.9), BinQty("GAO-KG", HCM, actual_qty=Decimal("0.1")))
	assert available_to_promise("GAO-KG", bins, policy()) == 3  # 2.9 + 0.1 exactly, no float drift
	bins = bins_of(BinQty("GAO-KG", HN, actual_qty=2.99))
	assert available_to_promise("GAO-KG", bins, policy()) == 2


def test_never_below_zero():
	bins = bins_of(BinQty("AO-1", HN, actual_qty=3, reserved_qty=10))
	assert available_to_promise("AO-1", bins, policy()) == 0
	bins = bins_of(BinQty("AO-1", HN, actual_qty=3))
	assert available_to_promise("AO-1", bins, policy(buffer=5)) == 0


def test_oversold_warehouse_reduces_total_by_default():
	# HN oversold by 4 (negative stock); those orders will be filled from HCM's stock.
	bins = bins_of(BinQty("AO-1", HN, actual_qty=-4), BinQty("AO-1", HCM, actual_qty=10))
	assert available_to_promise("AO-1", bins, policy()) == 6
	assert available_to_promise("AO-1", bins, policy(clamp_per_warehouse=True)) == 10
	bins = bins_of(BinQty("AO-1", HN, actual_qty=2, reserved_qty=6), BinQty("AO-1", HCM, actual_qty=10))
	assert available_to_promise("AO-1", bins, policy()) == 6


def test_negative_reservations_do_not_add_stock():
	bins = bins_of(BinQty("AO-1", HN, actual_qty=5, reserved_qty=-10, reserved_stock=-1, reserved_qty_for_production=-2))
	assert available_to_promise("AO-1", bins, policy()) == 5


def test_none_and_float_inputs():
	b = BinQty("AO-1", HN, actual_qty=None, reserved_qty=0.1)
	assert b.actual_qty == 0 and b.reserved_qty == Decimal("0.1")
	with pytest.raises(ValueError):
		BinQty("AO-1", HN, actual_qty=float("nan"))


def test_from_erpnext_bin_removes_so_sre_overlap():
	# SO for 10 open, 4 of them held by an SRE: Bin.reserved_qty=10, Bin.reserved_stock=4.
	row = {
		"item_code": "AO-1",
		"warehouse": HN,
		"actual_qty": 30.0,
		"reserved_qty": 10.0,
		"reserved_stock": 4.0,
		"reserved_qty_for_production": 1.0,
		"reserved_qty_for_production_plan": 2.0,
		"reserved_qty_for_sub_contract": None,
	}
	b = BinQty.from_erpnext_bin(row)
	assert (b.reserved_qty, b.reserved_stock, b.reserved_qty_for_production) == (6, 4, 3)
	assert available_to_promise("AO-1", {("AO-1", HN): b}, policy()) == 30 - 10 - 3


def test_policy_validation():
	with pytest.raises(ValueError):
		policy(share_percent=101)
	with pytest.raises(ValueError):
		policy(share_percent=-1)
	with pytest.raises(ValueError):
		policy(buffer=-1)
	assert policy(share_percent=None).share_percent == 100


# --- overrides -----------------------------------------------------------------------------


@pytest.fixture
def ten():
	return bins_of(BinQty("AO-1", HN, actual_qty=10))


def test_override_paused(ten):
	assert available_to_promise("AO-1", ten, policy(), ListingOverride("Paused", 99)) == 0


def test_override_fixed_ignores_stock(ten):
	assert available_to_promise("AO-1", ten, policy(), ListingOverride("Fixed", 50)) == 50
	assert available_to_promise("AO-1", {}, policy(), ListingOverride("Fixed", 5)) == 5
	assert available_to_promise("AO-1", ten, policy(), ListingOverride("Fixed", -3)) == 0
	assert available_to_promise("AO-1", ten, policy(), ListingOverride("Fixed", 4.9)) == 4


def test_override_cap(ten):
	assert available_to_promise("AO-1", ten, policy(), ListingOverride("Cap", 3)) == 3
	assert available_to_promise("AO-1", ten, policy(), ListingOverride("Cap", 30)) == 10
	assert available_to_promise("AO-1", ten, policy(), ListingOverride("Cap", -1)) == 0


def test_override_none_and_empty_mode(ten):
	assert available_to_promise("AO-1", ten, policy(), ListingOverride("None", 1)) == 10
	assert available_to_promise("AO-1", ten, policy(), ListingOverride("", 1)) == 10
	assert ListingOverride(None).mode == "None"
	with pytest.raises(ValueError):
		ListingOverride("Maximum", 1)


# --- bundles -------------------------------------------------------------------------------


def test_bundle_is_min_over_components():
	bins = bins_of(
		BinQty("AO", HN, actual_qty=10),
		BinQty("QUAN", HN, actual_qty=7),
		BinQty("TAT", HN, actual_qty=9),
	)
	# combo: 1 shirt, 1 trousers, 2 socks -> min(10, 7, 4) = 4
	assert bundle_atp([("AO", 1), ("QUAN", 1), ("TAT", 2)], bins, policy()) == 4


def test_bundle_buffer_share_override_applied_once():
	bins = bins_of(BinQty("AO", HN, actual_qty=20), BinQty("QUAN", HN, actual_qty=20))
	comps = [("AO", 1), ("QUAN", 2)]  # 10 bundles buildable
	assert bundle_atp(comps, bins, policy(buffer=2)) == 8  # not (20-2)/2 = 9 on each component
	assert bundle_atp(comps, bins, policy(buffer=2, share_percent=50)) == 4
	assert bundle_atp(comps, bins, policy(), ListingOverride("Cap", 3)) == 3
	assert bundle_atp(comps, bins, policy(), ListingOverride("Paused")) == 0


def test_bundle_missing_or_oversold_component_is_zero():
	bins = bins_of(BinQty("AO", HN, actual_qty=20), BinQty("QUAN", HN, actual_qty=1, reserved_qty=5))
	assert bundle_atp([("AO", 1), ("QUAN", 1)], bins, policy()) == 0
	assert bundle_atp([("AO", 1), ("KHONG-CO", 1)], bins, policy()) == 0


def test_bundle_duplicate_components_merged_and_fractional_qty():
	bins = bins_of(BinQty("AO", HN, actual_qty=10), BinQty("GAO-KG", HN, actual_qty=2.6))
	assert bundle_atp([("AO", 1), ("AO", 1)], bins, policy()) == 5
	assert bundle_atp([("GAO-KG", "0.5")], bins, policy()) == 5


def test_bundle_validation():
	with pytest.raises(ValueError):
		bundle_atp([], {}, policy())
	with pytest.raises(ValueError):
		bundle_atp([("AO", 0)], {}, policy())


# --- changed only --------------------------------------------------------------------------


def test_changed_listings_only_differences_and_never_pushed():
	new = {"a": 5, "b": 0, "c": 7, "d": 3}
	last = {"a": 5, "b": 2, "c": None}
	assert changed_listings(new, last) == {"b": 0, "c": 7, "d": 3}
	assert list(changed_listings(new, last)) == ["b", "c", "d"]
	assert changed_listings({"a": 0}, {"a": 0}) == {}


# --- batching ------------------------------------------------------------------------------


def upd(product: str, model: str, qty: int = 1) -> StockUpdate:
	return StockUpdate(listing_id=product, variant_id=model, sku=f"{product}-{model}", qty=qty)


def test_batches_respect_limit_10000_by_50():
	updates = [upd(f"p{i}", "") for i in range(10_000)]
	batches = batch_updates(updates, 50)
	assert len(batches) == 200
	assert all(len(b) == 50 for b in batches)
	assert [u for b in batches for u in b] == updates  # nothing lost, order kept


def test_batches_uneven_and_empty():
	assert [len(b) for b in batch_updates(list(range(7)), 3)] == [3, 3, 1]
	assert batch_updates([], 50) == []
	with pytest.raises(ValueError):
		batch_updates([1], 0)


def test_keyed_batches_120_models_of_one_product():
	updates = [upd("p1", f"m{i}") for i in range(120)]
	batches = batch_updates(updates, 50, key=lambda u: u.listing_id)
	assert [len(b) for b in batches] == [50, 50, 20]


def test_keyed_batches_never_mix_keys_and_are_deterministic():
	updates = [upd(f"p{i % 3}", f"m{i}") for i in range(130)]  # interleaved products
	key = lambda u: u.listing_id  # noqa: E731
	batches = batch_updates(updates, 20, key=key)
	assert all(len({key(u) for u in b}) == 1 for b in batches)
	assert all(len(b) <= 20 for b in batches)
	assert sorted((u for b in batches for u in b), key=lambda u: int(u.variant_id[1:])) == updates
	assert [key(b[0]) for b in batches] == ["p0"] * 3 + ["p1"] * 3 + ["p2"] * 3  # first-seen order
	assert batch_updates(updates, 20, key=key) == batches


# --- debounce / dedup ----------------------------------------------------------------------


def test_queue_dedups_many_marks_of_one_pair():
	q = StockChangeQueue()
	for t in range(100):
		q.mark([("AO-1", HN)], now=1000 + t * 0.01)
	assert len(q) == 1
	assert q.due(now=1005, debounce_seconds=5) == [("AO-1", HN)]
	assert len(q) == 0
	assert q.due(now=2000, debounce_seconds=5) == []  # cleared


def test_queue_waits_for_the_debounce_window():
	q = StockChangeQueue()
	q.mark([("AO-1", HN), ("AO-2", HCM)], now=100)
	assert q.due(now=102, debounce_seconds=5) == []
	assert len(q) == 2  # not cleared while waiting
	assert q.due(now=105, debounce_seconds=5) == [("AO-1", HN), ("AO-2", HCM)]


def test_queue_stream_of_changes_cannot_postpone_push():
	# A mark every second forever: the batch is still due debounce seconds after its first mark.
	q = StockChangeQueue()
	debounce, pushed_at = 10, []
	for t in range(0, 60):
		q.mark([("AO-1", HN), (f"AO-{t}", HCM)], now=t)
		if q.due(now=t, debounce_seconds=debounce):
			pushed_at.append(t)
	assert pushed_at == [10, 21, 32, 43, 54]  # every gap <= debounce + one tick
	assert q.batch_started == 55


def test_queue_due_returns_lock_order_and_flushes_late_marks_too():
	q = StockChangeQueue()
	q.mark([("B", "w1")], now=0)
	q.mark([("A", "w2"), ("A", "w1")], now=9)
	assert q.due(now=10, debounce_seconds=10) == [("A", "w1"), ("A", "w2"), ("B", "w1")]


def test_queue_zero_debounce_is_immediate():
	q = StockChangeQueue()
	assert q.due(now=0, debounce_seconds=0) == []
	q.mark([("A", "w")], now=5)
	assert q.due(now=5, debounce_seconds=0) == [("A", "w")]


# --- lock order ----------------------------------------------------------------------------


def test_lock_order_is_deterministic_and_deduplicated():
	a = [("QUAN", HN), ("AO", HCM), ("AO", HN), ("QUAN", HN)]
	b = [("AO", HN), ("QUAN", HN), ("AO", HCM)]
	assert allocate_with_lock_order(a) == allocate_with_lock_order(b) == [("AO", HCM), ("AO", HN), ("QUAN", HN)]
	assert allocate_with_lock_order(iter(reversed(a))) == allocate_with_lock_order(a)
	assert allocate_with_lock_order([]) == []


# --- retry planning ------------------------------------------------------------------------


def test_plan_push_retry():
	ok = upd("p1", "m1", 5)
	transient = upd("p1", "m2", 3)
	permanent = upd("p2", "", 9)
	accepted, retry = plan_push_retry(
		[
			PushResult(ok, ok=True),
			PushResult(transient, ok=False, message="rate limited", retryable=True),
			PushResult(permanent, ok=False, message="item banned", retryable=False),
		]
	)
	assert accepted == {listing_key(ok): 5}
	assert retry == [transient]


def test_plan_push_retry_latest_result_per_listing_wins():
	first, second = upd("p1", "m1", 5), upd("p1", "m1", 4)
	# an old failure superseded by a later success is not retried
	accepted, retry = plan_push_retry([PushResult(first, False, retryable=True), PushResult(second, True)])
	assert accepted == {("p1", "m1", ""): 4} and retry == []
	# a success then a newer retryable failure: channel still shows 5, retry the 4
	accepted, retry = plan_push_retry([PushResult(first, True), PushResult(second, False, retryable=True)])
	assert accepted == {("p1", "m1", ""): 5} and retry == [second]


def test_plan_push_retry_custom_key_and_round_trip_with_changed_listings():
	a, b = upd("p1", "m1", 5), upd("p1", "m2", 6)
	accepted, retry = plan_push_retry([PushResult(a, True), PushResult(b, False, retryable=True)], key=lambda u: u.sku)
	assert accepted == {"p1-m1": 5} and retry == [b]
	# the failed one is offered again next run, the accepted one is not
	assert changed_listings({"p1-m1": 5, "p1-m2": 6}, accepted) == {"p1-m2": 6}


# --- properties ----------------------------------------------------------------------------

qty = st.decimals(min_value=-1000, max_value=100000, places=3, allow_nan=False, allow_infinity=False)
reservation = st.decimals(min_value=-10, max_value=100000, places=3, allow_nan=False, allow_infinity=False)
bin_fields = st.fixed_dictionaries(
	{
		"actual_qty": qty,
		"reserved_qty": reservation,
		"reserved_stock": reservation,
		"reserved_qty_for_production": reservation,
		"reserved_qty_for_sub_contract": reservation,
	}
)
policies = st.builds(
	ChannelStockPolicy,
	warehouses=st.lists(st.sampled_from([HN, HCM, STORE]), max_size=3),
	buffer=st.decimals(min_value=0, max_value=1000, places=2),
	share_percent=st.decimals(min_value=0, max_value=100, places=2),
	include_production_reservations=st.booleans(),
	clamp_per_warehouse=st.booleans(),
)
bin_sets = st.dictionaries(st.sampled_from([HN, HCM, STORE]), bin_fields, max_size=3).map(
	lambda d: {("X", w): BinQty("X", w, **f) for w, f in d.items()}
)


@settings(max_examples=300)
@given(bins=bin_sets, pol=policies)
def test_property_atp_never_negative_nor_above_total_available(bins, pol):
	atp = available_to_promise("X", bins, pol)
	assert atp >= 0
	positive_total = sum(
		(max(Decimal(0), bins[("X", w)].free_qty(pol.include_production_reservations)) for w in pol.warehouses if ("X", w) in bins),
		Decimal(0),
	)
	assert atp <= positive_total


@settings(max_examples=300)
@given(bins=bin_sets, pol=policies, extra=st.decimals(min_value=0, max_value=1000, places=3), wh=st.sampled_from([HN, HCM, STORE]))
def test_property_atp_monotone_in_actual_qty(bins, pol, extra, wh):
	before = available_to_promise("X", bins, pol)
	old = bins.get(("X", wh), BinQty("X", wh))
	more = dict(bins)
	more[("X", wh)] = BinQty(
		"X",
		wh,
		actual_qty=old.actual_qty + extra,
		reserved_qty=old.reserved_qty,
		reserved_stock=old.reserved_stock,
		reserved_qty_for_production=old.reserved_qty_for_production,
		reserved_qty_for_sub_contract=old.reserved_qty_for_sub_contract,
	)
	assert available_to_promise("X", more, pol) >= before


@settings(max_examples=200)
@given(
	stock=st.lists(st.integers(min_value=-50, max_value=500), min_size=1, max_size=4),
	per=st.lists(st.integers(min_value=1, max_value=5), min_size=4, max_size=4),
	pol=policies,
)
def test_property_bundle_never_exceeds_any_component(stock, per, pol):
	items = [f"C{i}" for i in range(len(stock))]
	bins = {(i, HN): BinQty(i, HN, actual_qty=s) for i, s in zip(items, stock)}
	comps = list(zip(items, per))
	atp = bundle_atp(comps, bins, pol)
	assert atp >= 0
	for item, n in comps:
		assert atp * n <= max(Decimal(0), free_qty(item, bins, pol))


@given(pairs=st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from([HN, HCM])), max_size=20), seed=st.randoms())
def test_property_lock_order_independent_of_input_order(pairs, seed):
	shuffled = list(pairs)
	seed.shuffle(shuffled)
	assert allocate_with_lock_order(pairs) == allocate_with_lock_order(shuffled)
