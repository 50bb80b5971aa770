"""Distributed order management: which warehouse(s) fulfil an order, and why.

The engine is exact and deterministic: it returns the cheapest plan under the cost model
below, among every plan the split policy, the shipment limit, stock and capacity allow,
and explains its choice in sentences an operations person can check.

Cost model (all amounts in the order currency, all inputs must be >= 0)
-----------------------------------------------------------------------
A plan ships the order from a set S of warehouses; each warehouse in S ships >= 1 unit,
and each is one shipment. Its cost is

	sum over w in S of  base_per_shipment + per_km * distance_km(w) + per_kg * kg shipped from w
	                    + handling_cost(w)
	+ split_penalty * (|S| - 1)

distance_km(w) is the great-circle distance from w to the delivery point. If the delivery
point is unknown (an address that could not be placed), or any warehouse that could ship lacks
coordinates, distance counts 0 for every warehouse (so no one is favoured for missing data):
the plan is then the cheapest by the rest of the model (per shipment, per kg, handling, split
penalty), ties going as always to fewer shipments, then priority, then name; the reasons say so.
`RouteLine.weight_kg` is the weight of ONE unit. For a complete plan the per_kg term is
per_kg * total order weight whatever the split, so plans differ only by their fixed costs.

Plans are ranked by (units allocated desc, cost, shipments, sum of warehouse priorities,
sorted warehouse names); the first is chosen. Costs are compared in units of 1/10,000 of the
currency, in integers, so ties are exact and the result never depends on float summation order.

Only plans in which no warehouse could be dropped are considered (a superfluous shipment only
adds cost), and `alternatives` reports the runners-up among them, best first.

Search, exact and fast enough for a few hundred candidates:
  1. Candidates that hold none of the order are dropped; the rest are sorted by fixed cost
     (base + per_km * distance + handling), then priority, then name.
  2. Single warehouses are scanned in that order; the scan stops at the first one whose cost
     cannot beat the `alternatives + 1` best plans known, because every later one costs more.
  3. Plans of 2 or more warehouses, depth first, as set cover: branch only on the warehouses
     that hold the scarcest item still missing (each subset is enumerated once: siblings
     already explored are excluded); the last shipment allowed must bring everything still
     missing, so only warehouses holding all of it are tried. Every branch is cut as soon as its
     cost can no longer beat the `alternatives + 1` best plans known.
  4. Only if no complete plan exists and allow_partial: the same for what the warehouses hold
     together, and if the shipment limit is what stops even that, a branch and bound that
     maximises units first (rare, and the slowest path).

Split policy: NEVER allows one shipment; WHEN_NEEDED allows more only when no single warehouse
can fill the whole order; FREE allows up to max_shipments whenever that is cheaper.
A warehouse needs can_ship and capacity_left != 0 (None = unlimited) to ship; capacity counts
orders, so a plan uses one unit of capacity per warehouse (see `consume`).

Store pickup (pickup_store set): if the store can fill the order, everything is allocated
there at its handling cost only. Otherwise pickup_fallback decides:
  "Transfer" - the store keeps what it has, the rest is transferred in from the cheapest
    sources (same cost model, distance measured to the store, no split penalty); status
    "Transfer Needed".
  "Nearest Pickup Store" - the nearest other pickup=True candidate that can fill the order,
    measured from the original store.

If nothing can fill the order: allow_partial=True allocates as many units as possible (then
cheapest); allow_partial=False gives "Backorder" with no allocation and the shortage named.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
from dataclasses import dataclass, field
from enum import Enum

from .geo import EARTH_RADIUS_KM, Location, haversine_km, province_by_code

# Costs are compared as integers in 1/10,000 of the currency: exact ties, exact monotone bounds.
COST_SCALE = 10_000
# Safety valve: candidate evaluations one search may make. Real orders need a few hundred to a
# few thousand; only masses of interchangeable warehouses (same cost, priority and stock, many
# of them needed) come near it. Past it the best plan found is returned, marked not optimal.
SEARCH_BUDGET = 2_000_000


class SplitPolicy(str, Enum):
	NEVER = "Never Split"
	WHEN_NEEDED = "Split When Needed"
	FREE = "Free Split"


class PickupFallback(str, Enum):
	TRANSFER = "Transfer"
	NEAREST_PICKUP_STORE = "Nearest Pickup Store"


class RoutingStatus(str, Enum):
	ALLOCATED = "Allocated"
	PARTIALLY_ALLOCATED = "Partially Allocated"
	BACKORDER = "Backorder"
	TRANSFER_NEEDED = "Transfer Needed"


@dataclass(frozen=True)
class RouteLine:
	line_id: str
	item_code: str
	qty: int
	weight_kg: float = 0.0  # per unit


@dataclass
class Candidate:
	warehouse: str
	stock: dict[str, int] = field(default_factory=dict)  # item_code -> available qty
	lat: float | None = None
	lon: float | None = None
	capacity_left: int | None = None  # orders it can still take today; None = unlimited
	handling_cost: float = 0.0
	priority: int = 0  # lower = preferred, used to break cost ties
	is_store: bool = False
	pickup: bool = False  # customers may collect orders here
	can_ship: bool = True  # False: a store that only serves pickup


@dataclass(frozen=True)
class CostModel:
	"""Rough VND defaults; the real values come from OMS Settings / Fulfilment Rule."""

	base_per_shipment: float = 20_000.0
	per_km: float = 20.0
	per_kg: float = 5_000.0
	split_penalty: float = 20_000.0


@dataclass
class RoutingRequest:
	lines: list[RouteLine]
	destination: Location | None = None
	candidates: list[Candidate] = field(default_factory=list)
	cost_model: CostModel = field(default_factory=CostModel)
	split_policy: SplitPolicy | str = SplitPolicy.WHEN_NEEDED
	max_shipments: int | None = None  # None = no limit
	pickup_store: str | None = None
	pickup_fallback: PickupFallback | str = PickupFallback.TRANSFER
	allow_partial: bool = False
	alternatives: int = 3  # how many runner-up plans to report


@dataclass(frozen=True)
class Allocation:
	warehouse: str
	line_id: str
	item_code: str
	qty: int


@dataclass
class WarehouseCost:
	warehouse: str
	distance_km: float | None  # None when distance was not used
	weight_kg: float
	shipping: float  # base + per_km * distance + per_kg * weight (0 for a pickup at the store)
	handling: float
	kind: str = "shipment"  # "shipment", "pickup" or "transfer"

	@property
	def total(self) -> float:
		return self.shipping + self.handling


@dataclass
class Cost:
	total: float = 0.0
	split_penalty: float = 0.0
	by_warehouse: list[WarehouseCost] = field(default_factory=list)


@dataclass
class Alternative:
	rank: int  # 1 = the chosen plan's runner-up
	warehouses: tuple[str, ...]
	cost: float
	shipments: int
	units: int  # units the plan allocates (less than the order's when it is partial)
	summary: str


@dataclass(frozen=True)
class TransferNeed:
	line_id: str
	item_code: str
	qty: int
	from_warehouse: str
	to_warehouse: str


@dataclass
class RoutingDecision:
	status: RoutingStatus
	allocations: list[Allocation] = field(default_factory=list)
	shipments: list[str] = field(default_factory=list)  # warehouses shipping to the customer
	cost: Cost = field(default_factory=Cost)
	alternatives: list[Alternative] = field(default_factory=list)
	unallocated: dict[str, int] = field(default_factory=dict)  # line_id -> qty not allocated
	transfer_needs: list[TransferNeed] = field(default_factory=list)
	reasons: list[str] = field(default_factory=list)
	pickup_store: str | None = None  # where the customer collects (may differ from the request)
	distance_known: bool = False
	optimal: bool = True  # False only if the search hit SEARCH_BUDGET (see reasons)


# ---------------------------------------------------------------------------------------------
# Search


class _Options:
	"""The candidates that hold some of the order, prepared for one search.

	Parallel tuples sorted by (fixed cost, priority, name): that order is the fill rank, and it
	makes every plan's cost grow with the index of the warehouse added last, which the search
	relies on to stop scanning early. fixed = scaled base + per_km * distance + handling.
	"""

	__slots__ = (
		"count",
		"fixed",
		"priority",
		"names",
		"stocks",
		"distance",
		"candidates",
		"distance_known",
		"no_coordinates",
	)

	def __init__(self, rows: list[tuple], distance_known: bool, no_coordinates: list[str]):
		rows.sort()  # (fixed, priority, name, ...): names are unique, so nothing past them is compared
		self.count = len(rows)
		columns = list(zip(*rows)) if rows else [()] * 6
		self.fixed, self.priority, self.names, self.stocks, self.distance, self.candidates = columns
		self.distance_known = distance_known
		self.no_coordinates = no_coordinates

	def fills(self, k: int, demand: list[int]) -> bool:
		return all(map(operator.ge, self.stocks[k], demand))

	def available(self, item_count: int) -> list[int]:
		"""Units of each item the options hold together."""
		return [sum(column) for column in zip(*self.stocks)] if self.count else [0] * item_count


class _Plan:
	__slots__ = ("key", "members", "units")

	def __init__(self, key: tuple, members: tuple[int, ...], units: list[int]):
		self.key = key  # (-units, scaled cost, shipments, priority sum, sorted names)
		self.members = members  # indexes into the sorted options, in fill order
		self.units = units  # units allocated per item


def _scaled(amount: float) -> int:
	return round(amount * COST_SCALE)


class _Demand:
	"""The order's lines grouped by item."""

	def __init__(self, lines: list[RouteLine]):
		self.lines = lines
		self.items: list[str] = []
		position: dict[str, int] = {}
		self.qty: list[int] = []
		self.lines_of: list[list[RouteLine]] = []
		for line in lines:
			if line.item_code not in position:
				position[line.item_code] = len(self.items)
				self.items.append(line.item_code)
				self.qty.append(0)
				self.lines_of.append([])
			index = position[line.item_code]
			self.qty[index] += line.qty
			self.lines_of[index].append(line)
		self.total_units = sum(self.qty)
		self.full_weight = [sum(line.qty * line.weight_kg for line in lines) for lines in self.lines_of]
		self._lightest: list[list[RouteLine]] | None = None

	def fill_order(self, item_index: int, units: int) -> list[RouteLine]:
		"""Lines in the order they receive stock: as written when all fit, else lightest first
		(a partial allocation then ships the least weight, which is what the cost model rewards)."""
		lines = self.lines_of[item_index]
		if units >= self.qty[item_index] or len(lines) == 1:
			return lines
		return self._lightest_first()[item_index]

	def _lightest_first(self) -> list[list[RouteLine]]:
		if self._lightest is None:
			self._lightest = [
				[line for _, _, line in sorted((line.weight_kg, n, line) for n, line in enumerate(lines))]
				for lines in self.lines_of
			]
		return self._lightest

	def weight_of(self, units: list[int]) -> float:
		"""Weight of `units` per item, taken lightest lines first (all of an item: its full weight)."""
		weight = 0.0
		for index, count in enumerate(units):
			if count <= 0:
				continue
			if count >= self.qty[index]:
				weight += self.full_weight[index]
				continue
			for line in self._lightest_first()[index]:
				take = count if count < line.qty else line.qty
				weight += take * line.weight_kg
				count -= take
				if not count:
					break
		return weight


