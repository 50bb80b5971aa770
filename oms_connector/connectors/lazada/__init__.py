"""Lazada Open Platform (lazop): signed client, token handling, push verification and order mapping."""

from .client import LazadaConnector, classify_error, push_signature, sign
from .mapper import STATUS_MAP, order_from_lazada

__all__ = ["LazadaConnector", "STATUS_MAP", "classify_error", "order_from_lazada", "push_signature", "sign"]
