"""The Lazada connector driven end to end against oms_connector/sandbox/lazada_server.py."""

from __future__ import annotations

import copy
import itertools
import json
import time
from datetime import date, datetime, timedelta, timezone
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
from oms_connector.connectors.lazada import STATUS_MAP, LazadaConnector, classify_error, order_from_lazada, sign
from oms_connector.domain.order import InvalidOrder, OrderStatus, PaymentMethod
from oms_connector.domain.settlement import ChargeKind
from oms_connector.sandbox.lazada_server import FakeLazada, lazada_sign

VN = timezone(timedelta(hours=7))
GET_ORDERS = "/orders/get"
GET_ORDER = "/order/get"
MULTIPLE_ITEMS = "/orders/items/get"
STOCK = "/product/stock/sellable/update"
CALLBACK = "https://oms.example.vn/api/method/oms_connector.api.lazada_callback"


# --- payloads ---------------------------------------------------------------------------
def cod_order(order_id: int = 479311210034529, updated_at: str = "2024-05-01T10:00:00+07:00") -> dict:
	"""A GetOrder object as Lazada VN returns it (fields of the API reference's example): COD,
	masked phone, seller and platform vouchers, a shipping fee partly paid by Lazada."""
	return {
		"order_id": order_id,
		"order_number": order_id,
		"created_at": "2024-05-01T09:14:05+07:00",
		"updated_at": updated_at,
		"price": "450000.00",
		"items_count": 3,
		"payment_method": "COD",
		"voucher": "50000.00",
		"voucher_seller": "30000.00",
		"voucher_platform": "20000.00",
		"voucher_code": "",
		"shipping_fee": "15000.00",
		"shipping_fee_original": "30000.00",
		"shipping_fee_discount_seller": "0.00",
		"shipping_fee_discount_platform": "15000.00",
		"customer_first_name": "Nguyễn Thị Lan",
		"customer_last_name": "",
		"gift_option": "false",
		"gift_message": "",
		"remarks": "",
		"buyer_note": "Giao giờ hành chính",
		"delivery_info": "",
		"extra_attributes": "null",
		"national_registration_number": "",
		"tax_code": "",
		"branch_number": "",
		"warehouse_code": "dropshipping",
		"promised_shipping_times": "",
		"address_updated_at": "null",
		"need_cancel_confirm": "false",
		"is_cancel_pending": "false",
		"address_billing": {"first_name": "Nguyễn Thị Lan", "last_name": "", "phone": "84*****567", "country": "Vietnam"},
		"address_shipping": {
			"first_name": "Nguyễn Thị Lan",
			"last_name": "",
			"phone": "84*****567",
			"phone2": "",
			"address1": "12 Nguyễn Văn Linh",
			"address2": "",
			"address3": "Hồ Chí Minh",
			"address4": "Quận 7",
			"address5": "Phường Tân Phong",
			"city": "Hồ Chí Minh",
			"post_code": "",
			"country": "Vietnam",
		},
	}


def cod_item(order_id: int, item_id: int, sku: str, voucher_seller: str, voucher_platform: str, status: str = "pending", **extra) -> dict:
	"""One order item (one unit) as GetOrderItems returns it."""
	item = {
		"order_item_id": item_id,
		"order_id": order_id,
		"sku": sku,
		"shop_sku": f"2417000001_VNAMZ-{item_id}",
		"sku_id": f"1200{sku[-2:]}",
		"name": "Áo thun basic" if sku.startswith("ATD") else "Quần jean",
		"variation": "Màu: Đen, Size: M",
		"currency": "VND",
		"item_price": "150000.00",
		"paid_price": str(Decimal("150000.00") - Decimal(voucher_seller) - Decimal(voucher_platform)),
		"voucher_amount": str(Decimal(voucher_seller) + Decimal(voucher_platform)),
		"voucher_seller": voucher_seller,
		"voucher_platform": voucher_platform,
		"voucher_code": "",
		"shipping_amount": "5000.00",
		"shipping_fee_original": "10000.00",
		"tax_amount": "0.00",
		"wallet_credits": "0.00",
		"status": status,
		"shipping_type": "Dropshipping",
		"shipment_provider": "",
		"tracking_code": "",
		"tracking_code_pre": "",
		"package_id": "",
		"buyer_id": 100112802006,
		"is_digital": 0,
		"created_at": "2024-05-01T09:14:05+07:00",
		"updated_at": "2024-05-01T10:00:00+07:00",
	}
	item.update(extra)
	return item


def cod_items(order_id: int = 479311210034529, status: str = "pending") -> list[dict]:
	"""Two units of ATD-M-01 and one of QJ-32: three items."""
	return [
		cod_item(order_id, order_id * 10 + 1, "ATD-M-01", "10000.00", "5000.00", status),
		cod_item(order_id, order_id * 10 + 2, "ATD-M-01", "10000.00", "5000.00", status),
		cod_item(order_id, order_id * 10 + 3, "QJ-32", "10000.00", "10000.00", status),
	]


def prepaid_order() -> tuple[dict, list[dict]]:
	"""Paid by wallet, already shipped in one package; no voucher split on the items."""
	order = cod_order(512000333444555)
	order.update(
		payment_method="PAYMENT_ACCOUNT",
		price="300000.00",
		voucher="20000.00",
		voucher_seller="20000.00",
		voucher_platform="0.00",
		shipping_fee="0.00",
		shipping_fee_original="0.00",  # free shipping: no shipping promotion to split
		shipping_fee_discount_platform="0.00",
		items_count=2,
	)
	items = []
	for n in (1, 2):
		item = cod_item(512000333444555, 5120003334445550 + n, "ATD-M-01", "0", "0", "shipped")
		for key in ("voucher_seller", "voucher_platform", "voucher_amount"):
			item.pop(key)
		item.update(
			paid_price="140000.00",
			package_id="FP0220001",
			tracking_code="LZVN0220001",
			shipment_provider="LEX VN",
			shipping_amount="0.00",
		)
		items.append(item)
	return order, items


