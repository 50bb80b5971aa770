"""Viettel Post partner API v2 (https://partner.viettelpost.vn/v2) as a CarrierConnector.

Auth (document section 2): POST /user/Login {USERNAME, PASSWORD} gives a token; POST
/user/ownerconnect with that token in the `Token` header gives a long-lived one (1-2 years). Every
order API takes the token in the `Token` header. A refused token ("Header Token is required",
"Token invalid", "Token invalid or expired") is an AuthError; with a username and password on the
account the connector logs in again once and repeats the call. The token in use is kept in
config.token (and token_expires_at) so the caller can store it.

Answers are {"status", "error", "message", "data"}; getPriceAll answers the bare list of services.

No lookup by our reference: the partner API offers none (the document's go-live checklist says to
hold an order whose createOrder timed out and take its tracking number from the webhook, which
carries our reference as ORDER_REFERENCE). create() sends CHECK_UNIQUE so Viettel Post refuses a
second order under the same reference; that refusal is raised as AlreadyBooked. find() and
track() raise LookupUnsupported rather than answer something Viettel Post never said.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import quote as urlquote

from ...domain.shipping import Address, AddressProblem, BookedShipment, CarrierAddress, CarrierConfig, Parcel, Quote, TrackingEvent
from ..base import AuthError, ConnectorError, RateLimited, RetryableError
from ..carrier import CarrierConnector
from .mapper import (
	CARRIER,
	booked_from_create,
	event_from_webhook_data,
	fold,
	match_name,
	money,
	parse_webhook_body,
	quote_from_price,
)

DEFAULT_BASE_URL = "https://partner.viettelpost.vn/v2"
DEFAULT_PRINT_URL = "https://digitalize.viettelpost.vn/DigitalizePrint/report.do"
LOGIN = "/user/Login"
OWNER_CONNECT = "/user/ownerconnect"
LIST_PROVINCE = "/categories/listProvinceById"
LIST_DISTRICT = "/categories/listDistrict"
LIST_WARDS = "/categories/listWards"
GET_PRICE_ALL = "/order/getPriceAll"
GET_PRICE = "/order/getPrice"
CREATE_ORDER = "/order/createOrder"
UPDATE_ORDER = "/order/UpdateOrder"
PRINTING_CODE = "/order/printing-code"

CANCEL = 4  # UpdateOrder TYPE 4: cancel, while the order is below 200 and not 105/107
ORDER_PAYMENT_NO_COLLECTION = 1
ORDER_PAYMENT_COLLECT_GOODS = 3  # collect the goods value, the shipping fee billed to the shop
PRINT_BATCH = 100  # printing-code: ORDER_ARRAY at most 100 waybills
PRINT_LINK_LIFETIME_MS = 3600 * 1000
TOKEN_MARGIN = 60  # seconds before a known expiry that the token is renewed
TWO_LEVEL_DISTRICT = "NEW"  # DISTRICT_VALUE of the "use a 2-level address" entry after the 2025 merger
AUTH_MESSAGES = ("header token is required", "token invalid", "token is invalid", "token expired", "invalid owner account")
RETRY_MESSAGES = ("system error",)
DUPLICATE_MARKERS = ("already exist", "da ton tai", "duplicate", "trung ma")


class AlreadyBooked(ConnectorError):
	"""Viettel Post refused createOrder because an order with our reference exists: the first
	attempt went through. Hold the shipment; the webhook brings its tracking number (ORDER_REFERENCE
	is our reference)."""

	def __init__(self, reference: str, message: str):
		super().__init__(f"Viettel Post already holds an order under {reference!r}: {message}", code="duplicate")
		self.reference = reference


class LookupUnsupported(ConnectorError):
	"""Viettel Post's partner API has no call for this: the status webhook is the only source."""


