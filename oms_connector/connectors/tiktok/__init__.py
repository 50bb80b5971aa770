"""TikTok Shop Partner API (version 202309 and later): signing, orders, fulfilment, stock, finance."""

from .client import TikTokConnector, sign_request, webhook_signature
from .mapper import order_from_tiktok

__all__ = ["TikTokConnector", "order_from_tiktok", "sign_request", "webhook_signature"]
