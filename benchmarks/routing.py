"""Routing engine speed, run by hand: `python benchmarks/routing.py [--seed N] [--density P]`.

Prints the median and p95 time to route one 5-line order over 200 random candidate
warehouses (1,000 different orders, each split policy), and the total time for a backlog of
10,000 orders. Seeded, so the numbers are reproducible on one machine. On a busy machine
use --repeat 3: each sample order is then timed three times and the fastest run kept.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oms_connector.domain.geo import Location, provinces  # noqa: E402
from oms_connector.domain.routing import (  # noqa: E402
	Candidate,
	CostModel,
	RouteLine,
	RoutingRequest,
	SplitPolicy,
	consume,
	route,
)

COST_MODEL = CostModel(base_per_shipment=20_000, per_km=20, per_kg=5_000, split_penalty=20_000)


def make_candidates(rng: random.Random, count: int, skus: list[str], density: float) -> list[Candidate]:
	"""Warehouses and stores scattered around the 34 province centres."""
	centres = provinces()
	candidates = []
	for n in range(count):
		centre = rng.choice(centres)
		is_store = rng.random() < 0.3
		candidates.append(
			Candidate(
				warehouse=f"WH-{n:03d}",
				stock={sku: rng.randint(1, 30) for sku in skus if rng.random() < density},
				lat=centre.lat + rng.uniform(-0.3, 0.3),
				lon=centre.lon + rng.uniform(-0.3, 0.3),
				capacity_left=rng.choice([None, None, None, 0, 5, 50]),
				handling_cost=rng.choice([2_000, 3_500, 5_000, 8_000]),
				priority=rng.randint(0, 5),
				is_store=is_store,
				pickup=is_store,
				can_ship=not is_store or rng.random() < 0.5,
			)
		)
	return candidates


def make_orders(rng: random.Random, count: int, skus: list[str]) -> list[tuple[list[RouteLine], Location]]:
	centres = provinces()
	orders = []
	for _ in range(count):
		lines = [
			RouteLine(f"L{k}", sku, rng.randint(1, 3), rng.choice([0.2, 0.5, 1.0, 2.5]))
			for k, sku in enumerate(rng.sample(skus, 5))
		]
		centre = rng.choice(centres)
		orders.append((lines, Location(centre.lat, centre.lon, centre.code, "province")))
	return orders


def time_orders(
	orders,
	candidates,
	policy: SplitPolicy,
	max_shipments: int | None,
	keep_stock: bool = False,
	repeat: int = 1,
):
	"""Seconds per order; with repeat > 1 the fastest of that many runs (filters out scheduler noise)."""
	times = []
	statuses: dict[str, int] = {}
	for lines, destination in orders:
		request = RoutingRequest(
			lines=lines,
			destination=destination,
			candidates=candidates,
			cost_model=COST_MODEL,
			split_policy=policy,
			max_shipments=max_shipments,
			allow_partial=True,
		)
		fastest = math.inf
		for _ in range(repeat):
			started = time.perf_counter()
			decision = route(request)
			fastest = min(fastest, time.perf_counter() - started)
		times.append(fastest)
		if keep_stock:
			consume(candidates, decision)
		statuses[decision.status.value] = statuses.get(decision.status.value, 0) + 1
	return times, statuses


def describe(times: list[float]) -> str:
	ordered = sorted(times)
	p95 = ordered[int(0.95 * (len(ordered) - 1))]
	median = statistics.median(ordered)
	return f"median {median * 1e3:.3f} ms, p95 {p95 * 1e3:.3f} ms, max {ordered[-1] * 1e3:.2f} ms"


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--seed", type=int, default=2025)
	parser.add_argument("--candidates", type=int, default=200)
	parser.add_argument("--skus", type=int, default=300)
	parser.add_argument("--density", type=float, default=0.5, help="chance a warehouse stocks a given SKU")
	parser.add_argument("--max-shipments", type=int, default=3)
	parser.add_argument(
		"--repeat", type=int, default=1, help="time each sample order this many times, keep the fastest"
	)
	args = parser.parse_args()

	rng = random.Random(args.seed)
	skus = [f"SKU-{n:04d}" for n in range(args.skus)]
	candidates = make_candidates(rng, args.candidates, skus, args.density)
	sample = make_orders(rng, 1_000, skus)
	backlog = make_orders(rng, 10_000, skus)
	print(
		f"{args.candidates} candidates, {args.skus} SKUs, stock density {args.density}, 5-line orders, "
		f"max {args.max_shipments} shipments, seed {args.seed}"
	)
	time_orders(sample[:50], candidates, SplitPolicy.FREE, args.max_shipments)  # warm the caches
	for policy in SplitPolicy:
		times, statuses = time_orders(sample, candidates, policy, args.max_shipments, repeat=args.repeat)
		print(f"  1,000 orders, {policy.value:<17}: {describe(times)}  {statuses}")

	started = time.perf_counter()
	times, statuses = time_orders(backlog, candidates, SplitPolicy.FREE, args.max_shipments)
	total = time.perf_counter() - started
	print(f"  10,000-order backlog, Free Split: total {total:.2f} s ({describe(times)})  {statuses}")

	depleting = make_candidates(random.Random(args.seed), args.candidates, skus, args.density)
	started = time.perf_counter()
	times, statuses = time_orders(
		backlog, depleting, SplitPolicy.WHEN_NEEDED, args.max_shipments, keep_stock=True
	)
	print(
		f"  10,000-order backlog, Split When Needed, stock and capacity consumed as it goes: "
		f"total {time.perf_counter() - started:.2f} s ({describe(times)})  {statuses}"
	)


if __name__ == "__main__":
	main()