def _prepare_options(
	candidates: list[Candidate], items: list[str], origin: tuple[float, float] | None, model: CostModel
) -> _Options:
	"""Keep the candidates that hold some of the order and price their fixed cost."""
	held = []
	zeros = [0] * len(items)
	for candidate in candidates:
		stock = list(map(candidate.stock.get, items, zeros))  # map over a bound method: no Python loop
		if max(stock) <= 0:
			continue
		if min(stock) < 0 or type(sum(stock)) is not int:
			stock = [int(quantity) if quantity > 0 else 0 for quantity in stock]  # ERPNext gives floats
			if not any(stock):
				continue
		held.append((candidate, stock))
	no_coordinates = sorted(
		candidate.warehouse for candidate, _ in held if candidate.lat is None or candidate.lon is None
	)
	distance_known = origin is not None and not no_coordinates
	base = model.base_per_shipment
	rows = []
	if distance_known:
		# haversine_km(origin, candidate) inlined, same operations in the same order: the
		# per-candidate call overhead is a good share of the whole routing time.
		per_km = model.per_km
		phi0 = math.radians(origin[0])
		cos0 = math.cos(phi0)
		lon0 = origin[1]
		radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt
		diameter = 2 * EARTH_RADIUS_KM
		for candidate, stock in held:
			phi = radians(candidate.lat)
			a = sin((phi - phi0) / 2) ** 2 + cos0 * cos(phi) * sin(radians(candidate.lon - lon0) / 2) ** 2
			distance = diameter * asin(min(1.0, sqrt(a)))
			fixed = round((base + per_km * distance + candidate.handling_cost) * COST_SCALE)
			rows.append((fixed, candidate.priority, candidate.warehouse, stock, distance, candidate))
	else:
		for candidate, stock in held:
			fixed = round((base + candidate.handling_cost) * COST_SCALE)
			rows.append((fixed, candidate.priority, candidate.warehouse, stock, None, candidate))
	return _Options(rows, distance_known, no_coordinates)


class _BudgetExhausted(Exception):
	pass


class _TopPlans:
	"""The `keep` best plans seen so far, best first, and the search effort spent."""

	__slots__ = ("keep", "keys", "plans", "steps")

	def __init__(self, keep: int):
		self.keep = keep
		self.keys: list[tuple] = []
		self.plans: list[_Plan] = []
		self.steps = 0

	def check(self) -> None:
		if self.steps > SEARCH_BUDGET:
			raise _BudgetExhausted

	def add(self, key: tuple, members: tuple[int, ...], units: list[int]) -> None:
		keys = self.keys
		if len(keys) >= self.keep and key >= keys[-1]:
			return
		position = bisect.bisect(keys, key)
		keys.insert(position, key)
		self.plans.insert(position, _Plan(key, members, units))
		if len(keys) > self.keep:
			keys.pop()
			self.plans.pop()


def _search_complete(
	options: _Options, target: list[int], max_size: int, penalty: int, weight_cost: int, keep: int
) -> tuple[list[_Plan], bool]:
	"""The `keep` best plans that allocate exactly `target` per item (so all ship the same weight),
	and whether the search finished (False: SEARCH_BUDGET ran out)."""
	if not options.count or max_size < 1:
		return [], True
	top = _TopPlans(keep)
	_scan_single_warehouses(options, target, weight_cost, top)
	if max_size == 1 or not _splits_may_compete(options, weight_cost, penalty, top):
		return top.plans, True
	search = _CoverSearch(options, target, max_size, penalty, top)
	if not search.may_fit():
		return top.plans, True  # not even the largest stocks fit in the shipments allowed
	try:
		search.run(weight_cost)
	except _BudgetExhausted:
		return top.plans, False
	return top.plans, True


