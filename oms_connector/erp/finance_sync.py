"""Reading each marketplace's finance data on a schedule, and one order's on request.

The fetch re-reads `finance_days` before the last one, so adjustments a platform posts late
are found; booking is keyed on the platform's ids, so reading the same data again books nothing.
"""

from __future__ import annotations

from datetime import timedelta

import frappe
from frappe import _
from frappe.utils import cint, get_datetime, now_datetime

from oms_connector.connectors.base import AuthError, ConnectorError
from oms_connector.erp import jobs, settlements
from oms_connector.erp.marketplace import _aware, _connected_channels, _note_error, call_platform

FIRST_FETCH_LOOKBACK = timedelta(days=30)


def fetch_all_channels() -> None:
	"""Scheduled: one deduplicated finance fetch per connected marketplace channel that books
	settlements (has a clearing account)."""
	for name in _connected_channels():
		if frappe.db.get_value("Sales Channel", name, "clearing_account"):
			enqueue_fetch(name)


def enqueue_fetch(channel_name: str) -> None:
	frappe.enqueue(
		"oms_connector.erp.finance_sync.fetch_channel_finance",
		queue="long",
		job_id=f"oms-fetch-finance-{channel_name}",
		deduplicate=True,
		channel_name=channel_name,
	)


@jobs.as_job_user
def fetch_channel_finance(channel_name: str) -> dict:
	"""Read and book the channel's settlements, adjustments and payouts since the last fetch."""
	channel = frappe.db.get_value(
		"Sales Channel", channel_name, ["name", "clearing_account", "last_finance_sync", "finance_days"], as_dict=True
	)
	if not channel or not channel.clearing_account:
		frappe.throw(_("Sales Channel {0} has no Clearing Account to book settlements to").format(channel_name))
	until = now_datetime()
	overlap = timedelta(days=cint(channel.finance_days) or 14)
	since = get_datetime(channel.last_finance_sync) - overlap if channel.last_finance_sync else until - FIRST_FETCH_LOOKBACK
	try:
		period = call_platform(channel_name, lambda connector: connector.fetch_finance(_aware(since), _aware(until)))
	except AuthError:
		raise  # shown on the channel as Needs Reconnection
	except ConnectorError as exc:
		_note_error(channel_name, exc)
		raise
	counts = settlements.record_finance(channel_name, period)
	frappe.db.set_value("Sales Channel", channel_name, "last_finance_sync", until, update_modified=False)
	frappe.db.commit()
	return counts


def fetch_order_settlement(channel_order_name: str) -> dict:
	"""Read and book one order's settlement now (the desk's Fetch Settlement button)."""
	order = frappe.db.get_value(
		"Channel Order", channel_order_name, ["name", "sales_channel", "external_order_id"], as_dict=True
	)
	if not order:
		frappe.throw(_("Channel Order {0} does not exist").format(channel_order_name), frappe.DoesNotExistError)
	if not frappe.db.get_value("Sales Channel", order.sales_channel, "clearing_account"):
		frappe.throw(_("Sales Channel {0} has no Clearing Account to book settlements to").format(order.sales_channel))
	found = call_platform(order.sales_channel, lambda connector: connector.get_order_settlement(order.external_order_id))
	if found is None:
		return {"status": None, "message": _("The platform has not settled this order yet")}
	channel = frappe.get_doc("Sales Channel", order.sales_channel)
	name = settlements.record_settlement(channel, found)
	frappe.db.commit()
	status = frappe.db.get_value(settlements.SETTLEMENT, name, "status")
	return {"status": status, "settlement": name, "message": _("Settlement {0}: {1}").format(name, _(status))}
