"""Shopee, Lazada and TikTok Shop channels wired into ERPNext.

The connectors speak each platform's API and know nothing of frappe; this module gives them
their credentials from the Sales Channel, keeps the tokens fresh (and stored the moment they
change), turns webhooks and polls into stored Channel Orders through `intake`, and carries
shipments, settlements and product listings back and forth.

Tokens: Shopee's refresh token works once, so a refreshed pair is committed before anything
else happens, and only one worker at a time may refresh a channel (the Sales Channel row is
locked; whoever gets the lock second finds the token already fresh and does nothing).
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_datetime, get_system_timezone, get_url, now_datetime
from frappe.utils.password import get_decrypted_password, set_encrypted_password

from oms_connector.connectors.base import (
	AuthError,
	ChannelConfig,
	ConnectorError,
	MarketplaceConnector,
	ShipmentInfo,
	TokenSet,
	WebhookEvent,
)
from oms_connector.connectors.lazada import LazadaConnector
from oms_connector.connectors.shopee import ShopeeConnector
from oms_connector.connectors.tiktok import TikTokConnector
from oms_connector.erp import fieldnames, intake, jobs
from oms_connector.erp.timezones import to_system_time

T = TypeVar("T")

CONNECTORS: dict[str, type[MarketplaceConnector]] = {
	"Shopee": ShopeeConnector,
	"Lazada": LazadaConnector,
	"TikTok Shop": TikTokConnector,
}
# Lazada and TikTok fall back to their live hosts inside the connector; Shopee's needs one here.
DEFAULT_API_BASE = {"Shopee": "https://partner.shopeemobile.com"}

REFRESH_MARGIN = timedelta(minutes=10)  # refresh an access token with less than this left
SCHEDULED_REFRESH_MARGIN = timedelta(hours=1)  # the scheduled job refreshes earlier, off the hot path
FIRST_POLL_LOOKBACK = timedelta(days=1)
POLL_OVERLAP = timedelta(minutes=5)  # platforms index updates late; intake drops repeats anyway
DETAIL_BATCH = 50  # every platform's order-detail call takes at most 50 ids
LOST_PUSH_PAGES = 20  # Shopee pages of 100; more than this waits for the next poll
ORDER_EVENTS = ("order_status", "tracking")  # webhook events that mean "read this order again"
# The seller authorization link needs these platform_settings keys (TikTok: Partner Center's service id).
REQUIRED_SETTINGS = {"TikTok Shop": ("service_id",)}
# TokenSet.extra keys kept in platform_settings so later calls need not look them up again.
REMEMBERED_SETTINGS = ("shop_cipher",)
CALLBACK_PATH = "/api/method/oms_connector.api.marketplace.callback"
WEBHOOK_PATH = "/api/method/oms_connector.api.marketplace.webhook"
NEEDS_FETCH = "needs_fetch"  # Channel Order: a push named it; read it from the platform
FETCH_JOB = "oms_connector.erp.marketplace.fetch_pushed_orders"
FETCH_SLOT = "oms_connector:fetch_queued"
FETCH_SLOT_SECONDS = 60
FETCH_SECONDS = 240


class WebhookRejected(frappe.AuthenticationError):
	"""A webhook whose channel or signature does not check out (HTTP 401, nothing stored)."""


# --- connector and credentials -----------------------------------------------------------
def platform_settings(channel: Document | dict) -> dict:
	"""The channel's platform_settings JSON as a dict (service_id, country, push_url, ...)."""
	text = (channel.get("platform_settings") or "").strip()
	if not text:
		return {}
	try:
		settings = json.loads(text)
	except ValueError:
		frappe.throw(_("Platform Settings of Sales Channel {0} is not valid JSON").format(channel.get("name")))
	if not isinstance(settings, dict):
		frappe.throw(_("Platform Settings of Sales Channel {0} must be a JSON object").format(channel.get("name")))
	return settings