def make_connector(fake: FakeLazada, access: str = "", refresh: str = "", attempts: int = 3, **kwargs) -> LazadaConnector:
	config = ChannelConfig(
		base_url=fake.api_url,
		auth_base_url=fake.url,
		app_key=fake.app_key,
		app_secret=fake.app_secret,
		access_token=access,
		refresh_token=refresh,
	)
	session = requests.Session()
	session.trust_env = False  # never route 127.0.0.1 through a proxy from the environment
	return LazadaConnector(config, http=PlatformHTTP(session=session, attempts=attempts, sleep=lambda s: None, timeout=5), **kwargs)


@pytest.fixture
def fake():
	with FakeLazada() as server:
		yield server


@pytest.fixture
def connector(fake):
	access, refresh = fake.issue_tokens()
	return make_connector(fake, access, refresh)


def add_orders(fake: FakeLazada, count: int, start: datetime) -> list[str]:
	ids = []
	for n in range(count):
		order_id = 600000000000000 + n
		updated = (start + timedelta(minutes=n)).isoformat()
		fake.add_order(cod_order(order_id, updated), cod_items(order_id))
		ids.append(str(order_id))
	return ids


# --- signing ----------------------------------------------------------------------------
def test_sign_matches_the_documented_example():
	# Lazada's "HTTP request sample": GetOrder, app secret "helloworld".
	params = {"app_key": "123456", "access_token": "test", "timestamp": "1517820392000", "sign_method": "sha256", "order_id": "1234"}
	expected = "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
	assert sign("helloworld", "/order/get", params) == expected
	assert lazada_sign("helloworld", "/order/get", dict(params, sign="ignored")) == expected


def test_wrong_secret_and_stale_timestamp_are_refused(fake):
	access, _ = fake.issue_tokens()
	forged = make_connector(fake, access)
	forged.config.app_secret = "not-the-secret"
	with pytest.raises(ConnectorError, match="IncompleteSignature") as info:
		list(forged.list_updated_orders(datetime(2024, 5, 1, tzinfo=VN), datetime(2024, 5, 2, tzinfo=VN)))
	assert not info.value.retryable
	stale = make_connector(fake, access, clock=lambda: time.time() - 3 * 3600)
	with pytest.raises(ConnectorError, match="InvalidTimestamp"):
		stale.get_order_details(["1"])


# --- authorization ----------------------------------------------------------------------
def test_authorization_url_then_code_exchange(fake):
	connector = make_connector(fake)
	url = connector.authorization_url(CALLBACK, state="ch-7")
	parts = urlsplit(url)
	assert parts.path == "/oauth/authorize"
	query = parse_qs(parts.query)
	assert query["client_id"] == [fake.app_key] and query["response_type"] == ["code"] and query["redirect_uri"] == [CALLBACK]

	# The seller grants access: Lazada redirects to the callback with a code and our state.
	answer = connector.http.session.get(url, allow_redirects=False, timeout=5)
	assert answer.status_code == 302
	back = parse_qs(urlsplit(answer.headers["Location"]).query)
	assert back["state"] == ["ch-7"]

	tokens = connector.exchange_code(back["code"][0])
	assert tokens.access_token.startswith("AT-") and tokens.refresh_token.startswith("RT-")
	assert tokens.shop_id == fake.seller_id and tokens.extra["short_code"] == "VNFAKE01"
	assert tokens.access_expires_at - datetime.now(timezone.utc) > timedelta(days=6)
	assert connector.config.access_token == tokens.access_token and connector.config.shop_id == fake.seller_id
	call = fake.calls_to("/auth/token/create")[0]
	assert "access_token" not in call["params"] and call["method"] == "POST"

	# The token works; the code was single-use.
	assert list(connector.list_updated_orders(datetime(2024, 1, 1, tzinfo=VN), datetime(2024, 1, 2, tzinfo=VN))) == []
	with pytest.raises(AuthError, match="InvalidCode"):
		connector.exchange_code(back["code"][0])


def test_refresh_rotates_tokens(fake, connector):
	old_refresh = connector.config.refresh_token
	tokens = connector.refresh_tokens()
	assert tokens.refresh_token != old_refresh and connector.config.refresh_token == tokens.refresh_token
	assert tokens.shop_id == fake.seller_id  # from country_user_info_list, the refresh answer's name
	assert tokens.extra["refreshable"] is True
	connector.config.refresh_token = old_refresh
	with pytest.raises(AuthError, match="IllegalRefreshToken"):
		connector.refresh_tokens()


def test_expired_token_raises_auth_error_then_refresh_recovers(fake, connector):
	fake.add_order(cod_order(), cod_items())
	fake.expire_access_token()
	with pytest.raises(AuthError, match="IllegalAccessToken"):
		connector.get_order_details(["479311210034529"])
	assert len(fake.calls_to(GET_ORDER, ok_only=False)) == 1  # an auth error is not retried
	connector.refresh_tokens()
	assert connector.get_order_details(["479311210034529"])[0]["order"]["order_id"] == 479311210034529


# --- orders in --------------------------------------------------------------------------
def test_poll_pages_100_at_a_time(fake, connector):
	start = datetime(2024, 5, 1, 8, 0, tzinfo=VN)
	ids = add_orders(fake, 250, start)
	fake.add_order(cod_order(1, "2024-04-30T23:59:59+07:00"), cod_items(1))  # before the window
	listed = list(connector.list_updated_orders(start, start + timedelta(days=1)))
	assert listed == ids
	calls = fake.calls_to(GET_ORDERS)
	assert [c["params"]["offset"] for c in calls] == ["0", "100", "200"]
	assert {c["params"]["limit"] for c in calls} == {"100"}
	assert calls[0]["params"]["update_after"] == "2024-05-01T08:00:00+07:00"
	assert calls[0]["params"]["sort_by"] == "updated_at" and calls[0]["params"]["sort_direction"] == "ASC"


