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
from oms_connector.tests.deployed.client import api_session, marketplace_url, post_push, settled, stock_up, wait_for
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
	settled(name, "Ordered", timeout=150)  # the sweeper runs once a minute
	# the scheduler's 5-minute poll may read the order first, leaving the push's mark for the
	# next fetch job to clear (reading it again changes nothing): the mark clears, one order
	wait_for("the push's mark to clear", lambda: not order_of(name).needs_fetch, timeout=150)
	assert frappe.db.count("Sales Order", {"oms_channel_order": name}) == 1


def test_shopee_order_from_push_to_payout(app, platforms, http):
	"""One Shopee order as an accountant lives it: pushed, completed, its escrow released into
	the wallet and withdrawn to the bank (the stand-in's wallet and escrow APIs, as Shopee documents
	them), then the finance fetch asked for over the API and run by the worker, and the bank's
	deposit posted over the REST API: the invoice is paid into the clearing account, the charges
	are booked out of it, the payout moves to the bank and reconciles with the deposit."""
	shopee = platforms["shopee"]
	bank_gl, bank_account = _payout_bank()
	frappe.db.set_value("Sales Channel", SHOPEE, "payout_bank_account", bank_gl)
	frappe.db.commit()
	clearing = frappe.db.get_value("Sales Channel", SHOPEE, "clearing_account")
	order_sn = f"SP{new_number(12)}"
	shopee.add_order(shopee_order(order_sn))
	name = f"{SHOPEE}:{order_sn}"
	for status, desk_status in (("READY_TO_SHIP", "Ordered"), ("COMPLETED", "Completed")):
		shopee.orders[order_sn]["order_status"] = status
		body = shopee_push(shopee, order_sn, status)
		response = post_push(http, app, SHOPEE, body, {"Authorization": shopee.push_authorization(marketplace_url(SHOPEE), body)})
		assert response.status_code == 200, response.text
		settled(name, desk_status)
	[payment] = frappe.get_all("Payment Entry", filters={"oms_channel_order": name, "docstatus": 1}, fields=["name", "paid_to"])
	assert payment.paid_to == clearing

	shopee.release_escrow(order_sn)
	escrow_amount = float(shopee.escrow[order_sn]["order_income"]["escrow_amount"])
	withdrawal = shopee.withdraw()
	api = api_session()
	response = api.post(f"{app.url}/api/method/oms_connector.api.marketplace.fetch_finance_now", data={"channel": SHOPEE}, timeout=60)
	assert response.status_code == 200, response.text

	settlement = wait_for(
		"the settlement to be booked",
		lambda: frappe.db.get_value(
			"Marketplace Settlement", {"external_order_id": order_sn, "status": "Booked"}, ["name", "journal_entry", "payout"], as_dict=True
		),
	)
	assert float(settlement.payout) == escrow_amount
	assert _on_account(clearing, payment.name, settlement.journal_entry) == escrow_amount  # what Shopee holds for it
	payout = wait_for(
		"the payout to be booked",
		lambda: frappe.db.get_value(
			"Marketplace Payout", {"sales_channel": SHOPEE, "payout_id": str(withdrawal), "status": "Booked"}, ["name", "payment_entry", "amount"], as_dict=True
		),
	)
	assert float(payout.amount) == escrow_amount
	assert _on_account(clearing, payment.name, settlement.journal_entry, payout.payment_entry) == 0
	deposit = api.post(
		f"{app.url}/api/resource/Bank Transaction",
		json={
			"docstatus": 1,
			"date": frappe.utils.nowdate(),
			"bank_account": bank_account,
			"company": frappe.db.get_value("Sales Channel", SHOPEE, "company"),
			"deposit": escrow_amount,
			"currency": "VND",
			"reference_number": f"SHOPEE WITHDRAWAL {withdrawal}",
		},
		timeout=60,
	)
	assert deposit.status_code == 200, deposit.text
	transaction = deposit.json()["data"]["name"]
	wait_for("the deposit to match the payout", lambda: frappe.db.get_value("Marketplace Payout", payout.name, "bank_transaction") == transaction)
	assert frappe.db.get_value("Bank Transaction", transaction, "status") == "Reconciled"


def _on_account(account: str, *vouchers: str) -> float:
	total = frappe.db.sql(
		"""select sum(debit - credit) from `tabGL Entry` where account = %s and is_cancelled = 0
		and voucher_no in %s""",
		(account, vouchers),
	)[0][0]
	return float(total or 0)


def _payout_bank() -> tuple[str, str]:
	"""A bank ledger account and its Bank Account, where Shopee's withdrawals arrive."""
	gl = fx.ensure_account("OMS Deployed Payout Bank", "Asset", "Bank", parent_hint="Bank Accounts")
	bank = frappe.db.get_value("Bank", "OMS Deployed Bank") or frappe.get_doc({"doctype": "Bank", "bank_name": "OMS Deployed Bank"}).insert().name
	account = frappe.db.get_value("Bank Account", {"account": gl}) or frappe.get_doc(
		{"doctype": "Bank Account", "account_name": "Shopee payouts", "bank": bank, "account": gl, "company": fx.COMPANY, "is_company_account": 1}
	).insert().name
	frappe.db.commit()
	return gl, account


def order_of(name: str):
	return frappe.db.get_value("Channel Order", name, ["needs_fetch", "error", "status"], as_dict=True)
