"""The Shopee connector driven end to end against oms_connector/sandbox/shopee_server.py."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from oms_connector.connectors.base import (
	AuthError,
	ChannelConfig,
	ConnectorError,
	RateLimited,
	RetryableError,
	StockUpdate,
)
from oms_connector.connectors.http import PlatformHTTP
from oms_connector.connectors.shopee import STATUS_MAP, ShopeeConnector, base_string, order_from_shopee, sign
from oms_connector.connectors.shopee.client import classify_error
from oms_connector.domain.order import InvalidOrder, OrderStatus, PaymentMethod
from oms_connector.sandbox.shopee_server import FakeShopee

PARTNER_ID = 2001887
PARTNER_KEY = "fake-partner-key-0123456789abcdef"
SHOP_ID = 14701711
PUSH_URL = "https://oms.example.vn/api/method/oms_connector.api.shopee_push"
ORDER_LIST = "/api/v2/order/get_order_list"
ORDER_DETAIL = "/api/v2/order/get_order_detail"
UPDATE_STOCK = "/api/v2/product/update_stock"


# --- payloads ---------------------------------------------------------------------------
def cod_detail(order_sn: str = "2404098R48U37H", update_time: int = 1713139948, status: str = "READY_TO_SHIP") -> dict:
	"""A get_order_detail order as Shopee VN returns it (shape of the API reference's example):
	COD, masked recipient, three lines, two packages."""
	return {
		"order_sn": order_sn,
		"region": "VN",
		"currency": "VND",
		"cod": True,
		"order_status": status,
		"message_to_seller": "Giao giờ hành chính",
		"create_time": 1712601591,
		"update_time": update_time,
		"days_to_ship": 2,
		"ship_by_date": 1712671200,
		"buyer_user_id": 1170319091,
		"buyer_username": "xt4fdsf96j",
		"estimated_shipping_fee": 5000,
		"actual_shipping_fee": 0,
		"payment_method": "Cash on Delivery",
		"shipping_carrier": "Giao Hàng Nhanh",
		"total_amount": 362000,
		"recipient_address": {
			"name": "P******n",
			"phone": "******64",
			"town": "",
			"district": "Xã Phong Thạnh Tây B",
			"city": "Huyện Phước Long",
			"state": "Bạc Liêu",
			"region": "VN",
			"zipcode": "",
			"full_address": "Ấp******",
		},
		"item_list": [
			{
				"item_id": 23620853561,
				"item_name": "Kem dưỡng da 60g",
				"item_sku": "",
				"model_id": 221404189791,
				"model_name": "60g（Papaya）",
				"model_sku": "QAZ-SADOER-05",
				"model_quantity_purchased": 2,
				"model_original_price": 300000,
				"model_discounted_price": 48000,
				"promotion_type": "flash_sale",
				"weight": 0.01,
				"order_item_id": 23620853561,
			},
			{
				"item_id": 24822331570,
				"item_name": "Lược nhỏ",
				"item_sku": "HZMBB0198",
				"model_id": 0,
				"model_name": "",
				"model_sku": "",
				"model_quantity_purchased": 1,
				"model_original_price": 40000,
				"model_discounted_price": 40000,
				"weight": 0.05,
				"order_item_id": 24822331570,
			},
			{
				"item_id": 25819910186,
				"item_name": "Bộ cọ trang điểm",
				"item_sku": "SXY482",
				"model_id": 232615005081,
				"model_name": "Hồng",
				"model_sku": "SXY482006",
				"model_quantity_purchased": 1,
				"model_original_price": 250000,
				"model_discounted_price": 0,
				"promotion_type": "bundle_deal",
				"weight": 0.2,
				"order_item_id": 25819910186,
			},
		],
		"package_list": [
			{
				"package_number": "OFG166300791210964",
				"logistics_status": "LOGISTICS_READY",
				"shipping_carrier": "SPX Express",
				"item_list": [
					{"item_id": 23620853561, "model_id": 221404189791, "model_quantity": 2},
					{"item_id": 24822331570, "model_id": 0, "model_quantity": 1},
				],
			},
			{
				"package_number": "OFG166300791210965",
				"logistics_status": "LOGISTICS_READY",
				"shipping_carrier": "SPX Express",
				"item_list": [{"item_id": 25819910186, "model_id": 232615005081, "model_quantity": 1}],
			},
		],
	}


def prepaid_detail() -> dict:
	"""The four-line ShopeePay order of the get_escrow_detail example, as get_order_detail shows it."""
	rows = [
		(24173211461, 99542389678, "SXY472001", 21000, 14700),
		(24822331570, 245581210110, "HZMBB0198001", 4000, 3000),
		(25819910186, 232615005081, "SXY482006", 41000, 28900),
		(25823200241, 147257500156, "SXY481001", 8000, 6000),
	]
	return {
		"order_sn": "2405017HD347PQ",
		"region": "VN",
		"currency": "VND",
		"cod": False,
		"order_status": "COMPLETED",
		"create_time": 1714540000,
		"update_time": 1715000000,
		"buyer_user_id": 55512,
		"buyer_username": "ng_phuong48",
		"payment_method": "ShopeePay Linked Bank Account",
		"total_amount": 48440,
		"recipient_address": {
			"name": "Nguyễn Phương",
			"phone": "84912345678",
			"district": "Phường Bến Nghé",
			"city": "Quận 1",
			"state": "TP. Hồ Chí Minh",
			"region": "VN",
			"full_address": "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
		},
		"item_list": [
			{"item_id": i, "model_id": m, "model_sku": sku, "item_name": sku, "model_quantity_purchased": 1, "model_original_price": o, "model_discounted_price": d}
			for i, m, sku, o, d in rows
		],
		"package_list": [
			{"package_number": "OFG1", "shipping_carrier": "SPX Express", "item_list": [{"item_id": i, "model_id": m, "model_quantity": 1} for i, m, *_ in rows]}
		],
	}


def escrow_example() -> dict:
	"""get_escrow_detail's documented VN example (response object), plus VN withholding taxes."""
	items = [
		(24173211461, 99542389678, "SXY472001", 21000, 14700, 6300),
		(24822331570, 245581210110, "HZMBB0198001", 4000, 3000, 1000),
		(25819910186, 232615005081, "SXY482006", 41000, 28900, 12100),
		(25823200241, 147257500156, "SXY481001", 8000, 6000, 2000),
	]
	return {
		"order_sn": "2405017HD347PQ",
		"buyer_user_name": "ng_phuong48",
		"return_order_sn_list": ["2405060KVC6EQB3"],
		"buyer_payment_info": {
			"buyer_payment_method": "ShopeePay Linked Bank Account",
			"buyer_total_amount": 48440,
			"credit_card_promotion": 0,
			"merchant_subtotal": 52600,
			"seller_voucher": 0,
			"shipping_fee": 2000,
			"shopee_coins_redeemed": -900,
			"shopee_voucher": -5260,
		},
		"order_income": {
			"actual_shipping_fee": 0,
			"buyer_paid_shipping_fee": 2000,
			"buyer_payment_method": "ShopeePay Linked Bank Account",
			"buyer_total_amount": 48440,
			"coins": 400,
			"commission_fee": 0,
			"cost_of_goods_sold": 23700,
			"credit_card_transaction_fee": 848,
			"drc_adjustable_refund": 25510,
			"escrow_amount": 37719,
			"estimated_shipping_fee": 17000,
			"final_shipping_fee": 15000,
			"instalment_plan": "N/A",
			"items": [
				{"item_id": i, "model_id": m, "model_sku": sku, "original_price": o, "discounted_price": d, "seller_discount": s, "shopee_discount": 0, "quantity_purchased": 1}
				for i, m, sku, o, d, s in items
			],
			"order_discounted_price": 23700,
			"order_original_price": 74000,
			"seller_discount": 9300,
			"seller_return_refund": -28900,
			"seller_transaction_fee": 848,
			"seller_voucher_code": [],
			"service_fee": 2133,
			"shopee_discount": 0,
			"shopee_shipping_rebate": 15000,
			"voucher_from_seller": 0,
			"voucher_from_shopee": 2370,
			"withholding_tax": 0,
			"withholding_vat_tax": 1000,
			"withholding_pit_tax": 500,
		},
	}


# --- fixtures ---------------------------------------------------------------------------
@pytest.fixture
def fake():
	with FakeShopee(partner_id=PARTNER_ID, partner_key=PARTNER_KEY, shop_id=SHOP_ID) as server:
		yield server


def make_connector(fake: FakeShopee, access: str = "", refresh: str = "", **kwargs) -> ShopeeConnector:
	config = ChannelConfig(
		base_url=fake.base_url,
		app_key=str(PARTNER_ID),
		app_secret=kwargs.pop("secret", PARTNER_KEY),
		shop_id=str(SHOP_ID),
		access_token=access,
		refresh_token=refresh,
		extra={"currency": "VND"},
	)
	return ShopeeConnector(config, http=PlatformHTTP(attempts=3, sleep=lambda s: None, timeout=5), **kwargs)


@pytest.fixture
def connector(fake):
	access, refresh = fake.issue_tokens()
	return make_connector(fake, access, refresh)


# --- signing ----------------------------------------------------------------------------
def test_base_string_matches_the_documented_example():
	# Developer guide "API calls", Shop API example.
	assert (
		base_string(2001887, "/api/v2/shop/get_shop_info", 1655714431, "59777174636562737266615546704c6d", 14701711)
		== "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
	)
	assert base_string(2001887, "/api/v2/public/get_shops_by_partner", 1655714431) == "2001887/api/v2/public/get_shops_by_partner1655714431"
	expected = hmac.new(b"key", b"2001887/api/v2/shop/auth_partner1594897040", hashlib.sha256).hexdigest()
	assert sign("key", 2001887, "/api/v2/shop/auth_partner", 1594897040) == expected
	assert expected == expected.lower() and len(expected) == 64


# --- authorization ----------------------------------------------------------------------
def test_authorization_url_then_code_exchange(fake):
	connector = make_connector(fake)
	url = connector.authorization_url("https://oms.example.vn/shopee/callback", state="ch-1")
	query = parse_qs(urlsplit(url).query)
	assert urlsplit(url).path == "/api/v2/shop/auth_partner"
	assert query["redirect"] == ["https://oms.example.vn/shopee/callback?state=ch-1"]

	# The fake checks the public sign and timestamp, then "the seller" authorizes.
	answer = requests.get(url, allow_redirects=False, timeout=5)
	assert answer.status_code == 302, answer.text
	back = parse_qs(urlsplit(answer.headers["Location"]).query)
	assert back["state"] == ["ch-1"] and back["shop_id"] == [str(SHOP_ID)]

	tokens = connector.exchange_code(back["code"][0], shop_id=back["shop_id"][0])
	assert tokens.access_token and tokens.refresh_token and tokens.shop_id == str(SHOP_ID)
	assert tokens.access_expires_at - datetime.now(timezone.utc) > timedelta(hours=3, minutes=59)
	fake.add_order(cod_detail("AUTH1"))
	assert connector.get_order_details(["AUTH1"])[0]["order_sn"] == "AUTH1"  # the new token works
	body = json.loads(fake.calls_to("/api/v2/auth/token/get")[0]["body"])
	assert body == {"code": back["code"][0], "partner_id": PARTNER_ID, "shop_id": SHOP_ID}

	with pytest.raises(AuthError):  # the code is single-use
		connector.exchange_code(back["code"][0], shop_id=back["shop_id"][0])


def test_tampered_authorization_url_is_refused(fake):
	url = make_connector(fake).authorization_url("https://oms.example.vn/cb")
	query = parse_qs(urlsplit(url).query)
	forged = url.replace(query["sign"][0], hmac.new(b"guess", b"x", hashlib.sha256).hexdigest())
	answer = requests.get(forged, allow_redirects=False, timeout=5)
	assert answer.status_code == 403 and answer.json()["error"] == "error_sign"


def test_refresh_token_is_single_use(fake, connector):
	old_refresh = connector.config.refresh_token
	tokens = connector.refresh_tokens()
	assert tokens.refresh_token != old_refresh
	assert connector.config.access_token == tokens.access_token  # the connector moves on too
	body = json.loads(fake.calls_to("/api/v2/auth/access_token/get")[0]["body"])
	assert body == {"refresh_token": old_refresh, "partner_id": PARTNER_ID, "shop_id": SHOP_ID}

	stale = make_connector(fake, "", old_refresh)
	with pytest.raises(AuthError):
		stale.refresh_tokens()
	fake.add_order(cod_detail())
	assert connector.get_order_details(["2404098R48U37H"])[0]["order_sn"] == "2404098R48U37H"


# --- polling ----------------------------------------------------------------------------
def test_poll_40_days_in_15_day_slices_with_paging(fake, connector):
	until = datetime(2024, 6, 30, tzinfo=timezone.utc)
	since = until - timedelta(days=40)
	start = int(since.timestamp())
	expected = set()
	for n in range(130):  # 130 orders in the first slice: two pages there
		sn = f"A{n:04d}"
		fake.add_order(cod_detail(sn, update_time=start + 3600 + n * 60))
		expected.add(sn)
	for n in range(30):
		sn = f"B{n:04d}"
		fake.add_order(cod_detail(sn, update_time=start + 20 * 86400 + n))
		expected.add(sn)
	for n in range(5):
		sn = f"C{n:04d}"
		fake.add_order(cod_detail(sn, update_time=start + 38 * 86400 + n))
		expected.add(sn)
	fake.add_order(cod_detail("EDGE", update_time=start + 15 * 86400))  # on a slice boundary
	expected.add("EDGE")
	fake.add_order(cod_detail("LATE", update_time=int(until.timestamp()) + 10))

	found = list(connector.list_updated_orders(since, until))
	assert sorted(found) == sorted(expected) and len(found) == len(set(found))

	calls = fake.calls_to(ORDER_LIST)
	windows = sorted({(int(c["query"]["time_from"][0]), int(c["query"]["time_to"][0])) for c in calls})
	assert len(windows) == 3
	assert windows[0][0] == start and windows[-1][1] == int(until.timestamp())
	assert all(to - frm <= 15 * 86400 for frm, to in windows)
	assert all(c["query"]["page_size"] == ["100"] and c["query"]["time_range_field"] == ["update_time"] for c in calls)
	assert len(calls) == 4  # the first slice took two pages
	assert calls[1]["query"]["cursor"] == ["100"]


def test_details_are_fetched_50_at_a_time(fake, connector):
	ids = [f"D{n:04d}" for n in range(120)]
	for sn in ids:
		fake.add_order(cod_detail(sn))
	details = connector.get_order_details(ids)
	assert sorted(d["order_sn"] for d in details) == ids
	calls = fake.calls_to(ORDER_DETAIL)
	assert [len(c["query"]["order_sn_list"][0].split(",")) for c in calls] == [50, 50, 20]
	# The optional fields the mapper reads were asked for, so they came back.
	assert details[0]["item_list"] and details[0]["recipient_address"] and details[0]["package_list"]
	order = connector.map_order(details[0])
	assert order.external_order_id == "D0000" and len(order.lines) == 3


# --- push -------------------------------------------------------------------------------
def test_webhook_signature_and_parsing(fake, connector):
	body = json.dumps(
		{"data": {"items": [], "ordersn": "220810QSK8S7BX", "status": "PROCESSED", "completed_scenario": "", "update_time": 1660123127}, "shop_id": SHOP_ID, "code": 3, "timestamp": 1660123127}
	).encode()
	authorization = fake.push_authorization(PUSH_URL, body)
	assert connector.verify_webhook({"Authorization": authorization}, body, PUSH_URL)
	assert connector.verify_webhook({"authorization": authorization}, body, PUSH_URL)  # header case
	assert not connector.verify_webhook({"Authorization": authorization}, body.replace(b"PROCESSED", b"CANCELLED"), PUSH_URL)
	assert not connector.verify_webhook({"Authorization": authorization}, body, PUSH_URL + "?x=1")
	assert not connector.verify_webhook({"Authorization": "0" * 64}, body, PUSH_URL)
	assert not connector.verify_webhook({}, body, PUSH_URL)
	forged = hmac.new(b"someone-else", PUSH_URL.encode() + b"|" + body, hashlib.sha256).hexdigest()
	assert connector.verify_webhook({"Authorization": forged}, body, PUSH_URL) is False

	[event] = connector.parse_webhook(body)
	assert (event.kind, event.order_id, event.status) == ("order_status", "220810QSK8S7BX", "PROCESSED")
	assert event.data["shop_id"] == SHOP_ID
	assert STATUS_MAP[event.status] == OrderStatus.CONFIRMED

	tracking = json.dumps({"data": {"ordersn": "220810QSK8S7BX", "package_number": "OFG1", "tracking_no": "SPXVN1"}, "shop_id": SHOP_ID, "code": 4, "timestamp": 1}).encode()
	[event] = connector.parse_webhook(tracking)
	assert (event.kind, event.order_id) == ("tracking", "220810QSK8S7BX")
	assert connector.parse_webhook(b'{"code": 12, "data": {}}')[0].kind == "other"
	with pytest.raises(ConnectorError):
		connector.parse_webhook(b"not json")


def test_lost_push_messages_are_read_then_confirmed(fake, connector):
	fake.add_lost_push(3, {"ordersn": "A1", "status": "READY_TO_SHIP", "update_time": 1})
	fake.add_lost_push(4, {"ordersn": "A1", "tracking_no": "SPXVN9"})
	last = fake.add_lost_push(3, {"ordersn": "A2", "status": "CANCELLED", "update_time": 2})
	batch = connector.get_lost_push_messages()
	assert [(e.kind, e.order_id, e.status) for e in batch.events] == [
		("order_status", "A1", "READY_TO_SHIP"),
		("tracking", "A1", ""),
		("order_status", "A2", "CANCELLED"),
	]
	assert batch.last_message_id == last and not batch.has_next_page
	# Public API: signed without access_token / shop_id.
	assert "access_token" not in fake.calls_to("/api/v2/push/get_lost_push_message")[0]["query"]
	connector.confirm_lost_push(batch.last_message_id)
	assert connector.get_lost_push_messages().events == []


# --- fulfilment -------------------------------------------------------------------------
def test_ship_then_tracking(fake, connector):
	fake.add_order(cod_detail("SHIP1"))
	info = connector.ship_order("SHIP1")
	ship = json.loads(fake.calls_to("/api/v2/logistics/ship_order")[0]["body"])
	# The pickup_address-flagged address at Shopee's recommended slot; no empty package_number.
	assert ship == {"order_sn": "SHIP1", "pickup": {"address_id": 234, "pickup_time_id": "slot-2"}}
	assert info.tracking_number == fake.tracking["SHIP1"] != ""
	assert connector.get_tracking_number("SHIP1") == info.tracking_number
	assert fake.orders["SHIP1"]["order_status"] == "PROCESSED"
	with pytest.raises(ConnectorError) as failure:  # cannot arrange twice
		connector.ship_order("SHIP1", pickup={"address_id": 234, "pickup_time_id": "slot-2"})
	assert not failure.value.retryable


def test_order_details_carry_tracking_numbers_once_shipped(fake, connector):
	fake.add_order(cod_detail("TRK1"))
	[before] = connector.get_order_details(["TRK1"])
	assert all(not s.tracking_number for s in connector.map_order(before).shipments)
	assert not fake.calls_to("/api/v2/logistics/get_tracking_number")  # not asked before shipping
	info = connector.ship_order("TRK1")
	[after] = connector.get_order_details(["TRK1"])
	numbers = {s.tracking_number for s in connector.map_order(after).shipments}
	assert numbers == {info.tracking_number}


def test_cancel_sends_out_of_stock_with_every_item(fake, connector):
	fake.add_order(cod_detail("CXL1"))
	connector.cancel_order("CXL1", reason="customer changed mind")
	body = json.loads(fake.calls_to("/api/v2/order/cancel_order")[0]["body"])
	assert body["cancel_reason"] == "OUT_OF_STOCK"
	assert body["item_list"] == [
		{"item_id": 23620853561, "model_id": 221404189791},
		{"item_id": 24822331570, "model_id": 0},
		{"item_id": 25819910186, "model_id": 232615005081},
	]
	assert fake.orders["CXL1"]["order_status"] == "CANCELLED"
	fake.add_order(cod_detail("CXL2", status="SHIPPED"))
	with pytest.raises(ConnectorError) as failure:
		connector.cancel_order("CXL2", item_list=[{"item_id": 1, "model_id": 2}])
	assert failure.value.code == "order.error_limit" and not failure.value.retryable


# --- stock ------------------------------------------------------------------------------
def test_stock_push_splits_120_models_into_3_calls(fake, connector):
	models = [{"model_id": 9000 + n, "model_sku": f"TEE-{n:03d}", "stock": 0} for n in range(120)]
	fake.add_item(555, "Áo thun", models=models)
	fake.add_item(777, "Nón lá", sku="NON-LA")
	fake.stock_failures[(555, 9003)] = "stock less than reserved stock"
	fake.stock_failures[(555, 9110)] = "model is in promotion"
	updates = [StockUpdate("555", str(9000 + n), f"TEE-{n:03d}", n) for n in range(120)]
	updates.insert(60, StockUpdate("777", "", "NON-LA", 7))
	updates.append(StockUpdate("555", "424242", "GHOST", 1))  # a model Shopee does not know
	updates.append(StockUpdate("abc", "", "BAD", 1))

	results = connector.push_stock(updates)
	assert [r.update for r in results] == updates
	calls = [json.loads(c["body"]) for c in fake.calls_to(UPDATE_STOCK)]
	assert sorted((c["item_id"], len(c["stock_list"])) for c in calls) == [(555, 21), (555, 50), (555, 50), (777, 1)]
	assert {"model_id": 0, "seller_stock": [{"stock": 7}]} in calls[[c["item_id"] for c in calls].index(777)]["stock_list"]

	failed = {r.update.sku: r for r in results if not r.ok}
	assert set(failed) == {"TEE-003", "TEE-110", "GHOST", "BAD"}
	assert failed["TEE-003"].message == "stock less than reserved stock" and not failed["TEE-003"].retryable
	assert fake.items[555]["models"][9119]["stock"] == 119 and fake.items[777]["stock"] == 7


def test_stock_push_keeps_going_when_one_call_fails(fake, connector):
	fake.add_item(1, "A", models=[{"model_id": 11, "model_sku": "A-1"}])
	fake.add_item(2, "B", models=[{"model_id": 21, "model_sku": "B-1"}])
	fake.fail(UPDATE_STOCK, "503", times=3)  # the first item's call exhausts its retries
	results = connector.push_stock([StockUpdate("1", "11", "A-1", 3), StockUpdate("2", "21", "B-1", 4)])
	assert [(r.ok, r.retryable) for r in results] == [(False, True), (True, False)]


def test_read_stock_returns_what_was_pushed(fake, connector):
	fake.add_item(10, "Áo thun", models=[{"model_id": 101, "model_sku": "TEE-S"}, {"model_id": 102, "model_sku": "TEE-M"}])
	fake.add_item(20, "Nón lá", sku="NON-LA")
	pushed = [StockUpdate("10", "101", "TEE-S", 4), StockUpdate("10", "102", "TEE-M", 0), StockUpdate("20", "", "NON-LA", 9)]
	assert all(r.ok for r in connector.push_stock(pushed))

	asked = [StockUpdate(u.listing_id, u.variant_id, u.sku, -1) for u in pushed]  # qty is ignored
	unknown = [
		StockUpdate("10", "999", "TEE-GHOST", 0),  # a model the item does not have
		StockUpdate("424242", "", "GONE", 0),  # an item Shopee does not know
		StockUpdate("20", "777", "NON-LA-X", 0),  # a model on an item without models
		StockUpdate("abc", "", "BAD", 0),
	]
	stock = connector.read_stock(asked + unknown)
	assert stock == {asked[0]: 4, asked[1]: 0, asked[2]: 9}
	assert all(any(key is listing for listing in asked) for key in stock)  # the very objects passed in
	assert len(fake.calls_to("/api/v2/product/get_item_base_info")) == 1
	assert [c["query"]["item_id"] for c in fake.calls_to("/api/v2/product/get_model_list")] == [["10"]]
	assert fake.calls_to("/api/v2/product/get_model_list")[0]["method"] == "GET"


def test_read_stock_per_location_and_summary(fake, connector):
	fake.add_item(30, "Dép", models=[{"model_id": 301, "model_sku": "DEP-1"}])
	connector.push_stock([StockUpdate("30", "301", "DEP-1", 5, warehouse_id="VNA"), StockUpdate("30", "301", "DEP-1", 6, warehouse_id="VNB")])
	hanoi, saigon, total, nowhere = (StockUpdate("30", "301", "DEP-1", 0, warehouse_id=w) for w in ("VNA", "VNB", "", "VNX"))
	assert connector.read_stock([hanoi, saigon, total, nowhere]) == {hanoi: 5, saigon: 6, total: 11}


def test_read_stock_batches_60_items_into_2_base_info_calls(fake, connector):
	for n in range(60):
		fake.add_item(1000 + n, f"Item {n}", sku=f"SKU-{n}")
	updates = [StockUpdate(str(1000 + n), "", f"SKU-{n}", n) for n in range(60)]
	connector.push_stock(updates)
	fake.calls.clear()
	assert connector.read_stock(updates) == {u: u.qty for u in updates}
	sizes = [len(c["query"]["item_id_list"][0].split(",")) for c in fake.calls_to("/api/v2/product/get_item_base_info")]
	assert sizes == [50, 10]
	assert fake.calls_to("/api/v2/product/get_model_list") == []  # no models: base info carries the stock


def test_read_stock_retries_429_and_5xx(fake, connector):
	fake.add_item(40, "Ví", models=[{"model_id": 401, "model_sku": "VI-1"}])
	update = StockUpdate("40", "401", "VI-1", 12)
	connector.push_stock([update])
	fake.fail("/api/v2/product/get_item_base_info", "429")
	fake.fail("/api/v2/product/get_model_list", "503")
	assert connector.read_stock([update]) == {update: 12}
	assert len(fake.calls_to("/api/v2/product/get_item_base_info")) == 2
	assert len(fake.calls_to("/api/v2/product/get_model_list")) == 2
	fake.fail("/api/v2/product/get_model_list", "503", times=3)
	with pytest.raises(RetryableError):
		connector.read_stock([update])


def test_read_stock_of_nothing_calls_nothing(fake, connector):
	assert connector.read_stock([]) == {}
	assert fake.calls == []


# --- money ------------------------------------------------------------------------------
def test_settlement_maps_order_income(fake, connector):
	fake.escrow["2405017HD347PQ"] = escrow_example()
	settlement = connector.get_settlement("2405017HD347PQ")
	assert settlement.payout == Decimal(37719)
	assert settlement.commission_fee == 0 and settlement.service_fee == Decimal(2133)
	assert settlement.transaction_fee == Decimal(848)
	assert settlement.shipping_rebate == Decimal(15000)
	assert settlement.platform_voucher == Decimal(2370)
	assert settlement.withheld_tax == Decimal(1500)  # VAT 1000 + PIT 500 withheld for a VN household seller
	assert settlement.other["seller_return_refund"] == Decimal(-28900)
	assert settlement.other["final_shipping_fee"] == Decimal(15000)
	assert "escrow_amount" not in settlement.other and "instalment_plan" not in settlement.other
	with pytest.raises(ConnectorError) as failure:
		connector.get_settlement("UNKNOWN")
	assert failure.value.code == "order_not_found"


# --- retries and errors -----------------------------------------------------------------
def test_429_then_success(fake, connector):
	fake.add_order(cod_detail("R1"))
	fake.fail(ORDER_DETAIL, "429", times=2)
	assert connector.get_order_details(["R1"])[0]["order_sn"] == "R1"
	calls = fake.calls_to(ORDER_DETAIL)
	assert len(calls) == 3


def test_busy_answers_are_retried(fake, connector):
	fake.add_order(cod_detail("R2"))
	fake.fail(ORDER_DETAIL, "error_busy")
	fake.fail(ORDER_DETAIL, "error_server", message="Too many requests, please try again later")
	assert connector.get_order_details(["R2"])[0]["order_sn"] == "R2"
	assert len(fake.calls_to(ORDER_DETAIL)) == 3


def test_5xx_exhausted_raises_retryable(fake, connector):
	fake.add_order(cod_detail("R3"))
	fake.fail(ORDER_DETAIL, "502", times=5)
	with pytest.raises(RetryableError):
		connector.get_order_details(["R3"])
	assert len(fake.calls_to(ORDER_DETAIL)) == 3  # attempts=3


@pytest.mark.parametrize("code", ["invalid_access_token", "invalid_acceess_token", "error_auth"])
def test_expired_token_raises_auth_error_then_refresh_recovers(fake, connector, code):
	fake.add_order(cod_detail("T1"))
	fake.expire_access_token(connector.config.access_token, error=code)
	with pytest.raises(AuthError) as failure:
		connector.get_order_details(["T1"])
	assert failure.value.code == code
	assert len(fake.calls_to(ORDER_DETAIL)) == 1  # auth errors are not retried
	connector.refresh_tokens()
	assert connector.get_order_details(["T1"])[0]["order_sn"] == "T1"


def test_wrong_key_and_stale_timestamp_are_refused(fake, connector):
	fake.add_order(cod_detail("S1"))
	wrong = make_connector(fake, connector.config.access_token, secret="not-the-key")
	with pytest.raises(ConnectorError) as failure:
		wrong.get_order_details(["S1"])
	assert failure.value.code == "error_sign" and not failure.value.retryable
	stale = make_connector(fake, connector.config.access_token, clock=lambda: datetime.now().timestamp() - 600)
	with pytest.raises(ConnectorError) as failure:
		stale.get_order_details(["S1"])
	assert failure.value.code == "error_param" and "timestamp" in str(failure.value)


def test_error_classification():
	assert isinstance(classify_error("common.error_auth", "Invalid access_token."), AuthError)
	assert isinstance(classify_error("error_system_busy", "Our system is taking some time to respond"), RateLimited)
	assert isinstance(classify_error("ads.rate_limit.exceed_api", "Too many requests"), RateLimited)
	assert isinstance(classify_error("error_inner", "System error"), RetryableError)
	plain = classify_error("error_param", "Wrong parameters")
	assert type(plain) is ConnectorError and not plain.retryable


# --- products ---------------------------------------------------------------------------
def test_list_products(fake, connector):
	fake.add_item(10, "Áo thun", models=[{"model_id": 101, "model_sku": "TEE-S", "option": "S"}, {"model_id": 102, "model_sku": "TEE-M", "option": "M"}])
	fake.add_item(20, "Nón lá", sku="NON-LA")
	fake.add_item(30, "Hết bán", sku="OLD", status="SELLER_DELETE")
	listings = list(connector.list_products())
	assert [(l.listing_id, l.variant_id, l.sku, l.title) for l in listings] == [
		("10", "101", "TEE-S", "Áo thun - S"),
		("10", "102", "TEE-M", "Áo thun - M"),
		("20", "", "NON-LA", "Nón lá"),
	]
	assert fake.calls_to("/api/v2/product/get_item_list")[0]["query"]["item_status"] == ["NORMAL", "UNLIST"]


# --- mapper -----------------------------------------------------------------------------
def test_mapper_cod_multi_item_multi_package():
	order = order_from_shopee(cod_detail())
	assert order.external_order_id == "2404098R48U37H"
	assert order.status == OrderStatus.CONFIRMED and order.payment_method == PaymentMethod.COD
	assert order.currency == "VND" and order.note == "Giao giờ hành chính"
	flash, comb, bundle = order.lines
	assert (flash.sku, flash.qty, flash.unit_price, flash.seller_discount) == ("QAZ-SADOER-05", 2, 300000, 504000)
	assert flash.listing_id == "23620853561" and flash.external_line_id == "23620853561:221404189791"
	assert (comb.sku, comb.seller_discount, comb.external_line_id) == ("HZMBB0198", 0, "24822331570:0")  # item_sku fallback
	assert (bundle.sku, bundle.seller_discount) == ("SXY482006", 0)  # bundle price 0 is not a 100 % discount
	# Vouchers and buyer-paid shipping are unknowable from the detail: nothing invented.
	assert order.shipping_fee == 0 and order.order_discount == 0 and order.platform_total is None
	address = order.shipping_address
	assert (address.province, address.district, address.ward) == ("Bạc Liêu", "Huyện Phước Long", "Xã Phong Thạnh Tây B")
	assert address.phone is None and address.country == "Vietnam" and address.is_complete
	assert order.buyer.name == "xt4fdsf96j" and order.buyer.platform_buyer_id == "1170319091"
	assert order.buyer.identity_phone is None  # masked
	assert [(s.package_id, s.carrier, s.lines) for s in order.shipments] == [
		("OFG166300791210964", "SPX Express", {"QAZ-SADOER-05": Decimal(2), "HZMBB0198": Decimal(1)}),
		("OFG166300791210965", "SPX Express", {"SXY482006": Decimal(1)}),
	]
	assert order.created_at == datetime(2024, 4, 8, 18, 39, 51, tzinfo=timezone.utc)


def test_mapper_prepaid_with_escrow_reconciles():
	detail = prepaid_detail()
	plain = order_from_shopee(detail)
	assert plain.payment_method == PaymentMethod.PREPAID and plain.status == OrderStatus.COMPLETED
	assert plain.shipping_address.phone == "84912345678" and plain.buyer.identity_phone == "0912345678"
	assert plain.buyer.name == "Nguyễn Phương" and plain.platform_total is None

	order = order_from_shopee(detail, escrow={"response": escrow_example()})
	assert order.items_total == 74000 and order.line_discounts == 21400
	assert order.seller_voucher == 0 and order.platform_voucher == 6160  # Shopee voucher 5260 + coins 900
	assert order.shipping_fee == 2000
	assert order.platform_total == Decimal(48440) == order.buyer_paid


def test_mapper_splits_platform_funded_discounts():
	detail = prepaid_detail()
	escrow = escrow_example()
	row = escrow["order_income"]["items"][0]
	row["seller_discount"], row["shopee_discount"] = 4300, 2000
	order = order_from_shopee(detail, escrow=escrow)
	assert (order.lines[0].seller_discount, order.lines[0].platform_discount) == (4300, 2000)
	assert order.platform_total == 48440


@pytest.mark.parametrize(
	"word,status",
	[
		("UNPAID", OrderStatus.UNPAID),
		("READY_TO_SHIP", OrderStatus.CONFIRMED),
		("PROCESSED", OrderStatus.CONFIRMED),
		("RETRY_SHIP", OrderStatus.CONFIRMED),
		("SHIPPED", OrderStatus.SHIPPED),
		("TO_CONFIRM_RECEIVE", OrderStatus.DELIVERED),
		("IN_CANCEL", OrderStatus.CONFIRMED),
		("CANCELLED", OrderStatus.CANCELLED),
		("TO_RETURN", OrderStatus.RETURNED),
		("COMPLETED", OrderStatus.COMPLETED),
		("INVOICE_PENDING", OrderStatus.CONFIRMED),
	],
)
def test_every_shopee_status_maps(word, status):
	assert order_from_shopee(cod_detail(status=word)).status == status


def test_mapper_refuses_what_it_cannot_read():
	with pytest.raises(InvalidOrder, match="order_status"):
		order_from_shopee(cod_detail(status="TELEPORTED"))
	detail = cod_detail()
	del detail["item_list"]
	with pytest.raises(InvalidOrder, match="item_list"):
		order_from_shopee(detail)
	detail = cod_detail()
	detail["item_list"][1]["item_sku"] = ""
	with pytest.raises(InvalidOrder, match="no SKU"):
		order_from_shopee(detail)
	detail = copy.deepcopy(cod_detail())
	detail["item_list"][0]["model_quantity_purchased"] = 0
	with pytest.raises(InvalidOrder, match="quantity 0"):
		order_from_shopee(detail)


def test_request_timeout_comes_from_the_channel_settings_within_bounds():
	from oms_connector.connectors.base import request_timeout

	assert request_timeout({}) == 30.0
	assert request_timeout({"timeout_seconds": 5}) == 5.0
	assert request_timeout({"timeout_seconds": 0.01}) == 1.0
	assert request_timeout({"timeout_seconds": 10_000}) == 120.0
	assert request_timeout({"timeout_seconds": "soon"}) == 30.0
	assert request_timeout({"timeout_seconds": float("nan")}) == 30.0
