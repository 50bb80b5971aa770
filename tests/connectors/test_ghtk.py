"""The GHTK connector driven end to end against oms_connector/sandbox/ghtk_server.py, and its
mapper on GHTK's own published examples (tests/connectors/ghtk_published/, sources in its README)."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from oms_connector.connectors.base import AuthError, ConnectorError, RateLimited, RetryableError
from oms_connector.connectors.ghtk import STATUS_MAP, STATUS_TABLE, GHTKConnector, event_from_webhook, status_of, webhook_fields
from oms_connector.connectors.ghtk.mapper import parse_estimate
from oms_connector.connectors.http import PlatformHTTP
from oms_connector.domain.shipping import Address, AddressProblem, CarrierConfig, Parcel, ParcelItem, ShipmentStatus
from oms_connector.sandbox.ghtk_server import FakeGHTK

TOKEN = "fake-ghtk-token-0123456789"
SECRET = "hook-secret-8f2c"
PUBLISHED = Path(__file__).parent / "ghtk_published"
ORDER = "/services/shipment/order"
FEE = "/services/shipment/fee"
STATUS = "/services/shipment/v2/"
VN = timezone(timedelta(hours=7))

SHOP = Address(name="OMS Demo Shop", phone="0911222333", line1="590 CMT8", ward="Phường 1", district="Quận 3", province="TP. Hồ Chí Minh")
BUYER = Address(name="Nguyễn Văn A", phone="0987654321", line1="123 Nguyễn Chí Thanh", ward="Phường Bến Nghé", district="Quận 1", province="TP. Hồ Chí Minh")
HANOI = Address(name="Trần Thị B", phone="0912345678", line1="12 Xuân Thủy", ward="Phường Dịch Vọng", district="Quận Cầu Giấy", province="Hà Nội")


# --- fixtures ---------------------------------------------------------------------------
@pytest.fixture
def fake():
	with FakeGHTK(token=TOKEN) as server:
		yield server


def make_connector(fake: FakeGHTK, token: str = TOKEN, timeout: float = 5, **extra) -> GHTKConnector:
	config = CarrierConfig(base_url=fake.base_url, token=token, webhook_secret=SECRET, extra=extra)
	return GHTKConnector(config, http=PlatformHTTP(attempts=3, sleep=lambda s: None, timeout=timeout))


@pytest.fixture
def connector(fake):
	return make_connector(fake)


def parcel(cod: int = 250000, weight: int = 1200) -> Parcel:
	return Parcel(
		weight_g=weight,
		value=Decimal(500000),
		cod_amount=Decimal(cod),
		items=[ParcelItem(name="Áo thun", qty=2, sku="TEE-01", weight_g=300, value=Decimal(150000)), ParcelItem(name="Mũ", qty=1, sku="HAT-02", value=Decimal(200000))],
	)


def book(connector, reference="DN-0001", receiver=BUYER, service="road"):
	sender, to = connector.resolve_address(SHOP), connector.resolve_address(receiver)
	return connector.create(sender, to, parcel(), service, reference, note="Cho xem hàng")


# --- auth -------------------------------------------------------------------------------
def test_every_request_carries_the_token_header(fake, connector):
	connector.resolve_address(BUYER)
	call = fake.calls[-1]
	assert call["headers"]["Token"] == TOKEN and "X-Client-Source" not in call["headers"]


def test_partner_code_is_sent_as_x_client_source(fake):
	fake.client_source = "S308157"
	with pytest.raises(AuthError):
		make_connector(fake).resolve_address(BUYER)
	make_connector(fake, client_source="S308157").resolve_address(BUYER)
	assert fake.calls[-1]["headers"]["X-Client-Source"] == "S308157"


def test_a_refused_token_is_an_auth_error_not_retried(fake):
	with pytest.raises(AuthError) as failure:
		make_connector(fake, token="wrong").resolve_address(BUYER)
	assert failure.value.code == "20101" and not failure.value.retryable
	assert len(fake.calls) == 1


# --- addresses --------------------------------------------------------------------------
def test_resolve_normalises_and_asks_ghtk(fake, connector):
	messy = Address(name=" Nguyễn  Văn A ", phone="0987654321", line1="123  Nguyễn Chí Thanh", ward="phường bến nghé", district="Quận 1", province="TP. Hồ Chí Minh")
	resolved = connector.resolve_address(messy)
	assert resolved.address.line1 == "123 Nguyễn Chí Thanh" and resolved.address.name == "Nguyễn Văn A"
	assert resolved.province_id == resolved.district_id == resolved.ward_id == ""
	assert fake.calls[-1]["query"] == {"province": "TP. Hồ Chí Minh", "district": "Quận 1", "ward_street": "phường bến nghé"}


def test_a_street_without_ward_is_placed_by_ghtk(connector):
	no_ward = Address(name="A", phone="0987654321", line1="12 Xuân Thủy", district="Quận Cầu Giấy", province="Hà Nội")
	assert connector.resolve_address(no_ward).address.line1 == "12 Xuân Thủy"


@pytest.mark.parametrize(
	"address, words",
	[
		(Address(name="A", phone="09", line1="1 Lê Lợi", ward="Phường 1", district="", province="TP. Hồ Chí Minh"), "district"),
		(Address(name="A", phone="09", line1="1 Lê Lợi", ward="Phường 1", district="Quận 3", province=""), "province"),
		(Address(name="A", phone="09", line1="", ward="", district="Quận 3", province="TP. Hồ Chí Minh"), "ward or street"),
		(Address(name="A", phone="", line1="1 Lê Lợi", ward="Phường 1", district="Quận 3", province="TP. Hồ Chí Minh"), "phone"),
	],
)
def test_addresses_missing_what_ghtk_requires_are_refused_without_a_call(fake, connector, address, words):
	with pytest.raises(AddressProblem) as problem:
		connector.resolve_address(address)
	assert words in str(problem.value)
	assert fake.calls == []


@pytest.mark.parametrize(
	"province, district, ward, words",
	[
		("Đà Nẵng", "Quận Hải Châu", "Phường Thạch Thang", "tỉnh/thành phố"),
		("Hà Nội", "Quận 1", "Phường Bến Nghé", "quận/huyện"),  # Quận 1 is in HCMC, not Hà Nội
		("Hà Nội", "Quận Cầu Giấy", "Phường Bến Nghé", "phường/xã"),
	],
)
def test_addresses_ghtk_cannot_place_are_an_address_problem_with_its_words(connector, province, district, ward, words):
	with pytest.raises(AddressProblem) as problem:
		connector.resolve_address(Address(name="A", phone="0987654321", line1="1 Lê Lợi", ward=ward, district=district, province=province))
	assert words in str(problem.value)


# --- fees -------------------------------------------------------------------------------
def test_quote_inside_a_province_is_road_only_priced_by_grams(fake, connector):
	quotes = connector.quote(connector.resolve_address(SHOP), connector.resolve_address(BUYER), parcel(weight=1200))
	assert [q.service_id for q in quotes] == ["road", "fly"]
	road = quotes[0]
	assert road.carrier == "GHTK" and road.fee == Decimal(22000) and road.fee_breakdown == {"ship_fee": Decimal(22000), "insurance_fee": Decimal(0)}
	call = fake.calls_to(FEE)[0]
	assert call["query"]["weight"] == "1200" and call["query"]["deliver_option"] == "none" and call["query"]["transport"] == "road"


def test_quote_between_provinces_adds_insurance_and_prices_fly_higher(connector):
	expensive = parcel(weight=1200)
	expensive.value = Decimal(2_000_000)
	road, fly = connector.quote(connector.resolve_address(SHOP), connector.resolve_address(HANOI), expensive)
	assert road.fee_breakdown["ship_fee"] == Decimal(30000 + 2 * 5000) and road.fee_breakdown["insurance_fee"] == Decimal(10000)
	assert road.fee == Decimal(50000) and fly.fee == Decimal(52000 + 10000)


def test_the_stand_in_refuses_weights_that_are_not_grams(fake):
	params = {"pick_province": "Hà Nội", "pick_district": "Quận Cầu Giấy", "province": "Hà Nội", "district": "Quận Cầu Giấy", "weight": "1.2", "deliver_option": "none"}
	answer = requests.get(fake.base_url + FEE, headers={"Token": TOKEN}, params=params, timeout=5).json()
	assert answer["success"] is False and "gram" in answer["message"]


# --- create, find, duplicates -----------------------------------------------------------
def test_create_sends_kilograms_and_our_reference(fake, connector):
	booked = book(connector)
	assert booked.tracking_number.startswith("S1.A1.") and booked.carrier == "GHTK" and booked.service_id == "road"
	assert booked.fee == Decimal(22000) and booked.carrier_reference
	assert booked.expected_delivery is not None and booked.expected_delivery.tzinfo is not None
	sent = json.loads(fake.calls_to(ORDER)[0]["body"])
	assert sent["order"]["id"] == "DN-0001" and sent["order"]["hamlet"] == "Khác" and sent["order"]["pick_money"] == 250000
	assert sent["order"]["is_freeship"] == "1" and sent["order"]["transport"] == "road" and sent["order"]["total_weight"] == 1.2
	assert sent["products"][0] == {"name": "Áo thun", "weight": 0.3, "quantity": 2, "price": 150000, "product_code": "TEE-01"}
	assert sent["products"][1]["weight"] == 0.4  # no weight of its own: a share of the parcel's 1,200 g over 3 units
	assert fake.order(booked.tracking_number)["weight"] == 1200


def test_a_second_create_under_the_same_reference_returns_the_first_booking(fake, connector):
	first = book(connector)
	again = book(connector)
	assert again.tracking_number == first.tracking_number and len(fake.orders) == 1
	assert again.fee == first.fee


def test_a_create_that_times_out_is_found_not_booked_twice(fake):
	connector = make_connector(fake, timeout=1)
	fake.fail(ORDER, "late:1.5")  # GHTK books the order, the answer comes after the client gave up
	booked = book(connector, "DN-TIMEOUT")
	assert len(fake.orders) == 1 and booked.tracking_number == fake.by_partner["DN-TIMEOUT"]
	assert len(fake.calls_to(ORDER)) == 2  # the retry met ORDER_ID_EXIST
	assert fake.calls_to(STATUS)[-1]["path"] == STATUS + "partner_id:DN-TIMEOUT"


def test_find_by_reference(fake, connector):
	assert connector.find("DN-NONE") is None
	booked = book(connector, "DN-FIND")
	found = connector.find("DN-FIND")
	assert found.tracking_number == booked.tracking_number and found.fee == booked.fee


def test_a_cancelled_booking_under_the_reference_is_not_reused(fake, connector):
	booked = book(connector, "DN-CXL")
	connector.cancel(booked.tracking_number)
	with pytest.raises(ConnectorError) as failure:
		book(connector, "DN-CXL")
	assert failure.value.code == "ORDER_ID_EXIST" and "cancelled" in str(failure.value)


def test_a_refused_order_names_ghtks_reason(fake, connector):
	sender = connector.resolve_address(SHOP)
	bad = connector.resolve_address(BUYER)
	bad.address.ward = "Phường Không Có"
	with pytest.raises(ConnectorError) as failure:
		connector.create(sender, bad, parcel(), "road", "DN-BAD")
	assert "Phường Không Có" in str(failure.value) and not failure.value.retryable


def test_the_stand_in_refuses_product_weights_in_grams(fake, connector):
	payload = connector.order_payload(connector.resolve_address(SHOP), connector.resolve_address(BUYER), parcel(), "road", "DN-G")
	payload["products"][0]["weight"] = 300  # grams where GHTK wants kg
	answer = requests.post(fake.base_url + ORDER, headers={"Token": TOKEN}, json=payload, timeout=5).json()
	assert answer["success"] is False and "kg" in answer["message"]


def test_the_stand_in_takes_ghtks_published_order_request():
	text = (PUBLISHED / "submit_order_request.txt").read_text(encoding="utf-8")
	body = json.loads(re.sub(r"//[^\n]*", "", text))
	with FakeGHTK(token=TOKEN) as server:
		answer = requests.post(server.base_url + ORDER + "/?ver=1.5", headers={"Token": TOKEN}, json=body, timeout=5).json()
		assert answer["success"] is True and answer["order"]["partner_id"] == "a4"
		assert server.order("partner_id:a4")["weight"] == 300  # 0.1 kg + 0.2 kg
		again = requests.post(server.base_url + ORDER, headers={"Token": TOKEN}, json=body, timeout=5).json()
		assert again["success"] is False and again["error"]["code"] == "ORDER_ID_EXIST" and again["error"]["ghtk_label"] == answer["order"]["label"]


# --- cancel, label, track ---------------------------------------------------------------
def test_cancel_before_pickup_and_a_retried_cancel_is_fine(fake, connector):
	booked = book(connector)
	connector.cancel(booked.tracking_number)
	assert fake.order(booked.tracking_number)["status"] == "-1"
	connector.cancel(booked.tracking_number)  # "already cancelled" is what we asked for


def test_cancel_after_pickup_is_refused(fake, connector):
	booked = book(connector)
	fake.advance(booked.tracking_number, 3)
	with pytest.raises(ConnectorError) as failure:
		connector.cancel(booked.tracking_number)
	assert "không thể hủy" in str(failure.value) and not failure.value.retryable
	assert fake.order(booked.tracking_number)["status"] == "3"


def test_label_is_a_pdf(fake, connector):
	booked = book(connector)
	pdf = connector.label([booked.tracking_number])
	assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
	with pytest.raises(ConnectorError) as failure:
		connector.label([booked.tracking_number, booked.tracking_number])
	assert failure.value.code == "one_label_per_pdf"
	with pytest.raises(ConnectorError):
		connector.label(["S1.A1.0"])


def test_track_reports_the_current_status(fake, connector):
	booked = book(connector)
	fake.advance(booked.tracking_number, 9, reason_code="131", reason="Khách hẹn giao lại")
	[event] = connector.track(booked.tracking_number)
	assert event.status == ShipmentStatus.DELIVERY_FAILED and event.carrier_status == "9" and event.at.tzinfo is not None
	fake.advance(booked.tracking_number, 5)
	[event] = connector.track(booked.tracking_number)
	assert event.status == ShipmentStatus.DELIVERED and event.cod_collected == Decimal(250000)
	with pytest.raises(ConnectorError):
		connector.track("S1.A1.0")


# --- webhook ----------------------------------------------------------------------------
CALLBACK = "https://oms.example.vn/api/method/oms_connector.api.ghtk_webhook?hash=" + SECRET


def test_webhook_hash_is_checked(connector):
	body = (PUBLISHED / "webhook_delivered.form").read_bytes()
	assert connector.verify_webhook({}, body, url=CALLBACK)
	assert connector.verify_webhook({}, body, query={"hash": [SECRET]})
	assert not connector.verify_webhook({}, body, url=CALLBACK.replace(SECRET, "forged"))
	assert not connector.verify_webhook({}, body, url=CALLBACK.split("?")[0])
	assert not connector.verify_webhook({}, body)  # no URL given: nothing to check, refused
	unset = GHTKConnector(CarrierConfig(base_url="http://x", token=TOKEN))
	assert not unset.verify_webhook({}, body, url="https://oms.example.vn/hook?hash=")


def test_published_webhook_form_body_parses(connector):
	[event] = connector.parse_webhook((PUBLISHED / "webhook_delivered.form").read_bytes())
	assert event.tracking_number == "S1.A1.17373471" and event.status == ShipmentStatus.DELIVERED and event.carrier_status == "5"
	assert event.at == datetime(2016, 11, 2, 12, 18, 39, tzinfo=VN) and event.reason == ""
	assert event.raw["partner_id"] == "1234567" and event.raw["fee"] == "1500" and event.cod_collected is None  # the form rendering has no pick_money


def test_published_webhook_json_parses(connector):
	[event] = connector.parse_webhook((PUBLISHED / "webhook_delivered.json").read_bytes())
	assert event.status == ShipmentStatus.DELIVERED and event.cod_collected == Decimal(100000)
	assert event.raw["weight"] == 2.4 and event.raw["partner_id"] == "1234567"


def test_the_stand_in_posts_webhooks_that_verify_and_parse(fake, connector):
	received = []

	class Hook(BaseHTTPRequestHandler):
		def do_POST(self):
			received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
			self.send_response(200)
			self.end_headers()

		def log_message(self, *args):
			pass

	server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
	threading.Thread(target=server.serve_forever, daemon=True).start()
	try:
		booked = book(connector)
		url = f"http://127.0.0.1:{server.server_address[1]}/hook?hash={SECRET}"
		fake.advance(booked.tracking_number, 10, reason_code="132", reason="Khách hẹn lại ngày giao", webhook_url=url)
	finally:
		server.shutdown()
		server.server_close()
	[(path, body)] = received
	assert connector.verify_webhook({}, body, url="http://127.0.0.1" + path)
	[event] = connector.parse_webhook(body)
	assert event.tracking_number == booked.tracking_number and event.status == ShipmentStatus.DELIVERY_FAILED
	assert event.carrier_status == "10" and event.reason == "[132] Khách hẹn lại ngày giao" and event.raw["reason_code"] == "132"
	assert event.raw["partner_id"] == "DN-0001"


# --- statuses ---------------------------------------------------------------------------
EXPECTED = {
	-1: ShipmentStatus.CANCELLED, 1: ShipmentStatus.CREATED, 2: ShipmentStatus.CREATED, 3: ShipmentStatus.PICKED_UP,
	4: ShipmentStatus.OUT_FOR_DELIVERY, 5: ShipmentStatus.DELIVERED, 6: ShipmentStatus.DELIVERED, 7: ShipmentStatus.CREATED,
	8: ShipmentStatus.CREATED, 9: ShipmentStatus.DELIVERY_FAILED, 10: ShipmentStatus.DELIVERY_FAILED, 11: ShipmentStatus.RETURNED,
	12: ShipmentStatus.CREATED, 13: ShipmentStatus.LOST, 20: ShipmentStatus.RETURNING, 21: ShipmentStatus.RETURNED,
	123: ShipmentStatus.PICKED_UP, 127: ShipmentStatus.CREATED, 128: ShipmentStatus.CREATED, 45: ShipmentStatus.DELIVERED,
	49: ShipmentStatus.DELIVERY_FAILED, 410: ShipmentStatus.DELIVERY_FAILED,
}


@pytest.mark.parametrize("code, status", sorted(EXPECTED.items()))
def test_every_documented_status_maps(code, status):
	assert status_of(code) == status and status_of(str(code)) == status
	event = event_from_webhook({"label_id": "S1.A1.1", "status_id": str(code), "reason_code": "", "reason": ""})
	assert event.status == status and event.carrier_status == str(code)


def test_the_table_is_exactly_the_documented_codes():
	assert set(STATUS_MAP) == set(EXPECTED) and all(words for _, words in STATUS_TABLE.values())


@pytest.mark.parametrize("code", ["99", "", "abc", "-2"])
def test_unknown_status_is_unknown_and_kept(code):
	event = event_from_webhook({"label_id": "S1.A1.1", "status_id": code, "reason_code": "x1", "reason": "mới"})
	assert event.status == ShipmentStatus.UNKNOWN and event.carrier_status == code and event.reason == "[x1] mới"


def test_a_webhook_without_label_is_refused():
	with pytest.raises(ValueError):
		event_from_webhook(webhook_fields(b"partner_id=1&status_id=5"))


def test_estimated_delivery_words():
	assert parse_estimate("Chiều 2017-07-02") == datetime(2017, 7, 2, tzinfo=VN)
	assert parse_estimate("Sáng 21/02", now=datetime(2024, 2, 19, tzinfo=VN)) == datetime(2024, 2, 21, tzinfo=VN)
	assert parse_estimate("Sáng 02/01", now=datetime(2024, 12, 30, tzinfo=VN)) == datetime(2025, 1, 2, tzinfo=VN)
	assert parse_estimate("") is None and parse_estimate("sớm") is None


# --- retries ----------------------------------------------------------------------------
def test_429_then_success(fake, connector):
	fake.fail(FEE, "429", times=2)
	quotes = connector.quote(connector.resolve_address(SHOP), connector.resolve_address(BUYER), parcel())
	assert quotes and len(fake.calls_to(FEE)) == 4  # road: 2 refusals + 1, fly: 1


def test_5xx_is_retried_then_given_up_as_retryable(fake, connector):
	booked = book(connector)
	fake.fail(STATUS, "502", times=2)
	assert connector.track(booked.tracking_number)[0].status == ShipmentStatus.CREATED
	fake.fail(STATUS, "503", times=3)
	with pytest.raises(RetryableError):
		connector.track(booked.tracking_number)


def test_429_exhausted_raises_rate_limited(fake, connector):
	fake.fail("/services/address/", "429", times=3)
	with pytest.raises(RateLimited):
		connector.resolve_address(BUYER)
