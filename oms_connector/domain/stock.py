"""Available-to-promise maths and the push plumbing around it.

Pure Python (no frappe, no HTTP): the ERPNext layer reads Bin rows into `BinQty`, asks
`available_to_promise` / `bundle_atp` what each listing may show, pushes only what changed
(`changed_listings`) in platform-sized batches (`batch_updates`), and records what each channel
accepted (`plan_push_retry`). `StockChangeQueue` models the debounce it keeps in Redis, and
`allocate_with_lock_order` is the order it must lock Bin rows in.

Quantities are Decimal inside (ERPNext Float fields arrive as float; going through `str`
keeps 0.1 as 0.1) and the number a channel sees is always a whole, non-negative int,
rounded down: showing one unit too few costs a sale, one too many costs a cancellation
and a platform penalty.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
	# hints only: domain sits below connectors, so no runtime import upwards (duck typed)
	from ..connectors.base import PushResult, StockUpdate

T = TypeVar("T")
Pair = tuple[str, str]  # (item_code, warehouse)

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def to_qty(value: Any) -> Decimal:
	"""Decimal from an int, float, Decimal, numeric string or None (a Frappe empty Float is None or 0)."""
	if value is None or value == "":
		return ZERO
	if isinstance(value, Decimal):
		return value
	if isinstance(value, bool):
		raise TypeError("a quantity cannot be a bool")
	if isinstance(value, int):
		return Decimal(value)
	# float through str: Decimal(0.1) would be 0.1000000000000000055...
	result = Decimal(str(value))
	if not result.is_finite():
		raise ValueError(f"quantity must be finite, got {value!r}")
	return result


def _floor(value: Decimal) -> int:
	return int(value.to_integral_value(rounding=ROUND_FLOOR))


# --- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BinQty:
	"""One ERPNext Bin (item x warehouse), the fields the ATP maths needs.

	`reserved_qty` must be the Sales Order reservations NOT already covered by a Stock
	Reservation Entry, and `reserved_stock` the SRE-reserved qty. In ERPNext v15 the raw
	Bin.reserved_qty (open SO qty) already includes SO lines that also hold an SRE, which
	Bin.reserved_stock counts again; `from_erpnext_bin` removes that overlap so that
	`actual - reserved_qty - reserved_stock - ...` counts every committed unit exactly once.
	"""

	item_code: str
	warehouse: str
	actual_qty: Decimal = ZERO
	reserved_qty: Decimal = ZERO  # Sales Orders (without SRE)
	reserved_stock: Decimal = ZERO  # Stock Reservation Entries
	reserved_qty_for_production: Decimal = ZERO
	reserved_qty_for_sub_contract: Decimal = ZERO

	def __post_init__(self):
		for name in (
			"actual_qty",
			"reserved_qty",
			"reserved_stock",
			"reserved_qty_for_production",
			"reserved_qty_for_sub_contract",
		):
			object.__setattr__(self, name, to_qty(getattr(self, name)))

	@classmethod
	def from_erpnext_bin(cls, row: Mapping[str, Any]) -> BinQty:
		"""Build from a raw v15 Bin row (dict of Bin fields), removing the SO/SRE overlap.

		SREs in v15 are made against Sales Orders only, so the SO reservations not covered by
		an SRE are reserved_qty - reserved_stock. If an SRE sits in a different warehouse from
		its SO line the per-bin subtraction can only over-count (show less), never under-count.
		reserved_qty_for_production_plan is folded into production.
		"""
		reserved_qty = to_qty(row.get("reserved_qty"))
		reserved_stock = to_qty(row.get("reserved_stock"))
		return cls(
			item_code=row["item_code"],
			warehouse=row["warehouse"],
			actual_qty=to_qty(row.get("actual_qty")),
			reserved_qty=max(ZERO, reserved_qty - max(ZERO, reserved_stock)),
			reserved_stock=reserved_stock,
			reserved_qty_for_production=to_qty(row.get("reserved_qty_for_production"))
			+ to_qty(row.get("reserved_qty_for_production_plan")),
			reserved_qty_for_sub_contract=to_qty(row.get("reserved_qty_for_sub_contract")),
		)

	def free_qty(self, include_production_reservations: bool = True) -> Decimal:
		"""actual - reservations; may be negative (oversold or negative stock).

		A negative reservation (ERPNext has had bugs leaving Bin.reserved_qty < 0) counts as 0:
		it would otherwise add stock that does not exist.
		"""
		committed = max(ZERO, self.reserved_qty) + max(ZERO, self.reserved_stock)
		if include_production_reservations:
			committed += max(ZERO, self.reserved_qty_for_production) + max(ZERO, self.reserved_qty_for_sub_contract)
		return self.actual_qty - committed


@dataclass(frozen=True)
class ChannelStockPolicy:
	"""How one Sales Channel turns ERPNext stock into a listing quantity.

	warehouses: the only warehouses the channel sells from; others are ignored.
	buffer: safety stock held back from this channel, per listing, in sellable units.
	share_percent: the part (0-100) of what is left that this channel may show.
	include_production_reservations: also hold back qty reserved for Work Orders and
		subcontracting (True is the safe default).
	clamp_per_warehouse: False (default) nets warehouses: a warehouse that is oversold
		(reserved > actual, or negative stock) reduces the total, because those orders are
		real demand on the same pool and will be filled by re-routing or a transfer from a
		warehouse that still has stock; counting only the positive warehouses would promise
		that stock twice. True clamps each warehouse at 0 first, for sellers whose warehouses
		never cover each other's shortfalls (it shows more and can oversell).
	"""

	warehouses: Sequence[str] = ()
	buffer: Decimal = ZERO
	share_percent: Decimal = HUNDRED
	include_production_reservations: bool = True
	clamp_per_warehouse: bool = False

	def __post_init__(self):
		# dedupe, keeping order: a warehouse listed twice must not count twice
		object.__setattr__(self, "warehouses", tuple(dict.fromkeys(self.warehouses)))
		object.__setattr__(self, "buffer", to_qty(self.buffer))
		share = HUNDRED if self.share_percent is None else to_qty(self.share_percent)
		object.__setattr__(self, "share_percent", share)
		if self.buffer < 0:
			raise ValueError(f"buffer must be >= 0, got {self.buffer}")
		if not ZERO <= self.share_percent <= HUNDRED:
			raise ValueError(f"share_percent must be between 0 and 100, got {self.share_percent}")


OVERRIDE_MODES = ("None", "Fixed", "Cap", "Paused")


@dataclass(frozen=True)
class ListingOverride:
	"""A seller's per-listing override of the computed quantity.

	None: use the computed ATP. Paused: show 0. Cap: min(ATP, value).
	Fixed: show `value` whatever the stock is (the seller's explicit choice, e.g. made to
	order or pre-order; it can oversell). value is floored and never below 0.
	"""

	mode: str = "None"
	value: Decimal = ZERO

	def __post_init__(self):
		mode = self.mode or "None"  # a Frappe Select left empty
		if mode not in OVERRIDE_MODES:
			raise ValueError(f"override mode must be one of {OVERRIDE_MODES}, got {self.mode!r}")
		object.__setattr__(self, "mode", mode)
		object.__setattr__(self, "value", to_qty(self.value))

	def apply(self, atp: int) -> int:
		value = max(0, _floor(self.value))
		if self.mode == "Paused":
			return 0
		if self.mode == "Fixed":
			return value
		if self.mode == "Cap":
			return min(atp, value)
		return atp


# --- available to promise ----------------------------------------------------------------


def free_qty(item_code: str, bins: Mapping[Pair, BinQty], policy: ChannelStockPolicy) -> Decimal:
	"""Stock of one item free to sell on this channel, before buffer and share; may be negative."""
	total = ZERO
	for warehouse in policy.warehouses:
		bin_ = bins.get((item_code, warehouse))
		if bin_ is None:
			continue
		qty = bin_.free_qty(policy.include_production_reservations)
		total += max(ZERO, qty) if policy.clamp_per_warehouse else qty
	return total


def _channel_qty(units: Decimal, policy: ChannelStockPolicy, override: ListingOverride | None) -> int:
	"""Buffer, then share, floor, never below 0, then the override."""
	qty = max(ZERO, units - policy.buffer) * policy.share_percent / HUNDRED
	atp = max(0, _floor(qty))
	return override.apply(atp) if override else atp


def available_to_promise(
	item_code: str,
	bins: Mapping[Pair, BinQty],
	policy: ChannelStockPolicy,
	override: ListingOverride | None = None,
) -> int:
	"""The quantity one listing may show on one channel.

	floor((sum over the channel's warehouses of free qty - buffer) * share_percent / 100),
	never below 0, then the override. Warehouses are netted unless policy.clamp_per_warehouse.
	"""
	return _channel_qty(free_qty(item_code, bins, policy), policy, override)


def bundle_atp(
	components: Iterable[tuple[str, Any]],
	bins: Mapping[Pair, BinQty],
	policy: ChannelStockPolicy,
	override: ListingOverride | None = None,
) -> int:
	"""ATP of a bundle (ERPNext Product Bundle) from its components' stock.

	Whole bundles buildable = min over components of floor(free qty / qty per bundle). The
	buffer and share are then applied once, in bundle units, at the bundle level (applying
	them to every component too would hold back stock several times). A component listed
	twice is merged. Each bundle listing sees its components' full stock: a component shared
	by several bundles or sold alone is promised to each of them, which the buffer covers.
	"""
	per_bundle: dict[str, Decimal] = {}
	for item_code, qty in components:
		qty = to_qty(qty)
		if qty <= 0:
			raise ValueError(f"qty per bundle must be > 0 for {item_code!r}, got {qty}")
		per_bundle[item_code] = per_bundle.get(item_code, ZERO) + qty
	if not per_bundle:
		raise ValueError("a bundle needs at least one component")
	buildable = min(
		max(0, _floor(free_qty(item_code, bins, policy) / qty)) for item_code, qty in per_bundle.items()
	)
	return _channel_qty(Decimal(buildable), policy, override)


# --- what to push -------------------------------------------------------------------------


def listing_key(update: StockUpdate) -> tuple[str, str, str]:
	"""The identity of one stock figure on a channel: (listing_id, variant_id, warehouse_id)."""
	return (update.listing_id, update.variant_id, update.warehouse_id)


def changed_listings(new_values: Mapping[Hashable, int], last_accepted: Mapping[Hashable, int | None]) -> dict:
	"""Only the listings whose new value differs from what the channel last accepted.

	A key missing from last_accepted, or mapped to None, was never pushed: push it. The
	baseline is what the channel *accepted*, not what was last sent, so a failed push is
	sent again on the next run. Keeps new_values' order.
	"""
	out = {}
	for key, value in new_values.items():
		last = last_accepted.get(key)
		if last is None or last != value:
			out[key] = value
	return out


def batch_updates(updates: Sequence[T], limit: int, key: Callable[[T], Hashable] | None = None) -> list[list[T]]:
	"""Split updates into batches of at most `limit`, the platform's per-call maximum.

	With `key` (e.g. the product id on Shopee/TikTok, where one call updates the models of
	one product) a batch never mixes keys: each key's group is split into chunks <= limit.
	Order is deterministic: input order within a group, groups in order of first appearance.
	"""
	if limit < 1:
		raise ValueError(f"limit must be >= 1, got {limit}")
	if key is None:
		groups: Iterable[list[T]] = [list(updates)]
	else:
		grouped: dict[Hashable, list[T]] = {}
		for update in updates:
			grouped.setdefault(key(update), []).append(update)
		groups = grouped.values()
	return [group[i : i + limit] for group in groups for i in range(0, len(group), limit)]


def plan_push_retry(
	results: Iterable[PushResult], key: Callable[[StockUpdate], Hashable] = listing_key
) -> tuple[dict, list[StockUpdate]]:
	"""From a push's results: what each channel now shows, and what to push again.

	accepted: key -> qty of the last successful update per listing (becomes last_accepted).
	retry: the update of each listing whose latest result failed and is retryable; an older
	failure superseded by a later success for the same listing is not retried.
	A permanent failure is in neither: its last_accepted stays as it was, so changed_listings
	offers it again next run, and the caller logs the message.
	"""
	accepted: dict = {}
	latest: dict[Hashable, PushResult] = {}
	for result in results:
		k = key(result.update)
		if result.ok:
			accepted[k] = result.update.qty
		latest[k] = result
	retry = [r.update for r in latest.values() if not r.ok and r.retryable]
	return accepted, retry


# --- concurrency helpers for the ERP layer ----------------------------------------------


def allocate_with_lock_order(pairs: Iterable[Pair]) -> list[Pair]:
	"""The (item_code, warehouse) pairs, deduplicated and sorted: the order to lock Bin rows in.

	Two workers that each lock the Bins of their order (SELECT ... FOR UPDATE) in their own
	line order can deadlock: A holds X and waits for Y while B holds Y and waits for X. If
	every code path locks in one global order, no cycle can form. Duplicates are dropped
	(one lock per row is enough).
	"""
	return sorted({(str(item), str(warehouse)) for item, warehouse in pairs})


@dataclass
class StockChangeQueue:
	"""In-memory model of the debounce/dedup the ERP layer keeps in Redis.

	Stock moves mark (item, warehouse) pairs; the push job asks what is due. A pair marked
	many times is one entry. The whole pending batch becomes due once `debounce_seconds` have
	passed since the FIRST mark of the batch, not the last: a steady stream of stock moves can
	then never postpone a push, and the latency of any change is at most the debounce (plus
	the job's polling interval). `now` is seconds, e.g. time.time().

	Redis shape: a hash pair -> first mark time (HSETNX), the batch start in the same hash or
	a key set with SETNX; `due` reads and deletes atomically (MULTI, or RENAME to a job key).
	"""

	pending: dict[Pair, float] = field(default_factory=dict)

	def mark(self, pairs: Iterable[Pair], now: float) -> None:
		for item, warehouse in pairs:
			# keep the first time: re-marking must not delay the push
			self.pending.setdefault((item, warehouse), now)

	@property
	def batch_started(self) -> float | None:
		return min(self.pending.values()) if self.pending else None

	def due(self, now: float, debounce_seconds: float) -> list[Pair]:
		"""All pending pairs, lock-ordered, once the window since the first mark passed; then cleared."""
		started = self.batch_started
		if started is None or now - started < debounce_seconds:
			return []
		pairs = allocate_with_lock_order(self.pending)
		self.pending.clear()
		return pairs

	def __len__(self) -> int:
		return len(self.pending)