def get_connector(channel: Document | str, http=None) -> MarketplaceConnector:
	"""The platform connector for one Sales Channel, with its credentials and current tokens."""
	if isinstance(channel, str):
		channel = frappe.get_doc("Sales Channel", channel)
	connector_class = CONNECTORS.get(channel.platform)
	if connector_class is None:
		frappe.throw(_("Sales Channel {0} is not a marketplace channel ({1})").format(channel.name, channel.platform))
	extra = platform_settings(channel)
	extra.setdefault("currency", channel.currency or "VND")
	config = ChannelConfig(
		base_url=channel.api_base_url or DEFAULT_API_BASE.get(channel.platform, ""),
		auth_base_url=channel.auth_base_url or "",
		app_key=channel.app_key or "",
		app_secret=channel.get_password("app_secret", raise_exception=False) or "",
		shop_id=channel.shop_id or "",
		access_token=channel.get_password("access_token", raise_exception=False) or "",
		refresh_token=channel.get_password("refresh_token", raise_exception=False) or "",
		extra=extra,
	)
	return connector_class(config, http=http) if http else connector_class(config)


def ensure_fresh_token(
	channel_name: str, margin: timedelta = REFRESH_MARGIN, rejected_token: str | None = None
) -> bool:
	"""Refresh the channel's access token if it expires within `margin` (or if the platform
	just refused `rejected_token` and no other worker has replaced it yet). Returns True when
	this call refreshed.

	Commits: before taking the row lock (so what is read after the lock is what other workers
	committed), and right after storing the new tokens. On AuthError the channel is marked
	Needs Reconnection and the error re-raised.
	"""
	if rejected_token is None and not _expiring(
		frappe.db.get_value("Sales Channel", channel_name, "access_token_expires_at"), margin
	):
		return False

	frappe.db.commit()
	row = frappe.db.get_value(
		"Sales Channel", channel_name, ["name", "access_token_expires_at"], as_dict=True, for_update=True
	)
	if not row:
		frappe.throw(_("Sales Channel {0} does not exist").format(channel_name), frappe.DoesNotExistError)
	if rejected_token is not None:
		current = get_decrypted_password("Sales Channel", channel_name, "access_token", raise_exception=False)
		stale = current == rejected_token
	else:
		stale = _expiring(row.access_token_expires_at, margin)
	if not stale:
		frappe.db.commit()  # another worker refreshed while we waited: release the lock
		return False

	connector = get_connector(channel_name)
	try:
		tokens = connector.refresh_tokens()
	except AuthError as exc:
		mark_needs_reconnection(channel_name, exc)
		raise
	except Exception:
		frappe.db.rollback()  # nothing was written; just let go of the lock
		raise
	store_tokens(channel_name, tokens)
	frappe.db.commit()  # a Shopee refresh token is single-use: the new one must never be lost
	return True


def store_tokens(channel_name: str, tokens: TokenSet, take_shop_id: bool = False) -> None:
	"""Write a TokenSet into the channel's Password and expiry fields and mark it Connected.

	The Password columns get a mask of the token's length, as a form save would leave them:
	an empty column would make the next save of the form delete the stored token.
	"""
	current = frappe.db.get_value(
		"Sales Channel", channel_name, ["name", "shop_id", "platform_settings"], as_dict=True
	)
	values: dict = {
		"access_token_expires_at": _system_time(tokens.access_expires_at),
		"refresh_token_expires_at": _system_time(tokens.refresh_expires_at),
		"connection_status": "Connected",
		"last_error": "",
	}
	for fieldname, secret in (("access_token", tokens.access_token), ("refresh_token", tokens.refresh_token)):
		if secret:  # TikTok may answer a refresh without a new refresh token: keep the old one
			set_encrypted_password("Sales Channel", channel_name, secret, fieldname)
			values[fieldname] = "*" * len(secret)
	shop_id = tokens.shop_id or _single_shop(tokens)
	if shop_id and (take_shop_id or not current.shop_id):
		values["shop_id"] = shop_id
	settings = platform_settings(current)
	remembered = {key: tokens.extra[key] for key in REMEMBERED_SETTINGS if tokens.extra.get(key)}
	if any(settings.get(key) != value for key, value in remembered.items()):
		values["platform_settings"] = json.dumps({**settings, **remembered}, indent=1, ensure_ascii=False)
	# modified is updated on purpose: a form opened before this must not be saved over it
	frappe.db.set_value("Sales Channel", channel_name, values)


