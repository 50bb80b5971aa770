"""Exactly once and no overselling over HTTP, with two independent app servers (gunicorn +
RQ worker each) on one site: nothing may rely on being one process or one machine."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import frappe
import pytest
from frappe.utils import flt

from oms_connector.tests import fixtures as fx
from oms_connector.tests.deployed import stack
from oms_connector.tests.deployed.client import body_of, post_order, stock_up, wait_for, web_channel

WEB = "OMS Deployed Web Busy"
SCARCE = "OMS-DEPLOY-SCARCE"


@pytest.fixture(scope="module")
def servers(app, second_app):
	stock_up()
	web_channel(WEB)
	return [app, second_app]


def post_many(servers, bodies: list[bytes], clients: int) -> list[int]:
	"""POST every body, `clients` at a time, alternating between the app servers."""

	def send(index_body):
		index, body = index_body
		http = stack.session()
		return post_order(http, servers[index % len(servers)], WEB, body).status_code

	with ThreadPoolExecutor(clients) as pool:
		return list(pool.map(send, enumerate(bodies)))


def test_same_order_200_times_from_20_clients_makes_one_sales_order(servers):
	order_id = f"DDUP-{uuid.uuid4().hex[:10].upper()}"
	confirmed = body_of(fx.canonical_order(order_id))
	shipped = body_of(fx.canonical_order(order_id, "shipped"))
	statuses = post_many(servers, [confirmed if n % 4 else shipped for n in range(200)], clients=20)
	assert statuses == [200] * 200
	name = f"{WEB}:{order_id}"

	def done():
		row = frappe.db.get_value("Channel Order", name, ["status", "needs_processing"], as_dict=True)
		return row if row and row.status == "Shipped" and not row.needs_processing else None

	wait_for("the duplicated order to settle", done, timeout=180)
	assert frappe.db.count("Channel Order", {"external_order_id": order_id}) == 1
	assert frappe.db.count("Channel Order Event", {"channel_order": name}) == 2
	assert frappe.db.count("Sales Order", {"oms_channel_order": name, "docstatus": 1}) == 1
	assert frappe.db.count("Delivery Note", {"oms_channel_order": name, "docstatus": 1}) == 1


def test_more_concurrent_orders_than_stock_never_oversell(servers):
	hanoi = fx.wh(fx.WAREHOUSES[0])
	run = uuid.uuid4().hex[:8].upper()
	# an item of its own: held orders of an earlier run would take stock as it arrives (by design)
	scarce = fx.ensure_item(f"{SCARCE}-{run}", 100000)
	fx.add_stock(scarce, hanoi, 10)
	frappe.db.commit()

	bodies = [
		json.dumps(
			fx.canonical_order(
				f"DOVS-{run}-{n}", lines=[{"sku": scarce, "qty": 1, "unit_price": 100000}], shipping_fee=0, seller_voucher=0
			)
		).encode()
		for n in range(60)
	]
	assert post_many(servers, bodies, clients=16) == [200] * 60
	names = [f"{WEB}:DOVS-{run}-{n}" for n in range(60)]

	def all_settled():
		rows = frappe.get_all(
			"Channel Order", filters={"name": ("in", names), "needs_processing": 0}, fields=["status", "error"]
		)
		return rows if len(rows) == 60 else None

	rows = wait_for("all 60 orders to settle", all_settled, timeout=240)
	statuses = [row.status for row in rows]
	assert statuses.count("Ordered") == 10, statuses
	assert statuses.count("Held") == 50
	assert all(scarce in row.error for row in rows if row.status == "Held")
	actual, reserved = frappe.db.get_value("Bin", {"item_code": scarce, "warehouse": hanoi}, ["actual_qty", "reserved_qty"])
	assert (flt(actual), flt(reserved)) == (10, 10)