class ViettelPostConnector(CarrierConnector):
	"""One Viettel Post account. config.token: a token (a long-lived one from ownerconnect, or
	empty to log in with config.username/password); config.shop_id: GROUPADDRESS_ID (0 if none);
	config.extra: cus_id, print_url, timeout_seconds."""

	carrier = CARRIER

	def __init__(self, config: CarrierConfig, http=None, clock=time.time):
		super().__init__(config, http)
		self.clock = clock
		self.token_expires_at: float | None = None  # unix seconds; None when not known
		self._masters: dict[tuple[str, str], list[dict]] = {}

	# --- plumbing ------------------------------------------------------------------------
	def _url(self, path: str) -> str:
		return (self.config.base_url or DEFAULT_BASE_URL).rstrip("/") + path

	def _now(self) -> datetime:
		return datetime.fromtimestamp(self.clock(), tz=timezone.utc)

	def _send(self, method: str, path: str, body=None, params=None, token: str | None = None):
		"""One request, retried on 429/5xx/timeouts/"System error"; the parsed JSON."""

		def attempt():
			headers = {"Content-Type": "application/json"}
			if token:
				headers["Token"] = token
			response = self.http.send(method, self._url(path), json=body, params=params, headers=headers)
			if response.status_code in (401, 403):
				raise AuthError(f"Viettel Post {path}: HTTP {response.status_code}: {response.text[:200]}", status=response.status_code)
			data = self.http.json(response)
			if isinstance(data, dict) and data.get("error") is True:
				raise _classify(path, data, response.status_code)
			if response.status_code >= 400:
				raise ConnectorError(f"Viettel Post {path}: HTTP {response.status_code}: {response.text[:200]}", status=response.status_code)
			return data

		return self.http.call(attempt)

	def _call(self, method: str, path: str, body=None, params=None):
		"""An authenticated call: the token in the Token header, one fresh login if it is refused."""
		token = self._token()
		try:
			return self._send(method, path, body, params, token=token)
		except AuthError:
			if not self._can_login():
				raise
			self.login()
			return self._send(method, path, body, params, token=self.config.token)

	def _can_login(self) -> bool:
		return bool(self.config.username and self.config.password)

	def _token(self) -> str:
		expired = self.token_expires_at is not None and self.clock() >= self.token_expires_at - TOKEN_MARGIN
		if self.config.token and not expired:
			return self.config.token
		if self._can_login():
			return self.login()
		if self.config.token:
			return self.config.token  # let Viettel Post say whether it still takes it
		raise AuthError("Viettel Post account has neither a token nor a username and password", code="no_token")

	# --- auth ----------------------------------------------------------------------------
	def login(self) -> str:
		"""POST /user/Login: a fresh token, kept in config.token."""
		data = self._send("POST", LOGIN, body={"USERNAME": self.config.username, "PASSWORD": self.config.password})
		return self._take_token(data)

	def owner_connect(self, username: str = "", password: str = "") -> str:
		"""POST /user/ownerconnect with the current token: the long-lived token (or, with a member
		shop's username and password, a token delegated to the partner). Kept in config.token."""
		data = self._send(
			"POST",
			OWNER_CONNECT,
			body={"USERNAME": username or self.config.username, "PASSWORD": password or self.config.password},
			token=self._token(),
		)
		return self._take_token(data)

	def _take_token(self, data) -> str:
		payload = (data or {}).get("data") if isinstance(data, dict) else None
		token = str((payload or {}).get("token") or "")
		if not token:
			raise AuthError("Viettel Post answered the login without a token", code="no_token")
		expired = (payload or {}).get("expired")
		try:
			expired_ms = int(expired or 0)
		except (TypeError, ValueError):
			expired_ms = 0
		self.token_expires_at = expired_ms / 1000 if expired_ms > 0 else None  # 0: no expiry given
		self.config.token = token
		return token

	# --- master data ---------------------------------------------------------------------
	def _master(self, path: str, params: dict) -> list[dict]:
		key = (path, repr(sorted(params.items())))
		if key not in self._masters:
			data = self._send("GET", path, params=params, token=self.config.token or None)
			rows = data.get("data") if isinstance(data, dict) else data
			if not isinstance(rows, list):
				raise ConnectorError(f"Viettel Post {path}: no list in the answer")
			self._masters[key] = rows
		return self._masters[key]

	def provinces(self) -> list[dict]:
		return self._master(LIST_PROVINCE, {"provinceId": -1})

	def districts(self, province_id) -> list[dict]:
		return self._master(LIST_DISTRICT, {"provinceId": province_id})

	def wards(self, district_id) -> list[dict]:
		return self._master(LIST_WARDS, {"districtId": district_id})

	def resolve_address(self, address: Address) -> CarrierAddress:
		"""Province, district and ward ids by name. An address without a district (the post-2025
		two-level form) takes the province's "NEW" district entry, whose wards are the new ones."""
		province = _one(match_name(address.province, self.provinces(), "PROVINCE_NAME"), "province", address.province, address)
		districts = self.districts(province["PROVINCE_ID"])
		if address.district:
			candidates = [d for d in districts if str(d.get("DISTRICT_VALUE") or "") != TWO_LEVEL_DISTRICT]
			district = _one(match_name(address.district, candidates, "DISTRICT_NAME"), "district", address.district, address)
		else:
			district = _one([d for d in districts if str(d.get("DISTRICT_VALUE") or "") == TWO_LEVEL_DISTRICT], "two-level district entry", province["PROVINCE_NAME"], address)
		ward_id = ""
		if address.ward:
			ward = _one(match_name(address.ward, self.wards(district["DISTRICT_ID"]), "WARDS_NAME"), "ward", address.ward, address)
			ward_id = str(ward["WARDS_ID"])
		elif not address.district:
			raise AddressProblem(f"Viettel Post needs the ward of a two-level address: {_describe(address)}")
		return CarrierAddress(address=address, province_id=str(province["PROVINCE_ID"]), district_id=str(district["DISTRICT_ID"]), ward_id=ward_id)

	# --- quotes --------------------------------------------------------------------------
	def _route(self, sender: CarrierAddress, receiver: CarrierAddress) -> dict:
		route = {
			"SENDER_PROVINCE": _int(sender.province_id, "sender province"),
			"SENDER_DISTRICT": _int(sender.district_id, "sender district"),
			"RECEIVER_PROVINCE": _int(receiver.province_id, "receiver province"),
			"RECEIVER_DISTRICT": _int(receiver.district_id, "receiver district"),
		}
		if sender.ward_id:
			route["SENDER_WARD"] = _int(sender.ward_id, "sender ward")
		if receiver.ward_id:
			route["RECEIVER_WARD"] = _int(receiver.ward_id, "receiver ward")
		return route

	def _goods(self, parcel: Parcel) -> dict:
		return {
			"PRODUCT_TYPE": "HH",
			"PRODUCT_WEIGHT": int(parcel.weight_g),
			"PRODUCT_PRICE": int(parcel.value),
			"MONEY_COLLECTION": int(parcel.cod_amount),
			"PRODUCT_LENGTH": int(parcel.length_cm),
			"PRODUCT_WIDTH": int(parcel.width_cm),
			"PRODUCT_HEIGHT": int(parcel.height_cm),
		}

	def price_all(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel) -> list[dict]:
		"""getPriceAll as Viettel Post answers it: the services the route and account allow."""
		data = self._call("POST", GET_PRICE_ALL, body={**self._route(sender, receiver), **self._goods(parcel), "TYPE": 1})
		rows = data.get("data") if isinstance(data, dict) else data
		if not isinstance(rows, list):
			raise ConnectorError("Viettel Post getPriceAll: no list of services in the answer")
		return rows

	def price(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel, service_id: str, extra_services: str = "") -> dict:
		"""getPrice for one service: the full fee (MONEY_TOTAL) and its parts."""
		body = {**self._route(sender, receiver), **self._goods(parcel), "ORDER_SERVICE": service_id, "ORDER_SERVICE_ADD": extra_services, "NATIONAL_TYPE": 1}
		data = self._call("POST", GET_PRICE, body=body)
		payload = data.get("data") if isinstance(data, dict) else None
		if not isinstance(payload, dict):
			raise ConnectorError(f"Viettel Post getPrice {service_id}: no price in the answer")
		return payload

	def quote(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel) -> list[Quote]:
		"""Every service getPriceAll offers, each priced in full by getPrice (GIA_CUOC leaves out the
		COD fee and surcharges). A service getPrice then refuses for the route is left out."""
		now = self._now()
		quotes = []
		for service in self.price_all(sender, receiver, parcel):
			service_id = str(service.get("MA_DV_CHINH") or "")
			if not service_id:
				continue
			try:
				price = self.price(sender, receiver, parcel, service_id)
			except (AuthError, RetryableError):
				raise
			except ConnectorError:
				continue  # "Price does not apply to this itinerary!"
			quotes.append(quote_from_price(service, price, now))
		return quotes

	# --- bookings ------------------------------------------------------------------------
	def order_body(
		self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel, service_id: str, reference: str, note: str = ""
	) -> dict:
		"""The createOrder body (ID address form, document 5.2)."""
		if not reference:
			raise ConnectorError("Viettel Post booking needs our reference (ORDER_NUMBER)")
		items = parcel.items or []
		name = ", ".join(f"{item.name} x{item.qty}" if item.qty != 1 else item.name for item in items) or "Hàng hóa"
		collect = int(parcel.cod_amount)
		body = {
			"ORDER_NUMBER": reference,
			"GROUPADDRESS_ID": int(self.config.shop_id) if str(self.config.shop_id or "").isdigit() else 0,
			"CUS_ID": int(self.config.extra.get("cus_id") or 0),
			"SENDER_FULLNAME": sender.address.name,
			"SENDER_ADDRESS": _full_line(sender.address),
			"SENDER_PHONE": sender.address.phone,
			"SENDER_PROVINCE": _int(sender.province_id, "sender province"),
			"SENDER_DISTRICT": _int(sender.district_id, "sender district"),
			"SENDER_WARD": _int(sender.ward_id or 0, "sender ward"),
			"RECEIVER_FULLNAME": receiver.address.name,
			"RECEIVER_ADDRESS": _full_line(receiver.address),
			"RECEIVER_PHONE": receiver.address.phone,
			"RECEIVER_PROVINCE": _int(receiver.province_id, "receiver province"),
			"RECEIVER_DISTRICT": _int(receiver.district_id, "receiver district"),
			"RECEIVER_WARD": _int(receiver.ward_id or 0, "receiver ward"),
			"PRODUCT_NAME": name[:150],
			"PRODUCT_QUANTITY": sum(item.qty for item in items) or 1,
			"PRODUCT_PRICE": int(parcel.value),
			"PRODUCT_WEIGHT": int(parcel.weight_g),
			"PRODUCT_LENGTH": int(parcel.length_cm),
			"PRODUCT_WIDTH": int(parcel.width_cm),
			"PRODUCT_HEIGHT": int(parcel.height_cm),
			"PRODUCT_TYPE": "HH",
			"ORDER_PAYMENT": ORDER_PAYMENT_COLLECT_GOODS if collect > 0 else ORDER_PAYMENT_NO_COLLECTION,
			"ORDER_SERVICE": service_id,
			"ORDER_SERVICE_ADD": "GBH" if parcel.insured else "",
			"ORDER_NOTE": (note or "")[:150],
			"MONEY_COLLECTION": collect,
			"EXTRA_MONEY": 0,
			"CHECK_UNIQUE": True,  # Viettel Post refuses a second order under this ORDER_NUMBER
			"LIST_ITEM": [
				{"PRODUCT_NAME": item.name, "PRODUCT_PRICE": int(item.value), "PRODUCT_WEIGHT": int(item.weight_g), "PRODUCT_QUANTITY": int(item.qty)}
				for item in items
			],
		}
		return body

	def create(
		self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel, service_id: str, reference: str, note: str = ""
	) -> BookedShipment:
		"""createOrder. A retry (ours, or PlatformHTTP's after a timeout) that Viettel Post refuses as a
		duplicate raises AlreadyBooked: one order exists, its tracking number comes by webhook."""
		body = self.order_body(sender, receiver, parcel, service_id, reference, note)
		try:
			data = self._call("POST", CREATE_ORDER, body=body)
		except ConnectorError as exc:
			if exc.code == "duplicate_candidate":
				raise AlreadyBooked(reference, str(exc)) from exc
			raise
		payload = data.get("data") if isinstance(data, dict) else None
		if not isinstance(payload, dict):
			raise ConnectorError("Viettel Post createOrder: no order in the answer")
		return booked_from_create(payload, service_id, self._now())

	def find(self, reference: str) -> BookedShipment | None:
		raise LookupUnsupported(
			"Viettel Post's partner API has no lookup by our reference: create() again is refused as a "
			"duplicate (AlreadyBooked), and the webhook carries the tracking number with ORDER_REFERENCE"
		)

	def cancel(self, tracking_number: str, note: str = "Shop cancelled the shipment") -> None:
		"""UpdateOrder TYPE 4 (before pickup: status below 200 and not 105/107)."""
		self._call("POST", UPDATE_ORDER, body={"TYPE": CANCEL, "ORDER_NUMBER": tracking_number, "NOTE": (note or "")[:150]})

	# --- labels --------------------------------------------------------------------------
	def printing_code(self, tracking_numbers: list[str], lifetime_ms: int = PRINT_LINK_LIFETIME_MS) -> str:
		if not tracking_numbers:
			raise ConnectorError("Viettel Post label: no waybills given")
		if len(tracking_numbers) > PRINT_BATCH:
			raise ConnectorError(f"Viettel Post prints at most {PRINT_BATCH} waybills per code, {len(tracking_numbers)} given")
		expiry = int(self.clock() * 1000) + int(lifetime_ms)
		data = self._call("POST", PRINTING_CODE, body={"EXPIRY_TIME": expiry, "ORDER_ARRAY": list(tracking_numbers)})
		code = str((data or {}).get("message") or "") if isinstance(data, dict) else ""
		if not code or code.upper() == "OK":
			raise ConnectorError("Viettel Post printing-code answered without a code")
		return code

	def print_url(self, code: str, label_type: str = "1", show_postage: bool = True) -> str:
		"""The documented print link (type 1: A5; 2 / a6_1: A6; 100 / 1001: A7)."""
		base = self.config.extra.get("print_url") or DEFAULT_PRINT_URL
		return f"{base}?type={label_type}&bill={urlquote(code, safe='')}&showPostage={1 if show_postage else 0}"

	def label(self, tracking_numbers: list[str]) -> bytes:
		url = self.print_url(self.printing_code(tracking_numbers), label_type=str(self.config.extra.get("label_type") or "1"))
		response = self.http.call(lambda: self.http.send("GET", url))
		content = response.content or b""
		if response.status_code != 200 or not content.startswith(b"%PDF"):
			raise ConnectorError(f"Viettel Post print link gave no PDF (HTTP {response.status_code}, {response.headers.get('Content-Type', '')})")
		return content

	# --- tracking ------------------------------------------------------------------------
	def track(self, tracking_number: str) -> list[TrackingEvent]:
		raise LookupUnsupported("Viettel Post's partner API publishes no status lookup: statuses come by the order webhook")

	def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str = "") -> bool:
		"""The body's TOKEN is the secure token the partner configured; compared in constant time.
		(The document also names an Authorization header carrying the configured secret: when the
		body has no TOKEN, that header is checked instead.)"""
		secret = self.config.webhook_secret or ""
		if not secret:
			return False
		try:
			_, received = parse_webhook_body(body)
		except ConnectorError:
			return False
		if not received:
			received = next((str(v or "") for k, v in (headers or {}).items() if k.lower() == "authorization"), "")
		if not received:
			return False
		return hmac.compare_digest(received.encode(), secret.encode())

	def parse_webhook(self, body: bytes) -> list[TrackingEvent]:
		data, _ = parse_webhook_body(body)
		return [event_from_webhook_data(data)]


