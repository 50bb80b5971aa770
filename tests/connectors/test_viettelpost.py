"""The Viettel Post connector driven against oms_connector/sandbox/viettelpost_server.py, and its
mappers on Viettel Post's published examples (tests/connectors/viettelpost_published/, sources in
its README.md)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from oms_connector.connectors.base import AuthError, ConnectorError, RateLimited, RetryableError
from oms_connector.connectors.http import PlatformHTTP
from oms_connector.connectors.viettelpost import (
	FINAL_STATUSES,
	STATUS_MAP,
	STATUS_TABLE,
	AlreadyBooked,
	LookupUnsupported,
	ViettelPostConnector,
	bare_name,
	event_from_webhook_data,
	fold,
	reference_of,
	status_of,
)
from oms_connector.connectors.viettelpost.mapper import booked_from_create, expected_from, quote_from_price
from oms_connector.domain.shipping import Address, AddressProblem, CarrierAddress, CarrierConfig, Parcel, ParcelItem, ShipmentStatus
from oms_connector.sandbox.viettelpost_server import FakeViettelPost

PUBLISHED = Path(__file__).parent / "viettelpost_published"
USERNAME, PASSWORD = "0933177454", "xyz@222"
S = ShipmentStatus


def published(name: str):
	return json.loads((PUBLISHED / name).read_text(encoding="utf-8"))


# --- fixtures ---------------------------------------------------------------------------
class Clock:
	def __init__(self, now: float = 1_760_000_000.0):
		self.now = now

	def __call__(self) -> float:
		return self.now


@pytest.fixture
def clock():
	return Clock()


@pytest.fixture
def fake(clock):
	with FakeViettelPost(username=USERNAME, password=PASSWORD, token_lifetime=3600, clock=clock) as server:
		yield server


def make_connector(fake, clock, token: str = "", username: str = USERNAME, password: str = PASSWORD, timeout: float = 5, **extra) -> ViettelPostConnector:
	config = CarrierConfig(
		base_url=fake.base_url + "/v2",
		token=token,
		username=username,
		password=password,
		webhook_secret=fake.webhook_secret,
		extra={"print_url": fake.base_url + "/DigitalizePrint/report.do", **extra},
	)
	return ViettelPostConnector(config, http=PlatformHTTP(attempts=3, sleep=lambda s: None, timeout=timeout), clock=clock)


@pytest.fixture
def connector(fake, clock):
	return make_connector(fake, clock)


def sender(connector) -> CarrierAddress:
	return connector.resolve_address(Address("Shop Hoàng Mai", "0967363789", "Số 5A ngõ 282 Kim Giang", "Phường Định Công", "Quận Hoàng Mai", "Thành phố Hà Nội"))


def receiver(connector) -> CarrierAddress:
	return connector.resolve_address(Address("Nguyễn Văn A", "0907882792", "1 Nguyễn Thái Bình", "P. Nguyễn Thái Bình", "Quận 1", "TP. Hồ Chí Minh"))


def parcel(cod: int = 250_000) -> Parcel:
	return Parcel(
		weight_g=1200, length_cm=20, width_cm=15, height_cm=10, value=Decimal(250_000), cod_amount=Decimal(cod),
		items=[ParcelItem("Kem dưỡng da 60g", 2, "KEM-60", 300, Decimal(100_000)), ParcelItem("Lược nhỏ", 1, "LUOC", 100, Decimal(50_000))],
	)  # fmt: skip


# --- login and tokens -------------------------------------------------------------------
def test_login_then_the_token_is_reused(fake, connector):
	sender(connector)  # master data wants no token
	assert fake.logins == 0
	connector.quote(sender(connector), receiver(connector), parcel())
	connector.quote(sender(connector), receiver(connector), parcel())
	assert fake.logins == 1
	tokens = {call["token"] for call in fake.calls if call["path"].startswith("/v2/order/")}
	assert tokens == {connector.config.token}
	assert connector.token_expires_at == pytest.approx(fake.clock() + 3600)


def test_an_expired_token_is_refused_and_the_connector_logs_in_again(fake, clock, connector):
	connector.login()
	first = connector.config.token
	fake.expire_token(first)  # Viettel Post says "Token invalid or expired" from now on
	quotes = connector.quote(sender(connector), receiver(connector), parcel())
	assert quotes and connector.config.token != first and fake.logins == 2
	refused = [c for c in fake.calls_to("/v2/order/getPriceAll") if c["token"] == first]
	assert len(refused) == 1


def test_a_token_near_its_known_expiry_is_renewed_before_the_call(fake, clock, connector):
	connector.login()
	clock.now += 3600 - 30  # inside the renewal margin
	connector.quote(sender(connector), receiver(connector), parcel())
	assert fake.logins == 2
	assert all(c["token"] == connector.config.token for c in fake.calls_to("/v2/order/getPriceAll"))


def test_a_refused_token_without_credentials_is_an_auth_error(fake, clock):
	stale = fake.issue_token()
	fake.expire_token(stale)
	connector = make_connector(fake, clock, token=stale, username="", password="")
	with pytest.raises(AuthError, match="Token invalid or expired"):
		connector.price_all(sender(connector), receiver(connector), parcel())
	with pytest.raises(AuthError):
		make_connector(fake, clock, username="", password="").price_all(sender(connector), receiver(connector), parcel())


def test_wrong_password_is_an_auth_error(fake, clock):
	with pytest.raises(AuthError, match="Invalid owner account"):
		make_connector(fake, clock, password="wrong").login()


def test_owner_connect_gives_a_long_lived_token(fake, connector):
	connector.login()
	long_lived = connector.owner_connect()
	assert connector.config.token == long_lived and connector.token_expires_at is None
	fake.clock.now += 10 * 24 * 3600
	assert connector.price_all(sender(connector), receiver(connector), parcel())
	assert fake.logins == 1


def test_published_login_answers_are_read(connector):
	assert connector._take_token(published("login.json")).startswith("eyJhbGciOiJFUzI1NiJ9.")
	assert connector.token_expires_at is None  # "expired": 0
	connector._take_token(published("login_vtp.json"))
	assert connector.token_expires_at == pytest.approx(1701461935.832)


# --- addresses --------------------------------------------------------------------------
def test_names_are_folded_without_accents_and_prefixes():
	assert fold("Thị xã Kỳ Anh") == "thi xa ky anh"
	assert bare_name("TP. Hồ Chí Minh") == "ho chi minh"
	assert bare_name("Thành phố Hà Nội") == "ha noi"
	assert bare_name("Quận 1") == "1" and bare_name("PHƯỜNG ĐỊNH CÔNG") == "dinh cong"
	assert bare_name("Xã Kỳ Tân") == "ky tan" and bare_name("Huyện Lạc Thủy") == "lac thuy"


def test_resolve_address_exact(connector):
	address = receiver(connector)
	assert (address.province_id, address.district_id, address.ward_id) == ("2", "43", "1002")
	hn = connector.resolve_address(Address("A", "1", "x", "phuong thach ban", "long bien", "ha noi"))
	assert (hn.province_id, hn.district_id, hn.ward_id) == ("1", "20", "405")


def test_resolve_address_two_level_after_the_merger(connector):
	address = connector.resolve_address(Address("A", "1", "12 Đê La Thành", "Phường Hoàng Mai", "", "Hà Nội"))
	assert (address.province_id, address.district_id, address.ward_id) == ("1", "100000001", "90001")
	with pytest.raises(AddressProblem, match="needs the ward"):
		connector.resolve_address(Address("A", "1", "12 Đê La Thành", "", "", "Hà Nội"))


def test_resolve_address_none(connector):
	with pytest.raises(AddressProblem, match="no province 'Atlantis'"):
		connector.resolve_address(Address("A", "1", "x", "Phường 1", "Quận 1", "Atlantis"))
	with pytest.raises(AddressProblem, match="no ward"):
		connector.resolve_address(Address("A", "1", "x", "Phường Tân Định", "Quận 1", "Hồ Chí Minh"))


def test_resolve_address_several(connector):
	# Hà Tĩnh has a Kỳ Anh district and a Kỳ Anh town: the bare name places the address twice.
	with pytest.raises(AddressProblem, match="2 districts matching 'Kỳ Anh'"):
		connector.resolve_address(Address("A", "1", "x", "Xã Kỳ Tân", "Kỳ Anh", "Hà Tĩnh"))
	town = connector.resolve_address(Address("A", "1", "x", "Phường Hưng Trí", "Thị xã Kỳ Anh", "Hà Tĩnh"))
	assert (town.district_id, town.ward_id) == ("516", "5160")


def test_master_data_is_fetched_once(fake, connector):
	receiver(connector)
	receiver(connector)
	assert len(fake.calls_to("/v2/categories/listProvinceById")) == 1
	assert len(fake.calls_to("/v2/categories/listWards")) == 1


# --- quotes -----------------------------------------------------------------------------
def test_quote_lists_every_service_with_its_full_fee(fake, connector):
	quotes = connector.quote(sender(connector), receiver(connector), parcel(cod=250_000))
	assert [q.service_id for q in quotes] == ["VCN", "VTK"]  # PHS is same-province only
	vcn = quotes[0]
	assert vcn.carrier == "Viettel Post" and vcn.service_name == "Chuyển phát nhanh"
	# 1,200 g: 22,000 + 2 x 5,000; COD fee 10,000 (minimum); VAT 10%.
	assert vcn.fee_breakdown["shipping"] == Decimal(32_000) and vcn.fee_breakdown["cod"] == Decimal(10_000)
	assert vcn.fee == Decimal(32_000 + 10_000 + 4_200)
	assert vcn.expected_delivery == datetime(2025, 10, 10, tzinfo=timezone(timedelta(hours=7))) + timedelta(hours=48)
	body = json.loads(fake.calls_to("/v2/order/getPriceAll")[0]["body"])
	assert body["PRODUCT_TYPE"] == "HH" and body["PRODUCT_WEIGHT"] == 1200 and body["TYPE"] == 1
	assert (body["SENDER_PROVINCE"], body["SENDER_DISTRICT"], body["RECEIVER_PROVINCE"], body["RECEIVER_DISTRICT"]) == (1, 4, 2, 43)
	assert body["MONEY_COLLECTION"] == 250_000 and body["PRODUCT_PRICE"] == 250_000


def test_quote_same_province_offers_phs(connector):
	other = connector.resolve_address(Address("B", "1", "x", "Phường Thạch Bàn", "Quận Long Biên", "Hà Nội"))
	assert {q.service_id for q in connector.quote(sender(connector), other, parcel(cod=0))} == {"PHS", "VCN", "VTK"}


def test_quote_mapper_on_the_published_examples():
	now = datetime(2025, 11, 10, 9, 0, tzinfo=timezone(timedelta(hours=7)))
	service = published("getPriceAll.json")[0]
	alone = quote_from_price(service, None, now)
	assert (alone.service_id, alone.service_name, alone.fee) == ("PHS", "Nội tỉnh tiết kiệm", Decimal(26400))
	assert alone.expected_delivery == datetime(2025, 11, 11, tzinfo=now.tzinfo) + timedelta(hours=48)
	priced = quote_from_price(service, published("getPrice.json")["data"], now)
	assert priced.fee == Decimal(14700)
	assert priced.fee_breakdown == {
		"shipping": Decimal(13363), "fuel": Decimal(0), "cod": Decimal(0), "other": Decimal(0), "value_added": Decimal(0), "vat": Decimal(1337),
	}  # fmt: skip
	assert sum(v for k, v in priced.fee_breakdown.items()) == priced.fee


def test_published_get_price_all_request_is_what_the_stand_in_checks(fake, connector):
	body = published("getPriceAll_request.json")
	assert set(body) >= {"SENDER_PROVINCE", "SENDER_DISTRICT", "RECEIVER_PROVINCE", "RECEIVER_DISTRICT", "PRODUCT_TYPE", "PRODUCT_WEIGHT", "PRODUCT_PRICE", "MONEY_COLLECTION", "TYPE"}
	ours = {**connector._route(sender(connector), receiver(connector)), **connector._goods(parcel()), "TYPE": 1}
	assert set(ours) <= set(body) | {"SENDER_WARD", "RECEIVER_WARD"}


# --- bookings ---------------------------------------------------------------------------
def test_create_books_with_our_reference(fake, connector):
	booked = connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0001", note="Cho xem hàng")
	assert booked.carrier == "Viettel Post" and booked.service_id == "VCN"
	order = fake.orders[booked.tracking_number]
	assert booked.fee == Decimal(order["price"]["MONEY_TOTAL"])
	request = order["request"]
	assert request["ORDER_NUMBER"] == "DN-0001" and request["CHECK_UNIQUE"] is True
	assert request["ORDER_PAYMENT"] == 3 and request["MONEY_COLLECTION"] == 250_000
	assert (request["RECEIVER_PROVINCE"], request["RECEIVER_DISTRICT"], request["RECEIVER_WARD"]) == (2, 43, 1002)
	assert request["PRODUCT_QUANTITY"] == 3 and request["PRODUCT_WEIGHT"] == 1200
	assert request["LIST_ITEM"][0] == {"PRODUCT_NAME": "Kem dưỡng da 60g", "PRODUCT_PRICE": 100_000, "PRODUCT_WEIGHT": 300, "PRODUCT_QUANTITY": 2}
	assert set(request) >= set(published("createOrder_request.json")) - {"DELIVERY_DATE", "SENDER_EMAIL", "RECEIVER_EMAIL", "SENDER_LATITUDE", "SENDER_LONGITUDE", "RECEIVER_LATITUDE", "RECEIVER_LONGITUDE", "ORDER_VOUCHER", "ENABLE_SORT_CODE"}


def test_create_without_cod_collects_nothing(fake, connector):
	booked = connector.create(sender(connector), receiver(connector), parcel(cod=0), "VTK", "DN-0002")
	assert fake.orders[booked.tracking_number]["request"]["ORDER_PAYMENT"] == 1


def test_a_second_create_under_the_same_reference_is_refused(fake, connector):
	connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0003")
	with pytest.raises(AlreadyBooked) as caught:
		connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0003")
	assert caught.value.reference == "DN-0003"
	assert len(fake.order_by_reference("DN-0003")) == 1


def test_a_timed_out_create_is_not_booked_twice(fake, clock):
	"""Viettel Post books the order but answers after our timeout. PlatformHTTP retries; Viettel Post
	refuses the duplicate (CHECK_UNIQUE); the connector says AlreadyBooked, and the webhook brings
	the tracking number under our reference. The partner API has no lookup by reference."""
	connector = make_connector(fake, clock, timeout=0.3)
	fake.fail("/v2/order/createOrder", "sleep:0.6")
	with pytest.raises(AlreadyBooked):
		connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0004")
	assert len(fake.calls_to("/v2/order/createOrder")) == 2
	orders = fake.order_by_reference("DN-0004")
	assert len(orders) == 1
	with pytest.raises(LookupUnsupported):
		connector.find("DN-0004")
	tracking = next(number for number, order in fake.orders.items() if order["request"]["ORDER_NUMBER"] == "DN-0004")
	event = connector.parse_webhook(json.dumps(fake.advance(tracking, 105, "Bưu tá đã nhận hàng")).encode())[0]
	assert reference_of(event) == "DN-0004" and event.tracking_number == tracking and event.status == S.PICKED_UP


def test_create_refusals_carry_viettel_posts_reason(connector):
	with pytest.raises(ConnectorError, match="Price does not apply"):
		connector.create(sender(connector), receiver(connector), parcel(), "PHS", "DN-0005")
	with pytest.raises(AddressProblem):
		connector.create(sender(connector), CarrierAddress(Address("x", "1", "y")), parcel(), "VCN", "DN-0006")


def test_booked_mapper_on_the_published_example():
	now = datetime(2025, 11, 10, 9, 0, tzinfo=timezone(timedelta(hours=7)))
	booked = booked_from_create(published("createOrder.json")["data"], "VCN", now)
	assert booked.tracking_number == "15878180012" and booked.fee == Decimal(16500)
	assert booked.expected_delivery == datetime(2025, 11, 13, 0, 0, tzinfo=now.tzinfo)  # 24:00 of the 10th + 48 h
	assert booked.raw["MONEY_COLLECTION"] == 562000


def test_cancel_before_pickup(fake, connector):
	booked = connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0010")
	connector.cancel(booked.tracking_number)
	assert fake.orders[booked.tracking_number]["status"] == 107
	body = json.loads(fake.calls_to("/v2/order/UpdateOrder")[0]["body"])
	assert body["TYPE"] == 4 and body["ORDER_NUMBER"] == booked.tracking_number and body["NOTE"]


def test_cancel_after_pickup_or_unknown_is_refused(fake, connector):
	booked = connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0011")
	fake.advance(booked.tracking_number, 200)
	with pytest.raises(ConnectorError, match="can not be cancelled"):
		connector.cancel(booked.tracking_number)
	with pytest.raises(ConnectorError, match="Order does not exist"):
		connector.cancel("999")


# --- labels -----------------------------------------------------------------------------
def test_label_is_the_pdf_the_print_link_serves(fake, connector):
	one = connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0020").tracking_number
	two = connector.create(sender(connector), receiver(connector), parcel(), "VTK", "DN-0021").tracking_number
	pdf = connector.label([one, two])
	assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
	assert one.encode() in pdf and two.encode() in pdf
	body = json.loads(fake.calls_to("/v2/order/printing-code")[0]["body"])
	assert body["ORDER_ARRAY"] == [one, two] and body["EXPIRY_TIME"] > fake.clock() * 1000


def test_label_print_url_is_the_documented_one(connector):
	connector.config.extra.pop("print_url")
	code = published("printing-code.json")["message"]
	assert connector.print_url(code) == (
		"https://digitalize.viettelpost.vn/DigitalizePrint/report.do?type=1&bill=ISJDgZ3NSiYMtPUk7vTzQK8ZWUDexvvDKIclc0NplOU%3D&showPostage=1"
	)


def test_label_refuses_what_is_not_a_pdf_and_too_many_waybills(fake, connector):
	with pytest.raises(ConnectorError, match="at most 100"):
		connector.label([str(n) for n in range(101)])
	with pytest.raises(ConnectorError, match="Order does not exist"):
		connector.label(["404"])
	one = connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0022").tracking_number
	connector.config.extra["print_url"] = fake.base_url + "/nowhere"
	with pytest.raises(ConnectorError, match="no PDF"):
		connector.label([one])


# --- webhook ----------------------------------------------------------------------------
def test_webhook_verify_takes_the_secure_token_and_refuses_forgeries(connector):
	body = published("webhook.json")
	connector.config.webhook_secret = "0333333333"  # the example's TOKEN
	raw = json.dumps(body).encode()
	assert connector.verify_webhook({}, raw)
	assert not connector.verify_webhook({}, json.dumps({**body, "TOKEN": "0333333334"}).encode())
	assert not connector.verify_webhook({}, json.dumps({"DATA": body["DATA"]}).encode())
	assert not connector.verify_webhook({}, b"not json")
	assert connector.verify_webhook({"Authorization": "0333333333"}, json.dumps({"DATA": body["DATA"]}).encode())
	connector.config.webhook_secret = ""
	assert not connector.verify_webhook({}, raw)  # no secret configured: nothing verifies


def test_webhook_parse_on_the_published_example(connector):
	event = connector.parse_webhook((PUBLISHED / "webhook.json").read_bytes())[0]
	assert event.tracking_number == "TUANPAD3024822076" and reference_of(event) == "TUANPAD3024822076"
	assert event.status == S.CREATED and event.carrier_status == "104"
	assert event.at == datetime(2025, 11, 10, 11, 7, 16, tzinfo=timezone(timedelta(hours=7)))
	assert event.reason == "Phân công bưu tá nhận hàng" and event.cod_collected is None
	assert event.raw["_location"].startswith("HNI, GLM, Bưu cục Gia Lâm")


def test_webhook_posted_by_the_stand_in_is_verified_and_parsed(fake, connector):
	received: list[tuple[dict, bytes]] = []

	class Receiver(BaseHTTPRequestHandler):
		def do_POST(self):
			received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
			self.send_response(200)
			self.end_headers()

		def log_message(self, *args):
			pass

	server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
	threading.Thread(target=server.serve_forever, daemon=True).start()
	try:
		fake.webhook_url = f"http://127.0.0.1:{server.server_address[1]}/vtp"
		booked = connector.create(sender(connector), receiver(connector), parcel(cod=250_000), "VCN", "DN-0030")
		fake.advance(booked.tracking_number, 500, "Giao bưu tá đi phát")
		fake.advance(booked.tracking_number, 501, "Phát thành công")
	finally:
		server.shutdown()
		server.server_close()
	assert len(received) == 2
	headers, body = received[1]
	assert connector.verify_webhook(headers, body)
	event = connector.parse_webhook(body)[0]
	assert (event.tracking_number, event.status, event.cod_collected) == (booked.tracking_number, S.DELIVERED, Decimal(250_000))
	assert reference_of(event) == "DN-0030"


def test_returning_leg_is_returning(fake, connector):
	booked = connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0031")
	event = connector.parse_webhook(json.dumps(fake.advance(booked.tracking_number, 400, returning=True)).encode())[0]
	assert event.status == S.RETURNING


def test_webhook_bodies_that_are_not_viettel_posts_are_refused(connector):
	with pytest.raises(ConnectorError):
		connector.parse_webhook(b"[]")
	with pytest.raises(ConnectorError):
		connector.parse_webhook(b"{")


def test_track_is_unsupported_rather_than_invented(connector):
	with pytest.raises(LookupUnsupported):
		connector.track("15878180012")


# --- statuses ---------------------------------------------------------------------------
EXPECTED = {
	-100: S.CREATED, -108: S.CREATED, -109: S.PICKED_UP, -110: S.PICKED_UP, 100: S.CREATED, 101: S.CANCELLED,
	102: S.CREATED, 103: S.CREATED, 104: S.CREATED, 105: S.PICKED_UP, 106: S.CREATED, 107: S.CANCELLED,
	200: S.PICKED_UP, 201: S.CANCELLED, 202: S.IN_TRANSIT, 300: S.IN_TRANSIT, 301: S.IN_TRANSIT, 302: S.IN_TRANSIT,
	303: S.IN_TRANSIT, 320: S.IN_TRANSIT, 400: S.IN_TRANSIT, 401: S.IN_TRANSIT, 402: S.IN_TRANSIT, 403: S.IN_TRANSIT,
	500: S.OUT_FOR_DELIVERY, 501: S.DELIVERED, 502: S.RETURNING, 503: S.CANCELLED, 504: S.RETURNED,
	505: S.DELIVERY_FAILED, 506: S.DELIVERY_FAILED, 507: S.DELIVERY_FAILED, 508: S.OUT_FOR_DELIVERY,
	509: S.IN_TRANSIT, 510: S.IN_TRANSIT, 515: S.RETURNING, 550: S.OUT_FOR_DELIVERY,
}  # fmt: skip
# Section 8 of the partner document lists these codes; every one must be mapped.
PUBLISHED_TABLE = [101, 102, 103, 104, 105, 107, 200, 201, 202, 300, 400, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 515, 550]


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_every_status_code_is_mapped(code):
	assert STATUS_MAP[code] == EXPECTED[code]
	assert status_of(code) == status_of(str(code)) == EXPECTED[code]
	event = event_from_webhook_data({"ORDER_NUMBER": "1", "ORDER_STATUS": code})
	assert event.status == EXPECTED[code] and event.carrier_status == str(code)
	assert event.raw["STATUS_NAME"] == STATUS_TABLE[code][1]


def test_the_published_table_and_final_statuses_are_covered():
	assert set(PUBLISHED_TABLE) <= set(STATUS_MAP) and set(STATUS_MAP) == set(EXPECTED)
	assert {STATUS_MAP[c] for c in FINAL_STATUSES} <= {S.CANCELLED, S.DELIVERED, S.RETURNED}
	assert all(STATUS_TABLE[c][2] == "table" for c in PUBLISHED_TABLE)


def test_an_unknown_code_is_unknown_and_kept():
	event = event_from_webhook_data({"ORDER_NUMBER": "1", "ORDER_STATUS": 570, "STATUS_NAME": "Mới"})
	assert event.status == S.UNKNOWN and event.carrier_status == "570" and event.raw["STATUS_NAME"] == "Mới"
	assert status_of("abc") == S.UNKNOWN and status_of(None) == S.UNKNOWN


# --- retries ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "error:System error"])
def test_transient_failures_are_retried(fake, connector, kind):
	fake.fail("/v2/order/getPriceAll", kind)
	assert connector.price_all(sender(connector), receiver(connector), parcel())
	assert len(fake.calls_to("/v2/order/getPriceAll")) == 2


def test_persistent_failures_surface_as_retryable(fake, connector):
	fake.fail("/v2/order/getPriceAll", "429", times=3)
	with pytest.raises(RateLimited):
		connector.price_all(sender(connector), receiver(connector), parcel())
	fake.fail("/v2/order/getPrice", "503", times=3)
	with pytest.raises(RetryableError):
		connector.price(sender(connector), receiver(connector), parcel(), "VCN")


def test_a_create_failing_with_5xx_then_succeeding_books_once(fake, connector):
	fake.fail("/v2/order/createOrder", "502")
	booked = connector.create(sender(connector), receiver(connector), parcel(), "VCN", "DN-0040")
	assert len(fake.order_by_reference("DN-0040")) == 1 and booked.tracking_number in fake.orders


def test_expected_from_counts_from_midnight():
	now = datetime(2025, 11, 10, 23, 59, tzinfo=timezone.utc)  # 06:59 on the 11th in Vietnam
	assert expected_from(24.0, now) == datetime(2025, 11, 13, tzinfo=timezone(timedelta(hours=7)))
	assert expected_from(None, now) is None


def test_a_name_that_folds_like_its_prefix_still_matches():
	from oms_connector.connectors.viettelpost.mapper import match_name

	rows = [{"WARDS_ID": 1, "WARDS_NAME": "PHƯỜNG PHƯƠNG LIỆT"}, {"WARDS_ID": 2, "WARDS_NAME": "PHƯỜNG LIỆT"}]
	assert [r["WARDS_ID"] for r in match_name("Phương Liệt", rows, "WARDS_NAME")] == [1]
	assert [r["WARDS_ID"] for r in match_name("Phường Phương Liệt", rows, "WARDS_NAME")] == [1]
	assert [r["WARDS_ID"] for r in match_name("P. Liệt", rows, "WARDS_NAME")] == [2]