def mark_needs_reconnection(channel_name: str, error: Exception | str) -> None:
	"""Show on the form that the seller must connect the shop again, and why. Commits."""
	message = f"{error}".strip() or error.__class__.__name__
	frappe.db.set_value(
		"Sales Channel",
		channel_name,
		{"connection_status": "Needs Reconnection", "last_error": _("{0} (connect the shop again)").format(message)[:1000]},
	)
	frappe.db.commit()
	frappe.logger("oms_connector").warning(f"Sales Channel {channel_name} needs reconnection: {message}")


def call_platform(channel_name: str, fn: Callable[[MarketplaceConnector], T], http=None) -> T:
	"""Run fn(connector) with a fresh token.

	When the platform refuses the token anyway (revoked early, clock skew), the token is
	refreshed once and fn tried again: a refused call did nothing on the platform, so the retry
	is safe. When that fails too, the channel is marked Needs Reconnection and AuthError raised.
	"""
	ensure_fresh_token(channel_name)
	connector = get_connector(channel_name, http=http)
	try:
		result = fn(connector)
	except AuthError as exc:
		if not connector.config.refresh_token:
			mark_needs_reconnection(channel_name, exc)
			raise
		ensure_fresh_token(channel_name, rejected_token=connector.config.access_token)
		connector = get_connector(channel_name, http=http)
		try:
			result = fn(connector)
		except AuthError as again:
			mark_needs_reconnection(channel_name, again)
			raise
	_remember_settings(channel_name, connector)
	return result


def _remember_settings(channel_name: str, connector: MarketplaceConnector) -> None:
	"""Keep what the connector looked up on its own (TikTok's shop_cipher) for the next job."""
	found = {key: connector.config.extra[key] for key in REMEMBERED_SETTINGS if connector.config.extra.get(key)}
	if not found:
		return
	settings = platform_settings(frappe.db.get_value("Sales Channel", channel_name, ["name", "platform_settings"], as_dict=True))
	if all(settings.get(key) == value for key, value in found.items()):
		return
	frappe.db.set_value(
		"Sales Channel",
		channel_name,
		"platform_settings",
		json.dumps({**settings, **found}, indent=1, ensure_ascii=False),
		update_modified=False,
	)


def refresh_expiring_tokens() -> None:
	"""Scheduled: refresh every connected marketplace channel's token an hour before it expires,
	so polls, webhooks and stock pushes rarely have to wait for a refresh."""
	for name in _connected_channels():
		try:
			ensure_fresh_token(name, margin=SCHEDULED_REFRESH_MARGIN)
		except ConnectorError:
			# AuthError already marked the channel; anything else is tried again next run
			frappe.db.rollback()
			frappe.log_error(title=f"OMS: token refresh of {name} failed", reference_doctype="Sales Channel", reference_name=name)


# --- orders in: polling ------------------------------------------------------------------
def poll_all_channels() -> None:
	"""Scheduled: one deduplicated background poll per enabled, connected marketplace channel."""
	for name in _connected_channels():
		enqueue_poll(name)


def enqueue_poll(channel_name: str) -> None:
	frappe.enqueue(
		"oms_connector.erp.marketplace.poll_orders",
		queue="long",
		job_id=f"oms-poll-orders-{channel_name}",
		deduplicate=True,
		channel_name=channel_name,
	)


@jobs.as_job_user
def poll_orders(channel_name: str) -> dict:
	"""Store every order the platform changed since the last poll (a day back the first time),
	then move last_order_poll forward. Each order is committed as it is stored and processed by
	its own job; last_order_poll only moves once all of them are stored, so a failed poll is
	repeated over the same window. Shopee's undelivered pushes are read and confirmed too."""
	row = frappe.db.get_value("Sales Channel", channel_name, ["name", "platform", "last_order_poll"], as_dict=True)
	if not row or row.platform not in CONNECTORS:
		frappe.throw(_("Sales Channel {0} is not a marketplace channel").format(channel_name))
	until = now_datetime()
	since = get_datetime(row.last_order_poll) - POLL_OVERLAP if row.last_order_poll else until - FIRST_POLL_LOOKBACK
	stored: list[str] = []

	def store_updated_orders(connector: MarketplaceConnector) -> None:
		stored.clear()  # a retry after a token refresh starts over; intake drops the repeats
		order_ids = list(connector.list_updated_orders(_aware(since), _aware(until)))
		for batch in _chunks(order_ids, DETAIL_BATCH):
			for raw in connector.get_order_details(batch):
				stored.append(intake.receive_order(channel_name, raw, source="Poll", process="enqueue"))

	try:
		call_platform(channel_name, store_updated_orders)
		from_lost_pushes = _consume_lost_pushes(channel_name) if row.platform == "Shopee" else 0
	except AuthError:
		raise  # already shown on the channel as Needs Reconnection
	except ConnectorError as exc:
		_note_error(channel_name, exc)
		raise
	values = {"last_order_poll": until}
	if frappe.db.get_value("Sales Channel", channel_name, "connection_status") == "Connected":
		values["last_error"] = ""
	frappe.db.set_value("Sales Channel", channel_name, values, update_modified=False)
	frappe.db.commit()
	return {"orders": len(stored), "lost_pushes": from_lost_pushes}


