"""Which mapper reads which platform's order payload.

Marketplaces send their own order-detail payload and their connector maps it; web stores,
store/phone entry and file imports speak the canonical JSON of `domain.normalize`.
"""

from __future__ import annotations

import hashlib

from oms_connector.domain.normalize import canonical_order_id, load_json, parse_order
from oms_connector.domain.order import ChannelOrder, InvalidOrder

MARKETPLACES = ("Shopee", "Lazada", "TikTok Shop")
ERP_PRICED = ("Store/Phone", "File Import")  # prices come from ERPNext's price list and pricing rules
# A Channel Order is named "<channel>:<order id>" (Frappe names are varchar(140)): ids are at
# most MAX_ORDER_ID_LENGTH characters, an unreadable payload's id is UNREADABLE- + 16 hex digits.
# (MAX_ORDER_ID_LENGTH = 100 leaves 39 characters for the channel's name and 1 for the colon.)
UNREADABLE_PREFIX = "UNREADABLE-"


def _shopee(raw: dict) -> ChannelOrder:
	from oms_connector.connectors.shopee.mapper import order_from_payload

	return order_from_payload(raw)  # the detail with its escrow, or a bare detail stored before


def _lazada(raw: dict) -> ChannelOrder:
	from oms_connector.connectors.lazada.mapper import order_from_lazada

	return order_from_lazada(raw.get("order"), raw.get("items") or [])


def _tiktok(raw: dict) -> ChannelOrder:
	from oms_connector.connectors.tiktok.mapper import order_from_tiktok

	return order_from_tiktok(raw)


def _shopee_id(raw: dict) -> str:
	from oms_connector.connectors.shopee.mapper import payload_order_id

	return payload_order_id(raw)


def _lazada_id(raw: dict) -> str:
	from oms_connector.connectors.lazada.mapper import lazada_order_id

	return lazada_order_id(raw.get("order"))


def _tiktok_id(raw: dict) -> str:
	from oms_connector.connectors.tiktok.mapper import tiktok_order_id

	return tiktok_order_id(raw)


# Each reads the id exactly as its mapper does (the mappers call the same functions), so a
# payload is stored under the id its mapped order carries.
ORDER_IDS = {"Shopee": _shopee_id, "Lazada": _lazada_id, "TikTok Shop": _tiktok_id}
MAPPERS = {"Shopee": _shopee, "Lazada": _lazada, "TikTok Shop": _tiktok}


def load_payload(raw_text: str) -> dict:
	"""The stored payload as a JSON object (size and nesting bounded), or InvalidOrder."""
	data = load_json(raw_text)
	if not isinstance(data, dict):
		raise InvalidOrder("payload must be a JSON object")
	return data


def peek_order_id(platform: str, raw_text: str) -> str:
	"""The channel's order id, read without trusting the rest of the payload. Never raises.

	It is the id `map_payload` gives the mapped order whenever the payload maps. A payload
	without a usable id (unreadable JSON, no id, an id that is a list, object, bool, float, or
	longer than MAX_ORDER_ID_LENGTH) still gets a stable id derived from its bytes, so it is
	stored (and a re-delivery of the same bytes lands on the same record).
	"""
	try:
		order_id = ORDER_IDS.get(platform, canonical_order_id)(load_payload(raw_text))
	except Exception:  # InvalidOrder; and whatever else, the payload must still be stored
		order_id = ""
	return order_id or unreadable_id(raw_text)


def unreadable_id(raw_text) -> str:
	if isinstance(raw_text, str):
		data = raw_text.encode("utf-8", "surrogatepass")  # the same bytes as .encode() for valid text
	elif isinstance(raw_text, (bytes, bytearray)):
		data = bytes(raw_text)
	else:
		data = repr(type(raw_text)).encode()
	return UNREADABLE_PREFIX + hashlib.sha1(data).hexdigest()[:16]


def map_payload(platform: str, raw_text: str) -> ChannelOrder:
	"""Turn one stored payload into a validated ChannelOrder, or raise InvalidOrder (only that)."""
	data = load_payload(raw_text)
	mapper = MAPPERS.get(platform)
	if mapper is None:
		return parse_order(data)
	try:
		order = mapper(data)
	except InvalidOrder:
		raise
	except (LookupError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
		# a safety net only: the mappers read through domain.normalize's total readers
		raise InvalidOrder(f"{platform} payload could not be read: {exc.__class__.__name__}: {str(exc)[:200]}") from None
	order.validate()
	return order
