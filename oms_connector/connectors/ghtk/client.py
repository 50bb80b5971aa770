"""GHTK (Giao Hàng Tiết Kiệm) API client: fee, order, status, cancel, label, webhook.

Documented at https://docs.giaohangtietkiem.vn/ (also https://api.ghtk.vn/). Production
https://services.giaohangtietkiem.vn, staging https://services-staging.ghtklab.com. Every request
carries the header `Token: <API token>`; partners integrating for several shops also send
`X-Client-Source: <partner code>` (config.extra["client_source"], sent when set).

Answers are JSON {"success": bool, "message": ..., ...}; a refusal is success false with a message
and often "error_code" (or, for a duplicate order id, "error": {"code": "ORDER_ID_EXIST",
"ghtk_label": ...}). HTTP 401 / error_code 20101 is a refused token.

Addresses: GHTK works with names, not ids (province, district, ward/street text plus a level-4
"hamlet", "Khác" when there is none). resolve_address checks the address has what GHTK requires
(province, district, and a ward or a street line) and asks GHTK's own address data
(GET /services/address/getAddressLevel4?province=&district=&ward_street=) whether it can place it;
GHTK refusing it, or answering no level-4 list, is an AddressProblem with GHTK's words. GHTK
matches names itself and names no alternatives, so "ambiguous" here is what GHTK refuses. The
CarrierAddress keeps the text (whitespace-normalised) and no ids.

Weights: the fee API takes grams (integer), the order API kilograms per product.

Services: GHTK quotes by transport, "road" and "fly"; each becomes a Quote whose service_id is
the transport word, and create() sends it back as order.transport.

Idempotency: create() sends our reference as order.id. GHTK refuses a second order with the same
id (error code ORDER_ID_EXIST, the first order's label in the answer): a retry after a timeout
lands there and create() returns the first booking, found by GET /services/shipment/v2/partner_id:<ref>.

Webhook: GHTK posts form fields (label_id, partner_id, status_id, action_time, reason_code,
reason, weight, fee, pick_money, return_part_package) to the callback URL registered with it, and
signs nothing. The callback URL is registered with a secret in its query,
    https://<site>/api/method/oms_connector.api.ghtk_webhook?hash=<config.webhook_secret>
and verify_webhook compares that `hash` with hmac.compare_digest. No secret configured: refused.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import parse_qs, quote, urlsplit

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
from ..base import AuthError, ConnectorError, RetryableError
from ..carrier import CarrierConnector
from .mapper import event_from_status, event_from_webhook, money, parse_estimate, status_code, webhook_fields

PRODUCTION_URL = "https://services.giaohangtietkiem.vn"
STAGING_URL = "https://services-staging.ghtklab.com"

FEE = "/services/shipment/fee"
ORDER = "/services/shipment/order"
STATUS = "/services/shipment/v2/"  # + label, or "partner_id:" + our reference
CANCEL = "/services/shipment/cancel/"  # + label
LABEL = "/services/label/"  # + label
ADDRESS_LEVEL4 = "/services/address/getAddressLevel4"

TRANSPORTS = ("road", "fly")
SERVICE_NAMES = {"road": "GHTK Đường bộ", "fly": "GHTK Đường bay"}
HAMLET_NONE = "Khác"  # GHTK's documented level-4 value when an address has none
AUTH_CODES = {"20101", "20102"}
DUPLICATE = "ORDER_ID_EXIST"
NOT_FOUND_WORDS = ("không tìm thấy", "không tồn tại", "not found", "does not exist")


def _clean(text: str) -> str:
	return " ".join(str(text or "").split())


class GHTKConnector(CarrierConnector):
	"""One GHTK shop account. config.token is the API token; config.extra may hold
	"client_source" (X-Client-Source partner code) and "pick_address_id" (a pickup address id
	from GHTK's list, sent instead of the pickup address text when set)."""

	carrier = "GHTK"

	def __init__(self, config: CarrierConfig, http=None):
		super().__init__(config, http)

	# --- plumbing ------------------------------------------------------------------------
	def _headers(self) -> dict:
		if not self.config.token:
			raise AuthError("GHTK account has no API token", code="no_token")
		headers = {"Token": self.config.token}
		source = (self.config.extra or {}).get("client_source")
		if source:
			headers["X-Client-Source"] = str(source)
		return headers

	def _url(self, path: str) -> str:
		return (self.config.base_url or PRODUCTION_URL).rstrip("/") + path

	def _send(self, method: str, path: str, **kwargs):
		response = self.http.send(method, self._url(path), headers=self._headers(), **kwargs)
		if response.status_code in (401, 403):
			data = _json_or_empty(response)
			raise AuthError(f"GHTK refused the token: {data.get('message') or response.text[:200]}", code=str(data.get("error_code") or response.status_code), status=response.status_code)
		return response

	def _call(self, method: str, path: str, *, refusal_ok: bool = False, **kwargs) -> dict:
		"""One JSON call, retried as a whole on 429, 5xx and timeouts. A success false answer
		raises ConnectorError (AuthError for a refused token) unless refusal_ok."""

		def attempt() -> dict:
			response = self._send(method, path, **kwargs)
			data = self.http.json(response)
			if not isinstance(data, dict):
				raise ConnectorError(f"GHTK {path}: answer is not an object", status=response.status_code)
			if _truthy(data.get("success")):
				return data
			code = _error_code(data)
			if code in AUTH_CODES:
				raise AuthError(f"GHTK refused the token: {data.get('message')}", code=code, status=response.status_code)
			if refusal_ok:
				return data
			raise ConnectorError(f"GHTK {path}: {data.get('message') or 'refused'}", code=code, status=response.status_code)

		return self.http.call(attempt)

	# --- addresses -----------------------------------------------------------------------
	def resolve_address(self, address: Address) -> CarrierAddress:
		province, district = _clean(address.province), _clean(address.district)
		ward, street = _clean(address.ward), _clean(address.line1)
		missing = [name for name, value in (("province", province), ("district", district)) if not value]
		if not ward and not street:
			missing.append("ward or street")
		if missing:
			raise AddressProblem(f"GHTK needs {', '.join(missing)} for {address.name or 'this address'}: {_describe(address)}")
		if not _clean(address.phone):
			raise AddressProblem(f"GHTK needs a phone number for {address.name or 'this address'}")
		data = self._call(
			"GET",
			ADDRESS_LEVEL4,
			params={"province": province, "district": district, "ward_street": ward or street},
			refusal_ok=True,
		)
		hamlets = data.get("data")
		if not _truthy(data.get("success")) or not isinstance(hamlets, list) or not hamlets:
			raise AddressProblem(f"GHTK cannot place {_describe(address)}: {data.get('message') or 'no such ward/street in GHTK address data'}")
		normalised = Address(
			name=_clean(address.name),
			phone=_clean(address.phone),
			line1=street,
			ward=ward,
			district=district,
			province=province,
		)
		return CarrierAddress(address=normalised)

	# --- fees ----------------------------------------------------------------------------
	def quote(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel) -> list[Quote]:
		if parcel.weight_g <= 0:
			raise ValueError("GHTK fee needs the parcel's weight in grams")
		quotes = []
		for transport in TRANSPORTS:
			params = self._fee_params(sender, receiver, parcel, transport)
			data = self._call("GET", FEE, params=params)
			fee = data.get("fee") or {}
			if not _truthy(fee.get("delivery")):
				continue  # GHTK does not deliver there by this transport
			ship, insurance = money(fee.get("fee")), money(fee.get("insurance_fee"))
			breakdown = {"ship_fee": ship, "insurance_fee": insurance}
			for extra in fee.get("extFees") or []:
				if isinstance(extra, dict) and extra.get("amount") not in (None, ""):
					breakdown[str(extra.get("type") or extra.get("title") or "extra")] = money(extra["amount"])
			quotes.append(
				Quote(
					carrier=self.carrier,
					service_id=transport,
					service_name=f"{SERVICE_NAMES[transport]} ({fee.get('name')})" if fee.get("name") else SERVICE_NAMES[transport],
					fee=ship + insurance,
					fee_breakdown=breakdown,
				)
			)
		return quotes

	def _fee_params(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel, transport: str) -> dict:
		pick, to = sender.address, receiver.address
		params = {
			"pick_province": pick.province,
			"pick_district": pick.district,
			"pick_ward": pick.ward or None,
			"pick_address": pick.line1 or None,
			"province": to.province,
			"district": to.district,
			"ward": to.ward or None,
			"address": to.line1 or None,
			"weight": int(parcel.weight_g),  # grams
			"value": int(_declared_value(parcel)),
			"transport": transport,
			"deliver_option": "none",
		}
		pick_id = (self.config.extra or {}).get("pick_address_id")
		if pick_id:
			params["pick_address_id"] = str(pick_id)
		return {key: value for key, value in params.items() if value is not None}

	# --- orders --------------------------------------------------------------------------
	def order_payload(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel, service_id: str, reference: str, note: str = "") -> dict:
		"""The POST /services/shipment/order body: products weigh in kilograms."""
		if service_id not in TRANSPORTS:
			raise ValueError(f"GHTK service must be one of {TRANSPORTS}, got {service_id!r}")
		if not reference:
			raise ValueError("GHTK order needs our reference as order.id")
		pick, to = sender.address, receiver.address
		order = {
			"id": reference,
			"pick_name": pick.name,
			"pick_address": pick.line1,
			"pick_province": pick.province,
			"pick_district": pick.district,
			"pick_ward": pick.ward,
			"pick_tel": pick.phone,
			"tel": to.phone,
			"name": to.name,
			"address": to.line1,
			"province": to.province,
			"district": to.district,
			"ward": to.ward,
			"hamlet": HAMLET_NONE,
			"is_freeship": "1",  # the buyer pays GHTK exactly pick_money, shipping is ours
			"pick_money": int(parcel.cod_amount),
			"value": int(_declared_value(parcel)),
			"transport": service_id,
			"pick_option": "cod",  # GHTK picks up at the sender (not "post": drop at a post office)
			"deliver_option": "none",
			"total_weight": _kg(parcel.weight_g),
			"note": note[:120] if note else "",
		}
		pick_id = (self.config.extra or {}).get("pick_address_id")
		if pick_id:
			order["pick_address_id"] = str(pick_id)
		return {"products": _products(parcel), "order": order}

	def create(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel, service_id: str, reference: str, note: str = "") -> BookedShipment:
		payload = self.order_payload(sender, receiver, parcel, service_id, reference, note)
		data = self._call("POST", ORDER, json=payload, refusal_ok=True)
		if _truthy(data.get("success")):
			return self._booked(data.get("order") or {}, service_id, data)
		if _error_code(data) == DUPLICATE:
			# A booking under this reference exists: ours, from an attempt whose answer was lost.
			existing = self.find(reference)
			if existing is None:
				label = str((data.get("error") or {}).get("ghtk_label") or "")
				raise RetryableError(f"GHTK says order {reference} exists ({label or 'no label given'}) but does not show it yet", code=DUPLICATE)
			if existing.raw.get("status") is not None and status_code(existing.raw.get("status")) == -1:
				raise ConnectorError(f"GHTK order {reference} exists and is cancelled ({existing.tracking_number}): book under a new reference", code=DUPLICATE)
			return existing
		raise ConnectorError(f"GHTK refused order {reference}: {data.get('message') or 'refused'}", code=_error_code(data))

	def _booked(self, order: dict, service_id: str, raw: dict) -> BookedShipment:
		label = str(order.get("label") or "")
		if not label:
			raise ConnectorError("GHTK accepted the order but sent no label")
		return BookedShipment(
			carrier=self.carrier,
			tracking_number=label,
			fee=money(order.get("fee")) + money(order.get("insurance_fee")),
			service_id=service_id,
			expected_delivery=parse_estimate(order.get("estimated_deliver_time")),
			carrier_reference=str(order.get("tracking_id") or ""),
			raw=raw,
		)

	def find(self, reference: str) -> BookedShipment | None:
		order = self._status_order("partner_id:" + reference)
		if order is None:
			return None
		return BookedShipment(
			carrier=self.carrier,
			tracking_number=str(order.get("label_id") or ""),
			fee=money(order.get("ship_money")) + money(order.get("insurance")),
			service_id=str(order.get("transport") or ""),
			expected_delivery=parse_estimate(order.get("deliver_date")) if order.get("deliver_date") else None,
			carrier_reference=str(order.get("tracking_id") or ""),
			raw=order,
		)

	def _status_order(self, key: str) -> dict | None:
		def attempt():
			response = self._send("GET", STATUS + quote(key, safe=":."))
			if response.status_code == 404:
				return None
			data = self.http.json(response)
			if _truthy(data.get("success")) and isinstance(data.get("order"), dict):
				return data["order"]
			code = _error_code(data)
			if code in AUTH_CODES:
				raise AuthError(f"GHTK refused the token: {data.get('message')}", code=code)
			message = str(data.get("message") or "").lower()
			if any(word in message for word in NOT_FOUND_WORDS):
				return None
			raise ConnectorError(f"GHTK status {key}: {data.get('message') or 'refused'}", code=code)

		return self.http.call(attempt)

	def cancel(self, tracking_number: str) -> None:
		data = self._call("POST", CANCEL + quote(tracking_number, safe=":."), refusal_ok=True)
		if _truthy(data.get("success")):
			return
		# A retried cancel meets "already cancelled": what counts is the order's status now.
		order = self._status_order(tracking_number)
		if order is not None and status_code(order.get("status")) == -1:
			return
		raise ConnectorError(f"GHTK refused to cancel {tracking_number}: {data.get('message') or 'refused'}", code=_error_code(data))

	def label(self, tracking_numbers: list[str]) -> bytes:
		"""GHTK serves one label PDF per request (GET /services/label/{label}); several labels
		would need a PDF merge this app does not ship, so more than one is refused."""
		if len(tracking_numbers) != 1:
			raise ConnectorError(f"GHTK labels come one per PDF; asked for {len(tracking_numbers)} (print them one by one)", code="one_label_per_pdf")
		label = tracking_numbers[0]

		def attempt() -> bytes:
			response = self._send("GET", LABEL + quote(label, safe="."), params={"original": "portrait", "paper_size": "A6"})
			if response.content.startswith(b"%PDF"):
				return response.content
			data = _json_or_empty(response)
			raise ConnectorError(f"GHTK label {label}: {data.get('message') or response.text[:200]}", code=_error_code(data), status=response.status_code)

		return self.http.call(attempt)

	def track(self, tracking_number: str) -> list[TrackingEvent]:
		order = self._status_order(tracking_number)
		if order is None:
			raise ConnectorError(f"GHTK knows no order {tracking_number}", code="not_found")
		return [event_from_status(order)]

	# --- webhook -------------------------------------------------------------------------
	def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str = "", query: Mapping | None = None) -> bool:
		"""GHTK signs nothing: the callback URL we registered carries ?hash=<webhook_secret>;
		`url` is the request's (or `query` its parsed query)."""
		secret = self.config.webhook_secret or ""
		if not secret:
			return False
		given = ""
		if query is not None:
			value = query.get("hash")
			given = value[0] if isinstance(value, list | tuple) and value else (value or "")
		elif url:
			given = (parse_qs(urlsplit(url).query).get("hash") or [""])[0]
		if not given:
			return False
		return hmac.compare_digest(str(given).encode(), secret.encode())

	def parse_webhook(self, body: bytes) -> list[TrackingEvent]:
		return [event_from_webhook(webhook_fields(body))]


