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
from decimal import Decimal, InvalidOperation

from dateutil import parser as date_parser

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


def parse_status(value) -> OrderStatus:
	word = str(value or "").strip().lower().replace(" ", "_").replace("-", "_")
	if word in _STATUS_BY_WORD:
		return _STATUS_BY_WORD[word]
	for status in OrderStatus:
		if status.value.lower() == word:
			return status
	raise InvalidOrder(f"unknown order status {value!r}")


def parse_payment_method(value) -> PaymentMethod:
	word = str(value or "prepaid").strip().lower()
	if word in ("cod", "cash_on_delivery", "cash on delivery", "thanh toán khi nhận hàng"):
		return PaymentMethod.COD
	return PaymentMethod.PREPAID


def parse_qty(value, where: str) -> Decimal:
	try:
		qty = Decimal(str(value).strip())
	except (InvalidOperation, ValueError):
		raise InvalidOrder(f"{where}: quantity {value!r} is not a number") from None
	if not qty.is_finite():
		raise InvalidOrder(f"{where}: quantity {value!r} is not a number")
	return qty


def parse_datetime(value, where: str):
	if value in (None, ""):
		return None
	if isinstance(value, (int, float)):
		from datetime import datetime, timezone

		return datetime.fromtimestamp(value, tz=timezone.utc)
	try:
		return date_parser.isoparse(str(value))
	except (ValueError, OverflowError):
		try:
			return date_parser.parse(str(value), dayfirst=True)
		except (ValueError, OverflowError):
			raise InvalidOrder(f"{where}: {value!r} is not a date") from None


def _text(data: dict, key: str) -> str:
	value = data.get(key)
	return "" if value is None else str(value).strip()


def _optional_float(value, where: str):
	if value in (None, ""):
		return None
	try:
		return float(value)
	except (TypeError, ValueError):
		raise InvalidOrder(f"{where}: {value!r} is not a number") from None


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
		latitude=_optional_float(data.get("latitude"), "shipping_address.latitude"),
		longitude=_optional_float(data.get("longitude"), "shipping_address.longitude"),
	)


def parse_order(payload) -> ChannelOrder:
	"""Turn canonical JSON (str, bytes or dict) into a validated ChannelOrder or raise InvalidOrder."""
	if isinstance(payload, (str, bytes)):
		try:
			payload = json.loads(payload)
		except ValueError as exc:
			raise InvalidOrder(f"payload is not valid JSON: {exc}") from None
	if not isinstance(payload, dict):
		raise InvalidOrder("payload must be a JSON object")

	currency = _text(payload, "currency").upper() or "VND"
	raw_lines = payload.get("lines")
	if not isinstance(raw_lines, list):
		raise InvalidOrder("lines must be a list")
	lines = []
	for index, raw in enumerate(raw_lines, 1):
		if not isinstance(raw, dict):
			raise InvalidOrder(f"line {index} must be an object")
		where = f"line {index}"
		lines.append(
			OrderLine(
				sku=_text(raw, "sku"),
				qty=parse_qty(raw.get("qty", 1), where),
				unit_price=to_money(raw.get("unit_price"), currency),
				seller_discount=to_money(raw.get("seller_discount"), currency),
				platform_discount=to_money(raw.get("platform_discount"), currency),
				external_line_id=_text(raw, "line_id"),
				listing_id=_text(raw, "listing_id"),
				title=_text(raw, "title"),
				weight_kg=parse_qty(raw.get("weight_kg") or 0, where),
				priced_by_erp=raw.get("unit_price") in (None, ""),
			)
		)

	buyer_data = payload.get("buyer") or {}
	if not isinstance(buyer_data, dict):
		raise InvalidOrder("buyer must be an object")
	shipments = []
	for raw in payload.get("shipments") or []:
		shipments.append(
			Shipment(
				package_id=_text(raw, "package_id"),
				tracking_number=_text(raw, "tracking_number"),
				carrier=_text(raw, "carrier"),
				lines={sku: parse_qty(qty, "shipment") for sku, qty in (raw.get("lines") or {}).items()},
			)
		)
	total = payload.get("total")
	order = ChannelOrder(
		external_order_id=_text(payload, "order_id"),
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
		shipping_fee=to_money(payload.get("shipping_fee"), currency),
		seller_voucher=to_money(payload.get("seller_voucher"), currency),
		platform_voucher=to_money(payload.get("platform_voucher"), currency),
		payment_method=parse_payment_method(payload.get("payment_method")),
		created_at=parse_datetime(payload.get("created_at"), "created_at"),
		updated_at=parse_datetime(payload.get("updated_at"), "updated_at"),
		pickup_store=_text(payload, "pickup_store") or None,
		shipments=shipments,
		returned_lines={
			sku: parse_qty(qty, "returned_lines") for sku, qty in (payload.get("returned_lines") or {}).items()
		},
		note=_text(payload, "note"),
		platform_total=None if total in (None, "") else to_money(total, currency),
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
