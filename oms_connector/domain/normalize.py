"""Read the canonical order JSON (web stores, store/phone entry, file import, replays).

Marketplace connectors map their own payloads; everything else speaks this format:

    {"order_id": "A1", "status": "confirmed", "currency": "VND",
     "buyer": {"name": "...", "phone": "...", "email": "...", "id": "..."},
     "shipping_address": {"full_name", "phone", "line1", "line2", "ward", "district",
                          "province", "country", "postal_code", "latitude", "longitude"},
     "lines": [{"sku", "qty", "unit_price", "seller_discount", "platform_discount",
                "line_id", "listing_id", "title", "weight_kg"}],
     "shipping_fee", "seller_voucher", "platform_voucher", "payment_method": "COD"|"Prepaid",
     "pickup_store", "created_at", "updated_at", "total",
     "shipments": [{"package_id", "tracking_number", "carrier", "lines": {"SKU": qty}}],
     "returned_lines": {"SKU": qty}, "note"}
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from dateutil import parser as date_parser

from .limits import (
	MAX_DATE,
	MAX_DATE_TEXT,
	MAX_INTEGER_DIGITS,
	MAX_JSON_DEPTH,
	MAX_JSON_INT_DIGITS,
	MAX_NOTE_LENGTH,
	MAX_NUMBER_TEXT,
	MAX_ORDER_ID_LENGTH,
	MAX_PAYLOAD_CHARS,
	MAX_TEXT_LENGTH,
	MAX_TIMESTAMP,
	MIN_DATE,
	MIN_TIMESTAMP,
	QTY_DECIMALS,
	json_depth_exceeds,
	show,
)
from .order import (
	Address,
	Buyer,
	ChannelOrder,
	InvalidOrder,
	OrderLine,
	OrderStatus,
	PaymentMethod,
	Shipment,
	to_money,
)

STATUS_WORDS = {
	OrderStatus.UNPAID: ("unpaid", "pending_payment", "awaiting_payment", "pending"),
	OrderStatus.CONFIRMED: ("confirmed", "new", "paid", "ready_to_ship", "processing", "open", "to_ship"),
	OrderStatus.SHIPPED: ("shipped", "in_transit", "handed_over", "fulfilled", "shipping"),
	OrderStatus.DELIVERED: ("delivered",),
	OrderStatus.COMPLETED: ("completed", "complete", "closed"),
	OrderStatus.CANCELLED: ("cancelled", "canceled", "failed"),
	OrderStatus.RETURNED: ("returned", "refunded", "to_return"),
}
_STATUS_BY_WORD = {word: status for status, words in STATUS_WORDS.items() for word in words}
_SURROGATES = re.compile("[\ud800-\udfff]")
# Not in an id: control characters and lone surrogates (neither can be a database key).
_NOT_IN_IDS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TIMESTAMP_TEXT = re.compile(r"[+-]?\d{1,20}(\.\d{1,9})?")
_MAX_UTC_OFFSET = timedelta(hours=14)  # the furthest real time zone (Kiribati)


# --- readers shared by every payload format: each returns a value or raises InvalidOrder ----
def load_json(payload):
	"""Parse JSON text (str or bytes) of bounded size and depth; any failure is InvalidOrder."""
	if isinstance(payload, (bytes, bytearray)):
		try:
			payload = bytes(payload).decode(json.detect_encoding(payload), "surrogatepass")
		except (UnicodeDecodeError, LookupError):
			raise InvalidOrder("payload is not valid JSON: not UTF-8 text") from None
	if not isinstance(payload, str):
		raise InvalidOrder(f"payload must be JSON text, not {type(payload).__name__}")
	if len(payload) > MAX_PAYLOAD_CHARS:
		raise InvalidOrder(f"payload is larger than {MAX_PAYLOAD_CHARS} characters")
	if json_depth_exceeds(payload, MAX_JSON_DEPTH):
		raise InvalidOrder(f"payload is not valid JSON: nested deeper than {MAX_JSON_DEPTH} levels")
	try:
		return json.loads(payload, parse_int=_json_int)
	except (ValueError, RecursionError) as exc:
		raise InvalidOrder(f"payload is not valid JSON: {str(exc)[:200]}") from None


def _json_int(text: str):
	# int() of a megabyte of digits is quadratic; no field may hold such a number anyway.
	return int(text) if len(text) <= MAX_JSON_INT_DIGITS else Decimal(text)


def parse_text(value, limit: int | None = MAX_TEXT_LENGTH) -> str:
	"""A payload value as stripped text of at most `limit` characters (None: no limit).

	Objects, lists and None are no text (""); numbers are written out; lone surrogates
	(which no database can store) become U+FFFD. Never raises.
	"""
	if isinstance(value, str):
		text = value
	elif isinstance(value, (int, float, Decimal)):
		try:
			text = str(value)
		except ValueError:  # an int past Python's int-to-text digit limit
			return ""
	else:
		return ""
	text = text.strip()
	if limit is not None and len(text) > limit:
		text = text[:limit].rstrip()
	return _SURROGATES.sub("\ufffd", text)


def parse_order_id(value, field: str) -> str:
	"""An order id: text or a whole number, at most MAX_ORDER_ID_LENGTH characters.

	Returns "" when absent (None or blank); raises InvalidOrder naming `field` when the value
	cannot be an id (bool, float, object, list, too long, control characters). The id peek of
	erp.platforms and the mappers read ids only through this, so they always agree.
	"""
	if value is None:
		return ""
	if isinstance(value, bool) or not isinstance(value, (str, int)):
		raise InvalidOrder(f"{field} {show(value)} is not an order id (text or a whole number)")
	if isinstance(value, int):
		if abs(value) >= 10**MAX_ORDER_ID_LENGTH:
			raise InvalidOrder(f"{field} is longer than {MAX_ORDER_ID_LENGTH} characters")
		return str(value)
	text = value.strip()
	if len(text) > MAX_ORDER_ID_LENGTH:
		raise InvalidOrder(f"{field} is longer than {MAX_ORDER_ID_LENGTH} characters")
	if _NOT_IN_IDS.search(text):
		raise InvalidOrder(f"{field} {show(text)} holds control characters or broken Unicode")
	return text


def parse_status(value) -> OrderStatus:
	word = parse_text(value).lower().replace(" ", "_").replace("-", "_")
	if word in _STATUS_BY_WORD:
		return _STATUS_BY_WORD[word]
	for status in OrderStatus:
		if status.value.lower() == word:
			return status
	raise InvalidOrder(f"unknown order status {show(value)}")


def parse_payment_method(value) -> PaymentMethod:
	word = (parse_text(value) or "prepaid").lower()
	if word in ("cod", "cash_on_delivery", "cash on delivery", "thanh toán khi nhận hàng"):
		return PaymentMethod.COD
	return PaymentMethod.PREPAID


def parse_currency(value, where: str = "currency") -> str:
	"""A three-letter currency code, upper case; VND when absent."""
	code = parse_text(value).upper()
	if not code:
		return "VND"
	if not re.fullmatch("[A-Z]{3}", code):
		raise InvalidOrder(f"{where}: {show(value)} is not a currency code")
	return code


def parse_qty(value, where: str) -> Decimal:
	"""A quantity (or weight): finite, below MAX_QTY, rounded to QTY_DECIMALS places; not a bool."""
	not_a_number = InvalidOrder(f"{where}: quantity {show(value)} is not a number")
	if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
		raise not_a_number
	if isinstance(value, int):
		qty = Decimal(value) if abs(value) < 10**MAX_INTEGER_DIGITS else Decimal(10**MAX_INTEGER_DIGITS)
	elif isinstance(value, Decimal):
		qty = value
	else:
		text = str(value).strip()
		if len(text) > MAX_NUMBER_TEXT:
			raise not_a_number
		try:
			qty = Decimal(text)
		except (ArithmeticError, ValueError):
			raise not_a_number from None
	if not qty.is_finite():
		raise not_a_number
	if qty and qty.adjusted() >= MAX_INTEGER_DIGITS:
		raise InvalidOrder(f"{where}: quantity {show(value)} is too large for ERPNext")
	if qty.as_tuple().exponent < -QTY_DECIMALS:
		qty = qty.quantize(Decimal(1).scaleb(-QTY_DECIMALS), rounding=ROUND_HALF_UP)
	return qty


def parse_timestamp(value, where: str) -> datetime | None:
	"""A unix timestamp in seconds (number or digit string) as an aware UTC datetime; 0 is none.

	Only seconds between MIN_TIMESTAMP and MAX_TIMESTAMP (the years 2000 to 2099) are dates;
	a value 1000 times that is refused as milliseconds (no platform here documents those).
	"""
	if value is None or (isinstance(value, str) and not value.strip()):
		return None
	seconds = None
	if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
		seconds = value
	elif isinstance(value, str) and _TIMESTAMP_TEXT.fullmatch(value.strip()):
		seconds = Decimal(value.strip())
	if seconds is None or (not isinstance(seconds, int) and not math.isfinite(seconds)):
		raise InvalidOrder(f"{where}: not a unix timestamp: {show(value)}")
	if seconds == 0:
		return None
	if MIN_TIMESTAMP <= seconds < MAX_TIMESTAMP:
		return datetime.fromtimestamp(seconds if isinstance(seconds, int) else float(seconds), tz=timezone.utc)
	if MIN_TIMESTAMP * 1000 <= seconds < MAX_TIMESTAMP * 1000:
		raise InvalidOrder(f"{where}: {show(value)} looks like milliseconds; expected a unix timestamp in seconds")
	raise InvalidOrder(f"{where}: not a unix timestamp: {show(value)} is outside the years 2000 to 2099")


def parse_datetime(value, where: str) -> datetime | None:
	"""A date: ISO 8601 or a day-first date string (at most MAX_DATE_TEXT long), or unix seconds."""
	if value is None or (isinstance(value, str) and not value.strip()):
		return None
	if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
		return parse_timestamp(value, where)
	if not isinstance(value, str) or len(value.strip()) > MAX_DATE_TEXT:
		raise InvalidOrder(f"{where}: {show(value)} is not a date")
	text = value.strip()
	try:
		parsed = date_parser.isoparse(text)
	except Exception:  # dateutil raises ValueError, OverflowError and others on odd text
		try:
			parsed = date_parser.parse(text, dayfirst=True)
		except Exception:
			raise InvalidOrder(f"{where}: {show(value)} is not a date") from None
	try:
		offset = parsed.utcoffset()
	except Exception:
		offset = _MAX_UTC_OFFSET * 2
	if not MIN_DATE.year <= parsed.year < MAX_DATE.year or (offset is not None and abs(offset) > _MAX_UTC_OFFSET):
		raise InvalidOrder(f"{where}: {show(value)} is not a date between 2000 and 2099")
	return parsed


def parse_coordinate(value, where: str, bound: float) -> float | None:
	"""A latitude (bound 90) or longitude (bound 180) in degrees; None when absent."""
	if value is None or (isinstance(value, str) and not value.strip()):
		return None
	if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
		raise InvalidOrder(f"{where}: {show(value)} is not a number")
	if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
		raise InvalidOrder(f"{where}: {show(value)} is not a number")
	try:
		number = float(value)
	except (ValueError, OverflowError):
		raise InvalidOrder(f"{where}: {show(value)} is not a number") from None
	if not math.isfinite(number) or abs(number) > bound:
		raise InvalidOrder(f"{where}: {show(value)} is not a coordinate (at most {bound} degrees)")
	return number


def as_object(value, where: str) -> dict:
	"""A payload value that must be an object; empty or absent is {}."""
	if isinstance(value, dict):
		return value
	if value is None or value == "" or value == [] or value is False:
		return {}
	raise InvalidOrder(f"{where} must be an object, not {show(value)}")


def as_list(value, where: str) -> list:
	"""A payload value that must be a list; empty or absent is []."""
	if isinstance(value, list):
		return value
	if value is None or value == "" or value == {} or value is False:
		return []
	raise InvalidOrder(f"{where} must be a list, not {show(value)}")


def quantities_by_sku(value, where: str) -> dict[str, Decimal]:
	"""{"SKU": qty} of a shipment or a return (that each qty is > 0 is checked by validate)."""
	return {parse_text(sku, None): parse_qty(qty, f"{where} {show(sku)}") for sku, qty in as_object(value, where).items()}


# --- the canonical format ---------------------------------------------------------------------
def _text(data: dict, key: str, limit: int | None = MAX_TEXT_LENGTH) -> str:
	return parse_text(data.get(key), limit)


def parse_address(data) -> Address | None:
	if not data:
		return None
	if not isinstance(data, dict):
		raise InvalidOrder("shipping_address must be an object")
	return Address(
		full_name=_text(data, "full_name"),
		phone=_text(data, "phone") or None,
		line1=_text(data, "line1"),
		line2=_text(data, "line2"),
		ward=_text(data, "ward"),
		district=_text(data, "district"),
		province=_text(data, "province"),
		country=_text(data, "country") or "Vietnam",
		postal_code=_text(data, "postal_code"),
		latitude=parse_coordinate(data.get("latitude"), "shipping_address.latitude", 90.0),
		longitude=parse_coordinate(data.get("longitude"), "shipping_address.longitude", 180.0),
	)


def canonical_order_id(payload: dict) -> str:
	"""The order id of a canonical payload ("" when it has none)."""
	return parse_order_id(payload.get("order_id"), "order_id")


def _line(raw, index: int, currency: str) -> OrderLine:
	if not isinstance(raw, dict):
		raise InvalidOrder(f"line {index} must be an object")
	where = f"line {index}"
	return OrderLine(
		sku=_text(raw, "sku", None),
		qty=parse_qty(raw.get("qty", 1), where),
		unit_price=to_money(raw.get("unit_price"), currency, f"{where} unit_price"),
		seller_discount=to_money(raw.get("seller_discount"), currency, f"{where} seller_discount"),
		platform_discount=to_money(raw.get("platform_discount"), currency, f"{where} platform_discount"),
		external_line_id=_text(raw, "line_id"),
		listing_id=_text(raw, "listing_id"),
		title=_text(raw, "title"),
		weight_kg=parse_qty(raw.get("weight_kg") or 0, f"{where} weight_kg"),
		priced_by_erp=raw.get("unit_price") in (None, ""),
	)


def _shipment(raw, index: int) -> Shipment:
	where = f"shipments[{index}]"
	if not isinstance(raw, dict):
		raise InvalidOrder(f"{where} must be an object")
	return Shipment(
		package_id=_text(raw, "package_id"),
		tracking_number=_text(raw, "tracking_number"),
		carrier=_text(raw, "carrier"),
		lines=quantities_by_sku(raw.get("lines"), f"{where}.lines"),
	)


def parse_order(payload) -> ChannelOrder:
	"""Turn canonical JSON (str, bytes or dict) into a validated ChannelOrder or raise InvalidOrder."""
	if isinstance(payload, (str, bytes, bytearray)):
		payload = load_json(payload)
	if not isinstance(payload, dict):
		raise InvalidOrder("payload must be a JSON object")

	currency = parse_currency(payload.get("currency"))
	raw_lines = payload.get("lines")
	if not isinstance(raw_lines, list):
		raise InvalidOrder("lines must be a list")
	lines = [_line(raw, index, currency) for index, raw in enumerate(raw_lines, 1)]
	buyer_data = payload.get("buyer") or {}
	if not isinstance(buyer_data, dict):
		raise InvalidOrder("buyer must be an object")
	shipments = [_shipment(raw, index) for index, raw in enumerate(as_list(payload.get("shipments"), "shipments"))]
	total = payload.get("total")
	order = ChannelOrder(
		external_order_id=canonical_order_id(payload),
		status=parse_status(payload.get("status", "confirmed")),
		lines=lines,
		currency=currency,
		buyer=Buyer(
			name=_text(buyer_data, "name"),
			phone=_text(buyer_data, "phone") or None,
			email=_text(buyer_data, "email") or None,
			platform_buyer_id=_text(buyer_data, "id") or None,
		),
		shipping_address=parse_address(payload.get("shipping_address")),
		shipping_fee=to_money(payload.get("shipping_fee"), currency, "shipping_fee"),
		seller_voucher=to_money(payload.get("seller_voucher"), currency, "seller_voucher"),
		platform_voucher=to_money(payload.get("platform_voucher"), currency, "platform_voucher"),
		payment_method=parse_payment_method(payload.get("payment_method")),
		created_at=parse_datetime(payload.get("created_at"), "created_at"),
		updated_at=parse_datetime(payload.get("updated_at"), "updated_at"),
		pickup_store=_text(payload, "pickup_store") or None,
		shipments=shipments,
		returned_lines=quantities_by_sku(payload.get("returned_lines"), "returned_lines"),
		note=_text(payload, "note", MAX_NOTE_LENGTH),
		platform_total=None if total in (None, "") else to_money(total, currency, "total"),
	)
	order.validate()
	return order


def order_to_dict(order: ChannelOrder) -> dict:
	"""The canonical JSON of an order (inverse of parse_order), for storage and replays."""

	def money(value):
		return str(value)

	address = order.shipping_address
	return {
		"order_id": order.external_order_id,
		"status": order.status.value,
		"currency": order.currency,
		"buyer": {
			"name": order.buyer.name,
			"phone": order.buyer.phone,
			"email": order.buyer.email,
			"id": order.buyer.platform_buyer_id,
		},
		"shipping_address": None
		if address is None
		else {
			"full_name": address.full_name,
			"phone": address.phone,
			"line1": address.line1,
			"line2": address.line2,
			"ward": address.ward,
			"district": address.district,
			"province": address.province,
			"country": address.country,
			"postal_code": address.postal_code,
			"latitude": address.latitude,
			"longitude": address.longitude,
		},
		"lines": [
			{
				"sku": line.sku,
				"qty": str(line.qty),
				"unit_price": None if line.priced_by_erp else money(line.unit_price),
				"seller_discount": money(line.seller_discount),
				"platform_discount": money(line.platform_discount),
				"line_id": line.external_line_id,
				"listing_id": line.listing_id,
				"title": line.title,
				"weight_kg": str(line.weight_kg),
			}
			for line in order.lines
		],
		"shipping_fee": money(order.shipping_fee),
		"seller_voucher": money(order.seller_voucher),
		"platform_voucher": money(order.platform_voucher),
		"payment_method": order.payment_method.value,
		"pickup_store": order.pickup_store,
		"created_at": order.created_at.isoformat() if order.created_at else None,
		"updated_at": order.updated_at.isoformat() if order.updated_at else None,
		"shipments": [
			{
				"package_id": s.package_id,
				"tracking_number": s.tracking_number,
				"carrier": s.carrier,
				"lines": {sku: str(qty) for sku, qty in s.lines.items()},
			}
			for s in order.shipments
		],
		"returned_lines": {sku: str(qty) for sku, qty in order.returned_lines.items()},
		"note": order.note,
		"total": None if order.platform_total is None else money(order.platform_total),
	}