def _consume_lost_pushes(channel_name: str) -> int:
	"""Shopee keeps pushes it could not deliver for 3 days, for the whole partner app (every shop):
	fetch the orders they name through the channel of their shop, then confirm them."""
	channel = _channel_row(channel_name)
	connector = get_connector(channel_name)  # partner-level calls: no shop token involved
	stored = 0
	for _page in range(LOST_PUSH_PAGES):
		batch = connector.get_lost_push_messages()
		for target, order_ids in _orders_by_channel(channel, batch.events).items():
			if _is_connected(target):
				stored += len(fetch_and_receive(target, order_ids, "Lost Push"))
		if batch.last_message_id:
			connector.confirm_lost_push(batch.last_message_id)
			frappe.db.commit()
		if not batch.has_next_page:
			break
	return stored


# --- orders in: webhooks -----------------------------------------------------------------
def handle_webhook(platform: str | None, channel_name: str, headers, body: bytes, url: str) -> dict:
	"""Verify a platform push against the channel's secret before anything else, then store it:
	each order it names is marked to be read from the platform by a background job (pushes carry
	only ids and a status). Nothing here calls the platform, so the push is answered at once.

	Raises WebhookRejected (HTTP 401, one log line, nothing stored) for an unknown or disabled
	channel or a bad signature.
	"""
	channel = _channel_row(channel_name)
	if not channel or not channel.enabled or channel.platform not in CONNECTORS or (platform and channel.platform != platform):
		_reject(channel_name, "unknown or disabled marketplace channel")
	if isinstance(body, str):
		body = body.encode()
	connector = get_connector(channel.name)
	if not any(connector.verify_webhook(headers or {}, body or b"", candidate) for candidate in _signed_urls(channel, url)):
		_reject(channel_name, "bad signature")
	try:
		events = connector.parse_webhook(body)
	except ConnectorError as exc:
		frappe.logger("oms_connector").warning(f"webhook for {channel_name!r} ignored: {exc}")
		return {"channel_orders": [], "ignored": str(exc)}
	names = []
	for target, order_ids in _orders_by_channel(channel, events).items():
		names += [mark_for_fetch(target, order_id, body.decode("utf-8", errors="replace")) for order_id in order_ids]
	frappe.db.commit()
	if names:
		request_fetch()
	return {"channel_orders": names}


def mark_for_fetch(channel_name: str, order_id: str, push_text: str) -> str:
	"""Keep the push on its Channel Order (made now if new) and mark the order to be read from
	the platform. Returns the Channel Order name."""

	def store() -> str:
		name = intake.store_payload(channel_name, order_id, push_text, intake.PUSH_SOURCE, queue=False)
		frappe.db.sql(f"update `tabChannel Order` set `{NEEDS_FETCH}`=1 where name=%s", name)
		return name

	return intake.with_transient_retry(store)


def request_fetch(force: bool = False) -> None:
	"""Make sure a job reading pushed orders waits in the queue (`force`: as request_drain)."""
	if jobs.claim_queue_slot(FETCH_SLOT, FETCH_SLOT_SECONDS) or force:
		jobs.enqueue_safely(FETCH_JOB, queue="short", timeout=FETCH_SECONDS + 120)  # intake, with the drain


