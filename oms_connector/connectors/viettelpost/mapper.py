"""Viettel Post payloads <-> domain.shipping types: the status table, name matching, quotes,
bookings and the order webhook. No HTTP here, so it is tested on the published examples.

Sources (tests/connectors/viettelpost_published/README.md): Viettel Post's "TÀI LIỆU KẾT NỐI API
VIETTELPOST" (partner API v2 document), section 8 "Bảng danh sách trạng thái" for the status table,
section 7 for the webhook; codes the current table leaves out (-100, -108, -109, -110, 100, 106,
301-303, 320, 401-403, 510) are named as Viettel Post's earlier status list named them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from ...domain.shipping import BookedShipment, Quote, ShipmentStatus, TrackingEvent
from ..base import ConnectorError

CARRIER = "Viettel Post"
VN_TZ = timezone(timedelta(hours=7))  # ORDER_STATUSDATE and KPI_HT are Vietnam local time

S = ShipmentStatus
# ORDER_STATUS -> (domain status, Viettel Post's name for it, where the name is published).
# "table": the partner document's section 8 table; "earlier": Viettel Post's earlier status list
# (the codes below that the current table no longer lists but webhooks still carry).
STATUS_TABLE: dict[int, tuple[ShipmentStatus, str, str]] = {
	-100: (S.CREATED, "Đơn hàng mới tạo, chưa duyệt", "earlier"),
	-108: (S.CREATED, "Đơn hàng người gửi mang tới bưu cục", "earlier"),  # drop-off order, not yet handed in
	-109: (S.PICKED_UP, "Đã gửi tại cửa hàng tiện ích", "earlier"),  # handed in at a convenience store
	-110: (S.PICKED_UP, "Đã gửi tại cửa hàng tiện ích", "earlier"),
	100: (S.CREATED, "Tiếp nhận đơn hàng từ đối tác", "earlier"),
	101: (S.CANCELLED, "ViettelPost từ chối nhận", "table"),  # final
	102: (S.CREATED, "Đơn hàng chờ xử lý", "table"),
	103: (S.CREATED, "Giao cho bưu cục", "table"),
	104: (S.CREATED, "Giao cho Bưu tá đi nhận", "table"),
	105: (S.PICKED_UP, "Bưu Tá đã nhận hàng", "table"),
	106: (S.CREATED, "Đối tác yêu cầu lấy lại hàng", "earlier"),  # pickup to be tried again
	107: (S.CANCELLED, "Đối tác yêu cầu hủy qua API", "table"),  # final
	200: (S.PICKED_UP, "Nhận từ bưu tá - Bưu cục gốc", "table"),  # taken in at the origin office
	201: (S.CANCELLED, "Hủy nhập phiếu gửi", "table"),  # final
	202: (S.IN_TRANSIT, "Sửa phiếu gửi", "table"),
	300: (S.IN_TRANSIT, "Khai thác đi", "table"),
	301: (S.IN_TRANSIT, "Đóng túi gói", "earlier"),
	302: (S.IN_TRANSIT, "Đóng chuyến thư", "earlier"),
	303: (S.IN_TRANSIT, "Đóng tuyến xe", "earlier"),
	320: (S.IN_TRANSIT, "Đang vận chuyển", "earlier"),
	400: (S.IN_TRANSIT, "Khai thác đến", "table"),
	401: (S.IN_TRANSIT, "Nhận túi gói", "earlier"),
	402: (S.IN_TRANSIT, "Nhận chuyến thư", "earlier"),
	403: (S.IN_TRANSIT, "Nhận chuyến xe", "earlier"),
	500: (S.OUT_FOR_DELIVERY, "Giao bưu tá đi phát", "table"),
	501: (S.DELIVERED, "Phát thành công", "table"),  # final
	502: (S.RETURNING, "Chuyển hoàn bưu cục gốc", "table"),
	503: (S.CANCELLED, "Hủy - Theo yêu cầu khách hàng", "table"),  # final (the parcel is disposed of)
	504: (S.RETURNED, "Hoàn thành công - Chuyển trả người gửi", "table"),  # final
	505: (S.DELIVERY_FAILED, "Phát thất bại - Yêu cầu chuyển hoàn", "table"),
	506: (S.DELIVERY_FAILED, "Phát thất bại", "table"),
	507: (S.DELIVERY_FAILED, "Khách hàng đến bưu cục nhận", "table"),
	508: (S.OUT_FOR_DELIVERY, "Phát tiếp", "table"),
	509: (S.IN_TRANSIT, "Chuyển tiếp bưu cục khác", "table"),
	510: (S.IN_TRANSIT, "Hủy phân công phát", "earlier"),
	515: (S.RETURNING, "Duyệt hoàn", "table"),
	550: (S.OUT_FOR_DELIVERY, "Phát tiếp", "table"),
}
STATUS_MAP: dict[int, ShipmentStatus] = {code: row[0] for code, row in STATUS_TABLE.items()}
FINAL_STATUSES = frozenset({101, 107, 201, 501, 503, 504})  # the document: no status follows these
# While IS_RETURNING is true the parcel moves back to the sender: its moves are the return's.
_RETURN_LEG = {S.PICKED_UP, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED}


def status_of(code) -> ShipmentStatus:
	"""The domain status of an ORDER_STATUS code; UNKNOWN for a code not in the table."""
	try:
		return STATUS_MAP.get(int(str(code).strip()), S.UNKNOWN)
	except (TypeError, ValueError):
		return S.UNKNOWN


# --- names -------------------------------------------------------------------------------
# Administrative prefixes, longest first so "thanh pho" wins over "thi".
_PREFIXES = (
	"thanh pho", "thi tran", "thi xa", "tinh", "quan", "huyen", "phuong", "xa", "tp", "tx", "tt", "q", "h", "p",
)  # fmt: skip


def fold(text: str) -> str:
	"""Lowercase, accents and punctuation gone, đ -> d, spaces collapsed: "Thị xã Kỳ Anh" -> "thi xa ky anh"."""
	text = (text or "").replace("đ", "d").replace("Đ", "D")
	text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
	text = re.sub(r"[^0-9a-zA-Z]+", " ", text).lower()
	return " ".join(text.split())


def bare_name(text: str) -> str:
	"""fold() without the administrative prefix: "TP. Hồ Chí Minh" -> "ho chi minh", "Quận 1" -> "1"."""
	folded = fold(text)
	for prefix in _PREFIXES:
		if folded.startswith(prefix + " ") and len(folded) > len(prefix) + 1:
			return folded[len(prefix) + 1 :]
	return folded


def _accented(text: str) -> str:
	"""Casefolded, punctuation gone, accents kept: "TP. Hồ Chí Minh" -> "tp hồ chí minh"."""
	text = unicodedata.normalize("NFC", text or "").casefold()
	return " ".join(re.sub(r"[^\w]+", " ", text).split())


_ACCENTED_PREFIXES = ("thành phố", "thị trấn", "thị xã", "tỉnh", "quận", "huyện", "phường", "xã", "tp", "tx", "tt", "q", "h", "p")


def _accented_bare(text: str) -> str:
	name = _accented(text)
	for prefix in _ACCENTED_PREFIXES:
		if name.startswith(prefix + " ") and len(name) > len(prefix) + 1:
			return name[len(prefix) + 1 :]
	return name


def match_name(wanted: str, rows: list[dict], name_key: str) -> list[dict]:
	"""The rows whose name is `wanted`, trying the strictest comparison first: the full name with its
	accents (so "Thị xã Kỳ Anh" picks the town, not "Huyện Kỳ Anh"), the name without its prefix,
	then both again with the accents stripped (for input typed without them). Accents go last
	because stripping them merges names: "Phương Liệt" and "Phường Liệt" fold alike."""
	names = [(row, str(row.get(name_key) or "")) for row in rows]
	for key in (_accented, _accented_bare, fold, bare_name):
		target = key(wanted)
		found = [row for row, name in names if key(name) == target]
		if found:
			return found
	return []


# --- money and time ----------------------------------------------------------------------
def money(value) -> Decimal:
	if value in (None, ""):
		return Decimal(0)
	try:
		return Decimal(str(value))
	except InvalidOperation:
		raise ConnectorError(f"Viettel Post sent a non-numeric amount {value!r}") from None


def parse_status_date(value) -> datetime | None:
	"""ORDER_STATUSDATE, "dd/MM/yyyy HH:mm:ss" in Vietnam time -> an aware datetime."""
	if not value:
		return None
	for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"):
		try:
			return datetime.strptime(str(value).strip(), pattern).replace(tzinfo=VN_TZ)
		except ValueError:
			continue
	return None


def hours_of(value) -> float | None:
	"""KPI_HT (a number of hours) or THOI_GIAN ("48 giờ") as hours; None when it says none."""
	if value in (None, ""):
		return None
	if isinstance(value, (int, float)):
		return float(value) if value > 0 else None
	found = re.search(r"\d+(?:[.,]\d+)?", str(value))
	if not found:
		return None
	hours = float(found.group().replace(",", "."))
	if "ngay" in fold(str(value)):  # "2 ngày"
		hours *= 24
	return hours or None


def expected_from(hours: float | None, now: datetime) -> datetime | None:
	"""Viettel Post counts its delivery promise (KPI_HT) from 24:00 of the day it receives the order."""
	if hours is None:
		return None
	local = now.astimezone(VN_TZ)
	midnight = datetime(local.year, local.month, local.day, tzinfo=VN_TZ) + timedelta(days=1)
	return midnight + timedelta(hours=hours)


# --- answers -> domain -------------------------------------------------------------------
def quote_from_price(service: dict, price: dict | None, now: datetime) -> Quote:
	"""One getPriceAll service, with its getPrice answer when there is one (the full fee, COD fee
	and surcharges included; GIA_CUOC alone is the service fee with VAT, surcharges left out)."""
	breakdown: dict[str, Decimal] = {}
	if price:
		fee = money(price.get("MONEY_TOTAL"))
		for key, name in (
			("MONEY_TOTAL_FEE", "shipping"), ("MONEY_FEE", "fuel"), ("MONEY_COLLECTION_FEE", "cod"),
			("MONEY_OTHER_FEE", "other"), ("MONEY_VAS", "value_added"), ("MONEY_VAT", "vat"),
		):  # fmt: skip
			if price.get(key) not in (None, ""):
				breakdown[name] = money(price.get(key))
		hours = hours_of(price.get("KPI_HT")) or hours_of(service.get("THOI_GIAN"))
	else:
		fee = money(service.get("GIA_CUOC"))
		hours = hours_of(service.get("THOI_GIAN"))
	return Quote(
		carrier=CARRIER,
		service_id=str(service.get("MA_DV_CHINH") or ""),
		service_name=str(service.get("TEN_DICHVU") or ""),
		fee=fee,
		expected_delivery=expected_from(hours, now),
		fee_breakdown=breakdown,
	)


def booked_from_create(data: dict, service_id: str, now: datetime) -> BookedShipment:
	"""createOrder's data: ORDER_NUMBER is Viettel Post's tracking number (our reference went in as
	ORDER_NUMBER and comes back on webhooks as ORDER_REFERENCE)."""
	tracking = str(data.get("ORDER_NUMBER") or "")
	if not tracking:
		raise ConnectorError("Viettel Post createOrder answered without ORDER_NUMBER")
	return BookedShipment(
		carrier=CARRIER,
		tracking_number=tracking,
		fee=money(data.get("MONEY_TOTAL")),
		service_id=service_id,
		expected_delivery=expected_from(hours_of(data.get("KPI_HT")), now),
		raw=dict(data),
	)


def event_from_webhook_data(data: dict) -> TrackingEvent:
	"""One webhook DATA object -> a TrackingEvent; the code is kept whatever it is."""
	if not isinstance(data, dict):
		raise ConnectorError("Viettel Post webhook DATA is not an object")
	code = data.get("ORDER_STATUS")
	status = status_of(code)
	if data.get("IS_RETURNING") is True and status in _RETURN_LEG:
		status = S.RETURNING
	location = data.get("LOCATION_CURRENTLY") or data.get("LOCALION_CURRENTLY") or ""  # the document spells it both ways
	reason = " / ".join(str(part) for part in (data.get("NOTE"), data.get("REASON_CODE") and f"reason {data['REASON_CODE']}") if part)
	cod = None
	if status == S.DELIVERED and data.get("MONEY_COLLECTION") not in (None, ""):
		cod = money(data.get("MONEY_COLLECTION"))
	raw = dict(data)
	raw.setdefault("STATUS_NAME", STATUS_TABLE.get(_int_or_none(code), (None, "", ""))[1])
	raw["_location"] = location
	return TrackingEvent(
		tracking_number=str(data.get("ORDER_NUMBER") or ""),
		status=status,
		carrier_status="" if code is None else str(code),
		at=parse_status_date(data.get("ORDER_STATUSDATE")),
		reason=reason,
		cod_collected=cod,
		raw=raw,
	)


def parse_webhook_body(body) -> tuple[dict, str]:
	"""The webhook JSON -> (DATA, TOKEN)."""
	try:
		message = json.loads(body) if isinstance(body, (bytes, bytearray, str)) else body
	except ValueError:
		raise ConnectorError("Viettel Post webhook body is not JSON") from None
	if not isinstance(message, dict) or not isinstance(message.get("DATA"), dict):
		raise ConnectorError("Viettel Post webhook body has no DATA object")
	return message["DATA"], str(message.get("TOKEN") or "")


def reference_of(event: TrackingEvent) -> str:
	"""Our reference (the ORDER_NUMBER we sent at booking) as the webhook carries it back."""
	return str(event.raw.get("ORDER_REFERENCE") or "")


def _int_or_none(value):
	try:
		return int(str(value).strip())
	except (TypeError, ValueError):
		return None
