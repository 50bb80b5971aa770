"""Datetimes from outside as the naive system-time values Frappe stores."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from frappe.utils import get_system_timezone


def to_system_time(value: datetime | None, naive_is_utc: bool = False) -> datetime | None:
	"""An aware datetime converted to the site's time zone, without tzinfo. A naive one is taken
	as already in system time, or as UTC when `naive_is_utc` (connectors' token expiries)."""
	if value is None:
		return None
	if value.tzinfo is None:
		if not naive_is_utc:
			return value
		value = value.replace(tzinfo=timezone.utc)
	return value.astimezone(ZoneInfo(get_system_timezone())).replace(tzinfo=None)
