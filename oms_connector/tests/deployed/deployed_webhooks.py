"""Custom API orders over HTTP into the RQ worker: every event a separate signed webhook, the
documents made by the worker (as its job user, never Guest), read back from the database."""

from __future__ import annotations

import json
import uuid

import frappe
import pytest
from frappe.utils import flt

from oms_connector.tests import fixtures as fx
from oms_connector.tests.deployed import stack
from oms_connector.tests.deployed.client import (
	linked,
	order_row,
	post_order,
	settled,
	sign,
	stock_up,
	wait_for,
	web_channel,
)

WEB = "OMS Deployed Web"
WEB_COD = "OMS Deployed Web COD"


@pytest.fixture(scope="module")
def channels(app):
	stock_up()
	web_channel(WEB)
	web_channel(WEB_COD, prepaid_payment_account="")
	return app


@pytest.fixture
def http():
	return stack.session()


def new_id(prefix: str) -> str:
	return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def gl(voucher_type: str, voucher_no: str) -> dict[str, float]:
	totals: dict[str, float] = {}
	for row in frappe.get_all(
		"GL Entry",
		filters={"voucher_type": voucher_type, "voucher_no": voucher_no, "is_cancelled": 0},
		fields=["account", "debit", "credit"],
	):
		totals[row.account] = totals.get(row.account, 0) + flt(row.debit) - flt(row.credit)
	return totals


def send(http, server, channel, order_id, status, **extra):
	response = post_order(http, server, channel, fx.canonical_order(order_id, status, **extra))
	assert response.status_code == 200, response.text
	return response.json()["message"]["channel_order"]


