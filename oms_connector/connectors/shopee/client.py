"""Shopee Open Platform API v2 client: request signing, tokens, paging, push messages.

Signing (developer guide "Authorization and Authentication" / "API calls"): the sign is the
lowercase hex HMAC-SHA256, keyed with the partner key, of the base string
    public APIs:  partner_id + api_path + timestamp
    shop APIs:    partner_id + api_path + timestamp + access_token + shop_id
The timestamp is unix seconds and is only accepted within 5 minutes. Common parameters always go
in the query string; GET request parameters too, POST request parameters in a JSON body.

Every answer is JSON with "error" ("" on success), "message" and "request_id". Tokens: an
access_token lives 4 hours; a refresh_token 30 days and can be used ONCE, so the TokenSet that
refresh_tokens() returns must be stored before anything else happens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ...domain.order import ChannelOrder
from ...domain.settlement import FinancePeriod, OrderSettlement, SettlementError
from ..base import (
	AuthError,
	ChannelConfig,
	ConnectorError,
	ListingInfo,
	MarketplaceConnector,
	PushResult,
	RateLimited,
	RetryableError,
	ShipmentInfo,
	StockUpdate,
	TokenSet,
	WebhookEvent,
)
from .finance import escrows_of_batch, read_wallet, settlement_from_escrow, transaction_key, wallet_page
from .mapper import order_from_payload, shopee_payload

AUTH_PARTNER = "/api/v2/shop/auth_partner"
TOKEN_GET = "/api/v2/auth/token/get"
ACCESS_TOKEN_GET = "/api/v2/auth/access_token/get"
GET_ORDER_LIST = "/api/v2/order/get_order_list"
GET_ORDER_DETAIL = "/api/v2/order/get_order_detail"
CANCEL_ORDER = "/api/v2/order/cancel_order"
GET_SHIPPING_PARAMETER = "/api/v2/logistics/get_shipping_parameter"
SHIP_ORDER = "/api/v2/logistics/ship_order"
GET_TRACKING_NUMBER = "/api/v2/logistics/get_tracking_number"
GET_ESCROW_DETAIL = "/api/v2/payment/get_escrow_detail"
GET_ESCROW_DETAIL_BATCH = "/api/v2/payment/get_escrow_detail_batch"
GET_WALLET_TRANSACTION_LIST = "/api/v2/payment/get_wallet_transaction_list"
GET_ITEM_LIST = "/api/v2/product/get_item_list"
GET_ITEM_BASE_INFO = "/api/v2/product/get_item_base_info"
GET_MODEL_LIST = "/api/v2/product/get_model_list"
UPDATE_STOCK = "/api/v2/product/update_stock"
GET_LOST_PUSH = "/api/v2/push/get_lost_push_message"
CONFIRM_LOST_PUSH = "/api/v2/push/confirm_consumed_lost_push_message"

ORDER_LIST_WINDOW = timedelta(days=15)  # get_order_list: time_to - time_from at most 15 days
ORDER_LIST_PAGE_SIZE = 100  # get_order_list: page_size 1..100
DETAIL_BATCH = 50  # get_order_detail: order_sn_list 1..50
ITEM_PAGE_SIZE = 100  # get_item_list: page_size max 100
ITEM_INFO_BATCH = 50  # get_item_base_info: item_id_list up to 50
STOCK_BATCH = 50  # update_stock: stock_list 1..50, one item per call
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
WALLET_WINDOW = timedelta(days=15)  # get_wallet_transaction_list: create_time_from..to at most 15 days
WALLET_PAGE_SIZE = 100  # get_wallet_transaction_list: page_size <= 100
ESCROW_BATCH = 20  # get_escrow_detail_batch: order_sn_list limit [1,50], Shopee recommends 1-20
# get_escrow_detail's answers for an order that has no escrow yet ("data not exist", "income not found").
NO_ESCROW_CODES = {"error_data", "common.error_not_found", "income_not_found"}

# Fields get_order_detail only returns when asked; the mapper needs most of them.
DETAIL_FIELDS = (
	"buyer_user_id,buyer_username,estimated_shipping_fee,recipient_address,actual_shipping_fee,"
	"note,item_list,pay_time,cancel_by,cancel_reason,buyer_cancel_reason,package_list,"
	"shipping_carrier,payment_method,total_amount,fulfillment_flag,pickup_done_time"
)

# "error" codes that mean the token (or the shop's authorization) is no good. Shopee documents
# error_auth ("Invalid access_token." / "No permission to current api."); live answers are also
# known to say invalid_access_token and, misspelt, invalid_acceess_token.
AUTH_CODES = {
	"error_auth",
	"invalid_access_token",
	"invalid_acceess_token",
	"error_access_token",
	"error_token",
	"invalid_code",
	"invalid_shop_id",
	"error_shop_refresh_token",
	"error_merchant_refresh_token",
	"refresh_token_expired",
	"shop_access_expired",
	"shop_no_linked",
	"shop_banned",
}
# Documented "try again later" answers; busy/too-many ones are throttling.
BUSY_CODES = {"error_busy", "error_system_busy", "error_rate_limit", "error_too_many_request"}
RETRY_CODES = {"error_server", "error_inner", "error_network", "error_other", "error_core_server"}
CANCEL_REASONS = ("OUT_OF_STOCK", "UNDELIVERABLE_AREA")


def base_string(partner_id, api_path: str, timestamp, access_token: str = "", shop_id="") -> str:
	"""The documented sign base string; access_token and shop_id only for shop-level APIs."""
	return f"{partner_id}{api_path}{timestamp}{access_token or ''}{shop_id or ''}"


def sign(partner_key: str, partner_id, api_path: str, timestamp, access_token: str = "", shop_id="") -> str:
	"""HMAC-SHA256 of the base string keyed with the partner key, as lowercase hex."""
	message = base_string(partner_id, api_path, timestamp, access_token, shop_id).encode()
	return hmac.new(partner_key.encode(), message, hashlib.sha256).hexdigest()


def classify_error(code: str, message: str, status: int | None = None) -> ConnectorError:
	"""The exception for a Shopee "error" code: auth, throttling, transient or final."""
	text = f"Shopee {code}: {message}".strip()
	short = code.rsplit(".", 1)[-1]  # "common.error_auth" -> "error_auth"
	lowered = f"{code} {message}".lower()
	if short in AUTH_CODES:
		return AuthError(text, code=code, status=status)
	if short in BUSY_CODES or "rate_limit" in code or "too many request" in lowered:
		return RateLimited(text, code=code, status=status)
	if short in RETRY_CODES:
		return RetryableError(text, code=code, status=status)
	return ConnectorError(text, code=code, status=status)


REFUSED = "_refused"  # escrow_details: why Shopee would not serve an order's escrow


@dataclass
class LostPushBatch:
	"""One page of v2.push.get_lost_push_message; confirm last_message_id once handled."""

	events: list[WebhookEvent] = field(default_factory=list)
	last_message_id: int | None = None
	has_next_page: bool = False


TRACKED_STATUSES = ("PROCESSED", "RETRY_SHIP", "SHIPPED", "TO_CONFIRM_RECEIVE", "COMPLETED", "TO_RETURN")


class ShopeeConnector(MarketplaceConnector):
	"""One Shopee shop. config.app_key is the partner_id, config.app_secret the partner key."""

	platform = "Shopee"
	stock_batch_limit = STOCK_BATCH

	def __init__(self, config: ChannelConfig, http=None, clock=time.time):
		super().__init__(config, http)
		self.clock = clock  # injectable so tests can send stale timestamps

	# --- plumbing ------------------------------------------------------------------------
	@property
	def partner_id(self) -> int:
		try:
			return int(self.config.app_key)
		except (TypeError, ValueError):
			raise ConnectorError(f"Shopee partner_id must be a number, got {self.config.app_key!r}") from None

	@property
	def shop_id(self) -> int:
		try:
			return int(self.config.shop_id)
		except (TypeError, ValueError):
			raise ConnectorError(f"Shopee shop_id must be a number, got {self.config.shop_id!r}") from None

	def _url(self, path: str, base: str = "") -> str:
		return (base or self.config.base_url).rstrip("/") + path

	def _call(self, method: str, path: str, params: dict | None = None, body: dict | None = None, public: bool = False) -> dict:
		"""One signed call, retried as a whole (fresh timestamp and sign) on retryable errors."""

		def attempt() -> dict:
			timestamp = int(self.clock())
			query: dict = {"partner_id": self.partner_id, "timestamp": timestamp}
			if public:
				query["sign"] = sign(self.config.app_secret, self.partner_id, path, timestamp)
			else:
				if not self.config.access_token:
					raise AuthError("Shopee shop is not connected: no access token", code="no_token")
				query["access_token"] = self.config.access_token
				query["shop_id"] = self.shop_id
				query["sign"] = sign(
					self.config.app_secret, self.partner_id, path, timestamp, self.config.access_token, self.shop_id
				)
			if params:
				query.update({key: value for key, value in params.items() if value is not None})
			kwargs = {"params": query}
			if method == "POST":
				kwargs["json"] = body or {}
			response = self.http.send(method, self._url(path), **kwargs)
			data = self.http.json(response)
			if not isinstance(data, dict):
				raise ConnectorError(f"Shopee {path}: answer is not an object", status=response.status_code)
			code = str(data.get("error") or "")
			if code:
				exc = classify_error(code, str(data.get("message") or ""), response.status_code)
				exc.args = (f"{path}: {exc.args[0]} (request_id {data.get('request_id', '')})",)
				raise exc
			return data

		return self.http.call(attempt)

	def _now(self) -> datetime:
		return datetime.fromtimestamp(self.clock(), tz=timezone.utc)

	# --- authorization -------------------------------------------------------------------
	def authorization_url(self, redirect_uri: str, state: str = "") -> str:
		"""The link the seller opens; valid 5 minutes. Shopee redirects to redirect_uri?code=..&shop_id=..

		Shopee has no state parameter of its own, so `state` rides along in the redirect URL's query.
		"""
		if state:
			parts = urlsplit(redirect_uri)
			query = parse_qsl(parts.query, keep_blank_values=True) + [("state", state)]
			redirect_uri = urlunsplit(parts._replace(query=urlencode(query)))
		timestamp = int(self.clock())
		query = {
			"partner_id": self.partner_id,
			"timestamp": timestamp,
			"sign": sign(self.config.app_secret, self.partner_id, AUTH_PARTNER, timestamp),
			"redirect": redirect_uri,
		}
		return self._url(AUTH_PARTNER, self.config.auth_base_url) + "?" + urlencode(query)

	def exchange_code(self, code: str, **params) -> TokenSet:
		"""Trade the one-time code (10 minutes) from the redirect for the first token pair.

		params: shop_id (from the redirect; defaults to config.shop_id) or main_account_id.
		"""
		body: dict = {"code": code, "partner_id": self.partner_id}
		if params.get("main_account_id"):
			body["main_account_id"] = int(params["main_account_id"])
		else:
			body["shop_id"] = int(params.get("shop_id") or self.shop_id)
		data = self._call("POST", TOKEN_GET, body=body, public=True)
		shop_id = str(body.get("shop_id") or "")
		return self._token_set(data, shop_id)

	def refresh_tokens(self) -> TokenSet:
		"""Spend config.refresh_token for a new pair. The old refresh token is dead after this call:
		store the returned TokenSet at once (the connector also keeps it in self.config)."""
		if not self.config.refresh_token:
			raise AuthError("Shopee shop has no refresh token: reconnect it", code="no_token")
		body = {"refresh_token": self.config.refresh_token, "partner_id": self.partner_id, "shop_id": self.shop_id}
		data = self._call("POST", ACCESS_TOKEN_GET, body=body, public=True)
		return self._token_set(data, str(data.get("shop_id") or self.shop_id))

	def _token_set(self, data: dict, shop_id: str) -> TokenSet:
		if not data.get("access_token") or not data.get("refresh_token"):
			raise AuthError("Shopee answered without tokens", code="no_token")
		now = self._now()
		tokens = TokenSet(
			access_token=data["access_token"],
			refresh_token=data["refresh_token"],
			access_expires_at=now + timedelta(seconds=int(data.get("expire_in") or 4 * 3600)),
			refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
			shop_id=shop_id,
			extra={key: data[key] for key in ("merchant_id_list", "shop_id_list", "request_id") if key in data},
		)
		# Later calls on this connector must use the new pair: the old refresh token is spent.
		self.config.access_token = tokens.access_token
		self.config.refresh_token = tokens.refresh_token
		if shop_id:
			self.config.shop_id = shop_id
		return tokens

	# --- orders in -----------------------------------------------------------------------
	def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> bool:
		"""Push authorization: header Authorization == hex HMAC-SHA256(partner key, url + '|' + raw body).

		`url` must be the callback URL exactly as registered on the Open Platform console.
		"""
		received = ""
		for key, value in (headers or {}).items():
			if key.lower() == "authorization":
				received = str(value or "").strip()
				break
		if not received:
			return False
		if isinstance(body, str):
			body = body.encode()
		expected = hmac.new(self.config.app_secret.encode(), url.encode() + b"|" + (body or b""), hashlib.sha256).hexdigest()
		return hmac.compare_digest(expected, received.lower())

	def parse_webhook(self, body: bytes) -> list[WebhookEvent]:
		"""Push message -> events. Code 3 is an order status change, code 4 a new tracking number.

		The event's data is the whole message, so shop_id is there for routing to the right channel.
		"""
		try:
			message = json.loads(body) if isinstance(body, (bytes, str)) else body
		except ValueError:
			raise ConnectorError("Shopee push body is not JSON") from None
		if not isinstance(message, dict):
			raise ConnectorError("Shopee push body is not an object")
		return [_event_from_push(message)]

	def get_lost_push_messages(self) -> LostPushBatch:
		"""Pushes Shopee failed to deliver in the last 3 days (earliest 100, partner level)."""
		data = self._call("GET", GET_LOST_PUSH, public=True).get("response") or {}
		events = []
		for row in data.get("push_message_list") or []:
			raw = row.get("data")
			try:
				message = json.loads(raw) if isinstance(raw, str) else (raw or {})
			except ValueError:
				message = {}
			message.setdefault("code", row.get("code"))
			message.setdefault("shop_id", row.get("shop_id"))
			message.setdefault("timestamp", row.get("timestamp"))
			events.append(_event_from_push(message))
		last = data.get("last_message_id")
		return LostPushBatch(events=events, last_message_id=None if last in (None, "") else int(last), has_next_page=bool(data.get("has_next_page")))

	def confirm_lost_push(self, last_message_id: int) -> None:
		"""Tell Shopee everything up to last_message_id was stored, so it is not returned again."""
		self._call("POST", CONFIRM_LOST_PUSH, body={"last_message_id": int(last_message_id)}, public=True)

	def list_updated_orders(self, since: datetime, until: datetime) -> Iterator[str]:
		"""order_sn of every order updated in [since, until], in 15-day windows, cursor-paged.

		Naive datetimes are taken as UTC. An order on a window boundary is yielded once.
		"""
		start, end = _aware(since), _aware(until)
		seen: set[str] = set()
		while start < end:
			stop = min(start + ORDER_LIST_WINDOW, end)
			cursor = ""
			while True:
				data = self._call(
					"GET",
					GET_ORDER_LIST,
					params={
						"time_range_field": "update_time",
						"time_from": int(start.timestamp()),
						"time_to": int(stop.timestamp()),
						"page_size": ORDER_LIST_PAGE_SIZE,
						"cursor": cursor,
					},
				).get("response") or {}
				for row in data.get("order_list") or []:
					order_sn = str(row.get("order_sn") or "")
					if order_sn and order_sn not in seen:
						seen.add(order_sn)
						yield order_sn
				cursor = str(data.get("next_cursor") or "")
				if not data.get("more") or not cursor:
					break
			start = stop

	def get_order_details(self, order_ids: list[str]) -> list[dict]:
		"""Each order as it is stored, `shopee_payload(detail, escrow)`: its get_order_detail object
		(50 order_sn per call, with the optional fields the mapper reads) and its escrow detail,
		read anew every time (its figures are estimates until the order completes).

		An escrow Shopee cannot serve just now (429, 5xx, busy, timeout past the retries) raises,
		so the orders are read again later rather than stored without what the buyer paid; one it
		refuses outright is stored as missing, with Shopee's reason."""
		return [self._with_escrow(detail) for detail in self._order_details(order_ids)]

	def _with_escrow(self, detail: dict) -> dict:
		try:
			answer = self._call("GET", GET_ESCROW_DETAIL, params={"order_sn": str(detail.get("order_sn") or "")})
		except (AuthError, RetryableError):
			raise
		except ConnectorError as exc:
			return shopee_payload(detail, None, str(exc))
		# only "response": request_id differs on every call and would make each read a new payload
		return shopee_payload(detail, answer.get("response"), "Shopee answered without a response")

	def _order_details(self, order_ids: list[str]) -> list[dict]:
		"""Raw get_order_detail objects, 50 order_sn per call, with the optional fields the mapper reads."""
		details: list[dict] = []
		ids = list(dict.fromkeys(str(order_id) for order_id in order_ids if order_id))
		for batch in _chunks(ids, DETAIL_BATCH):
			data = self._call(
				"GET",
				GET_ORDER_DETAIL,
				params={"order_sn_list": ",".join(batch), "response_optional_fields": DETAIL_FIELDS},
			).get("response") or {}
			details.extend(data.get("order_list") or [])
		for detail in details:
			self._add_tracking_numbers(detail)
		return details

	def _add_tracking_numbers(self, detail: dict) -> None:
		"""get_order_detail has no tracking numbers; packages that left get theirs from
		get_tracking_number (stored in the payload as package_list[].tracking_number)."""
		if detail.get("order_status") not in TRACKED_STATUSES:
			return
		for package in detail.get("package_list") or []:
			if package.get("tracking_number"):
				continue
			try:
				package["tracking_number"] = self.get_tracking_number(
					str(detail.get("order_sn")), str(package.get("package_number") or "")
				)
			except AuthError:
				raise
			except ConnectorError:
				continue  # not issued yet or not available: the next poll or push brings it

	def map_order(self, raw: dict) -> ChannelOrder:
		"""raw is one element of get_order_details (or a bare detail stored before escrows were read)."""
		return order_from_payload(raw)

	# --- fulfilment back -----------------------------------------------------------------
	def ship_order(self, order_id: str, **params) -> ShipmentInfo:
		"""Arrange shipment, then read the tracking number (often still empty: push code 4 brings it).

		params: package_number (split orders), and pickup / dropoff / non_integrated exactly as
		ship_order takes them. Without any of those the method asks get_shipping_parameter and
		picks for the seller: pickup from the address flagged pickup_address (else default, else
		the first) at Shopee's recommended time slot (else the first); dropoff at the first branch.
		"""
		package_number = str(params.get("package_number") or "")
		body: dict = {"order_sn": order_id}
		if package_number:
			body["package_number"] = package_number  # Shopee rejects an empty package_number
		chosen = {key: params[key] for key in ("pickup", "dropoff", "non_integrated") if params.get(key) is not None}
		if not chosen:
			chosen = self._choose_shipping(order_id, package_number, str(params.get("tracking_number") or ""))
		body.update(chosen)
		self._call("POST", SHIP_ORDER, body=body)
		return ShipmentInfo(
			order_id=order_id,
			package_id=package_number,
			tracking_number=self.get_tracking_number(order_id, package_number),
			carrier=str(params.get("carrier") or ""),
		)

	def _choose_shipping(self, order_id: str, package_number: str, tracking_number: str) -> dict:
		query = {"order_sn": order_id}
		if package_number:
			query["package_number"] = package_number
		data = self._call("GET", GET_SHIPPING_PARAMETER, params=query).get("response") or {}
		needed = data.get("info_needed") or {}
		if "pickup" in needed:
			addresses = (data.get("pickup") or {}).get("address_list") or []
			if not addresses:
				raise ConnectorError(f"Shopee order {order_id}: pickup needed but the shop has no pickup address")
			address = next(
				(a for flag in ("pickup_address", "default_address") for a in addresses if flag in (a.get("address_flag") or [])),
				addresses[0],
			)
			pickup: dict = {"address_id": address["address_id"]}
			slots = address.get("time_slot_list") or []
			if slots:
				slot = next((s for s in slots if "recommended" in (s.get("flags") or [])), slots[0])
				pickup["pickup_time_id"] = slot["pickup_time_id"]
			if tracking_number:
				pickup["tracking_number"] = tracking_number
			return {"pickup": pickup}
		if "dropoff" in needed:
			dropoff: dict = {}
			branches = (data.get("dropoff") or {}).get("branch_list") or []
			if "branch_id" in (needed.get("dropoff") or []) and branches:
				dropoff["branch_id"] = branches[0]["branch_id"]
			if tracking_number:
				dropoff["tracking_number"] = tracking_number
			return {"dropoff": dropoff}
		if "non_integrated" in needed:
			return {"non_integrated": {"tracking_number": tracking_number} if tracking_number else {}}
		raise ConnectorError(f"Shopee order {order_id}: get_shipping_parameter asked for nothing this connector knows: {needed}")

	def get_tracking_number(self, order_sn: str, package_number: str = "") -> str:
		"""The carrier's tracking number, or "" while the carrier has not issued it yet."""
		query = {"order_sn": order_sn}
		if package_number:
			query["package_number"] = package_number
		data = self._call("GET", GET_TRACKING_NUMBER, params=query).get("response") or {}
		return str(data.get("tracking_number") or "")

	def cancel_order(self, order_id: str, reason: str = "", item_list: list[dict] | None = None) -> None:
		"""Seller cancellation. Shopee only accepts OUT_OF_STOCK (or UNDELIVERABLE_AREA in TW/MY);
		any other reason text is sent as OUT_OF_STOCK. OUT_OF_STOCK needs the items: given as
		item_list [{"item_id", "model_id"}], else every item of the order. Shopee may zero the stock
		of those models, so push stock again after a cancellation."""
		cancel_reason = reason.strip().upper() if reason and reason.strip().upper() in CANCEL_REASONS else "OUT_OF_STOCK"
		body: dict = {"order_sn": order_id, "cancel_reason": cancel_reason}
		if cancel_reason == "OUT_OF_STOCK":
			if item_list is None:
				details = self._order_details([order_id])
				if not details:
					raise ConnectorError(f"Shopee order {order_id} not found")
				item_list = [
					{"item_id": int(item["item_id"]), "model_id": int(item.get("model_id") or 0)}
					for item in details[0].get("item_list") or []
				]
			body["item_list"] = list({(i["item_id"], i["model_id"]): i for i in item_list}.values())
		self._call("POST", CANCEL_ORDER, body=body)

	# --- stock, money, products ----------------------------------------------------------
	def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
		"""Set seller stock: one update_stock call per item and per 50 models, a result per update.

		Models Shopee lists in failure_list fail with its failed_reason (not retryable: it is a
		business refusal such as stock below reserved stock). A whole call that fails marks its
		updates failed, retryable as the error says; an auth error is raised (every call would fail).
		When one model is updated twice, the later quantity is the one sent.
		"""
		results: dict[int, PushResult] = {}
		# item_id -> model_id -> location_id -> (qty, indexes of the updates it answers)
		groups: dict[int, dict[int, dict[str, tuple[int, list[int]]]]] = {}
		for index, update in enumerate(updates):
			try:
				item_id, model_id = int(update.listing_id), int(update.variant_id or 0)
			except (TypeError, ValueError):
				results[index] = PushResult(update, False, f"not a Shopee item/model id: {update.listing_id!r}/{update.variant_id!r}")
				continue
			locations = groups.setdefault(item_id, {}).setdefault(model_id, {})
			_, indexes = locations.get(update.warehouse_id, (0, []))
			locations[update.warehouse_id] = (max(int(update.qty), 0), indexes + [index])

		for item_id, models in groups.items():
			for model_ids in _chunks(list(models), STOCK_BATCH):
				stock_list = []
				for model_id in model_ids:
					seller_stock = []
					for location_id, (qty, _) in models[model_id].items():
						entry = {"stock": qty}
						if location_id:
							entry["location_id"] = location_id
						seller_stock.append(entry)
					stock_list.append({"model_id": model_id, "seller_stock": seller_stock})
				indexes_of = {m: [i for _, ix in models[m].values() for i in ix] for m in model_ids}
				try:
					data = self._call("POST", UPDATE_STOCK, body={"item_id": item_id, "stock_list": stock_list}).get("response") or {}
				except AuthError:
					raise
				except ConnectorError as exc:
					for model_id in model_ids:
						for i in indexes_of[model_id]:
							results[i] = PushResult(updates[i], False, str(exc), exc.retryable)
					continue
				failed = {int(row.get("model_id") or 0): str(row.get("failed_reason") or "failed") for row in data.get("failure_list") or []}
				succeeded = {int(row.get("model_id") or 0) for row in data.get("success_list") or []}
				for model_id in model_ids:
					for i in indexes_of[model_id]:
						if model_id in failed:
							results[i] = PushResult(updates[i], False, failed[model_id])
						elif model_id in succeeded:
							results[i] = PushResult(updates[i], True)
						else:
							results[i] = PushResult(updates[i], False, "Shopee did not confirm this model", retryable=True)
		return [results[i] for i in range(len(updates))]

	def read_stock(self, listings: list[StockUpdate]) -> dict[StockUpdate, int]:
		"""Stock Shopee shows now, keyed by the very StockUpdate objects given (their qty is ignored).

		get_item_base_info (50 items per call) says which items exist and whether they have models,
		and carries the stock of items without models; get_model_list (one call per item) that of
		each model. The figure is stock_info_v2.summary_info.total_available_stock, or the sum of
		seller_stock when Shopee leaves the summary out; with a warehouse_id, the seller_stock of
		that location_id. Items or models Shopee does not report, and ids that are not numbers,
		are left out; an item Shopee refuses to describe is left out too. Auth errors and
		retryable errors that outlast the retries are raised.
		"""
		wanted: dict[int, list[tuple[int, StockUpdate]]] = {}
		for listing in listings:
			try:
				item_id, model_id = int(listing.listing_id), int(listing.variant_id or 0)
			except (TypeError, ValueError):
				continue
			wanted.setdefault(item_id, []).append((model_id, listing))
		found: dict[StockUpdate, int] = {}
		for batch in _chunks(list(wanted), ITEM_INFO_BATCH):
			info = self._call("GET", GET_ITEM_BASE_INFO, params={"item_id_list": ",".join(str(i) for i in batch)}).get("response") or {}
			for item in info.get("item_list") or []:
				try:
					item_id = int(item.get("item_id"))
				except (TypeError, ValueError):
					continue
				if item_id not in wanted:
					continue
				if item.get("has_model"):
					stocks = self._model_stocks(item_id)
				else:
					stocks = {0: item.get("stock_info_v2")}
				for model_id, listing in wanted[item_id]:
					if model_id in stocks:
						qty = _shopee_stock(stocks[model_id], listing.warehouse_id)
						if qty is not None:
							found[listing] = qty
		return found

	def _model_stocks(self, item_id: int) -> dict[int, dict]:
		"""model_id -> stock_info_v2 from get_model_list; {} when Shopee refuses the item."""
		try:
			data = self._call("GET", GET_MODEL_LIST, params={"item_id": item_id}).get("response") or {}
		except AuthError:
			raise
		except ConnectorError as exc:
			if exc.retryable:
				raise
			return {}
		stocks = {}
		for model in data.get("model") or []:
			try:
				stocks[int(model.get("model_id"))] = model.get("stock_info_v2")
			except (TypeError, ValueError):
				continue
		return stocks

	# --- finance -------------------------------------------------------------------------
	@property
	def currency(self) -> str:
		return str(self.config.extra.get("currency") or "VND")

	def get_order_settlement(self, order_id: str) -> OrderSettlement | None:
		"""get_escrow_detail mapped by finance.settlement_from_escrow; None while Shopee has no escrow
		for the order (error_data "data not exist"). `final` once get_order_detail says COMPLETED:
		until then the escrow is Shopee's estimate. An order that is not the shop's raises."""
		try:
			answer = self._call("GET", GET_ESCROW_DETAIL, params={"order_sn": order_id})
		except ConnectorError as exc:
			if not exc.retryable and not isinstance(exc, AuthError) and exc.code in NO_ESCROW_CODES:
				return None
			raise
		escrow = answer.get("response")
		if not isinstance(escrow, dict) or not escrow.get("order_income"):
			return None
		details = self._call("GET", GET_ORDER_DETAIL, params={"order_sn_list": order_id}).get("response") or {}
		statuses = {str(d.get("order_sn")): d.get("order_status") for d in details.get("order_list") or []}
		return settlement_from_escrow(escrow, self.currency, final=statuses.get(order_id) == "COMPLETED")

	def fetch_finance(self, since: datetime, until: datetime) -> FinancePeriod:
		"""The wallet's transactions created in [since, until) (naive datetimes are UTC), sorted by
		finance.read_wallet: each escrow release becomes its order's settlement (escrows read with
		get_escrow_detail_batch, final, payout = what the wallet received, so a release that is not
		Shopee's escrow_amount is refused), the other transactions adjustments, withdrawals payouts.
		An order whose figures do not add up comes back unreadable, naming why (booked as an
		Error for review), so it never holds up the rest of the period."""
		wallet = read_wallet(self.wallet_transactions(since, until), self.currency)
		escrows = self.escrow_details(list(wallet.releases))
		settlements = []
		for order_sn, release in sorted(wallet.releases.items()):
			when = {"final": release.final, "settled_on": release.released_on, "reference": release.reference}
			try:
				if REFUSED in escrows[order_sn]:
					raise SettlementError(escrows[order_sn][REFUSED])
				payout = release.amount if release.final else None
				settlement = settlement_from_escrow(escrows[order_sn], self.currency, payout=payout, **when)
			except SettlementError as exc:
				settlement = OrderSettlement.unreadable(
					order_sn, release.amount, str(exc), currency=self.currency, raw=escrows[order_sn], **when
				)
			settlements.append(settlement)
		return FinancePeriod(settlements=settlements, adjustments=wallet.adjustments, payouts=wallet.payouts)

	def wallet_transactions(self, since: datetime, until: datetime) -> list[dict]:
		"""Every get_wallet_transaction_list row created in [since, until): 15-day windows, each
		paged from page_no 0 by 100 until "more" is false. A row seen twice (pages shift while
		Shopee adds transactions) is kept once."""
		start, end = _aware(since).timestamp(), _aware(until).timestamp()
		rows: dict[str, dict] = {}
		window_start, last = math.floor(start), math.ceil(end)
		while window_start < last:
			window_end = min(window_start + int(WALLET_WINDOW.total_seconds()), last)
			for row in self._wallet_window(window_start, window_end - 1):  # create_time_to is inclusive
				if start <= int(row.get("create_time") or 0) < end:
					rows.setdefault(transaction_key(row), row)
			window_start = window_end
		return list(rows.values())

	def _wallet_window(self, time_from: int, time_to: int) -> Iterator[dict]:
		page_no = 0
		while True:
			params = {"page_no": page_no, "page_size": WALLET_PAGE_SIZE, "create_time_from": time_from, "create_time_to": time_to}
			rows, more = wallet_page(self._call("GET", GET_WALLET_TRANSACTION_LIST, params=params))
			yield from rows
			if not more or not rows:
				return
			page_no += 1

	def escrow_details(self, order_ids: list[str]) -> dict[str, dict]:
		"""order_sn -> escrow "response", ESCROW_BATCH orders per get_escrow_detail_batch call; an
		order the batch leaves out is asked for alone; Shopee's refusal of it is kept under REFUSED
		(a retryable failure is raised: the whole read is tried again)."""
		escrows: dict[str, dict] = {}
		for batch in _chunks(list(dict.fromkeys(order_ids)), ESCROW_BATCH):
			answer = self._call("POST", GET_ESCROW_DETAIL_BATCH, body={"order_sn_list": batch})
			try:
				escrows.update(escrows_of_batch(answer))
			except SettlementError as exc:
				raise ConnectorError(f"Shopee {GET_ESCROW_DETAIL_BATCH}: {exc}") from None
		for order_sn in order_ids:
			if order_sn not in escrows:
				try:
					answer = self._call("GET", GET_ESCROW_DETAIL, params={"order_sn": order_sn})
				except ConnectorError as exc:
					if exc.retryable:
						raise
					escrows[order_sn] = {REFUSED: f"Shopee refused its escrow: {exc} ({exc.code})"}
					continue
				escrows[order_sn] = answer.get("response") or {}
		return escrows

	def list_products(self) -> Iterator[ListingInfo]:
		"""Every NORMAL or UNLIST item, one ListingInfo per model (variant_id "" without models)."""
		offset = 0
		while True:
			data = self._call(
				"GET",
				GET_ITEM_LIST,
				params={"offset": offset, "page_size": ITEM_PAGE_SIZE, "item_status": ["NORMAL", "UNLIST"]},
			).get("response") or {}
			item_ids = [int(row["item_id"]) for row in data.get("item") or []]
			for batch in _chunks(item_ids, ITEM_INFO_BATCH):
				info = self._call(
					"GET", GET_ITEM_BASE_INFO, params={"item_id_list": ",".join(str(i) for i in batch)}
				).get("response") or {}
				for item in info.get("item_list") or []:
					yield from self._listings(item)
			if not data.get("has_next_page"):
				break
			offset = int(data.get("next_offset") or offset + len(item_ids))

	def _listings(self, item: dict) -> Iterator[ListingInfo]:
		item_id = str(item.get("item_id"))
		title = str(item.get("item_name") or "")
		if not item.get("has_model"):
			yield ListingInfo(listing_id=item_id, variant_id="", sku=str(item.get("item_sku") or ""), title=title)
			return
		data = self._call("GET", GET_MODEL_LIST, params={"item_id": item_id}).get("response") or {}
		tiers = data.get("tier_variation") or []
		for model in data.get("model") or []:
			options = []
			for tier, option_index in zip(tiers, model.get("tier_index") or []):
				option_list = tier.get("option_list") or []
				if 0 <= option_index < len(option_list):
					options.append(str(option_list[option_index].get("option") or ""))
			yield ListingInfo(
				listing_id=item_id,
				variant_id=str(model.get("model_id")),
				sku=str(model.get("model_sku") or ""),
				title=f"{title} - {', '.join(options)}" if options else title,
			)


