"""What the tier-3 tests do from outside: sign and post webhooks, and wait for the deployed
processes to finish, reading the database as it is committed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import frappe
import requests

from oms_connector.tests import fixtures as fx
from oms_connector.tests.deployed import stack

ORDER_WEBHOOK = "/api/method/oms_connector.api.webhooks.order"
MARKETPLACE_WEBHOOK = "/api/method/oms_connector.api.marketplace.webhook"
WEB_SECRET = "deployed-webhook-secret-4f1c"


def body_of(payload) -> bytes:
	return payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()


def sign(body: bytes, secret: str = WEB_SECRET) -> str:
	return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_order(http: requests.Session, server, channel: str, payload, signature: str | None = None, content_type="application/json"):
	"""POST a canonical order to the Custom API webhook the way a web store would."""
	body = body_of(payload)
	return http.post(
		f"{server.url}{ORDER_WEBHOOK}",
		params={"channel": channel},
		data=body,
		headers={"Content-Type": content_type, "X-OMS-Signature": signature if signature is not None else sign(body)},
		timeout=60,
	)


def marketplace_url(channel: str) -> str:
	"""The URL as the site sees it behind its Host header (what Shopee signs)."""
	return f"http://{stack.SITE}{MARKETPLACE_WEBHOOK}?{requests.compat.urlencode({'channel': channel})}"


def post_push(http: requests.Session, server, channel: str, body: bytes, headers: dict):
	return http.post(
		f"{server.url}{MARKETPLACE_WEBHOOK}",
		params={"channel": channel},
		data=body,
		headers={"Content-Type": "application/json", **headers},
		timeout=60,
	)


def fresh() -> None:
	"""Drop this connection's snapshot, so the next read sees what the deployed processes committed."""
	frappe.db.rollback()


def wait_for(what: str, check, timeout: float = 90, interval: float = 0.25):
	"""Poll check() (on fresh snapshots) until it returns something truthy; fail with `what`."""
	deadline = time.monotonic() + timeout
	last = None
	while time.monotonic() < deadline:
		fresh()
		last = check()
		if last:
			return last
		time.sleep(interval)
	raise AssertionError(f"timed out after {timeout} s waiting for {what}; last saw {last!r}")


def order_row(name: str):
	return frappe.db.get_value(
		"Channel Order", name, ["name", "status", "error", "sales_order", "needs_processing", "needs_fetch", "attempts"], as_dict=True
	)


def settled(name: str, *statuses: str, timeout: float = 90):
	"""The order once processed into one of `statuses` with nothing left to do."""

	def check():
		row = order_row(name)
		return row if row and not row.needs_processing and row.status in statuses else None

	return wait_for(f"{name} to reach {statuses}", check, timeout=timeout)


def linked(doctype: str, channel_order: str, **filters) -> list:
	return frappe.get_all(
		doctype,
		filters={"oms_channel_order": channel_order, **filters},
		fields=["name", "docstatus", "grand_total"] if doctype != "Payment Entry" else ["name", "docstatus", "paid_amount"],
	)


def web_channel(name: str, **values) -> str:
	"""A Custom API channel with its webhook secret, and stock to sell."""
	channel = fx.ensure_channel(name, webhook_secret=WEB_SECRET, **values)
	frappe.db.commit()
	return channel


def stock_up(qty: float = 500) -> None:
	basics = fx.ensure_basics()
	for item in fx.ITEMS:
		fx.set_stock(item, basics["warehouses"][0], qty)
	frappe.db.commit()


def api_session(user: str = "Administrator") -> requests.Session:
	"""A session that calls the site's API as `user` with an API key, as an integration or a
	script would (token auth: no login, no CSRF token)."""
	from frappe.core.doctype.user.user import generate_keys

	secret = generate_keys(user)["api_secret"]
	key = frappe.db.get_value("User", user, "api_key")
	frappe.db.commit()
	http = stack.session()
	http.headers["Authorization"] = f"token {key}:{secret}"
	return http