def test_poll_past_the_maximum_offset_continues_from_the_last_update(fake, connector):
	fake.max_offset = connector.max_order_offset = 200
	start = datetime(2024, 5, 1, 8, 0, tzinfo=VN)
	ids = add_orders(fake, 450, start)
	assert list(connector.list_updated_orders(start, start + timedelta(days=1))) == ids
	assert max(int(c["params"]["offset"]) for c in fake.calls_to(GET_ORDERS)) <= 200
	assert len({c["params"]["update_after"] for c in fake.calls_to(GET_ORDERS)}) > 1


def test_details_fetch_items_50_orders_at_a_time(fake, connector):
	start = datetime(2024, 5, 1, 8, 0, tzinfo=VN)
	ids = add_orders(fake, 120, start)
	assert list(connector.list_updated_orders(start, start + timedelta(days=1))) == ids
	details = connector.get_order_details(ids + ids[:3])  # asked twice: fetched once
	assert [str(d["order"]["order_id"]) for d in details] == ids
	assert all(len(d["items"]) == 3 for d in details)
	batches = [json.loads(c["params"]["order_ids"]) for c in fake.calls_to(MULTIPLE_ITEMS)]
	assert [len(b) for b in batches] == [50, 50, 20] and isinstance(batches[0][0], int)
	assert fake.calls_to(GET_ORDER) == []  # the poll already returned the order objects

	# A webhook's order id was never listed: GetOrder fetches it.
	other = make_connector(fake, connector.config.access_token)
	raw = other.get_order_details([ids[7]])[0]
	assert len(fake.calls_to(GET_ORDER)) == 1
	order = other.map_order(raw)
	assert order.external_order_id == ids[7] and order.status == OrderStatus.CONFIRMED


def test_webhook_signature_and_parsing(fake, connector):
	body = json.dumps(
		{
			"seller_id": fake.seller_id,
			"message_type": 0,
			"data": {"order_status": "pending", "trade_order_id": "479311210034529", "trade_order_line_id": "4793112100345291", "status_update_time": 1714532400},
			"timestamp": 1714532401234,
			"site": "lazada_vn",
		},
		ensure_ascii=False,
	).encode()
	signature = fake.push_authorization(body)
	url = "https://oms.example.vn/api/method/oms_connector.api.lazada_push"
	assert connector.verify_webhook({"Authorization": signature}, body, url)
	assert connector.verify_webhook({"authorization": signature.upper()}, body, url)  # hex case and header case do not matter
	assert not connector.verify_webhook({"Authorization": signature}, body.replace(b"pending", b"canceled"), url)
	assert not connector.verify_webhook({"Authorization": fake.push_authorization(b"{}")}, body, url)
	assert not connector.verify_webhook({}, body, url)

	[event] = connector.parse_webhook(body)
	assert (event.kind, event.order_id, event.status) == ("order_status", "479311210034529", "pending")
	assert STATUS_MAP[event.status] == OrderStatus.CONFIRMED
	reverse = {"message_type": 10, "data": {"reverse_status": "CANCEL_INIT", "trade_order_id": 416557324702006}}
	[event] = connector.parse_webhook(json.dumps(reverse).encode())
	assert (event.kind, event.order_id, event.status) == ("order_status", "416557324702006", "")
	[event] = connector.parse_webhook(b'{"message_type": 8, "data": {"app_key": "112233", "auth_expiry_time": 1627542238}}')
	assert event.kind == "other"
	with pytest.raises(ConnectorError):
		connector.parse_webhook(b"not json")


# --- fulfilment -------------------------------------------------------------------------
def test_pack_ready_to_ship_and_tracking(fake, connector):
	fake.add_order(cod_order(), cod_items())
	info = connector.ship_order("479311210034529")
	assert info.package_id.startswith("FP") and info.tracking_number.startswith("LZVN") and info.carrier == "LEX VN"
	assert info.label_url == f"{fake.url}/awb/{info.package_id}.pdf"
	pack = json.loads(fake.calls_to("/order/fulfill/pack")[0]["params"]["packReq"])
	assert pack["pack_order_list"] == [{"order_id": 479311210034529, "order_item_list": [4793112100345291, 4793112100345292, 4793112100345293]}]
	assert pack["delivery_type"] == "dropship" and pack["shipping_allocate_type"] == "TFS"
	assert {i["status"] for i in fake.items["479311210034529"]} == {"ready_to_ship"}

	# Mapped again, the order carries the package and its tracking number.
	order = connector.map_order(connector.get_order_details(["479311210034529"])[0])
	assert order.status == OrderStatus.CONFIRMED
	assert [(s.package_id, s.tracking_number, s.lines) for s in order.shipments] == [
		(info.package_id, info.tracking_number, {"ATD-M-01": Decimal(2), "QJ-32": Decimal(1)})
	]

	# Calling again (say after a timeout) neither packs nor sets ready to ship twice.
	again = connector.ship_order("479311210034529", label=False)
	assert (again.package_id, again.tracking_number, again.label_url) == (info.package_id, info.tracking_number, "")
	assert len(fake.calls_to("/order/fulfill/pack")) == 1 and len(fake.calls_to("/order/package/rts")) == 1

	# Once the carrier has it, a re-run only reports (Lazada prints no AWB for shipped parcels).
	for item in fake.items["479311210034529"]:
		item["status"] = "shipped"
	shipped = connector.ship_order("479311210034529")
	assert (shipped.tracking_number, shipped.label_url) == (info.tracking_number, "")
	assert len(fake.calls_to("/order/package/document/get", ok_only=False)) == 1


