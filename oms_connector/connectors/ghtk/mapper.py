"""GHTK payloads to domain.shipping types: status codes, webhook bodies, status answers, dates.

GHTK's order status codes (the "Order status" table of its webhook and status pages,
https://docs.giaohangtietkiem.vn/en/docs/submit-order/webhook) and what each means here. The
domain has no "pickup failed", so every code before pickup (not received, received, picking,
cannot pick, pick delayed and the shipper's reports about picking) stays CREATED: the parcel is
still with us; `carrier_status` (GHTK's code) and `reason` say which one it is.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from ...domain.shipping import ShipmentStatus, TrackingEvent

VN_TZ = timezone(timedelta(hours=7))

# status_id -> (domain status, GHTK's own words)
STATUS_TABLE: dict[int, tuple[ShipmentStatus, str]] = {
	-1: (ShipmentStatus.CANCELLED, "Hủy đơn hàng"),
	1: (ShipmentStatus.CREATED, "Chưa tiếp nhận"),
	2: (ShipmentStatus.CREATED, "Đã tiếp nhận"),
	3: (ShipmentStatus.PICKED_UP, "Đã lấy hàng/Đã nhập kho"),
	4: (ShipmentStatus.OUT_FOR_DELIVERY, "Đã điều phối giao hàng/Đang giao hàng"),
	5: (ShipmentStatus.DELIVERED, "Đã giao hàng/Chưa đối soát"),
	6: (ShipmentStatus.DELIVERED, "Đã đối soát"),
	7: (ShipmentStatus.CREATED, "Không lấy được hàng"),
	8: (ShipmentStatus.CREATED, "Hoãn lấy hàng"),
	9: (ShipmentStatus.DELIVERY_FAILED, "Không giao được hàng"),
	10: (ShipmentStatus.DELIVERY_FAILED, "Delay giao hàng"),
	11: (ShipmentStatus.RETURNED, "Đã đối soát công nợ trả hàng"),
	12: (ShipmentStatus.CREATED, "Đã điều phối lấy hàng/Đang lấy hàng"),
	13: (ShipmentStatus.LOST, "Đơn hàng bồi hoàn"),
	20: (ShipmentStatus.RETURNING, "Đang trả hàng (COD cầm hàng đi trả)"),
	21: (ShipmentStatus.RETURNED, "Đã trả hàng (COD đã trả xong hàng)"),
	123: (ShipmentStatus.PICKED_UP, "Shipper báo đã lấy hàng"),
	127: (ShipmentStatus.CREATED, "Shipper báo không lấy được hàng"),
	128: (ShipmentStatus.CREATED, "Shipper báo delay lấy hàng"),
	45: (ShipmentStatus.DELIVERED, "Shipper báo đã giao hàng"),
	49: (ShipmentStatus.DELIVERY_FAILED, "Shipper báo không giao được giao hàng"),
	410: (ShipmentStatus.DELIVERY_FAILED, "Shipper báo delay giao hàng"),
}
STATUS_MAP: dict[int, ShipmentStatus] = {code: status for code, (status, _) in STATUS_TABLE.items()}
# GHTK accepts a cancel only while the parcel has not been picked up.
CANCELLABLE = {1, 2, 7, 8, 12, 127, 128}
# Codes after which the buyer has paid the COD (GHTK reports the amount as pick_money).
COD_COLLECTED = {5, 6, 45}


def status_of(code) -> ShipmentStatus:
	"""The domain status of a GHTK status_id ("5", 5, " -1 "); UNKNOWN for anything else."""
	try:
		return STATUS_MAP.get(int(str(code).strip()), ShipmentStatus.UNKNOWN)
	except (TypeError, ValueError):
		return ShipmentStatus.UNKNOWN


def money(value) -> Decimal:
	if value in (None, ""):
		return Decimal(0)
	try:
		return Decimal(str(value))
	except InvalidOperation:
		raise ValueError(f"GHTK sent {value!r} where an amount belongs") from None


_LOST_PLUS = re.compile(r"(T\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\d{2}:?\d{2})$")


def parse_time(value) -> datetime | None:
	"""GHTK's times: ISO 8601 in webhooks ("2016-11-02T12:18:39+07:00"), "YYYY-MM-DD hh:mm:ss" or
	"YY-MM-DD hh:mm:ss" (Vietnam time) in status answers."""
	if not value:
		return None
	# GHTK's form body sends action_time's "+07:00" unencoded, and form decoding reads "+" as
	# a space (its published example does this): put the plus back.
	text = _LOST_PLUS.sub(r"\1+\2", str(value).strip())
	try:
		parsed = datetime.fromisoformat(text)
	except ValueError:
		parsed = None
		for fmt in ("%Y-%m-%d %H:%M:%S", "%y-%m-%d %H:%M:%S", "%Y-%m-%d"):
			try:
				parsed = datetime.strptime(text, fmt)
				break
			except ValueError:
				continue
		if parsed is None:
			return None
	return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


_DAY_MONTH = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_estimate(value, now: datetime | None = None) -> datetime | None:
	"""GHTK's estimated_deliver_time is words ("Chiều 2017-07-02", "Chiều 21/02"): the
	day it names, in Vietnam time; a day without a year is the next such day from `now` back a
	fortnight (so an estimate a few days late still lands in this year)."""
	if not value:
		return None
	iso = _ISO_DAY.search(str(value))
	if iso:  # "Chiều 2017-07-02"
		try:
			return datetime(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)), tzinfo=VN_TZ)
		except ValueError:
			return None
	match = _DAY_MONTH.search(str(value))
	if not match:
		return parse_time(value)
	day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
	now = now or datetime.now(VN_TZ)
	try:
		if year:
			return datetime(int(year) + (2000 if len(year) == 2 else 0), month, day, tzinfo=VN_TZ)
		candidate = datetime(now.year, month, day, tzinfo=VN_TZ)
		if candidate < now - timedelta(days=14):
			candidate = candidate.replace(year=now.year + 1)
		return candidate
	except ValueError:
		return None


def _reason(code, text) -> str:
	code, text = str(code or "").strip(), str(text or "").strip()
	if code and text:
		return f"[{code}] {text}"
	return text or (f"[{code}]" if code else "")


def webhook_fields(body: bytes) -> dict:
	"""GHTK posts application/x-www-form-urlencoded (as its docs' request shows); a JSON body (the
	docs' other rendering) is read too."""
	text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else str(body)
	if text.lstrip().startswith("{"):
		data = json.loads(text)
		if not isinstance(data, dict):
			raise ValueError("GHTK webhook JSON is not an object")
		return data
	return dict(parse_qsl(text, keep_blank_values=True))


def event_from_webhook(fields: dict) -> TrackingEvent:
	label = str(fields.get("label_id") or "").strip()
	if not label:
		raise ValueError("GHTK webhook without label_id")
	code = str(fields.get("status_id", "")).strip()
	status = status_of(code)
	cod = money(fields.get("pick_money")) if status_code(code) in COD_COLLECTED and fields.get("pick_money") not in (None, "") else None
	return TrackingEvent(
		tracking_number=label,
		status=status,
		carrier_status=code,
		at=parse_time(fields.get("action_time")),
		reason=_reason(fields.get("reason_code"), fields.get("reason")),
		cod_collected=cod,
		raw=dict(fields),
	)


def status_code(code) -> int | None:
	try:
		return int(str(code).strip())
	except (TypeError, ValueError):
		return None


def event_from_status(order: dict) -> TrackingEvent:
	"""One /services/shipment/v2/{label} "order": its current status (GHTK's status API keeps no
	history; the webhook events are the history)."""
	code = str(order.get("status", "")).strip()
	cod = money(order.get("pick_money")) if status_code(code) in COD_COLLECTED and order.get("pick_money") not in (None, "") else None
	return TrackingEvent(
		tracking_number=str(order.get("label_id") or order.get("label") or ""),
		status=status_of(code),
		carrier_status=code,
		at=parse_time(order.get("modified") or order.get("created")),
		reason=_reason(order.get("reason_code"), order.get("reason")),
		cod_collected=cod,
		raw=dict(order),
	)
