"""Stock sync figures, run by hand on a bench with the app installed:

    cd /opt/bench/sites && ../env/bin/python /path/to/oms_connector/benchmarks/stock_sync.py --site test_site

1. Latency: commit of a stock change -> the push request arriving at a local stand-in for
   Lazada (127.0.0.1), p50/p95 over --changes changes. A real `bench worker` runs the job.
2. API calls for 10,000 changed listings (target: ceil(10,000 / 50) = 200).
3. Full reconciliation of 10,000 listings x 3 channels: time and peak memory of the process.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

import frappe


def percentile(values, pct):
	ordered = sorted(values)
	return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", default="test_site")
	parser.add_argument("--bench", default="/opt/bench")
	parser.add_argument("--changes", type=int, default=500)
	parser.add_argument("--listings", type=int, default=10_000)
	args = parser.parse_args()

	frappe.init(site=args.site, sites_path=os.path.join(args.bench, "sites"))
	frappe.connect()
	frappe.set_user("Administrator")
	from oms_connector.erp import stock_sync
	from oms_connector.tests import fixtures as fx
	from oms_connector.sandbox import FakeLazada

	fakes = [FakeLazada().start() for _ in range(3)]
	arrivals: list[tuple[float, dict]] = []
	original = fakes[0]._api_product_stock_sellable_update
	lock = threading.Lock()

	def recording(q):
		answer = original(q)
		with lock:
			arrivals.append((time.time(), dict(fakes[0].stock)))
		return answer

	fakes[0]._api_product_stock_sellable_update = recording
	channels = [
		# only channel 0 listens during the latency run
		fx.ensure_lazada_channel(f"OMS Bench Lazada {index}", fake, sync_stock=1 if index == 0 else 0)
		for index, fake in enumerate(fakes)
	]
	item = "OMS-BENCH-STOCK"
	fx.ensure_item(item, 100000)
	hanoi = fx.wh("OMS Hanoi")
	listing = frappe.db.get_value("Channel Listing", {"sales_channel": channels[0], "sku": "BENCH-1"})
	if not listing:
		frappe.get_doc(
			{"doctype": "Channel Listing", "sales_channel": channels[0], "listing_id": "B1", "sku": "BENCH-1", "item_code": item}
		).insert()
	frappe.db.set_single_value("OMS Settings", "stock_sync_enabled", 1)
	frappe.db.commit()
	debounce = frappe.db.get_single_value("OMS Settings", "stock_sync_debounce_seconds")

	# --- 1. latency through a real worker ----------------------------------------------------
	from frappe.utils.background_jobs import get_queue

	backlog = len(get_queue("default"))
	if backlog:
		print(f"warning: {backlog} jobs already wait in the default queue; latencies include working through them")
	worker = subprocess.Popen(
		["bench", "worker", "--queue", "default"], cwd=args.bench, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
	)
	time.sleep(3)
	latencies = []
	try:
		stock_sync.reconcile_channel(channels[0])
		frappe.db.commit()
		for _ in range(args.changes):
			fx.add_stock(item, hanoi, 1)
			expected = stock_sync.compute_listing_qty(
				frappe.get_doc("Sales Channel", channels[0]),
				frappe.get_all("Channel Listing", filters={"sku": "BENCH-1"}, fields=["name", "item_code", "stock_mode", "stock_value"]),
			)
			expected_qty = next(iter(expected.values()))
			frappe.db.commit()
			committed = time.time()
			deadline = committed + 10
			while time.time() < deadline:
				with lock:
					hit = next((t for t, stock in arrivals if t >= committed and stock.get("BENCH-1") == expected_qty), None)
				if hit:
					latencies.append(hit - committed)
					break
				time.sleep(0.005)
			else:
				latencies.append(float("inf"))
	finally:
		worker.terminate()
		worker.wait(10)
	lost = sum(1 for value in latencies if value == float("inf"))
	print(
		f"latency commit -> push arrives ({args.changes} changes, debounce {debounce} s): "
		f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms, "
		f"max {max(latencies) * 1000:.0f} ms, never arrived {lost}"
	)

	# --- 2 and 3. 10,000 listings on 3 channels ----------------------------------------------
	for channel in channels:
		frappe.db.set_value("Sales Channel", channel, "sync_stock", 1)
		have = frappe.db.count("Channel Listing", {"sales_channel": channel})
		rows = [
			(
				frappe.generate_hash(length=12),
				channel,
				f"L{n}",
				"",
				f"BULK-{n}",
				item,
				"Computed",
				"Pending",
				frappe.utils.now(),
				frappe.utils.now(),
				"Administrator",
				"Administrator",
			)
			for n in range(have, args.listings + 1)
		]
		if rows:
			frappe.db.bulk_insert(
				"Channel Listing",
				["name", "sales_channel", "listing_id", "variant_id", "sku", "item_code", "stock_mode", "push_status", "creation", "modified", "owner", "modified_by"],
				rows,
			)
		frappe.db.sql("update `tabChannel Listing` set push_status = 'Pending' where sales_channel = %s", channel)
	frappe.db.commit()
	frappe.clear_document_cache("Sales Channel", channels[0])

	calls_before = len(fakes[1].calls_to("/product/stock/sellable/update", ok_only=False))
	started = time.perf_counter()
	results = {channel: stock_sync.reconcile_channel(channel) for channel in channels}
	elapsed = time.perf_counter() - started
	calls = len(fakes[1].calls_to("/product/stock/sellable/update", ok_only=False)) - calls_before
	listings = results[channels[1]]["checked"]
	peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
	print(f"API calls for {listings} changed listings on one channel: {calls} (target {math.ceil(listings / 50)})")
	print(
		f"full reconciliation of {sum(r['checked'] for r in results.values())} listings on 3 channels: "
		f"{elapsed:.1f} s (target <= 300 s), pushed {sum(r['pushed'] for r in results.values())}, "
		f"failed {sum(r['failed'] for r in results.values())}; peak memory of this process {peak_mb:.0f} MB "
		"(includes the three fake servers; target <= 300 MB)"
	)
	for fake in fakes:
		fake.stop()
	frappe.destroy()
	sys.exit(0)


if __name__ == "__main__":
	main()