def _scan_single_warehouses(options: _Options, target: list[int], weight_cost: int, top: _TopPlans) -> None:
	"""Pass 1, single warehouses holding all of `target`: cheap, and they set the bound that cuts
	the deeper search. The options are in key order for single plans, so the scan stops at the
	first one that cannot beat the plans known."""
	fixed, priority, names, stocks = options.fixed, options.priority, options.names, options.stocks
	keys, keep = top.keys, top.keep
	units_key = -sum(target)
	for k in range(options.count):
		cost = weight_cost + fixed[k]
		if len(keys) >= keep and (cost, 1, priority[k], (names[k],)) > keys[-1][1:]:
			break
		if all(map(operator.ge, stocks[k], target)):
			top.add((units_key, cost, 1, priority[k], (names[k],)), (k,), list(target))


def _splits_may_compete(options: _Options, weight_cost: int, penalty: int, top: _TopPlans) -> bool:
	"""May a plan of two or more warehouses still make the best plans? Not when even the two
	cheapest warehouses together cost more than the worst plan kept."""
	if options.count < 2:
		return False
	fixed = options.fixed
	return len(top.keys) < top.keep or weight_cost + fixed[0] + fixed[1] + penalty <= top.keys[-1][1]


class _CoverSearch:
	"""Pass 2 of `_search_complete`, plans of two or more warehouses: set-cover branching with
	branch and bound.

	Every complete plan holds the scarcest missing item somewhere, so a branch point only tries
	the warehouses holding it, and each subset is enumerated once (siblings already explored are
	excluded); the last shipment allowed must bring everything still missing. A branch is cut as
	soon as its cost can no longer beat the plans kept in `top`.
	"""

	__slots__ = (
		"fixed",
		"priority",
		"names",
		"stocks",
		"target",
		"units_key",
		"max_size",
		"penalty",
		"top",
		"item_count",
		"masks",
		"covering_memo",
		"holder_count",
		"in_plan",
		"excluded",
		"most_held",
		"by_unit_cost",
		"largest",
		"options",
	)

	def __init__(self, options: _Options, target: list[int], max_size: int, penalty: int, top: _TopPlans):
		self.options = options
		self.fixed, self.priority, self.names, self.stocks = (
			options.fixed,
			options.priority,
			options.names,
			options.stocks,
		)
		self.target = target
		self.units_key = -sum(target)
		self.max_size = max_size
		self.penalty = penalty
		self.top = top
		self.item_count = len(target)
		self.masks = _item_masks(options)
		self.covering_memo: dict[int, list[int]] = {}
		self.holder_count = [len(self.covering(1 << item)) for item in range(self.item_count)]
		self.in_plan = [False] * options.count
		self.excluded = [
			False
		] * options.count  # explored in an earlier sibling branch: plans with it are done
		self.most_held = [max(column) for column in zip(*options.stocks)]
		self.by_unit_cost: list[
			list[int]
		] = []  # per item, lazily: holders by (fixed + penalty) per unit held
		self.largest: list[list[int]] = []  # per item, lazily: _largest_stock_sums

	def may_fit(self) -> bool:
		"""Could the shipments allowed hold the target at all (by their largest stocks)?"""
		return not any(map(operator.gt, self.target, self.most_held)) or self.fits(self.target, self.max_size)

	def run(self, weight_cost: int) -> None:
		self.visit([], list(self.target), (1 << self.item_count) - 1, weight_cost - self.penalty, 0)

	def covering(self, mask: int) -> list[int]:
		"""Options (in rank order) holding some of every item in mask."""
		found = self.covering_memo.get(mask)
		if found is None:
			found = self.covering_memo[mask] = [k for k, held in enumerate(self.masks) if held & mask == mask]
		return found

	def fits(self, deficit: list[int], slots: int) -> bool:
		"""Can `slots` more warehouses possibly cover deficit? (Only asked when one cannot.)"""
		if not self.largest:
			self.largest.extend(_largest_stock_sums(self.options))
		return _fewest_warehouses(deficit, self.largest) <= slots

	def holders_by_unit_cost(self, item: int) -> list[int]:
		by_unit_cost = self.by_unit_cost
		if not by_unit_cost:
			fixed, stocks, penalty = self.fixed, self.stocks, self.penalty
			for each in range(self.item_count):
				holders = self.covering(1 << each)
				by_unit_cost.append(
					sorted(holders, key=lambda k: ((fixed[k] + penalty) / stocks[k][each], k))
				)
		return by_unit_cost[item]

	def cover_bound(self, deficit: list[int]) -> int | None:
		"""A lower bound on what covering `deficit` from the options still free adds to the cost
		(None: it cannot be covered). Per item, the fractional relaxation: holders taken cheapest
		per unit first, the last one in part; the true cover costs at least that. Only worth it
		when some item needs more than any one warehouse holds, i.e. 2+ more shipments."""
		fixed, stocks, penalty, in_plan, excluded = (
			self.fixed,
			self.stocks,
			self.penalty,
			self.in_plan,
			self.excluded,
		)
		bound = 0
		for item, need in enumerate(deficit):
			if need <= self.most_held[item]:
				continue
			spent = 0
			for k in self.holders_by_unit_cost(item):
				if in_plan[k] or excluded[k]:
					continue
				have = stocks[k][item]
				if have >= need:
					spent += (fixed[k] + penalty) * need // have  # floor: still a lower bound
					need = 0
					break
				spent += fixed[k] + penalty
				need -= have
			if need:
				return None
			bound = max(bound, spent)
		return bound

	def irredundant(self, members: list[int]) -> bool:
		"""No member could be dropped: such plans are strictly worse than the plan without it."""
		stocks, target = self.stocks, self.target
		for dropped in members:
			totals = [0] * self.item_count
			for k in members:
				if k != dropped:
					totals = list(map(operator.add, totals, stocks[k]))
			if all(map(operator.ge, totals, target)):
				return False
		return True

	def record(self, members: list[int], cost: int, size: int, prio: int) -> None:
		"""Keep a complete plan if no member of it could be dropped."""
		plan = sorted(members)
		if self.irredundant(plan):
			names = self.names
			key = (self.units_key, cost, size, prio, tuple(sorted(names[j] for j in plan)))
			self.top.add(key, tuple(plan), list(self.target))

	def branch_pool(self, deficit: list[int], deficit_mask: int, last: bool) -> tuple[list[int], bool]:
		"""The warehouses to branch on, and whether they come cheapest per unit first (bulk)."""
		if last:
			return self.covering(
				deficit_mask
			), False  # the last shipment allowed must bring everything missing
		# Every complete plan holds the scarcest missing item somewhere: branch on who holds it.
		scarcest = min(
			(item for item in range(self.item_count) if deficit[item]), key=self.holder_count.__getitem__
		)
		# A bulk quantity that needs several more warehouses: try the cheapest per unit held first,
		# which finds good plans early (and then a tight bound); otherwise rank order, which lets
		# the scan stop at the first warehouse that cannot beat the plans known.
		if deficit[scarcest] > self.most_held[scarcest]:
			return self.holders_by_unit_cost(scarcest), True
		return self.covering(1 << scarcest), False

	def loses_tie(self, worst: tuple, size: int, prio: int, members: list[int], k: int) -> bool:
		"""At the worst kept plan's cost: does members + [k] lose to it on (shipments, priority, names)?"""
		tail = (size, prio)
		if tail != worst[2:4]:
			return tail > worst[2:4]
		names = self.names
		return tuple(sorted([names[j] for j in members] + [names[k]])) > worst[4]

	def visit(
		self,
		members: list[int],
		deficit: list[int],
		deficit_mask: int,
		cost: int,
		prio: int,
		parent_pool: list[int] | None = None,
		parent_position: int = -1,
	) -> None:
		size = len(members) + 1
		last = size >= self.max_size
		pool, bulk = self.branch_pool(deficit, deficit_mask, last)
		top = self.top
		if top.steps > SEARCH_BUDGET:  # top.check(), inlined: this runs at every node
			raise _BudgetExhausted
		fixed, priority, stocks, penalty = self.fixed, self.priority, self.stocks, self.penalty
		in_plan, excluded, keys, keep = self.in_plan, self.excluded, top.keys, top.keep
		# Branching on the parent's pool again: everything before the parent's warehouse is in the
		# plan, explored already, or was too dear for the parent (so for us too). Start after it.
		start = parent_position + 1 if pool is parent_pool else 0
		tried = []
		examined = 0
		for position in range(start, len(pool)):
			examined += 1
			k = pool[position]
			if in_plan[k] or excluded[k]:
				continue
			new_cost = cost + fixed[k] + penalty
			new_prio = prio + priority[k]
			if len(keys) >= keep:
				# In rank order this plan's key, and any plan built on it, only grows with k.
				worst = keys[-1]
				if new_cost > worst[1] or (
					new_cost == worst[1] and self.loses_tie(worst, size, new_prio, members, k)
				):
					if bulk:
						continue
					break
			if last:
				if all(map(operator.ge, stocks[k], deficit)):
					self.record(members + [k], new_cost, size, new_prio)
				continue
			new_deficit = [need - have if need > have else 0 for need, have in zip(deficit, stocks[k])]
			if any(new_deficit):
				self.descend(members, k, new_deficit, new_cost, new_prio, pool, position)
			elif size > 1:  # single warehouses were all seen in pass 1
				self.record(members + [k], new_cost, size, new_prio)
			excluded[k] = True
			tried.append(k)
		for k in tried:
			excluded[k] = False
		top.steps += examined

	def descend(
		self,
		members: list[int],
		k: int,
		deficit: list[int],
		cost: int,
		prio: int,
		pool: list[int],
		position: int,
	) -> None:
		"""Add k to the plan and search on for what is still missing, unless that cannot be covered
		within the shipments left, or not cheaply enough to beat the plans known."""
		mask = 0
		for item, need in enumerate(deficit):
			if need:
				mask |= 1 << item
		in_plan = self.in_plan
		in_plan[k] = True
		# What one more warehouse might cover is always worth a look; more than that is checked.
		if not any(map(operator.gt, deficit, self.most_held)) or self.promising(
			deficit, cost, len(members) + 1
		):
			self.visit(members + [k], deficit, mask, cost, prio, pool, position)
		in_plan[k] = False

	def promising(self, deficit: list[int], cost: int, size: int) -> bool:
		"""With `size` warehouses in the plan and `deficit` needing two or more more of them: can
		the shipments left hold it, and may covering it still beat the plans known?"""
		if not self.fits(deficit, self.max_size - size):
			return False
		keys = self.top.keys
		if len(keys) < self.top.keep:
			return True
		more = self.cover_bound(deficit)
		return more is not None and cost + more <= keys[-1][1]


