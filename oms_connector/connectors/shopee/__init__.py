"""Shopee Open Platform API v2: signed client, token handling, push verification and order mapping."""

from .client import LostPushBatch, ShopeeConnector, base_string, sign
from .mapper import STATUS_MAP, order_from_payload, order_from_shopee

__all__ = ["LostPushBatch", "STATUS_MAP", "ShopeeConnector", "base_string", "order_from_payload", "order_from_shopee", "sign"]