@jobs.as_job_user
def fetch_pushed_orders() -> int:
	"""Read from the platforms every order a push named, channel by channel, 50 ids a call.

	Each batch is unmarked before it is read (a push arriving meanwhile marks it again); a batch
	the platform could not serve just now (429, 5xx, timeout) is marked again with the reason on
	the order and read on the next run; the sweeper queues that run."""
	jobs.release_queue_slot(FETCH_SLOT)
	deadline = time.monotonic() + FETCH_SECONDS
	fetched, given_up, refused = 0, set(), set()
	while time.monotonic() < deadline:
		waiting = _orders_to_fetch(exclude_channels=given_up, exclude_orders=refused)
		if not waiting:
			return fetched
		for channel_name, order_ids in waiting.items():
			if not _fetch_batch(channel_name, order_ids, refused):
				given_up.add(channel_name)
			else:
				fetched += len(order_ids)
	request_fetch()
	return fetched


def _orders_to_fetch(exclude_channels: set[str], exclude_orders: set[str]) -> dict[str, list[str]]:
	rows = frappe.get_all(
		"Channel Order",
		filters={
			NEEDS_FETCH: 1,
			"sales_channel": ("not in", list(exclude_channels) or [""]),
			"name": ("not in", list(exclude_orders) or [""]),
		},
		fields=["sales_channel", "external_order_id"],
		order_by="modified asc",
		limit=DETAIL_BATCH * 4,
	)
	waiting: dict[str, list[str]] = {}
	for row in rows:
		ids = waiting.setdefault(row.sales_channel, [])
		if len(ids) < DETAIL_BATCH:
			ids.append(row.external_order_id)
	return waiting


def _fetch_batch(channel_name: str, order_ids: list[str], refused: set[str]) -> bool:
	"""False when the channel can't be read now (the orders stay marked). An order the platform
	refuses (say, one it doesn't know) is kept marked with the reason and added to `refused`;
	the batch's other orders are read one by one, so it holds none of them up."""
	names = [intake.channel_order_name(channel_name, order_id) for order_id in order_ids]
	if not _is_connected(channel_name):
		return False  # no usable token; the first poll after reconnecting catches up
	_set_fetch_flag(names, 0)
	try:
		fetch_and_receive(channel_name, order_ids, "Webhook")
	except ConnectorError as exc:
		frappe.db.rollback()
		passing = exc.retryable or isinstance(exc, AuthError)
		if not passing and len(order_ids) > 1:
			return all([_fetch_batch(channel_name, [order_id], refused) for order_id in order_ids])
		_set_fetch_flag(names, 1, error=_("Reading the order from the platform failed, retried shortly: {0}").format(exc))
		if passing:
			return False
		frappe.log_error(title=f"OMS: reading pushed order {names[0]} failed", reference_doctype="Channel Order", reference_name=names[0])
		refused.update(names)
	return True


def _set_fetch_flag(names: list[str], value: int, error: str | None = None) -> None:
	values = {NEEDS_FETCH: value}
	if error:
		values["error"] = error[:1000]
	for name in names:
		frappe.db.set_value("Channel Order", name, values, update_modified=bool(value))
	frappe.db.commit()


def _is_connected(channel_name: str) -> bool:
	return frappe.db.get_value("Sales Channel", channel_name, "connection_status") == "Connected"


def _signed_urls(channel: frappe._dict, url: str) -> list[str]:
	"""The URLs a push may have been signed for (only Shopee signs one). Shopee signs the callback
	URL as registered; behind a proxy that ends TLS the request looks like http://, so the https
	form is tried too. platform_settings "push_url" names the registered URL outright."""
	registered = platform_settings(channel).get("push_url")
	if registered:
		return [registered]
	if url.startswith("http://"):
		return [url, "https://" + url[len("http://") :]]
	return [url]


def _reject(channel_name: str, why: str):
	frappe.logger("oms_connector").warning(f"marketplace webhook for {channel_name!r} rejected: {why}")
	if getattr(frappe.local, "response", None) is not None:
		frappe.local.response["http_status_code"] = 401
	raise WebhookRejected(why)


