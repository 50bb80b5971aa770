"""TikTok Shop Partner API client, version 202309 (open-api.tiktokglobalshop.com).

The contract, from TikTok Shop Partner Center documentation:
- Every call carries `app_key`, `timestamp` (unix seconds, accepted from now-5 min to now+30 s)
  and `sign` in the query; shop-scoped calls also carry `shop_cipher` (from Get Authorized
  Shops, which itself must NOT get one). The token goes in the `x-tts-access-token` header.
- sign = hex(HMAC-SHA256(key=app_secret, app_secret + path + sorted "{key}{value}" query pairs
  except sign/access_token + exact body bytes (unless multipart) + app_secret)).
- Answers look like {"code": 0, "message": "Success", "data": {...}, "request_id": "..."};
  any other code is an error, sometimes with HTTP 200.
- Tokens come from auth.tiktok-shops.com /api/v2/token/get (grant_type=authorized_code) and
  /api/v2/token/refresh (grant_type=refresh_token), both GET with app_secret in the query;
  the `*_expire_in` fields are absolute unix timestamps.
- Webhooks carry hex(HMAC-SHA256(app_secret, app_key + raw body)) in the Authorization header.
- Finance (202309): Get Statements, Get Statement Transactions, Get Order Statement Transactions
  and Get Payments, all GET, paged by page_token, each with its required sort_field; finance.py
  maps what they answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from urllib.parse import urlencode

from ...domain.order import ChannelOrder
from ...domain.settlement import Adjustment, FinancePeriod, OrderSettlement, Payout
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
from .finance import (
	Statement,
	merge_settlements,
	order_settlement_from_tiktok,
	payout_from_tiktok,
	payouts_from_statements,
	statement_from_tiktok,
	statement_transactions_from_tiktok,
)
from .mapper import order_from_tiktok

API_VERSION = "202309"
DEFAULT_BASE_URL = "https://open-api.tiktokglobalshop.com"
DEFAULT_AUTH_BASE_URL = "https://auth.tiktok-shops.com"
# Rest-of-world seller authorization page; Partner Center's "Copy authorization link" gives the
# service_id. The redirect URL is configured on the app in Partner Center, not in the link.
DEFAULT_AUTHORIZE_URL = "https://services.tiktokshop.com/open/authorize"

ORDER_PAGE_SIZE = 100  # Get Order List: page_size valid range [1-100]
ORDER_DETAIL_BATCH = 50  # Get Order Detail: ids max count 50
PRODUCT_PAGE_SIZE = 100  # Search Products: page_size valid range [1-100]
FINANCE_PAGE_SIZE = 100  # Get Statements / Statement Transactions / Payments: page_size [1-100]
RETURN_PAGE_SIZE = 50  # Search Returns: page_size default 10, upper limit 50
RETURN_ORDER_BATCH = 50  # order_ids per Search Returns call (same as an order detail batch)
# Orders that can have a return: goods left the warehouse. Earlier ones can only be cancelled.
RETURNABLE_ORDER_STATUSES = {"IN_TRANSIT", "DELIVERED", "COMPLETED"}
MAX_STOCK_QTY = 99_999  # Update Inventory: quantity upper bound
DEFAULT_CANCEL_REASON = "seller_cancel_reason_out_of_stock"  # from the documented cancel reasons

# Common errors page: 36009002 too many requests, 36009003 internal error, 36009007 timeout.
RATE_LIMIT_CODES = {36009002}
RETRYABLE_CODES = {36009003, 36009007}
# 105002 expired token, 105005 scope not granted, 101000 token/shop mismatch,
# 36004001 refresh token expired, 36004005 no such authorization.
AUTH_CODES = {101000, 105002, 105005, 36004001, 36004005}

WEBHOOK_ORDER_STATUS_CHANGE = 1
WEBHOOK_PACKAGE_UPDATE = 4


def sign_request(app_secret: str, path: str, params: Mapping[str, object], body: bytes | str = b"") -> str:
	"""The documented request signature (hex, lowercase)."""
	text = path + "".join(f"{key}{params[key]}" for key in sorted(params) if key not in ("sign", "access_token"))
	if body:
		text += body.decode("utf-8") if isinstance(body, bytes) else body
	wrapped = f"{app_secret}{text}{app_secret}"
	return hmac.new(app_secret.encode("utf-8"), wrapped.encode("utf-8"), hashlib.sha256).hexdigest()


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
	"""The documented webhook signature: HMAC-SHA256(app_secret, app_key + raw body), hex."""
	return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + body, hashlib.sha256).hexdigest()


def _epoch(value: datetime) -> int:
	if value.tzinfo is None:
		value = value.replace(tzinfo=timezone.utc)
	return int(value.timestamp())


def _from_epoch(value) -> datetime | None:
	try:
		return datetime.fromtimestamp(int(value), tz=timezone.utc) if value else None
	except (TypeError, ValueError, OverflowError):
		return None


class TikTokConnector(MarketplaceConnector):
	platform = "TikTok Shop"
	# Update Inventory works on one product per call; "A single product cannot have more than
	# 100 different SKUs" (error 12052050), so at most 100 SKUs go in one call.
	stock_batch_limit = 100

	def __init__(self, config: ChannelConfig, http=None, clock=time.time):
		super().__init__(config, http)
		self.clock = clock  # injectable so tests can check timestamp handling

	# --- transport -----------------------------------------------------------------------
	@property
	def base_url(self) -> str:
		return (self.config.base_url or DEFAULT_BASE_URL).rstrip("/")

	@property
	def auth_base_url(self) -> str:
		return (self.config.auth_base_url or DEFAULT_AUTH_BASE_URL).rstrip("/")

	def _request(self, method: str, path: str, query: dict | None = None, body=None, shop: bool = True) -> dict:
		"""One signed API call with retries; returns `data`. Each retry is signed afresh."""
		cipher = self.shop_cipher() if shop else ""
		# The exact bytes sent are the bytes signed. An empty body is not sent at all: TikTok's own
		# samples skip an empty object when signing, so sending "{}" would be ambiguous.
		payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8") if body else b""

		def attempt():
			params = {key: str(value) for key, value in (query or {}).items() if value not in (None, "")}
			params["app_key"] = self.config.app_key
			params["timestamp"] = str(int(self.clock()))
			if cipher:
				params["shop_cipher"] = cipher
			params["sign"] = sign_request(self.config.app_secret, path, params, payload)
			headers = {"content-type": "application/json", "x-tts-access-token": self.config.access_token}
			response = self.http.send(
				method, f"{self.base_url}{path}", params=params, data=payload or None, headers=headers
			)
			return self._data(self.http.json(response), path, response.status_code)

		return self.http.call(attempt)

	def _data(self, answer: dict, what: str, status: int | None = None) -> dict:
		"""Turn TikTok's envelope into data or the right ConnectorError subclass."""
		if not isinstance(answer, dict):
			raise ConnectorError(f"{what}: unexpected answer {answer!r:.200}", status=status)
		try:
			code = int(answer.get("code", -1))
		except (TypeError, ValueError):
			code = -1
		if code == 0:
			return answer.get("data") or {}
		message = f"{what}: TikTok error {code}: {answer.get('message', '')} (request {answer.get('request_id', '')})"
		text = str(answer.get("message", "")).lower()
		if code in RATE_LIMIT_CODES:
			raise RateLimited(message, code=str(code), status=status)
		if code in RETRYABLE_CODES:
			raise RetryableError(message, code=str(code), status=status)
		# 36009004 covers several "invalid credentials" cases; only the token ones need a reconnect.
		if code in AUTH_CODES or (code == 36009004 and ("access_token" in text or "access-token" in text)):
			raise AuthError(message, code=str(code), status=status)
		raise ConnectorError(message, code=str(code), status=status)

	# --- authorization -------------------------------------------------------------------
	def authorization_url(self, redirect_uri: str, state: str = "") -> str:
		"""Seller authorization link. `redirect_uri` is fixed on the app in Partner Center, so it
		is not sent; TikTok redirects there with ?code=...&state=..."""
		base = self.config.extra.get("authorize_url") or DEFAULT_AUTHORIZE_URL
		params = {"service_id": self.config.extra.get("service_id", "")}
		if state:
			params["state"] = state
		return f"{base}?{urlencode(params)}"

	def _token_call(self, path: str, params: dict) -> dict:
		def attempt():
			response = self.http.send("GET", f"{self.auth_base_url}{path}", params=params)
			answer = self.http.json(response)
			try:
				return self._data(answer, path, response.status_code)
			except ConnectorError as exc:
				if exc.retryable:
					raise
				# A refused code or refresh token can only be fixed by the seller reconnecting.
				raise AuthError(str(exc), code=exc.code, status=exc.status) from None

		return self.http.call(attempt)

	def _token_set(self, data: dict) -> TokenSet:
		if not data.get("access_token"):
			raise AuthError("TikTok token answer has no access_token")
		self.config.access_token = data["access_token"]
		self.config.refresh_token = data.get("refresh_token") or self.config.refresh_token
		return TokenSet(
			access_token=data["access_token"],
			refresh_token=data.get("refresh_token", ""),
			access_expires_at=_from_epoch(data.get("access_token_expire_in")),
			refresh_expires_at=_from_epoch(data.get("refresh_token_expire_in")),
			shop_id=self.config.shop_id,
			extra={
				key: data[key]
				for key in ("open_id", "seller_name", "seller_base_region", "user_type", "granted_scopes")
				if key in data
			},
		)

	def exchange_code(self, code: str, **params) -> TokenSet:
		"""Trade the redirect's `code` for tokens, then look up the shop and its cipher."""
		data = self._token_call(
			"/api/v2/token/get",
			{
				"app_key": self.config.app_key,
				"app_secret": self.config.app_secret,
				"auth_code": code,
				"grant_type": "authorized_code",
			},
		)
		tokens = self._token_set(data)
		shops = self.authorized_shops()
		shop = self._pick_shop(shops)
		self.config.shop_id = str(shop.get("id", ""))
		self.config.extra["shop_cipher"] = shop.get("cipher", "")
		tokens.shop_id = self.config.shop_id
		tokens.extra.update({"shop_cipher": shop.get("cipher", ""), "shop_name": shop.get("name", ""), "shops": shops})
		return tokens

	def refresh_tokens(self) -> TokenSet:
		if not self.config.refresh_token:
			raise AuthError("no refresh token: the shop must be authorized again")
		data = self._token_call(
			"/api/v2/token/refresh",
			{
				"app_key": self.config.app_key,
				"app_secret": self.config.app_secret,
				"refresh_token": self.config.refresh_token,
				"grant_type": "refresh_token",
			},
		)
		tokens = self._token_set(data)
		if self.config.extra.get("shop_cipher"):
			tokens.extra["shop_cipher"] = self.config.extra["shop_cipher"]
		return tokens

	def authorized_shops(self) -> list[dict]:
		# Get Authorized Shops rejects a shop_cipher, so it is the one call made without it.
		data = self._request("GET", f"/authorization/{API_VERSION}/shops", shop=False)
		return list(data.get("shops") or [])

	def _pick_shop(self, shops: list[dict]) -> dict:
		if not shops:
			raise AuthError("the token is not authorized for any TikTok shop")
		if self.config.shop_id:
			for shop in shops:
				if str(shop.get("id")) == str(self.config.shop_id):
					return shop
			raise AuthError(f"shop {self.config.shop_id} is not among the shops this token may use")
		if len(shops) > 1:
			# A cross-border seller has one shop per market: guessing would push to the wrong one.
			raise ConnectorError(f"token covers {len(shops)} shops; set shop_id to choose one")
		return shops[0]

	def shop_cipher(self) -> str:
		"""The shop_cipher shop-scoped calls need; looked up once and kept in config.extra."""
		cipher = self.config.extra.get("shop_cipher")
		if not cipher:
			shop = self._pick_shop(self.authorized_shops())
			cipher = shop.get("cipher", "")
			self.config.extra["shop_cipher"] = cipher
			self.config.shop_id = self.config.shop_id or str(shop.get("id", ""))
		return cipher

	# --- orders in -----------------------------------------------------------------------
	def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> bool:
		signature = next((value for key, value in headers.items() if key.lower() == "authorization"), "")
		expected = webhook_signature(self.config.app_key, self.config.app_secret, body)
		# bytes, because compare_digest refuses non-ASCII str and a forged header may contain any
		return bool(signature) and hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8"))

	def parse_webhook(self, body: bytes) -> list[WebhookEvent]:
		try:
			payload = json.loads(body)
		except ValueError:
			raise ConnectorError("TikTok webhook body is not JSON") from None
		if not isinstance(payload, dict):
			raise ConnectorError("TikTok webhook body is not an object")
		data = payload.get("data") or {}
		try:
			kind_type = int(payload.get("type"))
		except (TypeError, ValueError):
			kind_type = None
		meta = {key: payload.get(key) for key in ("type", "tts_notification_id", "shop_id", "timestamp")}
		if kind_type == WEBHOOK_ORDER_STATUS_CHANGE:
			return [
				WebhookEvent(
					kind="order_status",
					order_id=str(data.get("order_id", "")),
					status=str(data.get("order_status", "")),
					data={**meta, **data},
				)
			]
		if kind_type == WEBHOOK_PACKAGE_UPDATE:
			# Packages were combined or split: every order in them needs its packages re-read.
			events = [
				WebhookEvent(kind="tracking", order_id=str(order_id), data={**meta, **data, "package_id": package.get("package_id")})
				for package in data.get("package_list") or []
				for order_id in package.get("order_id_list") or []
			]
			return events or [WebhookEvent(kind="other", data={**meta, **data})]
		return [WebhookEvent(kind="other", order_id=str(data.get("order_id", "")), data={**meta, **data})]

	def list_updated_orders(self, since: datetime, until: datetime) -> Iterator[str]:
		"""Ids of orders updated in [since, until), oldest first, following next_page_token."""
		body = {"update_time_ge": _epoch(since), "update_time_lt": _epoch(until)}
		token, seen_tokens = "", set()
		while True:
			query = {"page_size": ORDER_PAGE_SIZE, "sort_field": "update_time", "sort_order": "ASC", "page_token": token}
			data = self._request("POST", f"/order/{API_VERSION}/orders/search", query=query, body=body)
			for order in data.get("orders") or []:
				yield str(order["id"])
			token = data.get("next_page_token") or ""
			if not token or token in seen_tokens:  # a repeated token would loop forever
				return
			seen_tokens.add(token)

	def get_order_details(self, order_ids: list[str]) -> list[dict]:
		orders: list[dict] = []
		ids = [str(order_id) for order_id in dict.fromkeys(order_ids)]
		for start in range(0, len(ids), ORDER_DETAIL_BATCH):
			batch = ids[start : start + ORDER_DETAIL_BATCH]
			data = self._request("GET", f"/order/{API_VERSION}/orders", query={"ids": ",".join(batch)})
			found = [order for order in data.get("orders") or [] if isinstance(order, dict)]
			self._attach_returns(found)
			orders.extend(found)
		return orders

	def _attach_returns(self, orders: list[dict]) -> None:
		"""Put each shipped order's returns in `order["oms_returns"]` (Search Returns 202309).

		Only IN_TRANSIT / DELIVERED / COMPLETED orders are asked about, RETURN_ORDER_BATCH order
		ids per call, following next_page_token. The list goes into the raw payload so a stored
		payload maps to the same order again. An order with no return gets an empty list. If the
		call fails with anything but an AuthError (retries exhausted included), the batch is
		left without `oms_returns`: the orders are still good, only their returns are unknown.
		"""
		wanted = [order for order in orders if str(order.get("status") or "").upper() in RETURNABLE_ORDER_STATUSES]
		for start in range(0, len(wanted), RETURN_ORDER_BATCH):
			batch = wanted[start : start + RETURN_ORDER_BATCH]
			try:
				returns = self.search_returns([str(order.get("id")) for order in batch])
			except AuthError:
				raise
			except ConnectorError:
				continue
			by_order: dict[str, list[dict]] = {}
			for return_order in returns:
				by_order.setdefault(str(return_order.get("order_id") or ""), []).append(return_order)
			for order in batch:
				order["oms_returns"] = by_order.get(str(order.get("id")), [])

	def search_returns(self, order_ids: list[str]) -> list[dict]:
		"""Search Returns 202309 (POST /return_refund/202309/returns/search) filtered by order_ids:
		every return_orders[] entry, all pages."""
		returns: list[dict] = []
		body = {"order_ids": [str(order_id) for order_id in order_ids]}
		token, seen_tokens = "", set()
		while True:
			data = self._request(
				"POST",
				f"/return_refund/{API_VERSION}/returns/search",
				query={"page_size": RETURN_PAGE_SIZE, "page_token": token},
				body=body,
			)
			returns.extend(item for item in data.get("return_orders") or [] if isinstance(item, dict))
			token = data.get("next_page_token") or ""
			if not token or token in seen_tokens:
				return returns
			seen_tokens.add(token)

	def map_order(self, raw: dict) -> ChannelOrder:
		return order_from_tiktok(raw)

	# --- fulfilment back -----------------------------------------------------------------
	def ship_order(self, order_id: str, **params) -> ShipmentInfo:
		"""Ship one package of the order (Ship Package 202309) and read back its tracking.

		params: package_id (needed when the order has several packages), handover_method
		("PICKUP"/"DROP_OFF"), pickup_slot {start_time, end_time}, and for seller shipping
		tracking_number + shipping_provider_id (sent as self_shipment).
		"""
		package_id = params.get("package_id")
		if not package_id:
			orders = self.get_order_details([order_id])
			if not orders:
				raise ConnectorError(f"TikTok order {order_id} not found")
			package_ids = [str(package.get("id")) for package in orders[0].get("packages") or [] if package.get("id")]
			if len(package_ids) != 1:
				raise ConnectorError(
					f"TikTok order {order_id} has {len(package_ids)} packages; pass package_id to choose one"
				)
			package_id = package_ids[0]
		body: dict = {}
		if params.get("handover_method"):
			body["handover_method"] = params["handover_method"]
		if params.get("pickup_slot"):
			body["pickup_slot"] = params["pickup_slot"]
		if params.get("tracking_number"):
			if not params.get("shipping_provider_id"):
				raise ConnectorError("seller shipping needs shipping_provider_id with the tracking number")
			body["self_shipment"] = {
				"tracking_number": params["tracking_number"],
				"shipping_provider_id": str(params["shipping_provider_id"]),
			}
		self._request("POST", f"/fulfillment/{API_VERSION}/packages/{package_id}/ship", body=body)
		info = self.get_package(str(package_id))
		info.order_id = str(order_id)
		if params.get("label", True) and not info.label_url:
			info.label_url = self.shipping_label_url(str(package_id))
		return info

	def get_package(self, package_id: str) -> ShipmentInfo:
		"""Get Package Detail: tracking number and carrier of one package."""
		data = self._request("GET", f"/fulfillment/{API_VERSION}/packages/{package_id}")
		orders = data.get("orders") or []
		return ShipmentInfo(
			order_id=str(orders[0].get("id", "")) if orders else "",
			package_id=str(data.get("package_id") or package_id),
			tracking_number=str(data.get("tracking_number") or ""),
			carrier=str(data.get("shipping_provider_name") or ""),
		)

	def shipping_label_url(self, package_id: str) -> str:
		"""The label PDF link (valid 24 h); only TikTok-shipped packages have one."""
		try:
			data = self._request(
				"GET",
				f"/fulfillment/{API_VERSION}/packages/{package_id}/shipping_documents",
				query={"document_type": "SHIPPING_LABEL"},
			)
		except (AuthError, RetryableError):
			raise
		except ConnectorError:
			# Seller-shipped packages have no TikTok label; shipping itself already succeeded.
			return ""
		return str(data.get("doc_url") or "")

	def cancel_order(self, order_id: str, reason: str = "") -> None:
		"""Cancel Order 202309. `reason` must be one of TikTok's cancel reason codes."""
		data = self._request(
			"POST",
			f"/return_refund/{API_VERSION}/cancellations",
			body={"order_id": str(order_id), "cancel_reason": reason or DEFAULT_CANCEL_REASON},
		)
		status = str(data.get("cancel_status") or "")
		if status == "CANCELLATION_REQUEST_CANCEL":
			raise ConnectorError(f"TikTok closed the cancellation of order {order_id} (cancel_id {data.get('cancel_id')})")

	# --- stock, money, products ----------------------------------------------------------
	def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
		"""Update Inventory: one call per product (TikTok requires all SKUs of a call to belong to
		one product), each SKU carrying its warehouses. A per-SKU error fails only that SKU's updates.
		The caller must send every warehouse of a SKU: TikTok refuses partial warehouse lists."""
		results: dict[int, PushResult] = {}
		by_product: OrderedDict[str, list[int]] = OrderedDict()
		for index, update in enumerate(updates):
			by_product.setdefault(update.listing_id, []).append(index)
		for product_id, indexes in by_product.items():
			by_sku: OrderedDict[str, list[int]] = OrderedDict()
			for index in indexes:
				by_sku.setdefault(updates[index].variant_id, []).append(index)
			skus = list(by_sku.items())
			for start in range(0, len(skus), self.stock_batch_limit):
				chunk = OrderedDict(skus[start : start + self.stock_batch_limit])
				self._push_product(product_id, chunk, updates, results)
		return [results[index] for index in range(len(updates))]

	def _push_product(self, product_id: str, by_sku: Mapping[str, list[int]], updates, results) -> None:
		body_skus = []
		for sku_id, indexes in by_sku.items():
			inventory = []
			for index in indexes:
				entry = {"quantity": max(0, min(int(updates[index].qty), MAX_STOCK_QTY))}
				if updates[index].warehouse_id:
					entry["warehouse_id"] = updates[index].warehouse_id
				inventory.append(entry)
			body_skus.append({"id": sku_id, "inventory": inventory})
		all_indexes = [index for indexes in by_sku.values() for index in indexes]
		try:
			data = self._request(
				"POST", f"/product/{API_VERSION}/products/{product_id}/inventory/update", body={"skus": body_skus}
			)
		except AuthError:
			raise  # nothing else will work either; the channel needs reconnecting
		except ConnectorError as exc:
			for index in all_indexes:
				results[index] = PushResult(updates[index], ok=False, message=str(exc), retryable=exc.retryable)
			return
		failed: dict[str, str] = {}
		whole_call_error = ""
		# The envelope says code 0 even when SKUs fail; the failures are in data.errors.
		for error in data.get("errors") or []:
			detail = error.get("detail") or {}
			text = f"{error.get('code')}: {error.get('message', '')}"
			extra = "; ".join(
				f"warehouse {item.get('warehouse_id', '?')}: {item.get('code')} {item.get('message', '')}"
				for item in detail.get("extra_errors") or []
			)
			if extra:
				text += f" ({extra})"
			sku_id = str(detail.get("sku_id") or "")
			if sku_id:
				failed[sku_id] = f"{failed[sku_id]}; {text}" if sku_id in failed else text
			else:
				whole_call_error = f"{whole_call_error}; {text}" if whole_call_error else text
		for sku_id, indexes in by_sku.items():
			message = whole_call_error or failed.get(str(sku_id), "")
			for index in indexes:
				results[index] = PushResult(updates[index], ok=not message, message=message)

	def read_stock(self, listings: list[StockUpdate]) -> dict[StockUpdate, int]:
		"""Stock TikTok shows now, keyed by the very StockUpdate objects given (their qty is ignored).

		Get Product 202309 (one call per product_id): the SKU whose id is the listing's variant_id
		(by seller_sku when there is no variant_id) reports the sum of its inventory[].quantity,
		or, with a warehouse_id, that warehouse's quantity. Listings without a product id, SKUs or
		warehouses TikTok does not report, and products it refuses to describe are left out; auth
		errors and retryable errors that outlast the retries are raised.
		"""
		by_product: OrderedDict[str, list[StockUpdate]] = OrderedDict()
		for listing in listings:
			if listing.listing_id and (listing.variant_id or listing.sku):
				by_product.setdefault(str(listing.listing_id), []).append(listing)
		found: dict[StockUpdate, int] = {}
		for product_id, wanted in by_product.items():
			try:
				product = self._request("GET", f"/product/{API_VERSION}/products/{product_id}")
			except AuthError:
				raise
			except ConnectorError as exc:
				if exc.retryable:
					raise
				continue  # no such product in this shop (deleted, or another shop's)
			skus = [sku for sku in product.get("skus") or [] if isinstance(sku, dict)]
			by_id = {str(sku.get("id")): sku for sku in skus if sku.get("id") not in (None, "")}
			by_seller_sku = {str(sku.get("seller_sku")): sku for sku in skus if sku.get("seller_sku")}
			for listing in wanted:
				sku = by_id.get(str(listing.variant_id)) if listing.variant_id else by_seller_sku.get(str(listing.sku))
				qty = _sku_quantity(sku, listing.warehouse_id) if sku else None
				if qty is not None:
					found[listing] = qty
		return found

	def get_order_settlement(self, order_id: str) -> OrderSettlement | None:
		"""Get Order Statement Transactions 202309: the order's settled transactions added up;
		None while TikTok has settled nothing for it."""
		data = self._request("GET", f"/finance/{API_VERSION}/orders/{order_id}/statement_transactions")
		return order_settlement_from_tiktok(data, str(order_id))

	def fetch_finance(self, since: datetime, until: datetime) -> FinancePeriod:
		"""Statements generated in [since, until) with all their transactions, and the payments
		created in it. Each payout names the statements (and their orders) it carries."""
		period = FinancePeriod()
		statements = self.list_statements(since, until)
		by_order: dict[str, list[OrderSettlement]] = {}
		for statement in statements:
			settlements, adjustments = self.statement_transactions(statement)
			for settlement in settlements:
				by_order.setdefault(settlement.order_id, []).append(settlement)
			period.adjustments.extend(adjustments)
		for parts in by_order.values():
			settlement = parts[0] if len(parts) == 1 else merge_settlements(parts)
			settlement.whole_order = False  # this period's statements of the order, not necessarily all
			period.settlements.append(settlement)
		period.payouts = self._payouts(since, until, statements)
		_link_payouts(period, statements)
		return period

	def _pages(self, path: str, query: dict) -> Iterator[dict]:
		"""Each page's `data` of a GET that pages with page_token / next_page_token."""
		token, seen_tokens = "", set()
		while True:
			data = self._request("GET", path, query={**query, "page_size": FINANCE_PAGE_SIZE, "page_token": token})
			yield data
			token = data.get("next_page_token") or ""
			if not token or token in seen_tokens:  # a repeated token would loop forever
				return
			seen_tokens.add(token)

	def list_statements(self, since: datetime, until: datetime) -> list[Statement]:
		"""Get Statements 202309: statements generated in [since, until), oldest first."""
		query = {
			"statement_time_ge": _epoch(since),
			"statement_time_lt": _epoch(until),
			"sort_field": "statement_time",
			"sort_order": "ASC",
		}
		pages = self._pages(f"/finance/{API_VERSION}/statements", query)
		return [statement_from_tiktok(raw) for data in pages for raw in data.get("statements") or []]

	def statement_transactions(self, statement: Statement) -> tuple[list[OrderSettlement], list[Adjustment]]:
		"""Get Statement Transactions 202309: one statement's order settlements and adjustments."""
		path = f"/finance/{API_VERSION}/statements/{statement.statement_id}/statement_transactions"
		transactions = [
			transaction
			for data in self._pages(path, {"sort_field": "order_create_time", "sort_order": "ASC"})
			for transaction in data.get("statement_transactions") or []
		]
		return statement_transactions_from_tiktok(transactions, statement)

	def list_payments(self, since: datetime, until: datetime) -> list[Payout]:
		"""Get Payments 202309: payments created in [since, until), oldest first."""
		query = {
			"create_time_ge": _epoch(since),
			"create_time_lt": _epoch(until),
			"sort_field": "create_time",
			"sort_order": "ASC",
		}
		pages = self._pages(f"/finance/{API_VERSION}/payments", query)
		return [payout_from_tiktok(raw) for data in pages for raw in data.get("payments") or []]

	def _payouts(self, since: datetime, until: datetime, statements: list[Statement]) -> list[Payout]:
		# TikTok: Get Payments "is currently unavailable to SEA markets"; there the statements'
		# payment_id / payment_status are all there is to know about payouts.
		try:
			return self.list_payments(since, until)
		except AuthError:
			raise
		except ConnectorError as exc:
			if exc.retryable:
				raise
			return payouts_from_statements(statements)

	def list_products(self) -> Iterator[ListingInfo]:
		token, seen_tokens = "", set()
		while True:
			data = self._request(
				"POST",
				f"/product/{API_VERSION}/products/search",
				query={"page_size": PRODUCT_PAGE_SIZE, "page_token": token},
				body={},
			)
			for product in data.get("products") or []:
				for sku in product.get("skus") or []:
					yield ListingInfo(
						listing_id=str(product.get("id", "")),
						variant_id=str(sku.get("id", "")),
						sku=str(sku.get("seller_sku") or ""),
						title=str(product.get("title") or ""),
					)
			token = data.get("next_page_token") or ""
			if not token or token in seen_tokens:
				return
			seen_tokens.add(token)


def _link_payouts(period: FinancePeriod, statements: list[Statement]) -> None:
	"""Name on each payout the statements carrying its payment_id, and their orders."""
	by_payment: dict[str, list[str]] = {}
	for statement in statements:
		if statement.payment_id:
			by_payment.setdefault(statement.payment_id, []).append(statement.statement_id)
	for payout in period.payouts:
		references = by_payment.get(payout.payout_id, [])
		payout.settlement_references = list(dict.fromkeys([*payout.settlement_references, *references]))
		carried = set(payout.settlement_references)
		orders = [settlement.order_id for settlement in period.settlements if settlement.reference in carried]
		payout.order_ids = list(dict.fromkeys([*payout.order_ids, *orders]))


def _sku_quantity(sku: dict, warehouse_id: str = "") -> int | None:
	"""Sum of a Get Product SKU's inventory[].quantity, or one warehouse's; None when not reported."""
	quantities = []
	for row in sku.get("inventory") or []:
		if not isinstance(row, dict) or (warehouse_id and str(row.get("warehouse_id") or "") != warehouse_id):
			continue
		try:
			quantities.append(int(row.get("quantity")))
		except (TypeError, ValueError):
			continue
	return sum(quantities) if quantities else None