def _largest_stock_sums(options: _Options) -> list[list[int]]:
	"""Per item, sums of its 0, 1, 2, ... largest stocks: the most m warehouses can hold of it."""
	sums = []
	for column in zip(*options.stocks):
		sums.append([0, *itertools.accumulate(sorted(column, reverse=True))])
	return sums


def _fewest_warehouses(deficit: list[int], largest_sums: list[list[int]]) -> int:
	"""How many warehouses covering `deficit` takes at least (more than exist: impossible)."""
	fewest = 0
	for need, sums in zip(deficit, largest_sums):
		if need:
			fewest = max(fewest, bisect.bisect_left(sums, need))
	return fewest


def _item_masks(options: _Options) -> list[int]:
	"""Per option, a bitmask of the items it holds any of."""
	masks = [0] * options.count
	for item, column in enumerate(zip(*options.stocks)):
		bit = 1 << item
		masks = list(map(operator.or_, masks, [bit if have > 0 else 0 for have in column]))
	return masks


def _search_most_units(
	options: _Options, demand: _Demand, max_size: int, penalty: int, per_kg: float, keep: int
) -> tuple[list[_Plan], bool]:
	"""The `keep` best plans by (most units, then cost) when no plan can reach the target, and
	whether the search finished.

	Only reached when the shipment limit, not stock, is what stops a complete plan (the caller
	first tries to reach everything the eligible warehouses hold). Depth first over subsets of at
	most max_size warehouses, those contributing most units first so that the first plans found
	are near the most units possible; a branch is cut when even the largest stocks left could not
	lift it past the plans known, or it cannot be cheaper at equal units.
	"""
	if not options.count or max_size < 1:
		return [], True
	search = _MostUnitsSearch(options, demand, max_size, penalty, per_kg, _TopPlans(keep))
	try:
		search.visit(0, [], list(demand.qty), 0, 0, 0)
	except _BudgetExhausted:
		return search.top.plans, False
	return search.top.plans, True


