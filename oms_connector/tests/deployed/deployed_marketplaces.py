"""Marketplace pushes over HTTP, signed as each platform signs them; the RQ worker then reads
the order from the platform's local stand-in (which checks requests the way the platform does)
and processes it. The push itself is answered without calling the platform."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import frappe
import pytest

from oms_connector.tests import fixtures as fx
from oms_connector.tests.deployed import stack
from oms_connector.tests.deployed.client import marketplace_url, post_push, settled, stock_up, wait_for
from oms_connector.sandbox import FakeLazada, FakeShopee, FakeTikTokShop
from oms_connector.tests.test_marketplace import (
	VN,
	ensure_listing,
	give_tokens,
	lazada_order,
	new_number,
	shopee_channel,
	shopee_order,
	shopee_push,
	tiktok_order,
)

SHOPEE = "OMS Deployed Shopee"
LAZADA = "OMS Deployed Lazada"
TIKTOK = "OMS Deployed TikTok"
SHOPEE_DETAIL = "/api/v2/order/get_order_detail"


@pytest.fixture(scope="module")
def platforms(app):
	stock_up()
	fakes = {"shopee": FakeShopee().start(), "lazada": FakeLazada().start(), "tiktok": FakeTikTokShop().start()}
	shopee_channel(SHOPEE, fakes["shopee"])
	# orders only: these stand-ins hold no catalogue to push stock to
	frappe.db.set_value("Sales Channel", SHOPEE, {"platform_settings": json.dumps({"timeout_seconds": 1}), "sync_stock": 0})
	give_tokens(SHOPEE, *fakes["shopee"].issue_tokens())
	ensure_listing(SHOPEE, "SP-TSHIRT-M", "OMS-TSHIRT")
	fx.ensure_lazada_channel(LAZADA, fakes["lazada"], sync_stock=0)
	ensure_listing(LAZADA, "LZ-TSHIRT", "OMS-TSHIRT")
	fx.ensure_channel(
		TIKTOK,
		platform="TikTok Shop",
		api_base_url=fakes["tiktok"].base_url,
		auth_base_url=fakes["tiktok"].base_url,
		app_key=fakes["tiktok"].app_key,
		app_secret=fakes["tiktok"].app_secret,
		shop_id=fakes["tiktok"].shop_id,
		platform_settings=json.dumps({"service_id": "7431458374265161478"}),
		sync_stock=0,
	)
	give_tokens(TIKTOK, "TTP_access_1", "TTP_refresh_1", expires_in=timedelta(days=7))
	ensure_listing(TIKTOK, "TT-TSHIRT", "OMS-TSHIRT")
	frappe.db.commit()
	try:
		yield fakes
	finally:
		for fake in fakes.values():
			fake.stop()


@pytest.fixture
def http():
	return stack.session()


def test_shopee_push_is_fetched_by_the_worker(app, platforms, http):
	shopee = platforms["shopee"]
	order_sn = f"SP{new_number(12)}"
	shopee.add_order(shopee_order(order_sn))
	body = shopee_push(shopee, order_sn)
	before = len(shopee.calls_to(SHOPEE_DETAIL))
	response = post_push(http, app, SHOPEE, body, {"Authorization": shopee.push_authorization(marketplace_url(SHOPEE), body)})
	assert response.status_code == 200, response.text
	name = f"{SHOPEE}:{order_sn}"
	assert response.json()["message"]["channel_orders"] == [name]
	row = settled(name, "Ordered")
	assert frappe.db.get_value("Sales Order", row.sales_order, "docstatus") == 1
	assert len(shopee.calls_to(SHOPEE_DETAIL)) == before + 1

	# Shopee re-delivers: nothing new is made
	again = post_push(http, app, SHOPEE, body, {"Authorization": shopee.push_authorization(marketplace_url(SHOPEE), body)})
	assert again.status_code == 200
	wait_for("the re-delivered push to be read", lambda: not frappe.db.get_value("Channel Order", name, "needs_fetch"))
	settled(name, "Ordered")
	assert frappe.db.count("Sales Order", {"oms_channel_order": name}) == 1


def test_forged_shopee_push_gets_401_and_stores_nothing(app, platforms, http):
	shopee = platforms["shopee"]
	order_sn = f"SP{new_number(12)}"
	shopee.add_order(shopee_order(order_sn))
	body = shopee_push(shopee, order_sn)
	forged = FakeShopee(partner_key="not-the-key").push_authorization(marketplace_url(SHOPEE), body)
	assert post_push(http, app, SHOPEE, body, {"Authorization": forged}).status_code == 401
	# a genuine signature replayed on another order's push
	other = shopee_push(shopee, f"SP{new_number(12)}")
	replayed = shopee.push_authorization(marketplace_url(SHOPEE), other)
	assert post_push(http, app, SHOPEE, body, {"Authorization": replayed}).status_code == 401
	frappe.db.rollback()
	assert not frappe.db.exists("Channel Order", f"{SHOPEE}:{order_sn}")


def test_lazada_push_is_fetched_by_the_worker(app, platforms, http):
	lazada = platforms["lazada"]
	order_id = new_number()
	updated = (datetime.now(VN) - timedelta(minutes=5)).isoformat(timespec="seconds")
	lazada.add_order(*lazada_order(order_id, updated))
	# the shape of Lazada's published Trade Order push (message_type 0)
	message = {
		"seller_id": lazada.seller_id,
		"message_type": 0,
		"data": {"order_status": "pending", "trade_order_id": str(order_id), "status_update_time": int(time.time())},
		"timestamp": int(time.time() * 1000),
		"site": "lazada_vn",
	}
	body = json.dumps(message).encode()
	response = post_push(http, app, LAZADA, body, {"Authorization": lazada.push_authorization(body)})
	assert response.status_code == 200, response.text
	row = settled(f"{LAZADA}:{order_id}", "Ordered")
	assert frappe.db.get_value("Sales Order", row.sales_order, "docstatus") == 1

	forged = body.replace(b"pending", b"canceled")
	assert post_push(http, app, LAZADA, forged, {"Authorization": lazada.push_authorization(body)}).status_code == 401


def test_tiktok_push_is_fetched_by_the_worker(app, platforms, http):
	tiktok = platforms["tiktok"]
	order_id = str(new_number(18))
	tiktok.orders[order_id] = tiktok_order(order_id)
	headers, body = tiktok.webhook(
		{
			"type": 1,
			"tts_notification_id": str(new_number(19)),
			"shop_id": tiktok.shop_id,
			"timestamp": int(time.time()),
			"data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT", "update_time": int(time.time())},
		}
	)
	response = post_push(http, app, TIKTOK, body, headers)
	assert response.status_code == 200, response.text
	row = settled(f"{TIKTOK}:{order_id}", "Ordered")
	assert frappe.db.get_value("Sales Order", row.sales_order, "docstatus") == 1
	forged = body.replace(b"AWAITING_SHIPMENT", b"CANCELLED")
	assert post_push(http, app, TIKTOK, forged, headers).status_code == 401


def test_platform_failing_while_reading_a_pushed_order(app, platforms, http, scheduler):
	"""The platform times out three times, then answers 503 three times: more than the
	connector's five tries. The order stays marked with the reason on it; the minute sweeper
	queues another read, and the order is made once the platform answers."""
	shopee = platforms["shopee"]
	order_sn = f"SP{new_number(12)}"
	shopee.add_order(shopee_order(order_sn))
	shopee.fail(SHOPEE_DETAIL, "sleep:2", times=3)  # the channel's timeout is 1 s
	shopee.fail(SHOPEE_DETAIL, "503", times=3)
	body = shopee_push(shopee, order_sn)
	response = post_push(http, app, SHOPEE, body, {"Authorization": shopee.push_authorization(marketplace_url(SHOPEE), body)})
	assert response.status_code == 200
	name = f"{SHOPEE}:{order_sn}"
	failed = wait_for("the reason", lambda: (row := order_of(name)) and row.needs_fetch and row.error and row)
	assert "platform" in failed.error.lower() and failed.status == "Received"
	row = settled(name, "Ordered", timeout=150)  # the sweeper runs once a minute
	assert frappe.db.count("Sales Order", {"oms_channel_order": name}) == 1
	assert not row.needs_fetch


def order_of(name: str):
	return frappe.db.get_value("Channel Order", name, ["needs_fetch", "error", "status"], as_dict=True)