def _shopee_stock(stock_info, location_id: str = "") -> int | None:
	"""The stock figure of one stock_info_v2 object (see read_stock), None when it has none."""
	if not isinstance(stock_info, dict):
		return None
	seller_stock = [row for row in stock_info.get("seller_stock") or [] if isinstance(row, dict)]
	if location_id:
		for row in seller_stock:
			if str(row.get("location_id") or "") == location_id:
				return _int_or_none(row.get("stock"))
		return None
	summary = stock_info.get("summary_info")
	if isinstance(summary, dict) and _int_or_none(summary.get("total_available_stock")) is not None:
		return _int_or_none(summary.get("total_available_stock"))
	stocks = [_int_or_none(row.get("stock")) for row in seller_stock]
	stocks = [qty for qty in stocks if qty is not None]
	return sum(stocks) if stocks else None


def _int_or_none(value) -> int | None:
	if value is None or isinstance(value, bool):
		return None
	try:
		return int(value)
	except (TypeError, ValueError):
		return None


def _event_from_push(message: dict) -> WebhookEvent:
	data = message.get("data") if isinstance(message.get("data"), dict) else {}
	order_sn = str(data.get("ordersn") or data.get("order_sn") or "")
	try:
		code = int(message.get("code"))
	except (TypeError, ValueError):
		code = None
	if code == 3:
		return WebhookEvent(kind="order_status", order_id=order_sn, status=str(data.get("status") or ""), data=message)
	if code == 4:
		return WebhookEvent(kind="tracking", order_id=order_sn, data=message)
	return WebhookEvent(kind="other", order_id=order_sn, data=message)


def _aware(value: datetime) -> datetime:
	return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _chunks(values: list, size: int) -> Iterator[list]:
	for start in range(0, len(values), size):
		yield values[start : start + size]