class _MostUnitsSearch:
	"""The depth-first search of `_search_most_units`."""

	__slots__ = (
		"fixed",
		"priority",
		"names",
		"stocks",
		"demand",
		"max_size",
		"penalty",
		"per_kg",
		"top",
		"gain",
		"order",
		"largest",
		"lowest_fixed",
		"lowest_priority",
	)

	def __init__(
		self, options: _Options, demand: _Demand, max_size: int, penalty: int, per_kg: float, top: _TopPlans
	):
		self.fixed, self.priority, self.names, self.stocks = (
			options.fixed,
			options.priority,
			options.names,
			options.stocks,
		)
		self.demand = demand
		self.max_size = max_size
		self.penalty = penalty
		self.per_kg = per_kg
		self.top = top
		self.gain = [
			sum(min(need, have) for need, have in zip(demand.qty, stock)) for stock in options.stocks
		]
		self.order = sorted(
			range(options.count), key=lambda k: (-self.gain[k], k)
		)  # most units first, then rank
		self.largest = _largest_stock_sums(options)
		self.lowest_fixed = min(options.fixed)
		self.lowest_priority = min(options.priority)

	def weight_cost(self, deficit: list[int]) -> int:
		return _scaled(
			self.per_kg * self.demand.weight_of([need - left for need, left in zip(self.demand.qty, deficit)])
		)

	def units_within(self, deficit: list[int], slots: int) -> int:
		"""The most units of `deficit` that `slots` more warehouses could bring: their largest stocks."""
		return sum(min(need, sums[min(slots, len(sums) - 1)]) for need, sums in zip(deficit, self.largest))

	def visit(
		self, start: int, members: list[int], deficit: list[int], units: int, fixed_cost: int, prio: int
	) -> None:
		size = len(members) + 1
		top = self.top
		top.check()
		keys, keep, order, gain, stocks = top.keys, top.keep, self.order, self.gain, self.stocks
		total_units = self.demand.total_units
		count = len(order)
		# No child (nor anything built on it) can add more than its own units plus the largest
		# stocks for the slots after it; `order` has units descending, so stop once that falls short.
		rest = self.units_within(deficit, self.max_size - size)
		for position in range(start, count):
			top.steps += 1
			k = order[position]
			if len(keys) >= keep and units + gain[k] + rest < -keys[-1][0]:
				break
			new_deficit = [need - have if need > have else 0 for need, have in zip(deficit, stocks[k])]
			new_units = total_units - sum(new_deficit)
			if new_units == units:
				continue  # ships nothing
			new_fixed = fixed_cost + self.fixed[k] + (self.penalty if members else 0)
			new_prio = prio + self.priority[k]
			cost = new_fixed + self.weight_cost(new_deficit)
			self.record(members + [k], new_deficit, new_units, cost, new_prio)
			if new_units == total_units or size >= self.max_size or position + 1 >= count:
				continue
			if self.cannot_improve(new_deficit, new_units, cost, size, new_prio):
				continue
			self.visit(position + 1, members + [k], new_deficit, new_units, new_fixed, new_prio)

	def record(self, members: list[int], deficit: list[int], units: int, cost: int, prio: int) -> None:
		plan = sorted(members)  # rank order: the fill order
		# The names in the key sorted by name, as everywhere: the rank order would break ties
		# by cost rank instead of the documented order.
		names = self.names
		key = (-units, cost, len(plan), prio, tuple(sorted(names[j] for j in plan)))
		self.top.add(key, tuple(plan), [need - left for need, left in zip(self.demand.qty, deficit)])

	def cannot_improve(self, deficit: list[int], units: int, cost: int, size: int, prio: int) -> bool:
		"""Can no plan built on this one (of `size` warehouses, `units` units, `cost`) make the best
		plans kept? Adding warehouses only adds units, weight and fixed costs."""
		keys = self.top.keys
		if len(keys) < self.top.keep:
			return False
		bound = (
			-(units + self.units_within(deficit, self.max_size - size)),
			cost + self.lowest_fixed + self.penalty,
			size + 1,
			prio + self.lowest_priority,
		)
		return bound > keys[-1][:4]


class _Outcome:
	"""Result of planning shipments from options to one point."""

	def __init__(self, plans: list[_Plan], complete: bool, limit: int, optimal: bool = True):
		self.plans = plans
		self.complete = complete  # the plans allocate the whole order
		self.limit = limit  # the most shipments that were allowed
		self.optimal = optimal  # False: SEARCH_BUDGET ran out, plans are the best found


def _plan_shipments(
	options: _Options,
	demand: _Demand,
	model: CostModel,
	split_penalty: float,
	limit: int,
	allow_partial: bool,
	keep: int,
) -> _Outcome:
	penalty = _scaled(split_penalty)
	weight_cost = _scaled(model.per_kg * demand.weight_of(demand.qty))
	plans, optimal = _search_complete(options, demand.qty, limit, penalty, weight_cost, keep)
	if plans or not allow_partial:
		return _Outcome(plans, bool(plans), limit, optimal)
	# Reach what the eligible warehouses hold together, if the limit allows, at least cost.
	capped = [min(need, have) for need, have in zip(demand.qty, options.available(len(demand.qty)))]
	if not any(capped):
		return _Outcome([], False, limit, optimal)
	if capped != demand.qty:
		weight_cost = _scaled(model.per_kg * demand.weight_of(capped))
		plans, finished = _search_complete(options, capped, limit, penalty, weight_cost, keep)
		if plans:
			return _Outcome(plans, False, limit, optimal and finished)
		optimal = optimal and finished
	plans, finished = _search_most_units(options, demand, limit, penalty, model.per_kg, keep)
	return _Outcome(plans, False, limit, optimal and finished)


def _materialise(
	plan: _Plan, options: _Options, demand: _Demand
) -> tuple[list[Allocation], dict[str, float], dict[str, int]]:
	"""Allocations (filling from the best-ranked warehouse first), kg per warehouse, unallocated."""
	allocations = []
	weight: dict[str, float] = {options.names[k]: 0.0 for k in plan.members}
	allocated_per_line: dict[str, int] = {}
	for item, units in enumerate(plan.units):
		supply = [[options.names[k], options.stocks[k][item]] for k in plan.members]
		left = units
		for line in demand.fill_order(item, units):
			line_left = min(line.qty, left)
			left -= line_left
			for source in supply:
				if not line_left:
					break
				if not source[1]:
					continue
				take = min(source[1], line_left)
				source[1] -= take
				line_left -= take
				allocations.append(Allocation(source[0], line.line_id, line.item_code, take))
				allocated_per_line[line.line_id] = allocated_per_line.get(line.line_id, 0) + take
				weight[source[0]] += take * line.weight_kg
	unallocated = {
		line.line_id: line.qty - allocated_per_line.get(line.line_id, 0)
		for line in demand.lines
		if line.qty > allocated_per_line.get(line.line_id, 0)
	}
	return allocations, weight, unallocated


def _breakdown(
	plan: _Plan, options: _Options, weights: dict[str, float], model: CostModel, kind: str
) -> list[WarehouseCost]:
	rows = []
	for k in plan.members:
		name = options.names[k]
		distance = options.distance[k]
		shipping = model.base_per_shipment + model.per_km * (distance or 0.0) + model.per_kg * weights[name]
		rows.append(
			WarehouseCost(
				name, distance, weights[name], shipping, float(options.candidates[k].handling_cost), kind
			)
		)
	return rows


# ---------------------------------------------------------------------------------------------
# Words


# How a plan is chosen when distance cannot be counted (for everyone alike, so nobody gains from
# missing data): the rest of the cost model, then the documented tie order.
_WITHOUT_DISTANCE = (
	"routed by the other costs (per shipment, per kg, handling, split penalty); "
	"equal costs go to fewer shipments, then priority, then name."
)


def _money(amount: float) -> str:
	if abs(amount - round(amount)) < 0.005:
		return f"{amount:,.0f}"
	return f"{amount:,.2f}"


def _km(distance: float | None) -> str:
	if distance is None:
		return ""
	return f"{distance:,.0f} km" if distance >= 10 else f"{distance:.1f} km"


def _place(destination: Location | None) -> str:
	if destination is None:
		return "the customer"
	province = province_by_code(destination.province_code)
	return province.short_name if province else "the delivery point"


def _plural(count: int, word: str) -> str:
	return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _names(names: list[str], most: int = 5) -> str:
	if len(names) <= most:
		return ", ".join(names)
	return ", ".join(names[:most]) + f" and {len(names) - most} more"


def _label(options: _Options, k: int) -> str:
	distance = options.distance[k]
	return f"{options.names[k]} ({_km(distance)})" if distance is not None else options.names[k]


def _plan_label(plan: _Plan, options: _Options) -> str:
	return " + ".join(_label(options, k) for k in plan.members)


def _alternatives(plans: list[_Plan], options: _Options, total_units: int) -> list[Alternative]:
	alternatives = []
	for rank, plan in enumerate(plans[1:], 1):
		cost = plan.key[1] / COST_SCALE
		units = -plan.key[0]
		summary = (
			f"{_plan_label(plan, options)}: {_plural(len(plan.members), 'shipment')}, cost {_money(cost)}"
		)
		if units < total_units:
			summary += f", leaves {total_units - units} of {total_units} units unallocated"
		alternatives.append(
			Alternative(
				rank, tuple(options.names[k] for k in plan.members), cost, len(plan.members), units, summary
			)
		)
	return alternatives


