"""OMS intake against a bare ERPNext Sales Order, same lines, same run.

Run by hand on a bench where the app is installed:
    cd /opt/bench/sites && ../env/bin/python /path/to/oms_connector/benchmarks/intake.py --site test_site --orders 200

OMS intake per order = store the payload (committed), normalize, find/create customer and
address, resolve items, route, build, insert and submit the Sales Order, commit.
Bare = insert and submit a Sales Order with the same lines for an existing customer, commit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import frappe


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", default="test_site")
	parser.add_argument("--orders", type=int, default=200)
	parser.add_argument("--sites-path", default=os.getcwd())
	args = parser.parse_args()

	frappe.init(site=args.site, sites_path=args.sites_path)
	frappe.connect()
	frappe.set_user("Administrator")
	from oms_connector.erp import intake
	from oms_connector.tests import fixtures as fx

	channel = fx.ensure_channel("OMS Bench Web")
	hanoi = fx.wh("OMS Hanoi")
	for item in ("OMS-TSHIRT", "OMS-CAP"):
		fx.set_stock(item, hanoi, args.orders * 4 + 10)
	frappe.db.commit()
	run = frappe.generate_hash(length=6).upper()

	def oms_order(i):
		payload = fx.canonical_order(f"BENCH-{run}-{i}")
		payload["buyer"]["id"] = f"bench-{run}-{i % 20}"  # repeat buyers, as real shops have
		intake.receive_order(channel, json.dumps(payload), source="Benchmark")
		frappe.db.commit()

	customer = frappe.db.get_value("Customer", {"oms_buyer_key": ("like", "OMS Bench Web:%")}, "name")
	if not customer:
		oms_order(-1)
		customer = frappe.db.get_value("Customer", {"oms_buyer_key": ("like", "OMS Bench Web:%")}, "name")
	channel_doc = frappe.get_doc("Sales Channel", channel)

	def bare_order(i):
		so = frappe.get_doc(
			{
				"doctype": "Sales Order",
				"company": fx.COMPANY,
				"customer": customer,
				"currency": "VND",
				"selling_price_list": fx.PRICE_LIST,
				"ignore_pricing_rule": 1,
				"transaction_date": frappe.utils.nowdate(),
				"delivery_date": frappe.utils.add_days(frappe.utils.nowdate(), 3),
				"taxes_and_charges": channel_doc.taxes_and_charges,
				"apply_discount_on": "Grand Total",
				"discount_amount": 10000 + 9000,
				"disable_rounded_total": 1,
				"items": [
					{"item_code": "OMS-TSHIRT", "qty": 2, "rate": 140000, "warehouse": hanoi},
					{"item_code": "OMS-CAP", "qty": 1, "rate": 99000, "warehouse": hanoi},
				],
				"taxes": [
					{"charge_type": "On Net Total", "account_head": fx.ensure_account("OMS Output VAT", "Liability", "Tax"), "rate": 10, "included_in_print_rate": 1, "description": "VAT"},
					{"charge_type": "Actual", "account_head": channel_doc.shipping_fee_account, "tax_amount": 30000, "description": "Shipping"},
				],
			}
		)
		so.insert()
		so.submit()
		frappe.db.commit()

	warm = 5
	for i in range(warm):
		bare_order(i)
		oms_order(10_000 + i)
	# interleaved, so anything else the machine does weighs on both sides alike
	results = {"bare Sales Order": [], "OMS intake": []}
	for i in range(args.orders):
		for label, fn in (("bare Sales Order", bare_order), ("OMS intake", oms_order)):
			start = time.perf_counter()
			fn(i)
			results[label].append(time.perf_counter() - start)
	for label, times in results.items():
		total = sum(times)
		print(
			f"{label:18s} {len(times)} orders  median {statistics.median(times) * 1000:7.1f} ms"
			f"  mean {total / len(times) * 1000:7.1f} ms  {3600 / (total / len(times)):9.0f} orders/hour"
		)
	ratio = statistics.mean(results["OMS intake"]) / statistics.mean(results["bare Sales Order"])
	print(f"OMS intake costs {ratio:.2f}x a bare Sales Order (target <= 1.25x)")
	frappe.destroy()


if __name__ == "__main__":
	main()
