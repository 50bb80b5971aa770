"""Webhook endpoints. The signature is checked before anything is stored; a bad one leaves
nothing behind but a log line."""

from __future__ import annotations

import hashlib
import hmac

import frappe
from frappe.utils.password import get_decrypted_password

from oms_connector.erp import intake


def _reject(channel: str, why: str):
	frappe.logger("oms_connector").warning(f"webhook for {channel!r} rejected: {why}")
	frappe.local.response["http_status_code"] = 401
	raise frappe.AuthenticationError(why)


def _enabled_channel(channel: str, platforms: tuple[str, ...]) -> frappe._dict:
	# plain reads, not get_doc: this runs on every webhook request
	row = frappe.db.get_value("Sales Channel", channel, ["name", "platform", "enabled", "company"], as_dict=True)
	if not row or not row.enabled or row.platform not in platforms:
		_reject(channel, "unknown or disabled channel")
	return row


def channel_from_query() -> str:
	"""The channel named in the URL. Frappe builds form_dict from a JSON body and drops the query
	string, and a body key must never choose the channel, so it is read from the URL alone."""
	return (frappe.request.args.get("channel") or "").strip()


@frappe.whitelist(allow_guest=True, methods=["POST"])
def order(**_body) -> dict:
	"""Canonical-JSON order webhook (own web store, middleware): POST ...webhooks.order?channel=NAME,
	header X-OMS-Signature is the hex HMAC-SHA256 of the raw body under the channel's webhook secret."""
	channel = channel_from_query()
	row = _enabled_channel(channel, ("Custom API",))
	body = frappe.request.get_data() or b""
	secret = get_decrypted_password("Sales Channel", row.name, "webhook_secret", raise_exception=False) or ""
	given = frappe.get_request_header("X-OMS-Signature") or ""
	expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
	if not secret or not hmac.compare_digest(expected, given.strip().lower()):
		_reject(channel, "bad signature")
	name = intake.receive_order(row.name, body, source="Webhook", process="enqueue", channel=row)
	return {"channel_order": name}