def _shortage_text(demand: _Demand, allocated: list[int], available: list[int] | None = None) -> str:
	parts = []
	for item, need in enumerate(demand.qty):
		short = need - allocated[item]
		if short > 0:
			text = f"{demand.items[item]} short by {short} (need {need}"
			if available is not None:
				text += f", {available[item]} in stock where it can be used"
			parts.append(text + ")")
	return "; ".join(parts)


def _gave_up() -> str:
	return (
		f"Search stopped after {SEARCH_BUDGET:,} steps (very many equally good combinations of "
		"warehouses): this is the best plan found, not proven the cheapest."
	)


def _tie_reason(chosen: _Plan, runner_up: _Plan) -> str | None:
	if chosen.key[1] != runner_up.key[1] or chosen.key[0] != runner_up.key[0]:
		return None
	if chosen.key[2] != runner_up.key[2]:
		return "same cost as the next best; chosen for fewer shipments"
	if chosen.key[3] != runner_up.key[3]:
		return f"same cost as the next best; chosen for its priority ({chosen.key[3]} vs {runner_up.key[3]})"
	return "same cost and priority as the next best; chosen by warehouse name"


def _destination_reason(destination: Location | None, options: _Options, place: str) -> str:
	"""The first reason: where the order goes, and whether distance counts."""
	if destination is None:
		return f"Address could not be placed, so distance is not counted: {_WITHOUT_DISTANCE}"
	if not options.distance_known and options.no_coordinates:
		return f"Distance not used: no coordinates for {_names(options.no_coordinates)}; {_WITHOUT_DISTANCE}"
	if destination.source == "coordinates":
		return f"Delivering to the order's coordinates ({destination.lat:.4f}, {destination.lon:.4f}) in {place}."
	return f"Delivering to {place} (distance measured from the province centre)."


def _not_used_reasons(
	demand: _Demand, no_capacity: list[Candidate], pickup_only: list[Candidate]
) -> list[str]:
	reasons = []
	zeros = [0] * len(demand.items)
	for why, excluded in (("no capacity left today", no_capacity), ("pickup only, cannot ship", pickup_only)):
		# Only those holding something of the order are worth mentioning.
		names = sorted(c.warehouse for c in excluded if max(map(c.stock.get, demand.items, zeros)) > 0)
		if names:
			reasons.append(f"Not used ({why}): {_names(names)}.")
	return reasons


def _backorder_reason(options: _Options, demand: _Demand, policy: SplitPolicy, limit: int) -> str:
	available = options.available(len(demand.qty))
	enough_in_total = all(have >= need for have, need in zip(available, demand.qty))
	if enough_in_total and policy is SplitPolicy.NEVER:
		return "Backorder: no single warehouse can fill the whole order and the split policy is Never Split."
	if enough_in_total:
		return f"Backorder: the stock exists but not within {_plural(limit, 'shipment')} (the most allowed)."
	usable = [min(need, have) for need, have in zip(demand.qty, available)]
	return f"Backorder: {_shortage_text(demand, usable, available)}."


def _choice_sentence(
	decision: RoutingDecision,
	outcome: _Outcome,
	options: _Options,
	demand: _Demand,
	model: CostModel,
	policy: SplitPolicy,
	place: str,
) -> str:
	"""Why this plan, in one sentence, compared with the runner-up."""
	plans = outcome.plans
	chosen = plans[0]
	if len(chosen.members) == 1:
		k = chosen.members[0]
		distance = options.distance[k]
		where = f"{_km(distance)} from {place}, " if distance is not None else ""
		sentence = f"{options.names[k]} chosen: {where}1 shipment, cost {_money(decision.cost.total)}"
	else:
		sentence = (
			f"Split into {len(chosen.members)} shipments from {_plan_label(chosen, options)}, "
			f"cost {_money(decision.cost.total)} ({policy.value}: {_why_split(options, demand, model)})"
		)
	runner_up = plans[1] if len(plans) > 1 else None
	if runner_up is not None:
		sentence += f" vs next best {_plan_label(runner_up, options)} {_money(runner_up.key[1] / COST_SCALE)}"
		tie = _tie_reason(chosen, runner_up)
		if tie:
			sentence += f"; {tie}"
	elif outcome.complete:
		sentence += "; the only plan that can fill the order"
	return sentence + "."


def _why_split(options: _Options, demand: _Demand, model: CostModel) -> str:
	best_single = next((k for k in range(options.count) if options.fills(k, demand.qty)), None)
	if best_single is None:
		return "no single warehouse can fill the whole order"
	single_cost = (
		options.fixed[best_single] + _scaled(model.per_kg * demand.weight_of(demand.qty))
	) / COST_SCALE
	return f"cheaper than the best single warehouse {options.names[best_single]} ({_money(single_cost)})"


def _partial_reason(outcome: _Outcome, options: _Options, demand: _Demand, policy: SplitPolicy) -> str:
	chosen = outcome.plans[0]
	available = options.available(len(demand.qty))
	text = f"Partially allocated: {_shortage_text(demand, chosen.units, available)}"
	if sum(chosen.units) < sum(min(need, have) for need, have in zip(demand.qty, available)):
		text += f"; at most {_plural(outcome.limit, 'shipment')} allowed ({policy.value})"
	return text + "."


def _transfer_sentence(
	decision: RoutingDecision, outcome: _Outcome, options: _Options, demand: _Demand, store: _PickupStore
) -> str:
	"""What the store keeps, what comes in from where, and the cost."""
	distance_of = {options.names[k]: options.distance[k] for k in outcome.plans[0].members}
	moves = "; ".join(
		f"{need.qty} x {need.item_code} from {need.from_warehouse}"
		+ (f" ({_km(distance_of[need.from_warehouse])})" if options.distance_known else "")
		for need in decision.transfer_needs
	)
	held = store.held
	kept = f"{store.name} holds {sum(held)} of {demand.total_units} units; " if any(held) else ""
	return f"{kept}transfer to {store.name}: {moves}. Cost {_money(decision.cost.total)}."


# ---------------------------------------------------------------------------------------------
# Entry points


def _validate(request: RoutingRequest) -> None:
	if not request.lines:
		raise ValueError("nothing to route: the order has no lines")
	seen = set()
	for line in request.lines:
		if line.line_id in seen:
			raise ValueError(f"line id {line.line_id!r} appears twice")
		seen.add(line.line_id)
		if not isinstance(line.qty, int) or line.qty <= 0:
			raise ValueError(
				f"line {line.line_id!r} has quantity {line.qty!r}; routing needs a positive whole number"
			)
		if line.weight_kg < 0:
			raise ValueError(f"line {line.line_id!r} has a negative weight")
	names = set()
	for candidate in request.candidates:
		if candidate.warehouse in names:
			raise ValueError(f"warehouse {candidate.warehouse!r} is listed twice")
		names.add(candidate.warehouse)
		if candidate.handling_cost < 0:
			raise ValueError(f"warehouse {candidate.warehouse!r} has a negative handling cost")
	model = request.cost_model
	for name in ("base_per_shipment", "per_km", "per_kg", "split_penalty"):
		if getattr(model, name) < 0:
			raise ValueError(f"cost model {name} is negative; the engine needs costs >= 0")
	if request.max_shipments is not None and request.max_shipments < 1:
		raise ValueError("max_shipments must be at least 1 (or None for no limit)")


