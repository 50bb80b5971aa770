"""GHN (Giao Hàng Nhanh) public API client (https://api.ghn.vn/home/docs/detail).

Base URL: production https://online-gateway.ghn.vn/shiip/public-api, sandbox
https://dev-online-gateway.ghn.vn/shiip/public-api (CarrierConfig.base_url). Every request carries
the account's API token in the `Token` header; shop APIs (fee, leadtime, create, cancel, order fee)
also the `ShopId` header. Every answer is JSON {"code": 200|400|..., "message": ..., "data": ...};
a code other than 200 is a refusal with GHN's message (its "code_message" kept as the error code).

The status callback: GHN posts the order JSON (OrderCode, Status, Type, Time, Reason, CODAmount,
ClientOrderCode...) to the URL the shop gave GHN, and signs nothing. GHN's docs only let us choose
that URL, so the callback is authenticated by a secret in it: register
    https://<site>/api/method/<ghn webhook>?token=<CarrierConfig.webhook_secret>
verify_webhook() compares, with hmac.compare_digest, that secret to the request's `token` — the
endpoint must pass the query parameter in the headers mapping under "token" (the carrier interface
hands verify_webhook no URL) — or to an `X-OMS-Webhook-Token` header (for a proxy that moves it).
"""

from __future__ import annotations

import hmac
import json
import re
import time
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, urlencode, urlsplit

from ...domain.shipping import (
	Address,
	AddressProblem,
	BookedShipment,
	CarrierAddress,
	CarrierConfig,
	Parcel,
	Quote,
	TrackingEvent,
)
from ..base import AuthError, ConnectorError, RateLimited, RetryableError
from ..carrier import CarrierConnector
from .status import map_status

PROVINCE = "/master-data/province"
DISTRICT = "/master-data/district"
WARD = "/master-data/ward"
AVAILABLE_SERVICES = "/v2/shipping-order/available-services"
FEE = "/v2/shipping-order/fee"
LEADTIME = "/v2/shipping-order/leadtime"
CREATE = "/v2/shipping-order/create"
DETAIL = "/v2/shipping-order/detail"
DETAIL_BY_CLIENT_CODE = "/v2/shipping-order/detail-by-client-code"
ORDER_FEE = "/v2/shipping-order/soc"
CANCEL = "/v2/switch-status/cancel"
GEN_TOKEN = "/v2/a5/gen-token"
PRINT_A5 = "/a5/public-api/printA5"

PAYMENT_SHOP_PAYS = 1  # payment_type_id: 1 the shop (sender) pays the fee, 2 the buyer
DEFAULT_REQUIRED_NOTE = "KHONGCHOXEMHANG"  # also CHOXEMHANGKHONGTHU, CHOTHUHANG
WEBHOOK_TOKEN_KEYS = ("token", "x-oms-webhook-token")
# GHN's answer when an order (by code or client code) does not exist, accents stripped.
NOT_FOUND_WORDS = ("khong ton tai", "not found", "khong tim thay")
DUPLICATE_WORDS = ("client_order_code", "da ton tai", "duplicate", "existed", "already exist")

# Administrative prefixes in names and in GHN's NameExtension, folded (no accents), longest first.
PREFIXES = (
	"thanh pho", "thi tran", "thi xa", "tinh", "quan", "huyen", "phuong", "xa", "tp", "tx", "tt", "q", "p", "h", "t",
)


def _fold(text) -> str:
	"""Lowercase, accents and đ stripped, punctuation turned to single spaces."""
	text = unicodedata.normalize("NFD", str(text or "")).replace("đ", "d").replace("Đ", "D")
	text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
	return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def normalize_name(text) -> str:
	"""The key two spellings of one place share: folded, one administrative prefix (Tỉnh,
	Thành phố, TP., Quận, Q., Huyện, Phường, P., Xã...) dropped, spaces removed, numbers without
	leading zeros: "Phường 05", "P.5" and "5" are all "5"; "TP. Hồ Chí Minh" is "hochiminh"."""
	folded = _fold(text)
	glued = re.fullmatch(r"(q|p)(\d+)", folded.replace(" ", ""))
	if glued:
		folded = glued.group(2)
	for prefix in PREFIXES:
		if folded.startswith(prefix + " ") and len(folded) > len(prefix) + 1:
			folded = folded[len(prefix) + 1 :]
			break
	key = folded.replace(" ", "")
	return str(int(key)) if key.isdigit() else key


