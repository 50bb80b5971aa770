"""Faults as deployed, each ending with nothing lost and nothing stuck: a worker killed in the
middle of processing, a job deleted from the queue, the queue's Redis restarted empty, an event
arriving while its order is processed, orders crossing the same items in opposite line order,
and a platform failing for longer than the connector's own retries. The scheduler runs: its
minute sweeper is what picks up work whose job was lost."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import frappe
import pytest
from frappe.utils.background_jobs import get_queue

from oms_connector.tests import fixtures as fx
from oms_connector.tests.deployed import stack
from oms_connector.tests.deployed.client import body_of, post_order, stock_up, wait_for, web_channel

WEB = "OMS Deployed Web Faults"
SWEEP_WAIT = 150  # the sweeper runs every minute; the scheduler ticks every few seconds here


@pytest.fixture(scope="module")
def channel(app, scheduler):
	stock_up(2000)
	web_channel(WEB)
	return app


def run_id() -> str:
	return uuid.uuid4().hex[:8].upper()


def post_all(server, payloads, clients: int = 8) -> None:
	def send(payload):
		return post_order(stack.session(), server, WEB, payload).status_code

	with ThreadPoolExecutor(clients) as pool:
		assert list(pool.map(send, payloads)) == [200] * len(payloads)


def all_ordered(names: list[str], status: str = "Ordered", timeout: float = SWEEP_WAIT) -> list:
	def check():
		rows = frappe.get_all(
			"Channel Order",
			filters={"name": ("in", names), "needs_processing": 0},
			fields=["name", "status", "error", "attempts", "sales_order"],
		)
		return rows if len(rows) == len(names) else None

	rows = wait_for(f"{len(names)} orders to be processed", check, timeout=timeout)
	assert {row.status for row in rows} == {status}, [(row.name, row.status, row.error) for row in rows]
	for name in names:
		assert frappe.db.count("Sales Order", {"oms_channel_order": name, "docstatus": 1}) == 1, name
	return rows


def replace_workers(server) -> None:
	server.stop_workers()
	server.start_workers()


def test_worker_killed_mid_processing(channel):
	run = run_id()
	ids = [f"DKILL-{run}-{n}" for n in range(40)]
	post_all(channel, [fx.canonical_order(order_id) for order_id in ids])
	names = [f"{WEB}:{order_id}" for order_id in ids]
	wait_for("the drain to be under way", lambda: frappe.db.count("Channel Order", {"name": ("in", names), "status": "Ordered"}) >= 2)
	channel.stop_workers(kill=True)  # workers and work-horses, mid-order: the transaction dies with them
	time.sleep(1)
	replace_workers(channel)
	all_ordered(names)


def test_job_deleted_from_the_queue(channel):
	channel.stop_workers()
	run = run_id()
	ids = [f"DLOST-{run}-{n}" for n in range(5)]
	post_all(channel, [fx.canonical_order(order_id) for order_id in ids])
	get_queue("short").empty()  # the queued drain is gone
	replace_workers(channel)
	all_ordered([f"{WEB}:{order_id}" for order_id in ids])


def test_queue_redis_restarted_with_jobs_queued(channel):
	channel.stop_workers()
	run = run_id()
	ids = [f"DREDIS-{run}-{n}" for n in range(5)]
	post_all(channel, [fx.canonical_order(order_id) for order_id in ids])
	stack.restart_redis_queue(keep_data=False)
	replace_workers(channel)
	all_ordered([f"{WEB}:{order_id}" for order_id in ids])


def test_event_arriving_while_its_order_is_processed(channel):
	run = run_id()
	ids = [f"DRACE-{run}-{n}" for n in range(10)]

	def confirmed_then_shipped(order_id):
		http = stack.session()
		first = post_order(http, channel, WEB, fx.canonical_order(order_id)).status_code
		time.sleep(0.15)  # about when the worker has the order locked
		second = post_order(http, channel, WEB, fx.canonical_order(order_id, "shipped")).status_code
		return first, second

	with ThreadPoolExecutor(5) as pool:
		assert set(pool.map(confirmed_then_shipped, ids)) == {(200, 200)}
	names = [f"{WEB}:{order_id}" for order_id in ids]
	all_ordered(names, status="Shipped", timeout=120)
	for name in names:
		assert frappe.db.count("Delivery Note", {"oms_channel_order": name, "docstatus": 1}) == 1


def test_orders_crossing_the_same_items_in_opposite_line_order(channel, second_app):
	run = run_id()
	forward = [{"sku": "OMS-TSHIRT", "qty": 1, "unit_price": 150000}, {"sku": "OMS-CAP", "qty": 1, "unit_price": 99000}]
	backward = list(reversed(forward))
	payloads = [
		body_of(fx.canonical_order(f"DXING-{run}-{n}", lines=forward if n % 2 else backward, seller_voucher=0))
		for n in range(30)
	]

	def send(index_body):
		index, body = index_body
		return post_order(stack.session(), (channel, second_app)[index % 2], WEB, body).status_code

	with ThreadPoolExecutor(10) as pool:
		assert list(pool.map(send, enumerate(payloads))) == [200] * 30
	rows = all_ordered([f"{WEB}:DXING-{run}-{n}" for n in range(30)], timeout=180)
	assert {row.attempts for row in rows} == {1}  # a deadlock retried at once costs no attempt