def route(request: RoutingRequest) -> RoutingDecision:
	"""Decide where the order is fulfilled from. Pure and deterministic; raises ValueError on bad input."""
	_validate(request)
	if request.pickup_store:
		return _route_pickup(request)
	return _route_delivery(request)


def _route_delivery(request: RoutingRequest) -> RoutingDecision:
	demand = _Demand(request.lines)
	model = request.cost_model
	policy = SplitPolicy(request.split_policy)
	destination = request.destination
	origin = (destination.lat, destination.lon) if destination is not None else None
	shippable, no_capacity, pickup_only = _sort_out_candidates(request.candidates)
	options = _prepare_options(shippable, demand.items, origin, model)
	place = _place(destination)
	reasons = [_destination_reason(destination, options, place)]
	reasons.extend(_not_used_reasons(demand, no_capacity, pickup_only))

	limit = 1 if policy is SplitPolicy.NEVER else (request.max_shipments or max(1, options.count))
	keep = max(1, request.alternatives + 1)
	outcome = _plan_delivery(options, demand, model, policy, limit, request.allow_partial, keep)
	decision = RoutingDecision(
		status=RoutingStatus.BACKORDER,
		reasons=reasons,
		distance_known=options.distance_known,
		optimal=outcome.optimal,
	)
	if not outcome.optimal:
		reasons.append(_gave_up())
	if not outcome.plans:
		decision.unallocated = {line.line_id: line.qty for line in demand.lines}
		reasons.append(_backorder_reason(options, demand, policy, limit))
		return decision

	_ship(decision, outcome, options, demand, model)
	reasons.append(_choice_sentence(decision, outcome, options, demand, model, policy, place))
	if not outcome.complete:
		reasons.append(_partial_reason(outcome, options, demand, policy))
	return decision


def _sort_out_candidates(
	candidates: list[Candidate],
) -> tuple[list[Candidate], list[Candidate], list[Candidate]]:
	"""(may ship, no capacity left today, pickup only)."""
	shippable = []
	no_capacity = []
	pickup_only = []
	for candidate in candidates:
		if not candidate.can_ship:
			pickup_only.append(candidate)
		elif candidate.capacity_left is not None and candidate.capacity_left <= 0:
			no_capacity.append(candidate)
		else:
			shippable.append(candidate)
	return shippable, no_capacity, pickup_only


def _plan_delivery(
	options: _Options,
	demand: _Demand,
	model: CostModel,
	policy: SplitPolicy,
	limit: int,
	allow_partial: bool,
	keep: int,
) -> _Outcome:
	if policy is SplitPolicy.WHEN_NEEDED and limit > 1:
		# One shipment if any single warehouse can fill the order; only then look further.
		weight_cost = _scaled(model.per_kg * demand.weight_of(demand.qty))
		singles, _ = _search_complete(options, demand.qty, 1, 0, weight_cost, keep)  # a scan: always finishes
		if singles:
			return _Outcome(singles, True, 1)
	return _plan_shipments(options, demand, model, model.split_penalty, limit, allow_partial, keep)


def _ship(
	decision: RoutingDecision, outcome: _Outcome, options: _Options, demand: _Demand, model: CostModel
) -> None:
	"""Put the best plan on the decision: allocations, shipments, cost, alternatives, status."""
	chosen = outcome.plans[0]
	allocations, weights, unallocated = _materialise(chosen, options, demand)
	decision.allocations = allocations
	decision.unallocated = unallocated
	decision.shipments = [options.names[k] for k in chosen.members]
	decision.alternatives = _alternatives(outcome.plans, options, demand.total_units)
	breakdown = _breakdown(chosen, options, weights, model, "shipment")
	penalty = model.split_penalty * (len(chosen.members) - 1)
	decision.cost = Cost(round(sum(row.total for row in breakdown) + penalty, 4), penalty, breakdown)
	decision.status = RoutingStatus.ALLOCATED if outcome.complete else RoutingStatus.PARTIALLY_ALLOCATED


def _route_pickup(request: RoutingRequest) -> RoutingDecision:
	demand = _Demand(request.lines)
	fallback = PickupFallback(request.pickup_fallback)
	store = _PickupStore(request, demand)
	decision = RoutingDecision(status=RoutingStatus.BACKORDER, pickup_store=store.name)
	if store.held == demand.qty:
		_allocate_at_store(decision, store.candidate, demand, demand.qty)
		decision.status = RoutingStatus.ALLOCATED
		decision.reasons.append(
			f"Customer collects at {store.name}: it has every item; no shipping, "
			f"cost {_money(decision.cost.total)} (handling)."
		)
		return decision
	cannot = store.why_it_cannot(demand)
	if fallback is PickupFallback.NEAREST_PICKUP_STORE:
		return _route_to_nearest_pickup_store(request, decision, demand, store, cannot)
	return _route_with_transfer(request, decision, demand, store, cannot)


class _PickupStore:
	"""The store the customer asked to collect at, as far as this order goes."""

	__slots__ = ("name", "candidate", "open", "held", "point")

	def __init__(self, request: RoutingRequest, demand: _Demand):
		self.name = request.pickup_store
		by_name = {candidate.warehouse: candidate for candidate in request.candidates}
		store = self.candidate = by_name.get(self.name)
		self.open = store is not None and (store.capacity_left is None or store.capacity_left > 0)
		self.held = [0] * len(demand.qty)  # units of each item it can give the order
		if self.open:
			self.held = [
				min(max(0, int(store.stock.get(item, 0))), need)
				for item, need in zip(demand.items, demand.qty)
			]
		has_point = store is not None and store.lat is not None and store.lon is not None
		self.point = (store.lat, store.lon) if has_point else None

	def why_it_cannot(self, demand: _Demand) -> str:
		if self.candidate is None:
			return f"{self.name} is not among the candidate warehouses"
		if not self.open:
			return f"{self.name} has no capacity left today"
		return f"{self.name} cannot fill the order ({_shortage_text(demand, self.held)})"


def _route_to_nearest_pickup_store(
	request: RoutingRequest, decision: RoutingDecision, demand: _Demand, store: _PickupStore, cannot: str
) -> RoutingDecision:
	reasons = decision.reasons
	stores = _pickup_stores_that_can_fill(request, demand, store)
	if stores:
		_, _, _, nearest, distance = stores[0]
		_allocate_at_store(decision, nearest, demand, demand.qty)
		decision.pickup_store = nearest.warehouse
		decision.status = RoutingStatus.ALLOCATED
		away = (
			f", {_km(distance)} away"
			if distance is not None
			else " (distance unknown: chosen by priority and name)"
		)
		reasons.append(
			f"{cannot}; customer collects at the nearest pickup store that can: {nearest.warehouse}{away}."
		)
		for rank, (_, _, name, other, other_distance) in enumerate(stores[1 : request.alternatives + 1], 1):
			summary = f"pickup at {name}" + (
				f" ({_km(other_distance)} away)" if other_distance is not None else ""
			)
			summary += f": cost {_money(other.handling_cost)}"
			decision.alternatives.append(
				Alternative(rank, (name,), float(other.handling_cost), 0, demand.total_units, summary)
			)
		return decision
	reasons.append(f"{cannot}, and no other pickup store can fill it.")
	if request.allow_partial and any(store.held):
		_allocate_at_store(decision, store.candidate, demand, store.held)
		decision.status = RoutingStatus.PARTIALLY_ALLOCATED
		reasons.append(f"Partially allocated at {store.name}: {_shortage_text(demand, store.held)}.")
	else:
		decision.unallocated = {line.line_id: line.qty for line in demand.lines}
		reasons.append(f"Backorder: {_shortage_text(demand, [0] * len(demand.qty))} at a pickup store.")
	return decision


