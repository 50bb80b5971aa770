"""Webhooks as deployed: acceptance over HTTP, then the drain by an RQ worker, next to the
same intake in one process.

Run by hand on the bench (the app installed on the site; gunicorn with 2 workers and one RQ
worker are started here and stopped at the end):
    cd /opt/bench/sites && ../env/bin/python /path/to/oms_connector/benchmarks/webhooks.py --site test_site --orders 1000

1. N distinct signed canonical orders from 16 concurrent keep-alive clients to the Custom API
   webhook: acceptance req/s, p50/p99 latency, non-200 count.
2. The time from the first POST until every order has its submitted Sales Order, as orders/hour
   (the RQ worker drains while the POSTs go on).
3. The in-process figure: the same orders through intake.receive_order in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import frappe

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHANNEL = "OMS Bench Webhook"


def percentile(values: list[float], share: float) -> float:
	ordered = sorted(values)
	return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", default="test_site")
	parser.add_argument("--orders", type=int, default=1000)
	parser.add_argument("--clients", type=int, default=16)
	parser.add_argument("--in-process", type=int, default=200, help="orders for the in-process figure")
	args = parser.parse_args()
	os.environ["OMS_DEPLOYED_SITE"] = args.site

	from oms_connector.tests import fixtures as fx
	from oms_connector.tests.deployed import client, stack

	frappe.init(site=args.site, sites_path=str(stack.SITES))
	frappe.connect()
	frappe.set_user("Administrator")
	from oms_connector.erp import intake

	client.web_channel(CHANNEL)
	hanoi = fx.wh(fx.WAREHOUSES[0])
	for item in ("OMS-TSHIRT", "OMS-CAP"):
		fx.set_stock(item, hanoi, (args.orders + args.in_process) * 3 + 10)
	frappe.db.commit()
	run = frappe.generate_hash(length=6).upper()

	def payload(i: int, kind: str) -> bytes:
		order = fx.canonical_order(f"WBENCH-{run}-{kind}-{i}")
		order["buyer"]["id"] = f"wbench-{run}-{i % 50}"  # repeat buyers, as real shops have
		return json.dumps(order).encode()

	server = stack.AppServer("bench").start()
	try:
		bodies = [payload(i, "http") for i in range(args.orders)]
		latencies: list[float] = []
		statuses: list[int] = []
		local = threading.local()

		def send(body: bytes):
			http = getattr(local, "http", None) or stack.session()
			local.http = http
			start = time.perf_counter()
			response = client.post_order(http, server, CHANNEL, body)
			latencies.append(time.perf_counter() - start)
			statuses.append(response.status_code)

		started = time.perf_counter()
		with ThreadPoolExecutor(args.clients) as pool:
			list(pool.map(send, bodies))
		accepted = time.perf_counter() - started
		names = [f"{CHANNEL}:WBENCH-{run}-http-{i}" for i in range(args.orders)]

		def all_made():
			return frappe.db.count("Sales Order", {"oms_channel_order": ("in", names), "docstatus": 1}) >= args.orders

		client.wait_for("every order's Sales Order", all_made, timeout=3600, interval=1)
		drained = time.perf_counter() - started
		waiting = frappe.db.count("Channel Order", {"name": ("in", names), "needs_processing": 1})
	finally:
		server.stop()

	print(f"acceptance: {args.orders} orders from {args.clients} clients in {accepted:.1f} s = {args.orders / accepted:.0f} req/s")
	print(f"  latency p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms;"
		f" non-200: {sum(1 for s in statuses if s != 200)}; still waiting: {waiting}")
	deployed_rate = args.orders / drained * 3600
	print(f"drain as deployed (an RQ worker per queue): every Sales Order {drained:.1f} s after the first POST = {deployed_rate:,.0f} orders/hour")

	start = time.perf_counter()
	for i in range(args.in_process):
		intake.receive_order(CHANNEL, payload(i, "inproc"), source="Benchmark")
		frappe.db.commit()
	in_process = time.perf_counter() - start
	inproc_rate = args.in_process / in_process * 3600
	print(f"in process: {args.in_process} orders in {in_process:.1f} s = {inproc_rate:,.0f} orders/hour")
	print(f"deployed / in-process = {deployed_rate / inproc_rate:.2f} (target >= 0.8)")
	frappe.destroy()


if __name__ == "__main__":
	main()