def classify_error(code, message: str, status: int | None = None, path: str = "", code_message: str = "") -> ConnectorError:
	"""The exception for a GHN refusal: a refused token or shop is AuthError, throttling and
	GHN's own trouble retryable, anything else final with GHN's message."""
	text = f"GHN {path}: {message}".strip() if path else f"GHN: {message}"
	try:
		number = int(code)
	except (TypeError, ValueError):
		number = None
	folded = _fold(message)
	error_code = str(code_message or code or "")
	if number in (401, 403) or status in (401, 403) or (
		"token" in folded and any(w in folded for w in ("invalid", "not valid", "khong hop le", "expired", "het han"))
	):
		return AuthError(text, code=error_code, status=status)
	if number == 429:
		return RateLimited(text, code=error_code, status=status)
	if number is not None and number >= 500:
		return RetryableError(text, code=error_code, status=status)
	return ConnectorError(text, code=error_code, status=status)


class GHNConnector(CarrierConnector):
	"""One GHN account and shop: config.token is the API token, config.shop_id the ShopId."""

	carrier = "GHN"

	def __init__(self, config: CarrierConfig, http=None):
		super().__init__(config, http)
		self._master: dict[tuple, list[dict]] = {}  # master data read once per connector

	# --- plumbing ------------------------------------------------------------------------
	@property
	def shop_id(self) -> int:
		try:
			return int(self.config.shop_id)
		except (TypeError, ValueError):
			raise ConnectorError(f"GHN ShopId must be a number, got {self.config.shop_id!r}") from None

	def _url(self, path: str) -> str:
		return self.config.base_url.rstrip("/") + path

	def _once(self, path: str, body: dict | None = None, method: str = "POST", shop: bool = True):
		"""One request, no retry; the answer's "data" on code 200."""
		if not self.config.token:
			raise AuthError("GHN account has no API token", code="no_token")
		headers = {"Token": self.config.token, "Content-Type": "application/json"}
		if shop:
			headers["ShopId"] = str(self.shop_id)
		kwargs: dict = {"headers": headers}
		if method == "POST":
			kwargs["json"] = body or {}
		response = self.http.send(method, self._url(path), **kwargs)
		if response.status_code in (401, 403):
			raise AuthError(f"GHN {path}: token refused (HTTP {response.status_code}): {response.text[:200]}", code=str(response.status_code), status=response.status_code)
		payload = self.http.json(response)
		if not isinstance(payload, dict):
			raise ConnectorError(f"GHN {path}: answer is not an object", status=response.status_code)
		if payload.get("code") != 200:
			raise classify_error(payload.get("code"), str(payload.get("message") or ""), response.status_code, path, str(payload.get("code_message") or ""))
		return payload.get("data")

	def _call(self, path: str, body: dict | None = None, method: str = "POST", shop: bool = True):
		"""One request, retried as a whole on 429, 5xx and timeouts."""
		return self.http.call(lambda: self._once(path, body, method, shop))

	# --- master data and addresses -------------------------------------------------------
	def provinces(self) -> list[dict]:
		return self._master_data(("province",), PROVINCE, None, "GET")

	def districts(self, province_id) -> list[dict]:
		return self._master_data(("district", int(province_id)), DISTRICT, {"province_id": int(province_id)})

	def wards(self, district_id) -> list[dict]:
		return self._master_data(("ward", int(district_id)), WARD + f"?district_id={int(district_id)}", {"district_id": int(district_id)})

	def _master_data(self, key: tuple, path: str, body: dict | None, method: str = "POST") -> list[dict]:
		if key not in self._master:
			rows = self._call(path, body, method=method, shop=False) or []
			self._master[key] = [row for row in rows if isinstance(row, dict)]
		return self._master[key]

	def resolve_address(self, address: Address) -> CarrierAddress:
		"""Province, district and ward ids from GHN's master data, matched on names and GHN's
		NameExtension spellings: an exact match (accents and case aside) first, else a match with
		the administrative prefix dropped. None or several: AddressProblem naming them."""
		if not (address.province or "").strip():
			raise AddressProblem("The address has no province: GHN cannot place it")
		province = _match("province", address.province, self.provinces(), "ProvinceID", "ProvinceName", "")
		if not (address.district or "").strip():
			raise AddressProblem(
				f"GHN places addresses by district, and this address in {province['ProvinceName']} has none "
				"(a post-merger two-level address): add the district"
			)
		district = _match(
			"district", address.district, self.districts(province["ProvinceID"]), "DistrictID", "DistrictName", f" in {province['ProvinceName']}"
		)
		if not (address.ward or "").strip():
			raise AddressProblem(f"GHN needs the ward, and this address in {district['DistrictName']} has none")
		ward = _match("ward", address.ward, self.wards(district["DistrictID"]), "WardCode", "WardName", f" in {district['DistrictName']}, {province['ProvinceName']}")
		return CarrierAddress(
			address=address, province_id=str(province["ProvinceID"]), district_id=str(district["DistrictID"]), ward_id=str(ward["WardCode"])
		)

	# --- quotes --------------------------------------------------------------------------
	def services(self, sender: CarrierAddress, receiver: CarrierAddress) -> list[dict]:
		body = {"shop_id": self.shop_id, "from_district": int(sender.district_id), "to_district": int(receiver.district_id)}
		return [row for row in self._call(AVAILABLE_SERVICES, body, shop=False) or [] if isinstance(row, dict)]

	def quote(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel) -> list[Quote]:
		"""available-services, then fee and leadtime for each. A service GHN refuses to price for
		this parcel is left out; when it refuses them all, its last refusal is raised."""
		quotes, refusal = [], None
		for service in self.services(sender, receiver):
			service_id = service.get("service_id")
			body = {
				**_route(sender, receiver),
				"service_id": int(service_id),
				"weight": int(parcel.weight_g),
				"length": int(parcel.length_cm),
				"width": int(parcel.width_cm),
				"height": int(parcel.height_cm),
				"insurance_value": _int_money(parcel.value) if parcel.insured else 0,
				"cod_value": _int_money(parcel.cod_amount),
				"coupon": None,
			}
			try:
				fee = self._call(FEE, body) or {}
			except AuthError:
				raise
			except ConnectorError as exc:
				if exc.retryable:
					raise
				refusal = exc
				continue
			quotes.append(
				Quote(
					carrier=self.carrier,
					service_id=str(service_id),
					service_name=str(service.get("short_name") or service_id),
					fee=_money(fee.get("total")),
					expected_delivery=self._leadtime(sender, receiver, int(service_id)),
					fee_breakdown={k: _money(v) for k, v in fee.items() if k != "total" and isinstance(v, (int, float))},
				)
			)
		if not quotes and refusal is not None:
			raise refusal
		return quotes

	def _leadtime(self, sender: CarrierAddress, receiver: CarrierAddress, service_id: int) -> datetime | None:
		try:
			data = self._call(LEADTIME, {**_route(sender, receiver), "service_id": service_id}) or {}
		except AuthError:
			raise
		except ConnectorError as exc:
			if exc.retryable:
				raise
			return None  # a quote without a date beats no quote
		return _time(data.get("leadtime"))

	# --- booking -------------------------------------------------------------------------
	def create(
		self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel, service_id: str, reference: str, note: str = ""
	) -> BookedShipment:
		"""shipping-order/create with client_order_code = reference. GHN refuses a second order with
		the same client_order_code, so the request is never blindly repeated: after a timeout, 429
		or 5xx the order is looked up by reference first and returned if GHN has it; only if not is
		the create tried again. A refusal as a duplicate returns the order booked before."""
		if not reference:
			raise ConnectorError("GHN create needs our reference as client_order_code")
		body = self._create_body(sender, receiver, parcel, service_id, reference, note)
		attempts = max(int(getattr(self.http, "attempts", 3)), 1)
		for attempt in range(attempts):
			try:
				data = self._once(CREATE, body)
			except RetryableError:
				found = self.find(reference)
				if found is not None:
					return found
				if attempt == attempts - 1:
					raise
				wait = min(getattr(self.http, "initial_wait", 0.5) * 2**attempt, getattr(self.http, "max_wait", 30.0))
				getattr(self.http, "sleep", time.sleep)(wait)
				continue
			except AuthError:
				raise
			except ConnectorError as exc:
				if any(word in _fold(str(exc)) for word in DUPLICATE_WORDS):
					found = self.find(reference)
					if found is not None:
						return found
				raise
			return _booked(data or {}, str(service_id), self.carrier)
		raise AssertionError("unreachable")

	def _create_body(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel, service_id: str, reference: str, note: str) -> dict:
		s, r = sender.address, receiver.address
		items = [
			{
				"name": item.name,
				"code": item.sku,
				"quantity": int(item.qty),
				"price": _int_money(item.value),
				"weight": int(item.weight_g or 0),
			}
			for item in parcel.items
		]
		return {
			"payment_type_id": int(self.config.extra.get("payment_type_id") or PAYMENT_SHOP_PAYS),
			"required_note": str(self.config.extra.get("required_note") or DEFAULT_REQUIRED_NOTE),
			"note": note,
			"client_order_code": reference,
			"from_name": s.name,
			"from_phone": s.phone,
			"from_address": s.line1,
			"from_ward_name": s.ward,
			"from_district_name": s.district,
			"from_province_name": s.province,
			"return_phone": s.phone,
			"return_address": s.line1,
			"return_district_id": int(sender.district_id) if sender.district_id else None,
			"return_ward_code": sender.ward_id,
			"to_name": r.name,
			"to_phone": r.phone,
			"to_address": ", ".join(part for part in (r.line1, r.ward, r.district, r.province) if part),
			"to_ward_code": receiver.ward_id,
			"to_district_id": int(receiver.district_id),
			"cod_amount": _int_money(parcel.cod_amount),
			"content": ", ".join(f"{item.name} x{item.qty}" for item in parcel.items)[:2000],
			"weight": int(parcel.weight_g),
			"length": int(parcel.length_cm),
			"width": int(parcel.width_cm),
			"height": int(parcel.height_cm),
			"insurance_value": _int_money(parcel.value) if parcel.insured else 0,
			"service_id": int(service_id),
			"items": items,
		}

	def find(self, reference: str) -> BookedShipment | None:
		"""detail-by-client-code; None when GHN says the order does not exist. The fee is what
		GHN's order fee API (shipping-order/soc) says the order costs."""
		try:
			data = self._call(DETAIL_BY_CLIENT_CODE, {"client_order_code": reference}, shop=False)
		except AuthError:
			raise
		except ConnectorError as exc:
			if not exc.retryable and any(word in _fold(str(exc)) for word in NOT_FOUND_WORDS):
				return None
			raise
		if isinstance(data, list):
			data = next((row for row in data if isinstance(row, dict)), None)
		if not data or not data.get("order_code"):
			return None
		order_code = str(data["order_code"])
		return BookedShipment(
			carrier=self.carrier,
			tracking_number=order_code,
			fee=self.order_fee(order_code),
			service_id=str(data.get("service_id") or ""),
			expected_delivery=_time(data.get("leadtime")),
			raw=data,
		)

	def order_fee(self, order_code: str) -> Decimal:
		"""What the booked order costs (shipping-order/soc): the payments GHN lists, else its fee detail."""
		data = self._call(ORDER_FEE, {"order_code": order_code}) or {}
		payments = [row for row in data.get("payment") or [] if isinstance(row, dict)]
		if payments:
			return sum((_money(row.get("value")) for row in payments), Decimal(0))
		detail = data.get("detail") or {}
		return sum((_money(v) for k, v in detail.items() if k != "coupon"), Decimal(0)) - _money(detail.get("coupon"))

	def cancel(self, tracking_number: str) -> None:
		"""switch-status/cancel; GHN answers a result per order code, a refused one raises with its message."""
		data = self._call(CANCEL, {"order_codes": [tracking_number]})
		rows = [row for row in data or [] if isinstance(row, dict)]
		row = next((row for row in rows if str(row.get("order_code")) == tracking_number), None)
		if row is None:
			raise ConnectorError(f"GHN did not answer for the cancellation of {tracking_number}")
		if not row.get("result"):
			raise ConnectorError(f"GHN refused to cancel {tracking_number}: {row.get('message') or 'no reason given'}", code="cancel_refused")

	def label(self, tracking_numbers: list[str]) -> bytes:
		"""a5/gen-token for the orders, then the printing URL with that token. Live GHN's A5 print
		page is HTML for a browser: anything that is not a PDF is refused rather than passed on."""
		if not tracking_numbers:
			raise ConnectorError("GHN label: no order codes")
		data = self._call(GEN_TOKEN, {"order_codes": list(tracking_numbers)}, shop=False) or {}
		token = str(data.get("token") or "")
		if not token:
			raise ConnectorError("GHN gen-token answered without a token")
		url = self.print_url(token)

		def fetch() -> bytes:
			response = self.http.send("GET", url)
			if response.status_code != 200:
				raise ConnectorError(f"GHN print: HTTP {response.status_code}: {response.text[:200]}", status=response.status_code)
			return response.content

		content = self.http.call(fetch)
		if not content.startswith(b"%PDF"):
			raise ConnectorError(f"GHN print answered {content[:40]!r}..., not a PDF", code="not_pdf")
		return content

	def print_url(self, token: str) -> str:
		"""The A5 printing URL on the gateway's host (config.extra["print_base_url"] overrides)."""
		base = self.config.extra.get("print_base_url")
		if not base:
			parts = urlsplit(self.config.base_url)
			base = f"{parts.scheme}://{parts.netloc}"
		return base.rstrip("/") + PRINT_A5 + "?" + urlencode({"token": token})

	# --- tracking ------------------------------------------------------------------------
	def track(self, tracking_number: str) -> list[TrackingEvent]:
		"""shipping-order/detail: one event per entry of its status log, oldest first as GHN lists
		them; the current status alone when the log is empty."""
		data = self._call(DETAIL, {"order_code": tracking_number}, shop=False) or {}
		if isinstance(data, list):
			data = next((row for row in data if isinstance(row, dict)), {})
		events = []
		for entry in data.get("log") or []:
			if isinstance(entry, dict) and entry.get("status"):
				events.append(_event(tracking_number, str(entry["status"]), entry.get("updated_date"), str(entry.get("reason") or ""), None, entry))
		if not events and data.get("status"):
			events.append(_event(tracking_number, str(data["status"]), data.get("updated_date"), "", None, data))
		return events

	def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str = "") -> bool:
		"""The callback's token (the `token` of the callback URL we registered, or a `token` /
		X-OMS-Webhook-Token header) equals config.webhook_secret. No secret set: refused."""
		secret = self.config.webhook_secret or ""
		if not secret:
			return False
		received = (parse_qs(urlsplit(url).query).get("token") or [""])[0] if url else ""
		for key, value in (headers or {}).items():
			if not received and str(key).lower() in WEBHOOK_TOKEN_KEYS:
				received = str(value or "")
				break
		if not received:
			return False
		return hmac.compare_digest(received.encode(), secret.encode())

	def parse_webhook(self, body: bytes) -> list[TrackingEvent]:
		"""GHN's callback JSON (one order, or a list) -> events. Every Type (create, switch_status,
		update_weight, update_cod, update_fee) carries the order's Status; the Type stays in raw.
		cod_collected is CODAmount once the status is delivered (collected at delivery)."""
		try:
			message = json.loads(body) if isinstance(body, (bytes, str)) else body
		except ValueError:
			raise ConnectorError("GHN callback body is not JSON") from None
		rows = message if isinstance(message, list) else [message]
		events = []
		for row in rows:
			if not isinstance(row, dict) or not row.get("OrderCode"):
				raise ConnectorError("GHN callback without OrderCode")
			status = str(row.get("Status") or "")
			cod = _money(row.get("CODAmount")) if status.lower() == "delivered" and row.get("CODAmount") else None
			events.append(_event(str(row["OrderCode"]), status, row.get("Time"), str(row.get("Reason") or ""), cod, row))
		return events