def _orders_by_channel(channel: frappe._dict, events: Iterable[WebhookEvent]) -> dict[str, list[str]]:
	"""The order ids order events name, grouped by the channel of their shop."""
	wanted: dict[str, list[str]] = {}
	for event in events:
		if event.kind not in ORDER_EVENTS or not event.order_id:
			continue
		target = _channel_for_shop(channel, _event_shop_id(event))
		if not target:
			frappe.logger("oms_connector").info(
				f"{channel.platform} event for shop {_event_shop_id(event)} has no Sales Channel; order {event.order_id} skipped"
			)
			continue
		ids = wanted.setdefault(target, [])
		if event.order_id not in ids:
			ids.append(event.order_id)
	return wanted


def fetch_and_receive(channel_name: str, order_ids: list[str], source: str) -> list[str]:
	"""Read these orders from the platform and store each as a Channel Order event (processing
	is left to the drain). Returns the Channel Order names.

	A Shopee order is read with its escrow detail, anew each time (its figures are estimates
	until the order completes, so a changed escrow is a new event). An escrow Shopee cannot serve
	just now fails the whole read, as a detail would: nothing is stored without what the buyer
	paid, and the orders are read again (pushed ones stay marked, a poll repeats its window)."""

	def details(connector: MarketplaceConnector) -> list[dict]:
		return [raw for batch in _chunks(order_ids, DETAIL_BATCH) for raw in connector.get_order_details(batch)]

	raws = call_platform(channel_name, details)
	return [intake.receive_order(channel_name, raw, source=source, process="enqueue") for raw in raws]


def _event_shop_id(event: WebhookEvent) -> str:
	data = event.data or {}
	return str(data.get("shop_id") or data.get("seller_id") or "")


def _channel_for_shop(channel: frappe._dict, shop_id: str) -> str | None:
	"""Pushes are per app, not per shop: one for another shop of the same app goes to its channel."""
	if not shop_id or not channel.shop_id or shop_id == str(channel.shop_id):
		return channel.name
	return frappe.db.get_value(
		"Sales Channel",
		{"platform": channel.platform, "app_key": channel.app_key, "shop_id": shop_id, "enabled": 1},
		"name",
	)


# --- authorization -----------------------------------------------------------------------
def callback_url() -> str:
	return get_url(CALLBACK_PATH)


def webhook_url(channel_name: str) -> str:
	return get_url(f"{WEBHOOK_PATH}?channel={quote(channel_name)}")


def authorization_url(channel_name: str, redirect_uri: str | None = None) -> str:
	"""The link where the seller grants this app access to the shop. A random state is kept on
	the channel; the callback must bring it back."""
	channel = frappe.get_doc("Sales Channel", channel_name)
	credentials = {"App Key": channel.app_key, "App Secret": channel.get_password("app_secret", raise_exception=False)}
	missing = [label for label, value in credentials.items() if not value]
	settings = platform_settings(channel)
	missing += [f"{key} (Platform Settings)" for key in REQUIRED_SETTINGS.get(channel.platform, ()) if not settings.get(key)]
	if missing:
		frappe.throw(_("Fill in {0} before connecting").format(", ".join(missing)))
	connector = get_connector(channel)
	state = secrets.token_urlsafe(24)
	frappe.db.set_value("Sales Channel", channel_name, "auth_state", state)
	frappe.db.commit()
	redirect = redirect_uri or platform_settings(channel).get("redirect_uri") or callback_url()
	return connector.authorization_url(redirect, state)


def channel_for_state(state: str | None) -> str | None:
	"""The channel waiting for this OAuth state (an empty state matches nothing)."""
	if not state or len(state) < 16:
		return None
	return frappe.db.get_value("Sales Channel", {"auth_state": state}, "name")


def complete_authorization(channel_name: str, code: str, state: str, **params) -> TokenSet:
	"""The platform redirected back: check the state, trade the code for tokens and store them.

	params: shop_id / main_account_id as Shopee's redirect gives them. Commits. On failure the
	reason is shown on the channel and the error raised.
	"""
	stored = frappe.db.get_value("Sales Channel", channel_name, "auth_state", for_update=True) or ""
	if not stored or not state or not hmac.compare_digest(stored.encode(), str(state).encode()):
		frappe.throw(_("This authorization link is not valid any more; click Connect again"), frappe.AuthenticationError)
	if not code:
		frappe.throw(_("The platform did not send an authorization code"))
	connector = get_connector(channel_name)
	extra = {key: str(params[key]) for key in ("shop_id", "main_account_id") if params.get(key)}
	try:
		tokens = connector.exchange_code(code, **extra)
	except ConnectorError as exc:
		frappe.db.set_value("Sales Channel", channel_name, "auth_state", "")
		mark_needs_reconnection(channel_name, exc)
		raise
	store_tokens(channel_name, tokens, take_shop_id=True)
	frappe.db.set_value("Sales Channel", channel_name, "auth_state", "")  # a state works once
	frappe.db.commit()
	return tokens


