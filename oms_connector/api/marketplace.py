"""Endpoints for marketplace channels (Shopee, Lazada, TikTok Shop).

The two guest endpoints prove themselves otherwise: the webhook by the platform's signature
(checked before anything is stored), the OAuth callback by the state this site handed out.
Every other method checks the caller's permission on the record it acts on.
"""

from __future__ import annotations

from urllib.parse import quote

import frappe
from frappe import _

from oms_connector.api.webhooks import channel_from_query
from oms_connector.connectors.base import ConnectorError
from oms_connector.erp import marketplace


@frappe.whitelist(allow_guest=True, methods=["POST"])
def webhook(**_body) -> dict:
	"""Push endpoint for every marketplace: /api/method/oms_connector.api.marketplace.webhook?channel=NAME.

	Answers 401 to an unknown channel or a bad signature, 200 once the push is stored; the
	orders it names are read from the platform in the background.
	"""
	body = frappe.request.get_data(cache=True) or b""
	return marketplace.handle_webhook(None, channel_from_query(), dict(frappe.request.headers), body, frappe.request.url)


@frappe.whitelist(methods=["POST"])
def connect(channel: str) -> str:
	"""The platform's authorization link for this channel, to open in a new tab."""
	frappe.has_permission("Sales Channel", "write", doc=channel, throw=True)
	return _as_message(marketplace.authorization_url, channel)


@frappe.whitelist(allow_guest=True, methods=["GET"])
def callback(**kwargs) -> None:
	"""Where the platform sends the seller back after granting access (code, state, shop_id).

	The channel is the one holding this state; then the browser goes to that channel's form,
	which shows whether it is connected and, if not, why.
	"""
	state = str(kwargs.get("state") or "")
	channel = marketplace.channel_for_state(state)
	if not channel:
		frappe.logger("oms_connector").warning("marketplace OAuth callback with an unknown state")
		frappe.respond_as_web_page(
			_("Connection failed"),
			_("This authorization link is not valid any more. Open the Sales Channel and click Connect again."),
			http_status_code=400,
			indicator_color="red",
		)
		return
	try:
		marketplace.complete_authorization(
			channel,
			str(kwargs.get("code") or kwargs.get("auth_code") or ""),
			state,
			shop_id=kwargs.get("shop_id"),
			main_account_id=kwargs.get("main_account_id"),
		)
	except ConnectorError:
		pass  # complete_authorization put the platform's refusal on the channel
	except (frappe.ValidationError, frappe.AuthenticationError) as exc:
		frappe.db.rollback()
		frappe.db.set_value("Sales Channel", channel, "last_error", frappe.utils.strip_html(str(exc))[:1000])
		frappe.db.commit()
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = f"/app/sales-channel/{quote(channel)}"


@frappe.whitelist(methods=["POST"])
def sync_orders_now(channel: str) -> str:
	"""Poll the channel's orders now, in the background."""
	frappe.has_permission("Sales Channel", "write", doc=channel, throw=True)
	marketplace.enqueue_poll(channel)
	return _("Order sync queued")


@frappe.whitelist(methods=["POST"])
def pull_products(channel: str) -> str:
	"""Read the channel's product list into Channel Listings, in the background."""
	frappe.has_permission("Sales Channel", "write", doc=channel, throw=True)
	frappe.has_permission("Channel Listing", "create", throw=True)
	frappe.enqueue(
		"oms_connector.erp.marketplace.pull_products_job",
		queue="long",
		job_id=f"oms-pull-products-{channel}",
		deduplicate=True,
		channel_name=channel,
		user=frappe.session.user,
	)
	return _("Product pull queued; you will get a message when it is done")


@frappe.whitelist(methods=["POST"])
def ship(channel_order: str) -> dict:
	"""Arrange shipment of the order on its platform; returns tracking number, package and label URL."""
	frappe.has_permission("Channel Order", "write", doc=channel_order, throw=True)
	return _as_message(marketplace.ship_channel_order, channel_order)


@frappe.whitelist(methods=["POST"])
def cancel(channel_order: str, reason: str = "") -> str:
	"""Cancel the order on its platform; the platform's answer then cancels it here too."""
	frappe.has_permission("Channel Order", "write", doc=channel_order, throw=True)
	frappe.has_permission("Sales Order", "cancel", throw=True)
	return _as_message(marketplace.cancel_on_platform, channel_order, reason)


@frappe.whitelist(methods=["POST"])
def fetch_settlement(channel_order: str) -> dict:
	"""Read the order's settlement from its platform and book it."""
	frappe.has_permission("Channel Order", "read", doc=channel_order, throw=True)
	frappe.has_permission("Marketplace Settlement", "write", throw=True)
	from oms_connector.erp import finance_sync

	return _as_message(finance_sync.fetch_order_settlement, channel_order)


@frappe.whitelist(methods=["POST"])
def fetch_finance_now(channel: str) -> str:
	"""Read and book the channel's settlements, adjustments and payouts, in the background."""
	frappe.has_permission("Sales Channel", "read", doc=channel, throw=True)
	frappe.has_permission("Marketplace Settlement", "write", throw=True)
	from oms_connector.erp import finance_sync

	finance_sync.enqueue_fetch(channel)
	return _("Finance fetch queued")


@frappe.whitelist(methods=["POST"])
def retry_settlement(name: str) -> str:
	"""Book a settlement or payout again once what stopped it is put right."""
	doctype = "Marketplace Settlement" if frappe.db.exists("Marketplace Settlement", name) else "Marketplace Payout"
	frappe.has_permission(doctype, "write", throw=True)
	frappe.has_permission(doctype, "write", doc=frappe.get_doc(doctype, name), throw=True)
	from oms_connector.erp import settlements

	return settlements.retry(name)


def _as_message(fn, *args):
	"""A platform refusal is news for the user, not a server error with a traceback."""
	try:
		return fn(*args)
	except ConnectorError as exc:
		frappe.throw(str(exc), title=_("The platform refused"))