# --- helpers -----------------------------------------------------------------------------
def _names(row: dict, name_key: str) -> list[str]:
	extensions = row.get("NameExtension") or []
	return [str(row.get(name_key) or "")] + [str(n) for n in extensions if n]


def _match(kind: str, text: str, rows: list[dict], id_key: str, name_key: str, within: str) -> dict:
	rows = [row for row in rows if row.get("IsEnable", 1) != 0]
	folded, key = _fold(text), normalize_name(text)
	hits = [row for row in rows if folded in {_fold(n) for n in _names(row, name_key)}]
	if not hits and key:
		hits = [row for row in rows if key in {normalize_name(n) for n in _names(row, name_key)}]
	unique = list({str(row[id_key]): row for row in hits}.values())
	if len(unique) == 1:
		return unique[0]
	if not unique:
		raise AddressProblem(f"GHN knows no {kind} called {text!r}{within}")
	names = ", ".join(f"{row.get(name_key)} ({row[id_key]})" for row in unique)
	raise AddressProblem(f"The {kind} {text!r}{within} matches several GHN {kind}s: {names}; write it as GHN names it")


def _route(sender: CarrierAddress, receiver: CarrierAddress) -> dict:
	return {
		"from_district_id": int(sender.district_id),
		"from_ward_code": sender.ward_id,
		"to_district_id": int(receiver.district_id),
		"to_ward_code": receiver.ward_id,
	}