def test_ship_resumes_after_pack_succeeded_but_rts_failed(fake, connector):
	fake.add_order(cod_order(), cod_items())
	fake.fail("/order/package/rts", "503", times=3)
	with pytest.raises(RetryableError):
		connector.ship_order("479311210034529")
	assert {i["status"] for i in fake.items["479311210034529"]} == {"packed"}
	info = connector.ship_order("479311210034529")
	assert len(fake.calls_to("/order/fulfill/pack")) == 1
	assert {i["status"] for i in fake.items["479311210034529"]} == {"ready_to_ship"} and info.tracking_number


def test_cancel_asks_for_reasons_and_avoids_stock_zeroing_ones(fake, connector):
	fake.add_order(cod_order(), cod_items())
	connector.cancel_order("479311210034529")
	assert fake.cancellations == [
		{"order_id": "479311210034529", "items": [4793112100345291, 4793112100345292, 4793112100345293], "reason_id": "10000019"}
	]
	assert connector.map_order(connector.get_order_details(["479311210034529"])[0]).status == OrderStatus.CANCELLED
	with pytest.raises(ConnectorError, match="no item that can be cancelled"):
		connector.cancel_order("479311210034529")


def test_cancel_with_a_named_reason(fake, connector):
	fake.add_order(cod_order(), cod_items())
	with pytest.raises(ConnectorError, match="does not offer reason"):
		connector.cancel_order("479311210034529", reason="Changed my mind")
	connector.cancel_order("479311210034529", reason="out of stock")
	assert fake.cancellations[-1]["reason_id"] == "10000021"


