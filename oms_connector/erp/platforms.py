"""Which mapper reads which platform's order payload.

Marketplaces send their own order-detail payload and their connector maps it; web stores,
store/phone entry and file imports speak the canonical JSON of `domain.normalize`.
"""

from __future__ import annotations

import hashlib
import json

from oms_connector.domain.normalize import parse_order
from oms_connector.domain.order import ChannelOrder, InvalidOrder

MARKETPLACES = ("Shopee", "Lazada", "TikTok Shop")
ERP_PRICED = ("Store/Phone", "File Import")  # prices come from ERPNext's price list and pricing rules


def _shopee(raw: dict) -> ChannelOrder:
	from oms_connector.connectors.shopee.mapper import order_from_shopee

	return order_from_shopee(raw)


def _lazada(raw: dict) -> ChannelOrder:
	from oms_connector.connectors.lazada.mapper import order_from_lazada

	return order_from_lazada(raw["order"], raw.get("items") or [])


def _tiktok(raw: dict) -> ChannelOrder:
	from oms_connector.connectors.tiktok.mapper import order_from_tiktok

	return order_from_tiktok(raw)


ORDER_ID_KEYS = {
	"Shopee": lambda raw: raw.get("order_sn"),
	"Lazada": lambda raw: (raw.get("order") or {}).get("order_id"),
	"TikTok Shop": lambda raw: raw.get("id"),
}
MAPPERS = {"Shopee": _shopee, "Lazada": _lazada, "TikTok Shop": _tiktok}


def load_payload(raw_text: str) -> dict:
	try:
		data = json.loads(raw_text)
	except ValueError as exc:
		raise InvalidOrder(f"payload is not valid JSON: {exc}") from None
	if not isinstance(data, dict):
		raise InvalidOrder("payload must be a JSON object")
	return data


def peek_order_id(platform: str, raw_text: str) -> str:
	"""The channel's order id, read without trusting the rest of the payload.

	An unreadable payload still gets a stable id derived from its bytes, so it is stored
	(and a re-delivery of the same bytes lands on the same record).
	"""
	try:
		data = load_payload(raw_text)
		order_id = ORDER_ID_KEYS.get(platform, lambda raw: raw.get("order_id"))(data)
	except (InvalidOrder, AttributeError):
		order_id = None
	if order_id in (None, "") or isinstance(order_id, (dict, list)):
		return "UNREADABLE-" + hashlib.sha1(raw_text.encode()).hexdigest()[:16]
	return str(order_id).strip()


def map_payload(platform: str, raw_text: str) -> ChannelOrder:
	"""Turn one stored payload into a validated ChannelOrder, or raise InvalidOrder."""
	data = load_payload(raw_text)
	mapper = MAPPERS.get(platform)
	if mapper is None:
		return parse_order(data)
	try:
		order = mapper(data)
	except InvalidOrder:
		raise
	except (KeyError, TypeError, ValueError, AttributeError) as exc:
		raise InvalidOrder(f"{platform} payload could not be read: {exc.__class__.__name__}: {exc}") from None
	order.validate()
	return order