def test_prepaid_order_lifecycle_as_separate_webhooks(channels, http):
	order_id = new_id("DPL")
	hanoi = fx.wh(fx.WAREHOUSES[0])
	tshirt_before = fx.actual_qty("OMS-TSHIRT", hanoi)
	name = send(http, channels, WEB, order_id, "confirmed")
	row = settled(name, "Ordered")
	so = frappe.get_doc("Sales Order", row.sales_order)
	assert so.docstatus == 1 and flt(so.grand_total) == 390000
	assert so.owner == "Administrator"  # the job user, not Guest

	send(http, channels, WEB, order_id, "shipped", shipments=[{"tracking_number": "VNDPL1"}])
	settled(name, "Shipped")
	[dn] = linked("Delivery Note", name)
	assert dn.docstatus == 1
	assert frappe.db.get_value("Delivery Note", dn.name, "oms_tracking_number") == "VNDPL1"
	assert fx.actual_qty("OMS-TSHIRT", hanoi) == tshirt_before - 2

	send(http, channels, WEB, order_id, "delivered")
	settled(name, "Completed")
	send(http, channels, WEB, order_id, "completed")
	row = settled(name, "Completed")
	assert not row.error

	[si] = linked("Sales Invoice", name)
	assert si.docstatus == 1 and flt(si.grand_total) == 390000
	debtors = frappe.get_cached_value("Company", fx.COMPANY, "default_receivable_account")
	entries = gl("Sales Invoice", si.name)
	assert entries[debtors] == 390000
	assert abs(sum(entries.values())) < 0.01
	[pe] = linked("Payment Entry", name)
	assert pe.docstatus == 1 and flt(pe.paid_amount) == 390000
	pe_gl = gl("Payment Entry", pe.name)
	assert pe_gl[debtors] == -390000
	assert flt(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")) == 0
	assert len(linked("Sales Order", name)) == 1 and len(linked("Delivery Note", name)) == 1


def test_cod_order_stays_receivable(channels, http):
	order_id = new_id("DCOD")
	name = send(http, channels, WEB_COD, order_id, "confirmed", payment_method="COD")
	settled(name, "Ordered")
	send(http, channels, WEB_COD, order_id, "shipped")
	settled(name, "Shipped")
	send(http, channels, WEB_COD, order_id, "delivered", payment_method="COD")
	settled(name, "Completed")
	[si] = linked("Sales Invoice", name)
	assert flt(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")) == 390000
	assert not linked("Payment Entry", name)


def test_cancel_before_shipment(channels, http):
	order_id = new_id("DCX")
	name = send(http, channels, WEB, order_id, "confirmed")
	so = settled(name, "Ordered").sales_order
	send(http, channels, WEB, order_id, "cancelled")
	settled(name, "Cancelled")
	assert frappe.db.get_value("Sales Order", so, "docstatus") == 2
	assert not linked("Delivery Note", name)


def test_cancel_after_shipment_takes_goods_back(channels, http):
	order_id = new_id("DCS")
	hanoi = fx.wh(fx.WAREHOUSES[0])
	before = fx.actual_qty("OMS-CAP", hanoi)
	name = send(http, channels, WEB, order_id, "shipped")
	settled(name, "Shipped")
	assert fx.actual_qty("OMS-CAP", hanoi) == before - 1
	send(http, channels, WEB, order_id, "cancelled")
	settled(name, "Returned")
	assert len(linked("Delivery Note", name, is_return=1, docstatus=1)) == 1
	assert fx.actual_qty("OMS-CAP", hanoi) == before


def test_return_after_completion(channels, http):
	order_id = new_id("DRET")
	name = send(http, channels, WEB, order_id, "completed")
	settled(name, "Completed")
	send(http, channels, WEB, order_id, "returned", returned_lines={"OMS-TSHIRT": 1})
	settled(name, "Returned")
	[ret] = linked("Delivery Note", name, is_return=1)
	assert frappe.db.get_value("Delivery Note Item", {"parent": ret.name}, "qty") == -1
	[credit] = linked("Sales Invoice", name, is_return=1)
	assert credit.docstatus == 1 and flt(credit.grand_total) < 0


def test_forged_and_replayed_signatures_store_nothing(channels, http):
	order_id = new_id("DFRG")
	payload = json.dumps(fx.canonical_order(order_id)).encode()
	forged = post_order(http, channels, WEB, payload, signature="0" * 64)
	assert forged.status_code == 401
	# a signature captured from one request, replayed on a changed body
	captured = sign(payload)
	tampered = payload.replace(b'"qty": 2', b'"qty": 20')
	assert post_order(http, channels, WEB, tampered, signature=captured).status_code == 401
	# the channel is chosen by the URL alone: a body key can't move the order to another channel
	assert post_order(http, channels, "No Such Channel", payload).status_code == 401
	frappe.db.rollback()
	assert not frappe.db.exists("Channel Order", {"external_order_id": order_id})

	# the genuine request, then the same request again: one order, one event, one Sales Order
	assert post_order(http, channels, WEB, payload).status_code == 200
	again = post_order(http, channels, WEB, payload)
	assert again.status_code == 200 and not again.json().get("_server_messages")
	name = f"{WEB}:{order_id}"
	settled(name, "Ordered")
	assert frappe.db.count("Channel Order Event", {"channel_order": name}) == 1
	assert len(linked("Sales Order", name)) == 1


def test_text_plain_and_json_bodies_both_work(channels, http):
	"""Every real client sends application/json; some middleware sends text/plain."""
	for content_type in ("application/json", "text/plain", "application/json; charset=utf-8"):
		order_id = new_id("DCT")
		response = post_order(http, channels, WEB, fx.canonical_order(order_id), content_type=content_type)
		assert response.status_code == 200, (content_type, response.text)
		settled(f"{WEB}:{order_id}", "Ordered")


def test_malformed_order_is_stored_as_error_and_unknown_sku_held(channels, http):
	broken = b'{"order_id": "DBAD-1", "lines": [{"sku": '
	response = post_order(http, channels, WEB, broken, content_type="text/plain")
	assert response.status_code == 200
	row = wait_for("the malformed order", lambda: frappe.db.get_value(
		"Channel Order", {"sales_channel": WEB, "raw_payload": broken.decode(), "needs_processing": 0}, ["status", "error"], as_dict=True
	))
	assert row.status == "Error" and "JSON" in row.error

	order_id = new_id("DSKU")
	lines = [{"sku": "NO-SUCH-SKU", "qty": 1, "unit_price": 10000}]
	name = send(http, channels, WEB, order_id, "confirmed", lines=lines)
	row = settled(name, "Held")
	assert "NO-SUCH-SKU" in row.error
	assert order_row(name).sales_order is None
