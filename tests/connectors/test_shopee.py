"""The Shopee connector driven end to end against oms_connector/sandbox/shopee_server.py, and
its mapper on Shopee's own published examples (tests/connectors/shopee_published/, sources there
and in PUBLISHED_SOURCES)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
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
from oms_connector.connectors.shopee import STATUS_MAP, ShopeeConnector, base_string, order_from_payload, order_from_shopee, sign
from oms_connector.connectors.shopee.client import classify_error
from oms_connector.connectors.shopee.mapper import shopee_payload
from oms_connector.domain.order import InvalidOrder, OrderStatus, PaymentMethod
from oms_connector.domain.settlement import ChargeKind
from oms_connector.erp.platforms import map_payload, peek_order_id
from oms_connector.sandbox.shopee_server import FakeShopee

PARTNER_ID = 2001887
PARTNER_KEY = "fake-partner-key-0123456789abcdef"
SHOP_ID = 14701711
PUSH_URL = "https://oms.example.vn/api/method/oms_connector.api.shopee_push"
ORDER_LIST = "/api/v2/order/get_order_list"
ORDER_DETAIL = "/api/v2/order/get_order_detail"
UPDATE_STOCK = "/api/v2/product/update_stock"
ESCROW_DETAIL = "/api/v2/payment/get_escrow_detail"

# Shopee's published response examples, as Shopee's Open Platform serves them (the API reference
# pages' "Response Example"), kept in the shopee_published/ folder. Shopee replaces its examples
# now and then; the snapshots of its API reference that congminh1254/shopee-sdk commits daily
# (schemas/<api>.json, field response_sample) hold each revision:
PUBLISHED = Path(__file__).parent / "shopee_published"
PUBLISHED_SOURCES = {
	# COD order 2404098R48U37H, VN; Shopee's JSON has two typos (a doubled "{" and a missing
	# comma after "logistics_channel_id"), fixed in the copy, nothing else changed.
	"get_order_detail.json": "https://open.shopee.com/documents/v2/v2.order.get_order_detail?module=94&type=1"
	" (congminh1254/shopee-sdk@cb231e9bdf6d6996b0c9d81825fc10e1acb39246 schemas/v2.order.get_order_detail.json)",
	# ShopeePay order 2405017HD347PQ, VN, with a return: the example until October 2025.
	"get_escrow_detail_vn.json": "https://open.shopee.com/documents/v2/v2.payment.get_escrow_detail?module=97&type=1"
	" (congminh1254/shopee-sdk@381284b0f34dcd5e69419d6ea75d3752bea7546c schemas/v2.payment.get_escrow_detail.json)",
	# Card order 251021P1YSSN5U, SG (two decimals): the example from October 2025 to May 2026.
	"get_escrow_detail_sg.json": "https://open.shopee.com/documents/v2/v2.payment.get_escrow_detail?module=97&type=1"
	" (congminh1254/shopee-sdk@2bb34333db7e60e596ed7cbb3544f74db8cb9872 schemas/v2.payment.get_escrow_detail.json)",
}


# --- payloads ---------------------------------------------------------------------------
def cod_detail(order_sn: str = "2404098R48U37H", update_time: int = 1713139948, status: str = "READY_TO_SHIP") -> dict:
	"""A get_order_detail order as Shopee VN returns it (shape of the API reference's example):
	COD, masked recipient, three lines, two packages, no voucher and free shipping (so
	total_amount is what the lines add up to: 2 x 48,000 + 40,000 + the bundle item's 250,000)."""
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
		"total_amount": 386000,
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
	"""A ShopeePay order of four items bought without vouchers, shipped free, as get_order_detail
	shows it (written for these tests: total_amount is what the lines add up to)."""
	rows = [
		(24173211461, 99542389678, "SXY472001", 21000, 14700),
		(24822331570, 245581210110, "HZMBB0198001", 4000, 3000),
		(25819910186, 232615005081, "SXY482006", 41000, 28900),
		(25823200241, 147257500156, "SXY481001", 8000, 6000),
	]
	return {
		"order_sn": "2405027PX3K9QA",
		"region": "VN",
		"currency": "VND",
		"cod": False,
		"order_status": "COMPLETED",
		"create_time": 1714540000,
		"update_time": 1715000000,
		"buyer_user_id": 55512,
		"buyer_username": "ng_phuong48",
		"payment_method": "ShopeePay Linked Bank Account",
		"total_amount": 52600,
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
	"""The get_escrow_detail "response" of prepaid_detail()'s order (written for these tests):
	Shopee funds 2,000 of the first line's 6,300 discount, the seller the rest."""
	items = [
		(24173211461, 99542389678, "SXY472001", 21000, 14700, 4300, 2000),
		(24822331570, 245581210110, "HZMBB0198001", 4000, 3000, 1000, 0),
		(25819910186, 232615005081, "SXY482006", 41000, 28900, 12100, 0),
		(25823200241, 147257500156, "SXY481001", 8000, 6000, 2000, 0),
	]
	return {
		"order_sn": "2405027PX3K9QA",
		"buyer_user_name": "ng_phuong48",
		"return_order_sn_list": [],
		"buyer_payment_info": {
			"buyer_payment_method": "ShopeePay Linked Bank Account",
			"buyer_total_amount": 52600,
			"credit_card_promotion": 0,
			"merchant_subtotal": 52600,
			"seller_voucher": 0,
			"shipping_fee": 0,
			"shopee_coins_redeemed": 0,
			"shopee_voucher": 0,
		},
		"order_income": {
			"buyer_paid_shipping_fee": 0,
			"buyer_total_amount": 52600,
			"coins": 0,
			"commission_fee": 2630,
			"escrow_amount": 49970,
			"items": [
				{"item_id": i, "model_id": m, "model_sku": sku, "original_price": o, "discounted_price": d, "seller_discount": s, "shopee_discount": p, "quantity_purchased": 1}
				for i, m, sku, o, d, s, p in items
			],
			"seller_discount": 19400,
			"shopee_discount": 2000,
			"voucher_from_seller": 0,
			"voucher_from_shopee": 0,
		},
	}


def published(name: str) -> dict:
	"""The "response" of one of Shopee's published examples (PUBLISHED_SOURCES says whence)."""
	return json.loads((PUBLISHED / name).read_text(encoding="utf-8"))["response"]


def published_cod_detail() -> dict:
	return published("get_order_detail.json")["order_list"][0]


def detail_of_escrow(escrow: dict, payment_method: str, currency: str) -> dict:
	"""get_order_detail's object for the order of one of Shopee's published escrow examples.

	Shopee published no detail of those orders, so this one is written from the escrow: its items
	at their original and discounted price, its buyer_total_amount as total_amount."""
	items = [
		{
			"item_id": row["item_id"],
			"model_id": row["model_id"],
			"item_sku": row["item_sku"],
			"model_sku": row["model_sku"],
			"item_name": row["item_name"],
			"model_name": row["model_name"],
			"model_quantity_purchased": row["quantity_purchased"],
			"model_original_price": row["original_price"] / row["quantity_purchased"],
			"model_discounted_price": row["discounted_price"] / row["quantity_purchased"],
		}
		for row in escrow["order_income"]["items"]
	]
	return {
		"order_sn": escrow["order_sn"],
		"currency": currency,
		"cod": False,
		"order_status": "COMPLETED",
		"create_time": 1714540000,
		"update_time": 1715000000,
		"buyer_username": escrow["buyer_user_name"],
		"payment_method": payment_method,
		"total_amount": escrow["buyer_payment_info"]["buyer_total_amount"],
		"recipient_address": {"name": "N******g", "phone": "******48", "state": "TP. Hồ Chí Minh", "city": "Quận 1", "full_address": "12 L******"},
		"item_list": items,
		"package_list": [],
	}


def escrow_of_published_cod_detail() -> dict:
	"""An escrow for the published COD order, which Shopee published none for (written for these
	tests to the figures it did publish: 48,000 of goods after the flash sale, 32,119 collected):
	Shopee funds 50,000 of the flash sale, the buyer paid 12,000 shipping and used a 4,800 seller
	voucher, a 20,000 Shopee voucher and 3,081 of coins."""
	return {
		"order_sn": "2404098R48U37H",
		"buyer_user_name": "xt4fdsf96j",
		"buyer_payment_info": {
			"buyer_payment_method": "Cash on Delivery",
			"buyer_total_amount": 32119,
			"merchant_subtotal": 48000,
			"shipping_fee": 12000,
			"seller_voucher": -4800,
			"shopee_voucher": -20000,
			"shopee_coins_redeemed": -3081,
			"credit_card_promotion": 0,
		},
		"order_income": {
			"buyer_total_amount": 32119,
			"buyer_paid_shipping_fee": 12000,
			"voucher_from_seller": 4800,
			"voucher_from_shopee": 20000,
			"coins": 3081,
			"items": [
				{
					"item_id": 23620853561,
					"model_id": 221404189791,
					"model_sku": "QAZ-SADOER-05",
					"original_price": 300000,
					"discounted_price": 48000,
					"seller_discount": 202000,
					"shopee_discount": 50000,
					"quantity_purchased": 1,
				}
			],
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
	assert connector.get_order_details(["AUTH1"])[0]["order"]["order_sn"] == "AUTH1"  # the new token works
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
	assert connector.get_order_details(["2404098R48U37H"])[0]["order"]["order_sn"] == "2404098R48U37H"


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
	assert sorted(d["order"]["order_sn"] for d in details) == ids
	calls = fake.calls_to(ORDER_DETAIL)
	assert [len(c["query"]["order_sn_list"][0].split(",")) for c in calls] == [50, 50, 20]
	# The optional fields the mapper reads were asked for, so they came back.
	first = details[0]["order"]
	assert first["item_list"] and first["recipient_address"] and first["package_list"] and first["total_amount"]
	# and every order came with its own escrow
	assert sorted(c["query"]["order_sn"][0] for c in fake.calls_to(ESCROW_DETAIL)) == ids
	assert all(d["escrow"]["order_sn"] == d["order"]["order_sn"] for d in details)
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


# --- escrow: what the buyer paid ----------------------------------------------------------
def test_order_details_come_with_their_escrow_response(fake, connector):
	detail = prepaid_detail()
	fake.add_order(detail)
	fake.escrow[detail["order_sn"]] = escrow_example()
	[payload] = connector.get_order_details([detail["order_sn"]])
	assert payload["order"]["order_sn"] == detail["order_sn"]
	assert payload["escrow"] == escrow_example()  # the response only: no request_id to differ per read
	assert [c["query"]["order_sn"] for c in fake.calls_to(ESCROW_DETAIL)] == [[detail["order_sn"]]]
	order = connector.map_order(payload)
	assert order.lines[0].platform_discount == 2000 and order.platform_total == 52600


def test_the_stand_in_serves_an_escrow_for_every_order_it_holds(fake, connector):
	detail = cod_detail("E3")
	detail["total_amount"] += 15000  # the buyer paid shipping: only an escrow can say so
	fake.add_order(detail)
	order = connector.map_order(connector.get_order_details(["E3"])[0])
	assert order.shipping_fee == 15000 and order.buyer_paid == order.platform_total == 401000


def test_a_changed_escrow_is_read_again_as_a_new_payload_the_order_follows(fake, connector):
	detail = prepaid_detail()
	order_sn = detail["order_sn"]
	fake.add_order(detail)
	fake.escrow[order_sn] = escrow_example()
	first, again = connector.get_order_details([order_sn]), connector.get_order_details([order_sn])
	assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)  # the same bytes: stored once

	revised = escrow_example()  # escrow figures are estimates until the order completes
	revised["order_income"]["items"][2].update(seller_discount=10100, shopee_discount=2000)
	revised["order_income"].update(shopee_discount=4000, escrow_amount=51970)
	fake.escrow[order_sn] = revised
	[later] = connector.get_order_details([order_sn])
	assert json.dumps(later, sort_keys=True) != json.dumps(first, sort_keys=True)
	assert (connector.map_order(later).lines[2].platform_discount, connector.map_order(first[0]).lines[2].platform_discount) == (2000, 0)
	assert len(fake.calls_to(ESCROW_DETAIL)) == 3


def test_an_escrow_shopee_cannot_serve_now_holds_the_orders_for_a_later_read(fake, connector):
	fake.add_order(cod_detail("E4"))
	fake.fail(ESCROW_DETAIL, "503", times=3)
	with pytest.raises(RetryableError):
		connector.get_order_details(["E4"])
	fake.fail(ESCROW_DETAIL, "error_busy", times=3)
	with pytest.raises(RateLimited):
		connector.get_order_details(["E4"])
	assert connector.get_order_details(["E4"])[0]["escrow"]["order_sn"] == "E4"


def test_an_escrow_shopee_refuses_is_stored_as_missing_with_its_reason(fake, connector):
	fake.add_order(cod_detail("E5"))
	shipped = cod_detail("E6")
	shipped["total_amount"] += 15000
	fake.add_order(shipped)
	fake.fail(ESCROW_DETAIL, "error_data", times=2, message="data not exist")
	free, paid_shipping = connector.get_order_details(["E5", "E6"])
	assert free["escrow"] is None and "error_data: data not exist" in free["escrow_error"]
	assert connector.map_order(free).buyer_paid == 386000  # total_amount is the lines': nothing to split
	with pytest.raises(InvalidOrder, match="buyer paid 401000 .*Shopee did not give it: .*error_data: data not exist"):
		connector.map_order(paid_shipping)


def test_stored_payloads_old_and_new_map_and_peek_agrees():
	for payload in (prepaid_detail(), shopee_payload(prepaid_detail(), escrow_example()), shopee_payload(prepaid_detail(), None, "busy")):
		raw = json.dumps(payload)
		assert peek_order_id("Shopee", raw) == map_payload("Shopee", raw).external_order_id == "2405027PX3K9QA"
	assert order_from_payload(shopee_payload(prepaid_detail(), escrow_example())).lines[0].platform_discount == 2000
	with pytest.raises(InvalidOrder, match="'order' must be an object"):
		order_from_payload({"order": [prepaid_detail()]})


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
	assert not fake.calls_to(ESCROW_DETAIL)  # the items are all it needs
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
def test_order_settlement_is_the_escrow_with_its_withheld_taxes(fake, connector):
	"""Shopee's published VN escrow (PUBLISHED_SOURCES), with the VAT and PIT Shopee withholds from a
	VN household seller by law since 2025 (not in the example: added, and escrow_amount cut by them)."""
	escrow = published("get_escrow_detail_vn.json")
	escrow["order_income"].update(withholding_vat_tax=1000, withholding_pit_tax=500, escrow_amount=37719 - 1500)
	fake.escrow["2405017HD347PQ"] = escrow
	fake.add_order(detail_of_escrow(escrow, "ShopeePay Linked Bank Account", "VND"))  # COMPLETED
	settlement = connector.get_order_settlement("2405017HD347PQ")
	settlement.check()
	assert (settlement.revenue, settlement.payout, settlement.final) == (Decimal(54600), Decimal(36219), True)
	assert settlement.by_kind() == {
		ChargeKind.REFUND: Decimal(28900),
		ChargeKind.SHIPPING: Decimal(-15000),
		ChargeKind.SERVICE: Decimal(2133),
		ChargeKind.TRANSACTION: Decimal(848),
		ChargeKind.WITHHELD_VAT: Decimal(1000),
		ChargeKind.WITHHELD_PIT: Decimal(500),
	}
	with pytest.raises(ConnectorError) as failure:
		connector.get_order_settlement("UNKNOWN")
	assert failure.value.code == "order_not_found"


# --- retries and errors -----------------------------------------------------------------
def test_429_then_success(fake, connector):
	fake.add_order(cod_detail("R1"))
	fake.fail(ORDER_DETAIL, "429", times=2)
	assert connector.get_order_details(["R1"])[0]["order"]["order_sn"] == "R1"
	calls = fake.calls_to(ORDER_DETAIL)
	assert len(calls) == 3


def test_busy_answers_are_retried(fake, connector):
	fake.add_order(cod_detail("R2"))
	fake.fail(ORDER_DETAIL, "error_busy")
	fake.fail(ORDER_DETAIL, "error_server", message="Too many requests, please try again later")
	assert connector.get_order_details(["R2"])[0]["order"]["order_sn"] == "R2"
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
	assert connector.get_order_details(["T1"])[0]["order"]["order_sn"] == "T1"


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
	# Vouchers and buyer-paid shipping are unknowable from the detail: it maps only because its
	# total_amount is exactly what its lines add up to.
	assert order.shipping_fee == 0 and order.order_discount == 0 and order.platform_total == 386000 == order.buyer_paid
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


def test_mapper_prepaid_without_vouchers_maps_alone_and_its_escrow_splits_the_discounts():
	detail = prepaid_detail()
	plain = order_from_shopee(detail)
	assert plain.payment_method == PaymentMethod.PREPAID and plain.status == OrderStatus.COMPLETED
	assert plain.shipping_address.phone == "84912345678" and plain.buyer.identity_phone == "0912345678"
	assert plain.buyer.name == "Nguyễn Phương"
	assert plain.platform_total == Decimal(52600) == plain.buyer_paid  # total_amount is the lines' sum
	assert all(line.platform_discount == 0 for line in plain.lines)  # the detail can't tell who funds it

	order = order_from_shopee(detail, escrow={"response": escrow_example()})
	assert order.items_total == 74000 and order.line_discounts == 21400
	assert (order.lines[0].seller_discount, order.lines[0].platform_discount) == (4300, 2000)
	assert order.shipping_fee == 0 and order.order_discount == 0
	assert order.platform_total == Decimal(52600) == order.buyer_paid


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


# --- Shopee's published examples ----------------------------------------------------------
def test_published_cod_detail_alone_is_refused_rather_than_booked_at_its_lines():
	"""The defect: mapped without its escrow, Shopee's own example was booked at 48,000 (its line
	after the flash sale) while the carrier collects 32,119 (total_amount)."""
	detail = published_cod_detail()
	with pytest.raises(InvalidOrder, match="buyer paid 32119 .total_amount., not the 48000 .*escrow detail.*not read"):
		order_from_shopee(detail)
	with pytest.raises(InvalidOrder, match="buyer paid 32119"):  # a bare detail stored before escrows were read
		map_payload("Shopee", json.dumps(detail))
	refused = shopee_payload(detail, None, "Shopee error_data: data not exist")
	with pytest.raises(InvalidOrder, match="Shopee did not give it: Shopee error_data: data not exist"):
		map_payload("Shopee", json.dumps(refused))


def test_published_cod_detail_with_its_escrow_is_booked_at_what_the_carrier_collects():
	detail = published_cod_detail()
	order = map_payload("Shopee", json.dumps(shopee_payload(detail, escrow_of_published_cod_detail())))
	assert order.payment_method == PaymentMethod.COD and order.status == OrderStatus.COMPLETED
	[line] = order.lines
	assert (line.sku, line.qty, line.unit_price) == ("QAZ-SADOER-05", 1, 300000)
	assert (line.seller_discount, line.platform_discount) == (202000, 50000)  # the flash sale, split
	assert order.shipping_fee == 12000  # what the buyer paid, not estimated_shipping_fee 5000
	assert (order.seller_voucher, order.platform_voucher) == (4800, 23081)  # Shopee voucher + coins
	assert order.buyer_paid == order.platform_total == Decimal(detail["total_amount"]) == 32119

	other_total = copy.deepcopy(detail)
	other_total["total_amount"] = 32000
	with pytest.raises(InvalidOrder, match="carrier collects 32000 .total_amount. but the escrow says the buyer paid 32119"):
		order_from_shopee(other_total, escrow_of_published_cod_detail())


def test_published_detail_and_the_published_escrow_of_another_order_are_refused():
	detail, escrow = published_cod_detail(), published("get_escrow_detail_vn.json")
	with pytest.raises(InvalidOrder, match="order 2404098R48U37H: the escrow detail is of order 2405017HD347PQ, not this one"):
		order_from_shopee(detail, escrow)
	payload = json.dumps(shopee_payload(detail, escrow))
	with pytest.raises(InvalidOrder, match="escrow detail is of order 2405017HD347PQ"):
		map_payload("Shopee", payload)
	assert peek_order_id("Shopee", payload) == "2404098R48U37H"  # stored on the detail's order all the same
	nameless = {key: value for key, value in escrow_of_published_cod_detail().items() if key != "order_sn"}
	with pytest.raises(InvalidOrder, match="escrow detail is of order .none named."):
		order_from_shopee(detail, nameless)


def test_published_vn_escrow_reproduces_what_the_buyer_paid():
	escrow = published("get_escrow_detail_vn.json")
	detail = detail_of_escrow(escrow, "ShopeePay Linked Bank Account", "VND")
	order = map_payload("Shopee", json.dumps(shopee_payload(detail, escrow)))
	assert [line.sku for line in order.lines] == ["SXY472001", "HZMBB0198001", "SXY482006", "SXY481001"]
	assert order.items_total == 74000  # order_original_price
	assert [(line.seller_discount, line.platform_discount) for line in order.lines] == [(6300, 0), (1000, 0), (12100, 0), (2000, 0)]
	assert order.shipping_fee == 2000
	# buyer_payment_info is the checkout: Shopee voucher 5,260 + 900 coins (order_income has
	# since been cut by the return of SXY482006: voucher_from_shopee 2,370, coins 400)
	assert (order.seller_voucher, order.platform_voucher) == (0, 6160)
	assert order.buyer_paid == order.platform_total == 48440  # 52,600 of goods + 2,000 - 6,160


def test_published_sg_escrow_reproduces_what_the_buyer_paid_in_cents():
	escrow = published("get_escrow_detail_sg.json")
	detail = detail_of_escrow(escrow, "Credit Card/Debit Card", "SGD")
	order = order_from_shopee(detail, {"response": escrow})
	assert [(line.sku, line.unit_price, line.seller_discount, line.platform_discount) for line in order.lines] == [
		("DWSZ01-RG-S", Decimal("4.92"), Decimal("0.93"), 0),
		("DWSZ01-RG-L", Decimal("4.92"), Decimal("0.93"), 0),
	]
	assert order.shipping_fee == 0 and order.seller_voucher == 0
	assert order.platform_voucher == Decimal("0.91")  # Shopee voucher 0.67 + 0.24 of coins
	assert order.buyer_paid == order.platform_total == Decimal("7.07")


def test_an_escrow_that_does_not_add_up_is_refused_naming_the_buyer_fees():
	escrow = published("get_escrow_detail_vn.json")
	detail = detail_of_escrow(escrow, "SPayLater", "VND")
	escrow["buyer_payment_info"].update(buyer_service_fee=2000, buyer_total_amount=50440)
	with pytest.raises(InvalidOrder, match="buyer paid 50440 .escrow buyer_total_amount., not the 48440 .*buyer_service_fee 2000"):
		order_from_shopee(detail, escrow)
	del escrow["buyer_payment_info"]["buyer_total_amount"], escrow["order_income"]["buyer_total_amount"]
	with pytest.raises(InvalidOrder, match="escrow has no buyer_total_amount"):
		order_from_shopee(detail, escrow)


def test_a_broken_line_is_named_before_the_total_it_throws_off():
	detail = cod_detail()
	detail["item_list"][0]["model_quantity_purchased"] = 0
	with pytest.raises(InvalidOrder, match="line 1 .QAZ-SADOER-05. has quantity 0"):
		order_from_shopee(detail)
	del detail["total_amount"]
	detail["item_list"][0]["model_quantity_purchased"] = 2
	with pytest.raises(InvalidOrder, match="neither the escrow detail .it was not read with this order. nor total_amount"):
		order_from_shopee(detail)


# --- channel settings ---------------------------------------------------------------
def test_request_timeout_comes_from_the_channel_settings_within_bounds():
	from oms_connector.connectors.base import request_timeout

	assert request_timeout({}) == 30.0
	assert request_timeout({"timeout_seconds": 5}) == 5.0
	assert request_timeout({"timeout_seconds": 0.01}) == 1.0
	assert request_timeout({"timeout_seconds": 10_000}) == 120.0
	assert request_timeout({"timeout_seconds": "soon"}) == 30.0
	assert request_timeout({"timeout_seconds": float("nan")}) == 30.0
