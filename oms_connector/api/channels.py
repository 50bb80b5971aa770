"""Desk actions on Sales Channels: the addresses a platform must be given, the webhook secret."""

from __future__ import annotations

import secrets
from urllib.parse import quote

import frappe
from frappe import _
from frappe.utils import get_url

from oms_connector.erp import marketplace
from oms_connector.erp.platforms import MARKETPLACES

CUSTOM_API = "Custom API"
ORDER_WEBHOOK_PATH = "/api/method/oms_connector.api.webhooks.order"
SECRET_BYTES = 32


@frappe.whitelist()
def connection_addresses(channel: str) -> dict:
	"""What to paste into the platform's or the sender's settings for this channel."""
	frappe.has_permission("Sales Channel", "read", doc=channel, throw=True)
	platform = frappe.db.get_value("Sales Channel", channel, "platform")
	if platform == CUSTOM_API:
		return {
			"webhook_url": get_url(f"{ORDER_WEBHOOK_PATH}?channel={quote(channel)}"),
			"signature_header": "X-OMS-Signature",
			"has_secret": bool(_stored_secret(channel)),
		}
	if platform in MARKETPLACES:
		return {"webhook_url": marketplace.webhook_url(channel), "redirect_url": marketplace.callback_url()}
	return {}


@frappe.whitelist(methods=["POST"])
def generate_webhook_secret(channel: str) -> str:
	"""A new random signing key for a Custom API channel, shown once to be copied to the sender."""
	frappe.has_permission("Sales Channel", "write", doc=channel, throw=True)
	doc = frappe.get_doc("Sales Channel", channel)
	if doc.platform != CUSTOM_API:
		frappe.throw(_("Only Custom API channels sign their webhooks with a secret of their own"))
	secret = secrets.token_hex(SECRET_BYTES)
	doc.webhook_secret = secret
	doc.save()
	return secret


def _stored_secret(channel: str) -> str:
	from frappe.utils.password import get_decrypted_password

	return get_decrypted_password("Sales Channel", channel, "webhook_secret", raise_exception=False) or ""
