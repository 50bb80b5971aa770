"""GHN (Giao Hàng Nhanh) carrier connector: master data, quotes, booking, labels, tracking, callbacks."""

from .client import GHNConnector, classify_error, normalize_name
from .status import STATUS_MAP, map_status

__all__ = ["GHNConnector", "STATUS_MAP", "classify_error", "map_status", "normalize_name"]