# --- fulfilment, money, products ---------------------------------------------------------
def ship_channel_order(channel_order_name: str, **params) -> dict:
	"""Arrange shipment on the platform, then put the tracking number and package id on the
	order's Delivery Note(s), or on the Channel Order while it has none. Commits (the platform
	has shipped; its answer must be kept)."""
	order = frappe.db.get_value(
		"Channel Order", channel_order_name, ["name", "sales_channel", "external_order_id"], as_dict=True
	)
	if not order:
		frappe.throw(_("Channel Order {0} does not exist").format(channel_order_name), frappe.DoesNotExistError)
	shipment = call_platform(order.sales_channel, lambda connector: connector.ship_order(order.external_order_id, **params))
	written_to = _record_shipment(order.name, shipment)
	frappe.db.commit()
	return {**dataclasses.asdict(shipment), "written_to": written_to}


def cancel_on_platform(channel_order_name: str, reason: str = "") -> str:
	"""The seller cancels: tell the platform, then read the order back so the intake applies the
	platform's own answer (the Sales Order is cancelled, or a return started if goods had left)."""
	order = frappe.db.get_value(
		"Channel Order", channel_order_name, ["name", "sales_channel", "external_order_id"], as_dict=True
	)
	if not order:
		frappe.throw(_("Channel Order {0} does not exist").format(channel_order_name), frappe.DoesNotExistError)
	call_platform(order.sales_channel, lambda connector: connector.cancel_order(order.external_order_id, reason))
	fetch_and_receive(order.sales_channel, [order.external_order_id], "Desk")
	intake.process_order(order.name)
	frappe.db.commit()
	return frappe.db.get_value("Channel Order", order.name, "status")


def _record_shipment(channel_order_name: str, shipment: ShipmentInfo) -> list[str]:
	notes = frappe.get_all(
		"Delivery Note",
		filters={fieldnames.CHANNEL_ORDER: channel_order_name, "docstatus": ("<", 2), "is_return": 0},
		fields=["name", fieldnames.PACKAGE_ID, fieldnames.TRACKING_NUMBER],
		order_by="creation asc",
	)
	targets = [dn for dn in notes if shipment.package_id and dn.oms_package_id == shipment.package_id]
	if not targets:
		targets = [dn for dn in notes if not dn.oms_tracking_number] or (notes if len(notes) == 1 else [])
	for dn in targets:
		values = {}
		if shipment.tracking_number:
			values.update(oms_tracking_number=shipment.tracking_number, lr_no=shipment.tracking_number)
		if shipment.package_id and not dn.oms_package_id:
			values[fieldnames.PACKAGE_ID] = shipment.package_id
		if values:
			# tracking data only: set on submitted notes without re-validating them
			frappe.db.set_value("Delivery Note", dn.name, values)
	if targets:
		return [dn.name for dn in targets]
	if shipment.tracking_number:
		frappe.db.set_value("Channel Order", channel_order_name, "tracking_number", shipment.tracking_number)
		return [channel_order_name]
	return []


