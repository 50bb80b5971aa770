"""GHTK (Giao Hàng Tiết Kiệm): the carrier connector and its payload mapper."""

from .client import PRODUCTION_URL, STAGING_URL, GHTKConnector
from .mapper import CANCELLABLE, STATUS_MAP, STATUS_TABLE, event_from_status, event_from_webhook, status_of, webhook_fields

__all__ = [
	"CANCELLABLE",
	"GHTKConnector",
	"PRODUCTION_URL",
	"STAGING_URL",
	"STATUS_MAP",
	"STATUS_TABLE",
	"event_from_status",
	"event_from_webhook",
	"status_of",
	"webhook_fields",
]