def _pickup_stores_that_can_fill(
	request: RoutingRequest, demand: _Demand, store: _PickupStore
) -> list[tuple]:
	"""Other pickup stores with capacity that hold the whole order, nearest to the asked-for store
	first (unknown distance last), then priority, then name: (distance or inf, priority, name,
	candidate, distance or None)."""
	stores = []
	point = store.point
	for candidate in request.candidates:
		if candidate.warehouse == store.name or not candidate.pickup:
			continue
		if candidate.capacity_left is not None and candidate.capacity_left <= 0:
			continue
		if not all(candidate.stock.get(item, 0) >= need for item, need in zip(demand.items, demand.qty)):
			continue
		distance = None
		if point is not None and candidate.lat is not None and candidate.lon is not None:
			distance = haversine_km(point[0], point[1], candidate.lat, candidate.lon)
		rank_distance = math.inf if distance is None else distance
		stores.append((rank_distance, candidate.priority, candidate.warehouse, candidate, distance))
	stores.sort(key=lambda row: row[:3])
	return stores


def _route_with_transfer(
	request: RoutingRequest, decision: RoutingDecision, demand: _Demand, store: _PickupStore, cannot: str
) -> RoutingDecision:
	"""The store keeps what it has; the rest comes in from the cheapest sources."""
	reasons = decision.reasons
	held = store.held
	remaining = _still_needed(demand, held)
	# Transfers are stock moves, not customer orders: any other warehouse may send, whatever its
	# shipping flag or order capacity, and there is no split penalty (the customer gets one pickup).
	sources = [candidate for candidate in request.candidates if candidate.warehouse != store.name]
	model = request.cost_model
	options = _prepare_options(sources, remaining.items, store.point, model)
	keep = max(1, request.alternatives + 1)
	outcome = _plan_shipments(
		options, remaining, model, 0.0, max(1, options.count), request.allow_partial, keep
	)
	available = options.available(len(remaining.qty))
	decision.optimal = outcome.optimal
	if not outcome.optimal:
		reasons.append(_gave_up())
	if not outcome.plans and not (request.allow_partial and any(held)):
		decision.unallocated = {line.line_id: line.qty for line in demand.lines}
		reasons.append(f"{cannot}, and the other warehouses cannot make up the difference.")
		usable = [min(need, have) for need, have in zip(remaining.qty, available)]
		reasons.append(
			f"Backorder: {_shortage_text(remaining, usable, available)} beyond what {store.name} holds."
		)
		return decision

	if store.candidate is not None:
		_allocate_at_store(decision, store.candidate, demand, held)
	if not outcome.plans:
		decision.status = RoutingStatus.PARTIALLY_ALLOCATED
		reasons.append(f"{cannot}, and no other warehouse holds the rest.")
		reasons.append(f"Partially allocated at {store.name}: {_shortage_text(demand, held)}.")
		return decision

	_transfer(decision, outcome, options, remaining, store.name, model)
	reasons.append(f"{cannot}; {_transfer_sentence(decision, outcome, options, demand, store)}")
	if not options.distance_known:
		if store.point is None:
			reasons.append(f"Transfer sources chosen without distance: {store.name} has no coordinates.")
		else:
			reasons.append(
				f"Transfer sources chosen without distance: no coordinates for {_names(options.no_coordinates)}."
			)
	if decision.unallocated:
		reasons.append(
			f"Still short after transfers: {_shortage_text(remaining, outcome.plans[0].units, available)}."
		)
	return decision


def _still_needed(demand: _Demand, held: list[int]) -> _Demand:
	"""What is left of the order once the store gives `held` per item, lines in order."""
	kept_per_line: dict[str, int] = {}
	for item, units in enumerate(held):
		for line in demand.lines_of[item]:
			kept_per_line[line.line_id] = min(line.qty, units)
			units -= kept_per_line[line.line_id]
	return _Demand(
		[
			RouteLine(
				line.line_id, line.item_code, line.qty - kept_per_line.get(line.line_id, 0), line.weight_kg
			)
			for line in demand.lines
			if line.qty > kept_per_line.get(line.line_id, 0)
		]
	)


def _transfer(
	decision: RoutingDecision,
	outcome: _Outcome,
	options: _Options,
	remaining: _Demand,
	store_name: str,
	model: CostModel,
) -> None:
	"""Put the best transfer plan on the decision: transfer needs, their cost, alternatives, status."""
	chosen = outcome.plans[0]
	allocations, weights, unallocated = _materialise(chosen, options, remaining)
	decision.transfer_needs = [
		TransferNeed(row.line_id, row.item_code, row.qty, row.warehouse, store_name) for row in allocations
	]
	decision.unallocated = unallocated
	decision.cost.by_warehouse.extend(_breakdown(chosen, options, weights, model, "transfer"))
	decision.cost.total = round(sum(row.total for row in decision.cost.by_warehouse), 4)
	decision.alternatives = _alternatives(outcome.plans, options, remaining.total_units)
	decision.status = RoutingStatus.TRANSFER_NEEDED


def _allocate_at_store(
	decision: RoutingDecision, store: Candidate, demand: _Demand, units: list[int]
) -> None:
	"""Allocate `units` per item at a pickup store, lines in order; pickup costs handling only."""
	allocated: dict[str, int] = {}
	for item, count in enumerate(units):
		for line in demand.lines_of[item]:
			take = min(line.qty, count)
			count -= take
			if take:
				decision.allocations.append(Allocation(store.warehouse, line.line_id, line.item_code, take))
				allocated[line.line_id] = take
	order = {line.line_id: n for n, line in enumerate(demand.lines)}
	decision.allocations.sort(key=lambda row: order[row.line_id])
	decision.unallocated = {
		line.line_id: line.qty - allocated.get(line.line_id, 0)
		for line in demand.lines
		if line.qty > allocated.get(line.line_id, 0)
	}
	weight = sum(
		row.qty * line.weight_kg
		for row in decision.allocations
		for line in demand.lines
		if line.line_id == row.line_id
	)
	row = WarehouseCost(store.warehouse, 0.0, weight, 0.0, float(store.handling_cost), "pickup")
	decision.cost = Cost(row.total, 0.0, [row])


def consume(candidates: list[Candidate], decision: RoutingDecision) -> None:
	"""Take a decision's stock and capacity off the candidates, for routing a backlog in sequence."""
	by_name = {candidate.warehouse: candidate for candidate in candidates}
	for row in decision.allocations:
		candidate = by_name.get(row.warehouse)
		if candidate is not None:
			candidate.stock[row.item_code] = candidate.stock.get(row.item_code, 0) - row.qty
	for need in decision.transfer_needs:
		candidate = by_name.get(need.from_warehouse)
		if candidate is not None:
			candidate.stock[need.item_code] = candidate.stock.get(need.item_code, 0) - need.qty
	for name in {row.warehouse for row in decision.allocations}:
		candidate = by_name.get(name)
		if candidate is not None and candidate.capacity_left is not None:
			candidate.capacity_left -= 1
