"""The GHN connector driven end to end against oms_connector/sandbox/ghn_server.py, and its mapper
on GHN's own published examples (tests/connectors/ghn_published/, sources in its README)."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from oms_connector.connectors.base import AuthError, ConnectorError, RateLimited, RetryableError
from oms_connector.connectors.ghn import STATUS_MAP, GHNConnector, classify_error, map_status, normalize_name
from oms_connector.connectors.http import PlatformHTTP
from oms_connector.domain.shipping import Address, AddressProblem, CarrierConfig, Parcel, ParcelItem, ShipmentStatus
from oms_connector.sandbox.ghn_server import FakeGHN

PUBLISHED = Path(__file__).parent / "ghn_published"
SECRET = "cb-secret-6f1e"
CREATE = "/v2/shipping-order/create"

# Every status GHN documents, and where it lands.
EXPECTED = {
	"ready_to_pick": ShipmentStatus.CREATED,
	"picking": ShipmentStatus.CREATED,
	"money_collect_picking": ShipmentStatus.CREATED,
	"cancel": ShipmentStatus.CANCELLED,
	"picked": ShipmentStatus.PICKED_UP,
	"storing": ShipmentStatus.IN_TRANSIT,
	"transporting": ShipmentStatus.IN_TRANSIT,
	"sorting": ShipmentStatus.IN_TRANSIT,
	"delivering": ShipmentStatus.OUT_FOR_DELIVERY,
	"money_collect_delivering": ShipmentStatus.OUT_FOR_DELIVERY,
	"delivered": ShipmentStatus.DELIVERED,
	"delivery_fail": ShipmentStatus.DELIVERY_FAILED,
	"waiting_to_return": ShipmentStatus.DELIVERY_FAILED,
	"return": ShipmentStatus.RETURNING,
	"return_transporting": ShipmentStatus.RETURNING,
	"return_sorting": ShipmentStatus.RETURNING,
	"returning": ShipmentStatus.RETURNING,
	"return_fail": ShipmentStatus.RETURNING,
	"returned": ShipmentStatus.RETURNED,
	"exception": ShipmentStatus.DELIVERY_FAILED,
	"damage": ShipmentStatus.LOST,
	"lost": ShipmentStatus.LOST,
}


@pytest.fixture
def fake():
	with FakeGHN() as server:
		yield server


def make_connector(fake: FakeGHN, token: str | None = None, shop_id: str | None = None, timeout: float = 5) -> GHNConnector:
	config = CarrierConfig(
		base_url=fake.api_url,
		token=fake.token if token is None else token,
		shop_id=str(fake.shop_id) if shop_id is None else shop_id,
		webhook_secret=SECRET,
	)
	return GHNConnector(config, http=PlatformHTTP(attempts=3, sleep=lambda s: None, timeout=timeout))


@pytest.fixture
def ghn(fake):
	return make_connector(fake)


SENDER = Address(name="Kho OMS", phone="0909999999", line1="12 Nguyễn Đình Chiểu", ward="P. Đa Kao", district="Q1", province="TP. Hồ Chí Minh")
BUYER = Address(name="Nguyễn Văn A", phone="0987654321", line1="72 Thành Thái", ward="Phường 14", district="Quận 3", province="Hồ Chí Minh")
HANOI = Address(name="Trần B", phone="0911222333", line1="1 Phó Đức Chính", ward="Phúc Xá", district="Ba Đình", province="Thành phố Hà Nội")


def parcel(**kw) -> Parcel:
	values = dict(weight_g=1200, length_cm=20, width_cm=15, height_cm=10, cod_amount=Decimal(350000), value=Decimal(350000),
		items=[ParcelItem(name="Áo Polo", qty=2, sku="POLO-M", weight_g=600, value=Decimal(175000))])
	values.update(kw)
	return Parcel(**values)


def booked(ghn, reference="DN-0001", receiver=BUYER, **kw):
	return ghn.create(ghn.resolve_address(SENDER), ghn.resolve_address(receiver), parcel(**kw), "53320", reference)


# --- auth --------------------------------------------------------------------------------
def test_every_request_carries_the_token_and_shop_apis_the_shop_id(fake, ghn):
	booked(ghn)
	assert fake.calls and all(call["headers"].get("token") == fake.token for call in fake.calls)
	create = next(call for call in fake.calls if call["path"] == CREATE)
	assert create["headers"]["shopid"] == str(fake.shop_id)
	province = next(call for call in fake.calls if call["path"] == "/master-data/province")
	assert province["method"] == "GET"


def test_a_refused_token_is_an_auth_error_and_not_retried(fake):
	with pytest.raises(AuthError):
		make_connector(fake, token="wrong").provinces()
	assert len(fake.calls) == 1


def test_a_shop_the_token_does_not_own_is_an_auth_error(fake):
	ghn = make_connector(fake, shop_id="999")
	with pytest.raises(AuthError):
		booked(ghn)


def test_no_token_refused_before_sending(fake):
	with pytest.raises(AuthError):
		make_connector(fake, token="").provinces()
	assert fake.calls == []


# --- master data -------------------------------------------------------------------------
def test_normalized_names():
	assert normalize_name("TP. Hồ Chí Minh") == normalize_name("Thành phố Hồ Chí Minh") == "hochiminh"
	assert normalize_name("Phường 05") == normalize_name("P.5") == normalize_name("5") == "5"
	assert normalize_name("Quận 1") == normalize_name("Q1") == "1"
	assert normalize_name("Tỉnh Lào Cai") == normalize_name("laocai")


def test_resolve_exact_names(ghn):
	resolved = ghn.resolve_address(Address(name="A", phone="1", line1="x", ward="Phường Bến Nghé", district="Quận 1", province="Hồ Chí Minh"))
	assert (resolved.province_id, resolved.district_id, resolved.ward_id) == ("202", "1442", "20109")


def test_resolve_through_name_extensions_and_prefixes(ghn):
	resolved = ghn.resolve_address(SENDER)  # "TP. Hồ Chí Minh", "Q1", "P. Đa Kao"
	assert (resolved.province_id, resolved.district_id, resolved.ward_id) == ("202", "1442", "20106")
	assert ghn.resolve_address(HANOI).ward_id == "1A0101"
	five = ghn.resolve_address(Address(name="A", phone="1", line1="x", ward="phuong 05", district="quan 3", province="ho chi minh"))
	assert five.ward_id == "20305"
	lao_cai = ghn.resolve_address(Address(name="A", phone="1", line1="x", ward="Cốc Lếu", district="TP Lào Cai", province="T.Lào Cai"))
	assert (lao_cai.province_id, lao_cai.ward_id) == ("269", "80201")


def test_an_exact_name_wins_over_a_loose_one(ghn):
	exact = ghn.resolve_address(Address(name="A", phone="1", line1="x", ward="Linh Trung", district="Thành phố Thủ Đức", province="HCM"))
	assert exact.district_id == "3695"


def test_ambiguous_district_is_an_address_problem(ghn):
	with pytest.raises(AddressProblem) as problem:
		ghn.resolve_address(Address(name="A", phone="1", line1="x", ward="Linh Trung", district="Thủ Đức", province="HCM"))
	assert "several" in str(problem.value) and "3695" in str(problem.value) and "1462" in str(problem.value)


def test_unknown_places_are_address_problems(ghn):
	with pytest.raises(AddressProblem, match="province"):
		ghn.resolve_address(Address(name="A", phone="1", line1="x", ward="P1", district="Q1", province="Atlantis"))
	with pytest.raises(AddressProblem, match="ward"):
		ghn.resolve_address(Address(name="A", phone="1", line1="x", ward="Phường Không Có", district="Q1", province="HCM"))
	with pytest.raises(AddressProblem, match="district"):
		ghn.resolve_address(Address(name="A", phone="1", line1="x", ward="Đa Kao", district="", province="HCM"))


def test_master_data_is_read_once(fake, ghn):
	ghn.resolve_address(SENDER)
	ghn.resolve_address(BUYER)
	assert sum(1 for c in fake.calls if c["path"] == "/master-data/province") == 1
	assert sum(1 for c in fake.calls if c["path"] == "/master-data/district") == 1


# --- quotes ------------------------------------------------------------------------------
def test_quotes_for_every_available_service(fake, ghn):
	quotes = ghn.quote(ghn.resolve_address(SENDER), ghn.resolve_address(HANOI), parcel())
	assert [(q.service_id, q.service_name) for q in quotes] == [("53320", "Chuẩn"), ("53321", "Tiết kiệm")]
	standard, saver = quotes
	# 30,000 across provinces + 2 × 2,500 for 1,200 g over the first 500 g; no insurance asked for.
	assert standard.fee == Decimal(35000) and standard.fee_breakdown["service_fee"] == Decimal(35000)
	assert saver.fee == Decimal(31500)
	assert standard.expected_delivery < saver.expected_delivery
	fee_call = next(json.loads(c["body"]) for c in fake.calls if c["path"] == "/v2/shipping-order/fee")
	assert fee_call["to_ward_code"] == "1A0101" and fee_call["cod_value"] == 350000 and fee_call["insurance_value"] == 0


def test_insured_parcel_pays_insurance(ghn):
	quotes = ghn.quote(ghn.resolve_address(SENDER), ghn.resolve_address(BUYER), parcel(insured=True, value=Decimal(2_000_000)))
	assert quotes[0].fee_breakdown["insurance_fee"] == Decimal(10000)
	assert quotes[0].fee == Decimal(22000 + 5000 + 10000)


def test_an_overweight_parcel_is_refused_with_ghn_message(ghn):
	with pytest.raises(ConnectorError, match="weight") as refused:
		ghn.quote(ghn.resolve_address(SENDER), ghn.resolve_address(BUYER), parcel(weight_g=60_000))
	assert not refused.value.retryable


# --- create, find ------------------------------------------------------------------------
def test_create_books_under_our_reference(fake, ghn):
	shipment = booked(ghn)
	order = fake.orders[shipment.tracking_number]
	assert order["client_order_code"] == "DN-0001" and order["status"] == "ready_to_pick"
	assert order["required_note"] == "KHONGCHOXEMHANG" and order["payment_type_id"] == 1 and order["cod_amount"] == 350000
	assert shipment.fee == Decimal(order["total_fee"]) and shipment.expected_delivery is not None
	body = json.loads(next(c["body"] for c in fake.calls if c["path"] == CREATE))
	assert body["items"] == [{"name": "Áo Polo", "code": "POLO-M", "quantity": 2, "price": 175000, "weight": 600}]
	assert body["to_district_id"] == 1444 and body["to_ward_code"] == "20308"


def test_find_by_reference(fake, ghn):
	shipment = booked(ghn)
	found = ghn.find("DN-0001")
	assert found.tracking_number == shipment.tracking_number and found.fee == shipment.fee
	assert ghn.find("DN-none") is None


def test_a_create_that_timed_out_is_found_not_booked_twice(fake):
	ghn = make_connector(fake, timeout=0.5)
	fake.fail(CREATE, "late:1.0")  # GHN books it, the answer comes too late
	shipment = booked(ghn)
	assert len(fake.orders) == 1 and shipment.tracking_number in fake.orders
	assert sum(1 for c in fake.calls if c["path"] == CREATE) == 1


def test_a_create_lost_before_ghn_is_tried_again(fake, ghn):
	fake.fail(CREATE, "503")
	shipment = booked(ghn)
	assert list(fake.orders) == [shipment.tracking_number]
	assert sum(1 for c in fake.calls if c["path"] == CREATE) == 2


def test_a_second_create_with_the_same_reference_returns_the_first(fake, ghn):
	first = booked(ghn)
	again = booked(ghn)
	assert again.tracking_number == first.tracking_number and len(fake.orders) == 1


def test_create_refusals_carry_ghn_message(fake, ghn):
	fake.wards.append({"WardCode": "99999", "DistrictID": 1443, "WardName": "Phường An Khánh", "NameExtension": []})
	receiver = Address(name="C", phone="0900000000", line1="1", ward="An Khánh", district="Quận 2", province="HCM")
	with pytest.raises(ConnectorError, match="weight"):
		booked(ghn, receiver=receiver, weight_g=0)
	assert fake.orders == {}


# --- cancel, label, track ----------------------------------------------------------------
def test_cancel(fake, ghn):
	shipment = booked(ghn)
	ghn.cancel(shipment.tracking_number)
	assert fake.orders[shipment.tracking_number]["status"] == "cancel"


def test_cancel_after_pickup_is_refused(fake, ghn):
	shipment = booked(ghn)
	fake.advance(shipment.tracking_number, "picked")
	with pytest.raises(ConnectorError, match="picked"):
		ghn.cancel(shipment.tracking_number)


def test_label_is_a_pdf(fake, ghn):
	first, second = booked(ghn, "DN-1"), booked(ghn, "DN-2")
	pdf = ghn.label([first.tracking_number, second.tracking_number])
	assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
	assert list(fake.print_tokens.values()) == [[first.tracking_number, second.tracking_number]]


def test_label_of_an_unknown_order_is_refused(ghn):
	with pytest.raises(ConnectorError, match="không tồn tại"):
		ghn.label(["NOPE1234"])


def test_track_reads_the_status_log(fake, ghn):
	shipment = booked(ghn)
	for status in ("picking", "picked", "transporting", "delivering"):
		fake.advance(shipment.tracking_number, status)
	fake.advance(shipment.tracking_number, "delivery_fail", reason="Không liên lạc được người nhận")
	events = ghn.track(shipment.tracking_number)
	assert [e.carrier_status for e in events] == ["picking", "picked", "transporting", "delivering", "delivery_fail"]
	assert events[-1].status is ShipmentStatus.DELIVERY_FAILED and "liên lạc" in events[-1].reason
	assert all(e.at is not None and e.tracking_number == shipment.tracking_number for e in events)


def test_track_without_log_gives_the_current_status(fake, ghn):
	shipment = booked(ghn)
	events = ghn.track(shipment.tracking_number)
	assert [(e.carrier_status, e.status) for e in events] == [("ready_to_pick", ShipmentStatus.CREATED)]


# --- webhook -----------------------------------------------------------------------------
def test_webhook_token_verified(ghn):
	body = (PUBLISHED / "callback_order_status.json").read_bytes()
	assert ghn.verify_webhook({"token": SECRET}, body)
	assert ghn.verify_webhook({"X-OMS-Webhook-Token": SECRET}, body)
	assert not ghn.verify_webhook({"token": SECRET + "x"}, body)
	assert not ghn.verify_webhook({"token": ""}, body)
	assert not ghn.verify_webhook({}, body)


def test_webhook_refused_when_no_secret_configured(fake):
	ghn = make_connector(fake)
	ghn.config.webhook_secret = ""
	assert not ghn.verify_webhook({"token": ""}, b"{}")


def test_published_callback_parses():
	ghn = GHNConnector(CarrierConfig(base_url="http://127.0.0.1:9", token="t"))
	[event] = ghn.parse_webhook((PUBLISHED / "callback_order_status.json").read_bytes())
	assert event.tracking_number == "Z82BS" and event.carrier_status == "ready_to_pick"
	assert event.status is ShipmentStatus.CREATED
	assert event.at.isoformat() == "2021-11-11T03:52:50.158000+00:00"
	assert event.cod_collected is None  # COD to collect, not collected yet
	assert event.raw["Type"] == "create" and event.raw["TotalFee"] == 71400


def test_stand_in_callback_reaches_our_endpoint_and_parses(fake, ghn):
	received = []

	class Endpoint(BaseHTTPRequestHandler):
		def do_POST(self):
			received.append(self.rfile.read(int(self.headers["Content-Length"])))
			self.send_response(200)
			self.end_headers()

		def log_message(self, *args):
			pass

	server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
	threading.Thread(target=server.serve_forever, daemon=True).start()
	try:
		shipment = booked(ghn)
		fake.advance(shipment.tracking_number, "delivered", callback_url=f"http://127.0.0.1:{server.server_address[1]}/cb?token={SECRET}")
	finally:
		server.shutdown()
		server.server_close()
	[event] = ghn.parse_webhook(received[0])
	assert event.tracking_number == shipment.tracking_number and event.status is ShipmentStatus.DELIVERED
	assert event.cod_collected == Decimal(350000) and event.raw["ClientOrderCode"] == "DN-0001"


def test_a_callback_that_is_not_ghn_json_is_refused(ghn):
	with pytest.raises(ConnectorError):
		ghn.parse_webhook(b"<html>")
	with pytest.raises(ConnectorError):
		ghn.parse_webhook(b'{"Status": "delivered"}')


# --- statuses ----------------------------------------------------------------------------
def test_every_documented_status_is_mapped():
	assert set(STATUS_MAP) == set(EXPECTED)
	for code, status in EXPECTED.items():
		assert map_status(code) is status, code


def test_an_unknown_status_is_unknown_and_kept(fake, ghn):
	assert map_status("teleported") is ShipmentStatus.UNKNOWN
	shipment = booked(ghn)
	fake.advance(shipment.tracking_number, "teleported")
	[event] = ghn.track(shipment.tracking_number)
	assert event.status is ShipmentStatus.UNKNOWN and event.carrier_status == "teleported"


# --- errors and retries ------------------------------------------------------------------
def test_429_and_5xx_are_retried(fake, ghn):
	fake.fail("/master-data/province", "429")
	fake.fail("/master-data/province", "502")
	assert ghn.provinces()
	assert sum(1 for c in fake.calls if c["path"] == "/master-data/province") == 3


def test_retries_give_up_with_a_retryable_error(fake, ghn):
	fake.fail("/master-data/province", "500", times=3)
	with pytest.raises(RetryableError):
		ghn.provinces()


def test_a_timeout_is_retried(fake):
	ghn = make_connector(fake, timeout=0.3)
	fake.fail("/master-data/province", "sleep:0.6")
	assert ghn.provinces()


def test_classify_error():
	assert isinstance(classify_error(401, "Token is not valid!"), AuthError)
	assert isinstance(classify_error(400, "Token không hợp lệ"), AuthError)
	assert isinstance(classify_error(429, "too many"), RateLimited)
	assert isinstance(classify_error(500, "internal"), RetryableError)
	plain = classify_error(400, "Số điện thoại không hợp lệ", 400, "/v2/shipping-order/create", "USER_ERR_COMMON")
	assert type(plain) is ConnectorError and "Số điện thoại" in str(plain) and plain.code == "USER_ERR_COMMON"


def test_published_available_services_are_read(fake, ghn):
	fake_services = json.loads((PUBLISHED / "available_services.json").read_text())["data"]
	from oms_connector.sandbox import ghn_server

	original = ghn_server.SERVICES
	ghn_server.SERVICES = fake_services
	try:
		services = ghn.services(ghn.resolve_address(SENDER), ghn.resolve_address(BUYER))
	finally:
		ghn_server.SERVICES = original
	assert [s["service_id"] for s in services] == [53319, 53320, 53330, 53321]


def test_services_ghn_will_not_price_are_left_out_of_the_quotes(fake, ghn):
	from oms_connector.sandbox import ghn_server

	original = ghn_server.SERVICES
	ghn_server.SERVICES = json.loads((PUBLISHED / "available_services.json").read_text())["data"]
	fake_priced = {53320, 53321}
	price = fake._price

	def only_some(body):
		if body.get("service_id") not in fake_priced:
			raise ghn_server.GHNError("route not supported by this service")
		return price(body)

	fake._price = only_some
	try:
		quotes = ghn.quote(ghn.resolve_address(SENDER), ghn.resolve_address(BUYER), parcel())
	finally:
		ghn_server.SERVICES = original
	assert [q.service_id for q in quotes] == ["53320", "53321"]


def test_webhook_token_read_from_the_registered_callback_url(ghn):
	"""GHN posts to the callback URL as registered, ?token=<secret> included."""
	url = "https://shop.example/api/method/oms_connector.api.carriers.webhook?carrier=GHN&token="
	assert ghn.verify_webhook({}, b"{}", url + SECRET)
	assert not ghn.verify_webhook({}, b"{}", url + "forged")
	assert not ghn.verify_webhook({}, b"{}", url)