def pull_products(channel_name: str) -> dict:
	"""Create a Channel Listing for every product variant on the platform, matched to an Item
	whose code or barcode is the SKU. Existing listings keep their item (it may have been set
	by hand); only a missing item or a changed title is filled in. Returns counts."""
	listings = call_platform(channel_name, lambda connector: list(connector.list_products()))
	existing = {
		(row.listing_id or "", row.variant_id or "", row.sku or ""): row
		for row in frappe.get_all(
			"Channel Listing",
			filters={"sales_channel": channel_name},
			fields=["name", "listing_id", "variant_id", "sku", "item_code", "title"],
		)
	}
	items_by_sku = _items_for_skus({listing.sku.strip() for listing in listings if listing.sku.strip()})
	counts = {"created": 0, "updated": 0, "matched": 0, "unmatched": 0}
	seen: set[tuple[str, str, str]] = set()
	for listing in listings:
		key = (listing.listing_id.strip(), listing.variant_id.strip(), listing.sku.strip())
		if key in seen or not any(key):
			continue
		seen.add(key)
		row = existing.get(key)
		item_code = (row.item_code if row else None) or items_by_sku.get(key[2])
		if row is None:
			frappe.get_doc(
				{
					"doctype": "Channel Listing",
					"sales_channel": channel_name,
					"listing_id": key[0],
					"variant_id": key[1],
					"sku": key[2],
					"title": listing.title[:140],
					"item_code": item_code,
				}
			).insert(ignore_permissions=True)
			counts["created"] += 1
		else:
			changes = {}
			if listing.title and listing.title[:140] != (row.title or ""):
				changes["title"] = listing.title[:140]
			if item_code and not row.item_code:
				changes["item_code"] = item_code
			if changes:
				doc = frappe.get_doc("Channel Listing", row.name)
				doc.update(changes)
				doc.save(ignore_permissions=True)  # on_update re-queues held orders of a newly mapped SKU
				counts["updated"] += 1
		counts["matched" if item_code else "unmatched"] += 1
	frappe.db.commit()
	return counts


@jobs.as_job_user
def pull_products_job(channel_name: str, user: str | None = None) -> dict:
	"""pull_products in the background, telling the user who asked how it went."""
	counts = pull_products(channel_name)
	if user:
		frappe.publish_realtime(
			"msgprint",
			_("{0}: {1} listings created, {2} updated, {3} matched to an Item, {4} without one").format(
				channel_name, counts["created"], counts["updated"], counts["matched"], counts["unmatched"]
			),
			user=user,
		)
	return counts


def _items_for_skus(skus: set[str]) -> dict[str, str]:
	"""SKU -> enabled Item whose code is the SKU, else whose barcode is."""
	if not skus:
		return {}
	found = {
		name: name for name in frappe.get_all("Item", filters={"name": ("in", list(skus)), "disabled": 0}, pluck="name")
	}
	for row in frappe.get_all("Item Barcode", filters={"barcode": ("in", list(skus - set(found)))}, fields=["barcode", "parent"]):
		found.setdefault(row.barcode, row.parent)
	return {sku: found[sku] for sku in skus if sku in found}


# --- helpers -----------------------------------------------------------------------------
def _connected_channels() -> list[str]:
	return frappe.get_all(
		"Sales Channel",
		filters={"enabled": 1, "platform": ("in", list(CONNECTORS)), "connection_status": "Connected"},
		pluck="name",
	)


def _channel_row(channel_name: str) -> frappe._dict | None:
	return frappe.db.get_value(
		"Sales Channel",
		channel_name,
		["name", "platform", "enabled", "app_key", "shop_id", "connection_status", "platform_settings"],
		as_dict=True,
	)


def _note_error(channel_name: str, error: Exception) -> None:
	"""Show a platform failure on the channel form without changing its connection status."""
	frappe.db.rollback()
	frappe.db.set_value("Sales Channel", channel_name, "last_error", f"{error}"[:1000], update_modified=False)
	frappe.db.commit()


def _expiring(expires_at, margin: timedelta) -> bool:
	"""True when a known expiry is within margin. Unknown expiry: wait for the platform to refuse."""
	return bool(expires_at) and get_datetime(expires_at) - now_datetime() < margin


def _system_tz() -> ZoneInfo:
	return ZoneInfo(get_system_timezone())


def _system_time(value: datetime | None) -> datetime | None:
	"""A connector's datetime (aware, or naive UTC) as the naive system-time Frappe stores."""
	return to_system_time(value, naive_is_utc=True)


def _aware(value: datetime) -> datetime:
	"""A naive system-time datetime as an aware one (connectors read naive values as UTC)."""
	return get_datetime(value).replace(tzinfo=_system_tz())


def _single_shop(tokens: TokenSet) -> str:
	shops = tokens.extra.get("shop_id_list") or []
	return str(shops[0]) if len(shops) == 1 else ""


def _chunks(values: list, size: int) -> Iterable[list]:
	for start in range(0, len(values), size):
		yield values[start : start + size]