# --- helpers -----------------------------------------------------------------------------
def _classify(path: str, data: dict, status: int | None) -> ConnectorError:
	message = str(data.get("message") or "")
	text = f"Viettel Post {path}: {message} (status {data.get('status')})"
	lowered = message.lower()
	folded = fold(message)
	if any(marker in lowered for marker in AUTH_MESSAGES) or ("token" in lowered and ("invalid" in lowered or "expired" in lowered)):
		return AuthError(text, code=str(data.get("status") or ""), status=status)
	if "too many" in lowered or data.get("status") == 429:
		return RateLimited(text, code="429", status=status)
	if any(marker in lowered for marker in RETRY_MESSAGES):
		return RetryableError(text, code=str(data.get("status") or ""), status=status)
	if path == CREATE_ORDER and "does not exist" not in lowered and any(marker in folded or marker in lowered for marker in DUPLICATE_MARKERS):
		return ConnectorError(text, code="duplicate_candidate", status=status)
	return ConnectorError(text, code=str(data.get("status") or ""), status=status)


def _int(value, what: str) -> int:
	try:
		return int(str(value).strip())
	except (TypeError, ValueError):
		raise AddressProblem(f"Viettel Post needs a numeric {what} id, got {value!r}: resolve the address first") from None


def _one(rows: list[dict], level: str, name: str, address: Address) -> dict:
	if len(rows) == 1:
		return rows[0]
	if not rows:
		raise AddressProblem(f"Viettel Post knows no {level} {name!r}: {_describe(address)}")
	names = ", ".join(str(r.get("PROVINCE_NAME") or r.get("DISTRICT_NAME") or r.get("WARDS_NAME")) for r in rows[:5])
	raise AddressProblem(f"Viettel Post has {len(rows)} {level}s matching {name!r} ({names}): {_describe(address)}")


def _describe(address: Address) -> str:
	return ", ".join(part for part in (address.line1, address.ward, address.district, address.province) if part)


def _full_line(address: Address) -> str:
	"""The address text Viettel Post prints (at most 150 bytes)."""
	text = _describe(address)
	while len(text.encode()) > 150:
		text = text[:-1]
	return text


__all__ = ["AlreadyBooked", "LookupUnsupported", "ViettelPostConnector", "money"]