# --- helpers -------------------------------------------------------------------------------
def _truthy(value) -> bool:
	return value is True or str(value).lower() in ("true", "1")


def _error_code(data: dict) -> str:
	error = data.get("error")
	if isinstance(error, dict) and error.get("code"):
		return str(error["code"])
	return str(data.get("error_code") or "")


def _json_or_empty(response) -> dict:
	try:
		data = response.json()
	except ValueError:
		return {}
	return data if isinstance(data, dict) else {}


def _describe(address: Address) -> str:
	return ", ".join(part for part in (_clean(address.line1), _clean(address.ward), _clean(address.district), _clean(address.province)) if part) or "(empty)"


def _kg(grams: float) -> float:
	return round(max(float(grams), 0.0) / 1000, 3)


def _declared_value(parcel: Parcel) -> Decimal:
	if parcel.value:
		return parcel.value
	return sum((item.value * item.qty for item in parcel.items), Decimal(0))


def _products(parcel: Parcel) -> list[dict]:
	"""GHTK products: name, weight (kg, per unit), quantity, product_code. Items without weights
	share the parcel's weight by quantity; no items: one line for the whole parcel."""
	items = parcel.items
	if not items:
		return [{"name": "Hàng hóa", "weight": _kg(parcel.weight_g), "quantity": 1}]
	units = sum(max(item.qty, 1) for item in items)
	share = parcel.weight_g / units if units else 0
	products = []
	for item in items:
		grams = item.weight_g or share
		product = {"name": item.name, "weight": _kg(grams), "quantity": max(item.qty, 1)}
		if item.value:
			product["price"] = int(item.value)
		if item.sku:
			product["product_code"] = item.sku
		products.append(product)
	return products