# --- stock ------------------------------------------------------------------------------
def stock_updates(count: int) -> list[StockUpdate]:
	return [StockUpdate(listing_id=str(3000000 + n // 3), variant_id=str(12000000 + n), sku=f"SKU-{n:03d}", qty=n) for n in range(count)]


def test_stock_push_splits_120_skus_into_3_calls_and_reports_a_refused_sku(fake, connector):
	fake.stock_failures["SKU-077"] = "negative sellable on channel inventory"
	updates = stock_updates(120)
	updates[5] = StockUpdate(updates[5].listing_id, updates[5].variant_id, updates[5].sku, -4)  # oversold
	results = connector.push_stock(updates)
	assert [len(c["params"]["payload"].split("<Sku>")) - 1 for c in fake.calls_to(STOCK, ok_only=False)] == [50, 50, 20]
	assert [r.update for r in results] == updates
	failed = [r for r in results if not r.ok]
	assert [(r.update.sku, r.message, r.retryable) for r in failed] == [("SKU-077", "negative sellable on channel inventory", False)]
	assert fake.stock["12000000"] == 0 and fake.stock["12000005"] == 0 and fake.stock["12000119"] == 119
	payload = fake.calls_to(STOCK, ok_only=False)[0]["params"]["payload"]
	assert payload.startswith("<Request><Product><Skus><Sku><ItemId>3000000</ItemId><SkuId>12000000</SkuId><SellerSku>SKU-000</SellerSku><SellableQuantity>0</SellableQuantity></Sku>")


def test_stock_push_keeps_going_when_one_call_fails(fake, connector):
	fake.fail(STOCK, "500", times=3)  # the first batch exhausts its 3 attempts
	results = connector.push_stock(stock_updates(60))
	assert all(not r.ok and r.retryable for r in results[:50])
	assert all(r.ok for r in results[50:])


def test_stock_push_multi_warehouse_payload(fake, connector):
	updates = [
		StockUpdate("3000001", "12000456", "ATD-M-01", 20, warehouse_id="warehouseTest1"),
		StockUpdate("3000001", "12000456", "ATD-M-01", 30, warehouse_id="warehouseTest2"),
	]
	assert all(r.ok for r in connector.push_stock(updates))
	payload = fake.calls_to(STOCK)[0]["params"]["payload"]
	assert payload.count("<Sku>") == 1 and payload.count("<MultiWarehouseInventory>") == 2
	assert fake.stock["12000456"] == 50


def lazada_product(item_id: int, *skus: tuple[int, str]) -> dict:
	return {
		"item_id": item_id,
		"status": "Active",
		"attributes": {"name": f"Sản phẩm {item_id}"},
		"skus": [{"SkuId": sku_id, "SellerSku": seller_sku, "quantity": 0, "price": 100000} for sku_id, seller_sku in skus],
	}


def test_read_stock_returns_what_was_pushed(fake, connector):
	fake.products = [
		lazada_product(3000000, (12000000, "SKU-000"), (12000001, "SKU-001")),
		lazada_product(3000001, (12000002, "SKU-002")),
		lazada_product(3000002, (12000003, "SKU-003")),
	]
	pushed = [
		StockUpdate("3000000", "12000000", "SKU-000", 7),
		StockUpdate("3000000", "12000001", "SKU-001", 0),
		StockUpdate("3000001", "12000002", "SKU-002", 15),
		StockUpdate("", "", "SKU-003", 4),  # SellerSku only
	]
	assert all(r.ok for r in connector.push_stock(pushed))

	asked = [StockUpdate(u.listing_id, u.variant_id, u.sku, 999) for u in pushed]  # qty is ignored
	by_seller_sku = StockUpdate("3000001", "", "SKU-002", 0)  # no SkuId: matched by SellerSku
	unknown = [
		StockUpdate("3000000", "12999999", "SKU-GHOST", 0),  # not a SKU of this item
		StockUpdate("3999999", "12888888", "ELSEWHERE", 0),  # an item Lazada refuses (not this seller's)
		StockUpdate("", "", "NOT-LISTED", 0),
	]
	stock = connector.read_stock(asked + [by_seller_sku] + unknown)
	assert stock == {asked[0]: 7, asked[1]: 0, asked[2]: 15, asked[3]: 4, by_seller_sku: 15}
	assert all(any(key is listing for listing in asked + [by_seller_sku]) for key in stock)
	item_calls = fake.calls_to("/product/item/get", ok_only=False)
	assert [c["params"]["item_id"] for c in item_calls] == ["3000000", "3000001", "3999999"]  # one call per item
	assert [json.loads(c["params"]["sku_seller_list"]) for c in fake.calls_to("/products/get")] == [["SKU-003", "NOT-LISTED"]]


def test_read_stock_per_warehouse(fake, connector):
	fake.products = [lazada_product(3000001, (12000456, "ATD-M-01"))]
	connector.push_stock([
		StockUpdate("3000001", "12000456", "ATD-M-01", 20, warehouse_id="warehouseTest1"),
		StockUpdate("3000001", "12000456", "ATD-M-01", 30, warehouse_id="warehouseTest2"),
	])
	one, two, total, other = (StockUpdate("3000001", "12000456", "ATD-M-01", 0, warehouse_id=w) for w in ("warehouseTest1", "warehouseTest2", "", "warehouseTest9"))
	assert connector.read_stock([one, two, total, other]) == {one: 20, two: 30, total: 50}


def test_read_stock_batches_seller_skus_50_a_call(fake, connector):
	fake.products = [lazada_product(3100000 + n, (13000000 + n, f"ONLY-{n:03d}")) for n in range(120)]
	updates = [StockUpdate("", "", f"ONLY-{n:03d}", n) for n in range(120)]
	assert all(r.ok for r in connector.push_stock(updates))
	assert connector.read_stock(updates) == {u: u.qty for u in updates}
	assert [len(json.loads(c["params"]["sku_seller_list"])) for c in fake.calls_to("/products/get")] == [50, 50, 20]


def test_read_stock_retries_429_and_5xx(fake, connector):
	fake.products = [lazada_product(3000000, (12000000, "SKU-000"))]
	update = StockUpdate("3000000", "12000000", "SKU-000", 3)
	connector.push_stock([update])
	fake.fail("/product/item/get", "429")
	fake.fail("/product/item/get", "503")
	assert connector.read_stock([update]) == {update: 3}
	fake.fail("/products/get", "ApiCallLimit")
	by_sku = StockUpdate("", "", "SKU-000", 0)
	assert connector.read_stock([by_sku]) == {by_sku: 3}
	fake.fail("/product/item/get", "500", times=3)
	with pytest.raises(RetryableError):
		connector.read_stock([update])


# --- money and products -----------------------------------------------------------------
TRANSACTION_NUMBERS = itertools.count(1)


def transaction(order_no: str, fee_type: str, fee_name: str, amount: str, days_ago: int = 3, item: str = "4793112100345291") -> dict:
	"""A QueryTransactionDetails row with the fields of Lazada's example, dated `days_ago` (VN dates)."""
	day = datetime.now(VN).date() - timedelta(days=days_ago)
	return {
		"order_no": order_no,
		"orderItem_no": item,
		"transaction_date": day.strftime("%d %b %Y"),
		"fee_type": fee_type,
		"fee_name": fee_name,
		"transaction_type": fee_name,
		"transaction_number": f"VNFAKE01-T{next(TRANSACTION_NUMBERS):06d}",
		"amount": amount,
		"paid_status": "Not paid",
		"VAT_in_amount": "0",
		"WHT_amount": "0",
		"WHT_included_in_amount": "No",
		"statement": "06 May 2024 - 12 May 2024",
		"seller_sku": "ATD-M-01",
	}


def test_order_settlement_maps_the_fee_breakdown(fake, connector):
	"""cod_order's money as Lazada posts it when the item price credit is what the buyer paid: the
	sale is its price credits, Lazada's subsidy (its 20000 of vouchers) and the buyer's shipping."""
	order_id = "479311210034529"
	fake.transactions = [
		transaction(order_id, "13", "Item Price Credit", "400000.00"),
		transaction(order_id, "59", "Item Price Subsidy", "20000.00"),
		transaction(order_id, "8", "Shipping Fee (Paid By Customer)", "15000.00"),
		transaction(order_id, "7", "Shipping Fee Paid by Seller", "-30000.00"),
		transaction(order_id, "157", "Auto. Shipping fee subsidy (by Lazada)", "15000.00"),
		transaction(order_id, "16", "Commission", "-21000.00"),
		transaction(order_id, "3", "Payment Fee", "-8400.00"),
		# VN withholding rows: their fee_type ids are not in the published enum list, hence by name.
		transaction(order_id, "", "Withholding VAT", "-4350.00"),
		transaction(order_id, "", "Withholding PIT", "-2175.00"),
		transaction(order_id, "112", "Sponsored Product Fee", "-5000.00"),  # ads: an adjustment, not the order's
		transaction("999", "16", "Commission", "-99999.00"),  # another order
	]
	settlement = connector.get_order_settlement(order_id)
	assert settlement.order_id == order_id and settlement.currency == "VND"
	assert settlement.revenue == Decimal(435000)
	assert [(c.kind.value, c.amount, c.label) for c in settlement.charges] == [
		("Shipping", Decimal(30000), "Shipping Fee Paid by Seller"),
		("Shipping", Decimal(-15000), "Auto. Shipping fee subsidy (by Lazada)"),
		("Commission", Decimal(21000), "Commission"),
		("Transaction Fee", Decimal(8400), "Payment Fee"),
		("Withheld VAT", Decimal(4350), "Withholding VAT"),
		("Withheld PIT", Decimal(2175), "Withholding PIT"),
	]
	assert settlement.payout == Decimal(384075)
	settlement.check()
	assert settlement.final and settlement.payout_id == "06 May 2024 - 12 May 2024"
	assert len(settlement.raw["transactions"]) == 9
	params = fake.calls_to("/finance/transaction/details/get")[0]["params"]
	assert params["trade_order_id"] == order_id and params["limit"] == "500" and params["offset"] == "0"
	assert (date.fromisoformat(params["end_time"]) - date.fromisoformat(params["start_time"])).days == 179
	assert date.fromisoformat(params["end_time"]) == datetime.now(VN).date()


def test_order_settlement_of_an_older_order_reads_windows_under_180_days(fake, connector):
	order_id = "479311210034529"
	fake.transactions = [
		transaction(order_id, "13", "Item Price Credit", "400000.00", days_ago=390),
		transaction(order_id, "16", "Commission", "-20000.00", days_ago=200),
	]
	assert connector.get_order_settlement(order_id) is None  # not within the default 179 days
	today = datetime.now(VN).date()
	old = connector.get_order_settlement(order_id, start=today - timedelta(days=400), end=today - timedelta(days=150))
	assert (old.revenue, old.payout, old.by_kind()) == (Decimal(400000), Decimal(380000), {ChargeKind.COMMISSION: Decimal(20000)})
	windows = [(c["params"]["start_time"], c["params"]["end_time"]) for c in fake.calls_to("/finance/transaction/details/get")[1:]]
	assert windows == [
		(str(today - timedelta(days=400)), str(today - timedelta(days=221))),
		(str(today - timedelta(days=220)), str(today - timedelta(days=150))),
	]
	# The stand-in, like Lazada, refuses a window of 180 days or more when asked for one.
	with pytest.raises(ConnectorError, match="1000012"):
		connector._call("/finance/transaction/details/get", {"start_time": str(today - timedelta(days=180)), "end_time": str(today)})


def test_order_settlement_pages_500_rows_at_a_time(fake, connector):
	order_id = "479311210034529"
	fake.transactions = [transaction(order_id, "13", "Item Price Credit", "1000.00") for _ in range(1200)]
	settlement = connector.get_order_settlement(order_id)
	assert settlement.revenue == settlement.payout == Decimal(1200000)
	assert [c["params"]["offset"] for c in fake.calls_to("/finance/transaction/details/get")] == ["0", "500", "1000"]


def test_order_settlement_is_none_while_lazada_has_posted_nothing(fake, connector):
	fake.transactions = [transaction("999", "13", "Item Price Credit", "1000.00")]
	assert connector.get_order_settlement("479311210034529") is None


def test_list_products_pages_50_at_a_time(fake, connector):
	fake.products = [
		{
			"item_id": 3000000 + n,
			"status": "Active",
			"attributes": {"name": f"Sản phẩm {n}", "brand": "No Brand"},
			"skus": [
				{"SkuId": 12000000 + 2 * n, "SellerSku": f"P{n}-S", "ShopSku": f"{3000000 + n}_VNAMZ-1", "quantity": 5, "price": 100000},
				{"SkuId": 12000001 + 2 * n, "SellerSku": f"P{n}-M", "ShopSku": f"{3000000 + n}_VNAMZ-2", "quantity": 5, "price": 100000},
			],
		}
		for n in range(120)
	]
	listings = list(connector.list_products())
	assert len(listings) == 240
	assert (listings[3].listing_id, listings[3].variant_id, listings[3].sku, listings[3].title) == ("3000001", "12000003", "P1-M", "Sản phẩm 1")
	assert [c["params"]["offset"] for c in fake.calls_to("/products/get")] == ["0", "50", "100"]


# --- throttling and failures ------------------------------------------------------------
def test_rate_limit_then_success(fake):
	ticks = itertools.count(time.time(), 0.005)  # distinct milliseconds, so every attempt has its own timestamp
	connector = make_connector(fake, *fake.issue_tokens(), clock=lambda: next(ticks))
	fake.add_order(cod_order(), cod_items())
	fake.fail(GET_ORDERS, "ApiCallLimit", times=1)
	fake.fail(GET_ORDERS, "429", times=1)
	start = datetime(2024, 5, 1, tzinfo=VN)
	assert list(connector.list_updated_orders(start, start + timedelta(days=1))) == ["479311210034529"]
	attempts = fake.calls_to(GET_ORDERS, ok_only=False)
	assert [c["code"] for c in attempts] == ["ApiCallLimit", "429", "0"]
	assert len({c["params"]["timestamp"] + c["params"]["sign"] for c in attempts}) == 3  # each retry signed afresh


def test_5xx_exhausted_raises_retryable(fake, connector):
	fake.fail(GET_ORDER, "502", times=3)
	with pytest.raises(RetryableError) as info:
		connector.get_order_details(["479311210034529"])
	assert info.value.status == 502
	assert len(fake.calls_to(GET_ORDER, ok_only=False)) == 3


def test_fake_enforces_documented_limits(fake, connector):
	with pytest.raises(ConnectorError, match="E019"):
		connector._call(GET_ORDERS, {"update_after": "2024-05-01T00:00:00+07:00", "limit": 101})
	with pytest.raises(ConnectorError, match="E017"):
		connector._call(GET_ORDERS, {"update_after": "2024-05-01"})
	with pytest.raises(ConnectorError, match="E038"):
		connector._call(MULTIPLE_ITEMS, {"order_ids": list(range(51))})
	xml = "<Request><Product><Skus>" + "<Sku><SkuId>1</SkuId><SellableQuantity>1</SellableQuantity></Sku>" * 51 + "</Skus></Product></Request>"
	with pytest.raises(ConnectorError, match="E204"):
		connector._call(STOCK, {"payload": xml}, method="POST")
	with pytest.raises(ConnectorError, match="MissingParameter"):
		connector._call("/finance/transaction/details/get", {"trade_order_id": "1"})


def test_error_classification():
	assert isinstance(classify_error("IllegalAccessToken", "expired"), AuthError)
	assert isinstance(classify_error("IllegalRefreshToken", "expired"), AuthError)
	limited = classify_error("ApiCallLimit", "this ban will last 1 seconds")
	assert isinstance(limited, RateLimited) and limited.retry_after == 1.0
	assert isinstance(classify_error("AppCallLimit", ""), RateLimited)
	assert isinstance(classify_error("ServiceTimeout", "", "ISP"), RetryableError)
	final = classify_error("IncompleteSignature", "does not conform", "ISV")
	assert type(final) is ConnectorError and not final.retryable


# --- mapper -----------------------------------------------------------------------------
def test_mapper_cod_groups_units_and_splits_vouchers():
	order = order_from_lazada(cod_order(), cod_items())
	assert order.external_order_id == "479311210034529"
	assert order.status == OrderStatus.CONFIRMED and order.payment_method == PaymentMethod.COD
	assert [(l.sku, l.qty, l.unit_price, l.seller_discount, l.platform_discount) for l in order.lines] == [
		("ATD-M-01", Decimal(2), Decimal(150000), Decimal(20000), Decimal(10000)),
		("QJ-32", Decimal(1), Decimal(150000), Decimal(10000), Decimal(10000)),
	]
	assert order.lines[0].external_line_id == "4793112100345291,4793112100345292"
	assert (order.seller_voucher, order.platform_voucher) == (Decimal(0), Decimal(0))  # counted on the lines
	assert order.shipping_fee == Decimal(15000)
	assert order.buyer_paid == order.platform_total == Decimal(415000)
	assert order.currency == "VND" and order.note == "Giao giờ hành chính"
	address = order.shipping_address
	assert (address.line1, address.ward, address.district, address.province) == ("12 Nguyễn Văn Linh", "Phường Tân Phong", "Quận 7", "Hồ Chí Minh")
	assert address.phone is None and order.buyer.phone == "84*****567"  # masked: kept on the buyer only
	assert order.buyer.name == "Nguyễn Thị Lan" and order.buyer.platform_buyer_id == "100112802006"
	assert order.created_at == datetime(2024, 5, 1, 9, 14, 5, tzinfo=VN)
	assert order.missing_data() == []


def test_mapper_prepaid_with_order_level_voucher_and_package():
	raw_order, items = prepaid_order()
	order = order_from_lazada(raw_order, items)
	assert order.payment_method == PaymentMethod.PREPAID and order.status == OrderStatus.SHIPPED
	[line] = order.lines
	assert (line.qty, line.unit_price, line.seller_discount, line.platform_discount) == (Decimal(2), Decimal(150000), 0, 0)
	assert (order.seller_voucher, order.platform_voucher, order.shipping_fee) == (Decimal(20000), 0, 0)
	assert order.buyer_paid == order.platform_total == Decimal(280000)
	assert [(s.package_id, s.tracking_number, s.carrier, s.lines) for s in order.shipments] == [
		("FP0220001", "LZVN0220001", "LEX VN", {"ATD-M-01": Decimal(2)})
	]


def test_mapper_without_any_voucher_split_counts_paid_price_gap_as_seller_discount():
	raw_order, items = prepaid_order()
	for key in ("voucher", "voucher_seller", "voucher_platform"):
		raw_order.pop(key)
	order = order_from_lazada(raw_order, items)
	assert order.lines[0].seller_discount == Decimal(20000) and order.seller_voucher == 0
	assert order.buyer_paid == Decimal(280000)


def test_mapper_statuses_across_items():
	items = cod_items()
	items[2]["status"] = "canceled"
	order = order_from_lazada(cod_order(), items)
	assert order.status == OrderStatus.CONFIRMED and [l.sku for l in order.lines] == ["ATD-M-01"]
	assert order.platform_total == Decimal(285000)  # 2 x 135000 + 15000 shipping

	items = cod_items(status="canceled")
	order = order_from_lazada(cod_order(), items)
	assert order.status == OrderStatus.CANCELLED and len(order.lines) == 2

	items = cod_items(status="delivered")
	items[0]["status"] = "shipped"
	assert order_from_lazada(cod_order(), items).status == OrderStatus.SHIPPED  # only as far as its slowest unit

	items = cod_items(status="delivered")
	items[2]["status"] = "returned"
	order = order_from_lazada(cod_order(), items)
	assert order.status == OrderStatus.RETURNED and order.returned_lines == {"QJ-32": Decimal(1)}

	items = cod_items(status="confirmed")
	assert order_from_lazada(cod_order(), items).status == OrderStatus.COMPLETED


@pytest.mark.parametrize("word", sorted(STATUS_MAP))
def test_every_lazada_status_maps(word):
	items = cod_items(status=word)
	assert order_from_lazada(cod_order(), items).status == STATUS_MAP[word]


def test_mapper_refuses_what_it_cannot_read(connector):
	with pytest.raises(InvalidOrder, match="unknown Lazada status"):
		order_from_lazada(cod_order(), cod_items(status="teleported"))
	with pytest.raises(InvalidOrder, match="no order items"):
		order_from_lazada(cod_order(), [])
	items = cod_items()
	items[1]["sku"] = ""
	with pytest.raises(InvalidOrder, match="has no SKU"):
		order_from_lazada(cod_order(), items)
	items = copy.deepcopy(cod_items())
	items[0]["order_id"] = 1
	with pytest.raises(InvalidOrder, match="belongs to order 1"):
		order_from_lazada(cod_order(), items)
	with pytest.raises(InvalidOrder, match='"order"'):
		connector.map_order({"order": cod_order()})


# --- Lazada's published examples ------------------------------------------------------------
# The "Response Example" of Lazada Open Platform's GetOrder, GetOrderItems and GetMultipleOrderItems
# reference pages, stored verbatim in tests/connectors/lazada_published/ (its README cites each page).
# Lazada publishes no items for its GetOrder example's order, nor an order for its items examples'
# orders: the tests below write those, and say so. What the buyer paid is Lazada's own formula from its
# "Get Order" best practice (https://open.lazada.com/doc/doc?docId=121327&nodeId=29616):
# "buyer paid price = price - voucher + shipping_fee".
PUBLISHED = Path(__file__).parent / "lazada_published"


def published(name: str):
	return json.loads((PUBLISHED / name).read_text(encoding="utf-8"))["data"]


def written_order(order_id: str, price: str, voucher: str = "0.00", shipping_fee: str = "0.00") -> dict:
	"""The GetOrder object Lazada does not publish for an items example (written by the test)."""
	return {
		"order_id": order_id,
		"price": price,
		"voucher": voucher,
		"shipping_fee": shipping_fee,
		"payment_method": "COD",
		"created_at": "2014-10-15 18:36:05 +0800",
		"updated_at": "2014-10-15 18:36:05 +0800",
	}


def test_published_get_order_is_booked_at_price_less_voucher_plus_shipping():
	order_data = published("get_order.json")
	# Its one item (items_count 1), written here: Lazada publishes none for order 16090.
	item = {"order_id": "16090", "order_item_id": "160901", "sku": "SKU-16090", "item_price": "99.00",
		"paid_price": "99.00", "voucher_seller": "0.00", "voucher_platform": "0.00", "currency": "SGD", "status": "delivered"}
	order = order_from_lazada(order_data, [item])
	assert order.external_order_id == "16090" and order.currency == "SGD"
	assert order.payment_method == PaymentMethod.COD and order.status == OrderStatus.DELIVERED
	# price 99.00 - voucher 0.00 + shipping_fee 0.00
	assert order.buyer_paid == order.platform_total == Decimal("99.00")
	assert (order.shipping_fee, order.seller_voucher, order.platform_voucher) == (0, 0, 0)
	assert order.shipping_address.line1 == "318 tanglin road, phoenix park, #01-59"


def test_published_get_order_refuses_items_that_do_not_add_up_to_its_price():
	item = {"order_id": "16090", "order_item_id": "160901", "sku": "SKU-16090", "item_price": "109.00",
		"paid_price": "109.00", "currency": "SGD", "status": "delivered"}
	with pytest.raises(InvalidOrder, match=r"the buyer paid 99.00 \(price 99.00 - voucher 0.00 \+ shipping_fee 0.00\), not the 109.00.*difference of -10.00"):
		order_from_lazada(published("get_order.json"), [item])


def test_published_get_order_items_cancelled_units_keep_their_paid_price():
	items = published("get_order_items.json")
	# Order 31202 itself, written here: two units of 99.00, no voucher, no shipping fee.
	order = order_from_lazada(written_order("31202", "198.00"), items)
	assert order.status == OrderStatus.CANCELLED
	[line] = order.lines
	assert (line.sku, line.qty, line.unit_price, line.seller_discount, line.platform_discount) == ("BRSD#02", 2, Decimal("99.00"), 0, 0)
	assert order.buyer_paid == order.platform_total == Decimal("198.00")
	assert order.buyer.platform_buyer_id == "1001" and line.listing_id == "666"


def test_published_get_multiple_order_items_is_refused_its_paid_price_is_unexplained():
	[entry] = published("get_multiple_order_items.json")
	# Lazada's own example: item_price 99.00, no voucher of any kind, yet paid_price 89.10.
	with pytest.raises(InvalidOrder, match=r"item 100827 was paid 89.10 \(paid_price\), not its item_price 99.00 less its vouchers 0.00.*difference of -9.90"):
		order_from_lazada(written_order(entry["order_id"], "99.00"), entry["order_items"])


def test_vouchers_and_shipping_discounts_split_by_who_funds_them():
	order = order_from_lazada(cod_order(), cod_items())
	lines = order.lines
	assert sum(l.seller_discount for l in lines) == Decimal(30000) == Decimal(cod_order()["voucher_seller"])
	assert sum(l.platform_discount for l in lines) == Decimal(20000) == Decimal(cod_order()["voucher_platform"])
	# 30,000 shipping less Lazada's 15,000 shipping discount: the buyer paid 15,000 for shipping.
	assert order.shipping_fee == Decimal(15000)
	assert order.platform_total == Decimal(450000) - Decimal(50000) + Decimal(15000)


def test_a_shipping_fee_that_is_not_original_less_discounts_is_refused():
	raw = cod_order()
	raw["shipping_fee_discount_seller"] = "5000.00"
	with pytest.raises(InvalidOrder, match="shipping_fee 15000 is not shipping_fee_original 30000 less the seller's 5000 and Lazada's 15000"):
		order_from_lazada(raw, cod_items())


def test_an_order_voucher_the_items_do_not_carry_is_refused():
	raw = cod_order()
	raw["voucher"] = "60000.00"  # 10,000 more than the items' vouchers
	with pytest.raises(InvalidOrder, match="the buyer paid 405000 .*not the 415000.*difference of -10000"):
		order_from_lazada(raw, cod_items())


def test_an_order_stating_no_total_is_refused():
	raw_order, items = prepaid_order()
	for key in ("voucher", "voucher_seller", "voucher_platform"):
		raw_order.pop(key)
	for item in items:
		item.pop("paid_price")
	with pytest.raises(InvalidOrder, match="neither price and voucher nor every item's paid_price say what the buyer paid"):
		order_from_lazada(raw_order, items)
