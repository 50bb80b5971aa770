"""Viettel Post partner API v2: login tokens, master data, quotes, bookings, labels and the order webhook."""

from .client import AlreadyBooked, LookupUnsupported, ViettelPostConnector
from .mapper import FINAL_STATUSES, STATUS_MAP, STATUS_TABLE, bare_name, event_from_webhook_data, fold, reference_of, status_of

__all__ = [
	"AlreadyBooked",
	"FINAL_STATUSES",
	"LookupUnsupported",
	"STATUS_MAP",
	"STATUS_TABLE",
	"ViettelPostConnector",
	"bare_name",
	"event_from_webhook_data",
	"fold",
	"reference_of",
	"status_of",
]