def _money(value) -> Decimal:
	if value in (None, ""):
		return Decimal(0)
	try:
		return Decimal(str(value))
	except InvalidOperation:
		raise ConnectorError(f"GHN sent {value!r} where an amount belongs") from None


def _int_money(value) -> int:
	return int(Decimal(value or 0).to_integral_value())


def _time(value) -> datetime | None:
	"""GHN's times: unix seconds (leadtime) or ISO 8601 with Z; "0001-01-01..." means none."""
	if value in (None, "", 0):
		return None
	if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
		return datetime.fromtimestamp(int(value), tz=timezone.utc)
	text = str(value).strip()
	if text.startswith("0001-01-01"):
		return None
	try:
		parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
	except ValueError:
		return None
	return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _event(tracking_number: str, status: str, at, reason: str, cod: Decimal | None, raw: dict) -> TrackingEvent:
	return TrackingEvent(
		tracking_number=tracking_number,
		status=map_status(status),
		carrier_status=status,
		at=_time(at),
		reason=reason,
		cod_collected=cod,
		raw=raw,
	)


def _booked(data: dict, service_id: str, carrier: str) -> BookedShipment:
	if not data.get("order_code"):
		raise ConnectorError("GHN create answered without an order_code")
	return BookedShipment(
		carrier=carrier,
		tracking_number=str(data["order_code"]),
		fee=_money(data.get("total_fee")),
		service_id=service_id,
		expected_delivery=_time(data.get("expected_delivery_time")),
		raw=data,
	)
