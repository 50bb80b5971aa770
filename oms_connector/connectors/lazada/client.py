"""Lazada Open Platform (lazop) for one Lazada Vietnam shop: signing, calls, tokens, pushes.

Every call carries app_key, timestamp (ms), sign_method=sha256, access_token (seller APIs only)
and its business parameters; `sign` is HMAC-SHA256 keyed with the app secret over the API path
followed by every other parameter as key+value, sorted by key, as uppercase hex (Lazada's
"Signature algorithm" page, whose worked example is a test vector in tests/). Reads are GET with
the parameters in the query, writes POST them as a form, as the official SDK does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from ...domain.normalize import parse_datetime
from ...domain.order import ChannelOrder, InvalidOrder
from ...domain.settlement import FinancePeriod, OrderSettlement, Payout
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
from .finance import finance_from_transactions, order_settlement, payouts_from_statements, statement_created_at
from .mapper import order_from_lazada

API_BASE = "https://api.lazada.vn/rest"  # Lazada Vietnam's gateway
AUTH_BASE = "https://auth.lazada.com"  # seller authorization and tokens, every country

AUTHORIZE = "/oauth/authorize"
TOKEN_CREATE = "/auth/token/create"
TOKEN_REFRESH = "/auth/token/refresh"
GET_ORDERS = "/orders/get"
GET_ORDER = "/order/get"
GET_ORDER_ITEMS = "/order/items/get"
GET_MULTIPLE_ORDER_ITEMS = "/orders/items/get"
PACK = "/order/fulfill/pack"
READY_TO_SHIP = "/order/package/rts"
PRINT_AWB = "/order/package/document/get"
CANCEL_VALIDATE = "/order/reverse/cancel/validate"
CANCEL_CREATE = "/order/reverse/cancel/create"
UPDATE_SELLABLE_QUANTITY = "/product/stock/sellable/update"
GET_PRODUCTS = "/products/get"
GET_PRODUCT_ITEM = "/product/item/get"
TRANSACTION_DETAILS = "/finance/transaction/details/get"
PAYOUT_STATUS = "/finance/payout/status/get"

ORDERS_PAGE = 100  # GetOrders: limit at most 100
ITEMS_BATCH = 50  # GetMultipleOrderItems: at most 50 order ids
STOCK_BATCH = 50  # UpdateSellableQuantity: at most 50 SKUs per payload
PRODUCTS_PAGE = 50  # GetProducts: limit at most 50
# GetProducts: sku_seller_list takes up to 100 SellerSkus, but an answer holds at most `limit`
# (50) products, so 50 SKUs a call always fit in one page.
SELLER_SKU_BATCH = 50
FULFIL_BATCH = 20  # pack / rts / print AWB: at most 20 packages
TRANSACTIONS_PAGE = 500  # QueryTransactionDetails: limit at most 500
TRANSACTION_WINDOW = timedelta(days=179)  # end_time - start_time under 180 days

AUTH_CODES = {"IllegalAccessToken", "IllegalRefreshToken", "InvalidCode", "AUTH_TYPE_UNSUPPORTED"}
# ApiCallLimit: "this ban will last 1 seconds"; 901: "retry in the next second".
RATE_CODES = {"ApiCallLimit", "AppCallLimit", "SellerCallLimit", "901"}
RETRY_CODES = {"ServiceTimeout", "ServiceUnavailable", "InternalError"}
PACKABLE = {"pending", "repacked"}  # only these may be packed (order status flow)
CANCELLABLE = {"pending", "repacked", "packed", "ready_to_ship", "ready_to_ship_pending"}
PRINTABLE = {"packed", "ready_to_ship", "ready_to_ship_pending"}  # PrintAWB refuses other statuses
STOCK_FAILED = "501"  # UpdateSellableQuantity: "check the detail field ... the SKU where the error occur"

# Lazada's dates (transaction_date, statements' created_at, the date filters) are the seller
# country's local dates.
COUNTRY_UTC_OFFSET = {"vn": 7, "th": 7, "id": 7, "sg": 8, "my": 8, "ph": 8}


def sign(app_secret: str, api_path: str, params: Mapping[str, str]) -> str:
	"""Lazada's request signature: HMAC-SHA256(app_secret, api_path + k1v1k2v2...), uppercase hex.

	`params` are every parameter sent (system and business) as the strings sent; "sign" is left
	out, the rest sorted by name in ASCII order.
	"""
	message = api_path + "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
	return hmac.new(app_secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def push_signature(app_key: str, app_secret: str, body: bytes) -> str:
	"""The Authorization header of a push: hex HMAC-SHA256 keyed with the app secret over app_key + body."""
	return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + body, hashlib.sha256).hexdigest()


def classify_error(code: str, message: str, kind: str = "", status: int | None = None) -> ConnectorError:
	"""The exception for a Lazada error answer {"code", "type", "message", "request_id"}."""
	text = f"Lazada {code}: {message}".strip()
	if code in AUTH_CODES:
		return AuthError(text, code=code, status=status)
	if code in RATE_CODES or "calllimit" in code.lower():
		return RateLimited(text, code=code, status=status, retry_after=1.0)
	# type "ISP" is a backend service error: Lazada's advice is to try again later.
	if code in RETRY_CODES or kind.upper() == "ISP":
		return RetryableError(text, code=code, status=status)
	return ConnectorError(text, code=code, status=status)


class LazadaConnector(MarketplaceConnector):
	"""One Lazada shop.

	config.app_key / app_secret are the app's; access_token / refresh_token the seller's, and
	exchange_code / refresh_tokens write the new ones back into config as well as returning them.
	config.base_url defaults to Lazada Vietnam's gateway, config.auth_base_url to auth.lazada.com;
	config.extra may give "country" (the seller's country in the token answer, "vn" by default)
	and "currency" (VND by default).
	"""

	platform = "Lazada"
	stock_batch_limit = STOCK_BATCH
	max_order_offset = 5000  # GetOrders: "offset ... Maximum value: 5000"

	def __init__(self, config: ChannelConfig, http=None, clock=time.time):
		super().__init__(config, http)
		self.clock = clock  # injectable so tests can send stale timestamps
		self._order_cache: dict[str, dict] = {}  # GetOrders rows, so details need not fetch them again

	# --- plumbing ------------------------------------------------------------------------
	@property
	def api_base(self) -> str:
		return (self.config.base_url or API_BASE).rstrip("/")

	@property
	def auth_base(self) -> str:
		return (self.config.auth_base_url or AUTH_BASE).rstrip("/")

	@property
	def currency(self) -> str:
		return str(self.config.extra.get("currency") or "VND").upper()

	def _now(self) -> datetime:
		return datetime.fromtimestamp(self.clock(), tz=timezone.utc)

	def _call(
		self,
		path: str,
		params: Mapping | None = None,
		method: str = "GET",
		seller: bool = True,
		base: str = "",
		ok_codes: tuple[str, ...] = ("0",),
	) -> dict:
		"""One signed call, retried as a whole (fresh timestamp and sign) on retryable errors."""

		def attempt() -> dict:
			sent = {key: _param(value) for key, value in (params or {}).items() if value is not None}
			sent.update(app_key=str(self.config.app_key), sign_method="sha256", timestamp=str(int(self.clock() * 1000)))
			if seller:
				if not self.config.access_token:
					raise AuthError("Lazada shop is not connected: no access token", code="no_token")
				sent["access_token"] = self.config.access_token
			sent["sign"] = sign(self.config.app_secret, path, sent)
			url = (base or self.api_base) + path
			if method == "GET":
				response = self.http.send("GET", url, params=sent)
			else:
				response = self.http.send("POST", url, data=sent)
			body = self.http.json(response)
			if not isinstance(body, dict):
				raise ConnectorError(f"Lazada {path}: answer is not an object", status=response.status_code)
			code = str(body.get("code", "0"))
			if code not in ok_codes:
				exc = classify_error(code, str(body.get("message") or ""), str(body.get("type") or ""), response.status_code)
				exc.args = (f"{path}: {exc.args[0]} (request_id {body.get('request_id', '')})",)
				raise exc
			return body

		return self.http.call(attempt)

	# --- authorization -------------------------------------------------------------------
	def authorization_url(self, redirect_uri: str, state: str = "") -> str:
		"""Where the seller logs in and grants the app; Lazada redirects to redirect_uri?code=...&state=...

		redirect_uri must be the callback registered for the app on open.lazada.com.
		"""
		query = {
			"response_type": "code",
			"force_auth": "true",
			"redirect_uri": redirect_uri,
			"client_id": self.config.app_key,
		}
		if state:
			query["state"] = state
		if self.config.extra.get("country"):
			query["country"] = str(self.config.extra["country"]).lower()
		return f"{self.auth_base}{AUTHORIZE}?{urlencode(query)}"

	def exchange_code(self, code: str, **params) -> TokenSet:
		"""Trade the code from the callback (valid 30 minutes, once) for the seller's tokens."""
		body = self._call(TOKEN_CREATE, {"code": code}, method="POST", seller=False, base=self.auth_base + "/rest")
		return self._take_tokens(body)

	def refresh_tokens(self) -> TokenSet:
		"""A new access token (and refresh token) from the current refresh token; AuthError when
		Lazada refuses it (expired, revoked, or a Service Market app that cannot refresh)."""
		if not self.config.refresh_token:
			raise AuthError("Lazada shop has no refresh token: the seller must authorize again", code="no_token")
		body = self._call(
			TOKEN_REFRESH,
			{"refresh_token": self.config.refresh_token},
			method="POST",
			seller=False,
			base=self.auth_base + "/rest",
		)
		return self._take_tokens(body)

	def _take_tokens(self, body: dict) -> TokenSet:
		if not body.get("access_token"):
			raise ConnectorError("Lazada token answer has no access_token")
		now = self._now()
		expires_in = _int(body.get("expires_in"))
		refresh_expires_in = _int(body.get("refresh_expires_in"))
		infos = body.get("country_user_info") or body.get("country_user_info_list") or []
		if isinstance(infos, dict):  # one documented sample keys them by country
			infos = [dict(info, country=country) for country, info in infos.items() if isinstance(info, dict)]
		wanted = str(self.config.extra.get("country") or body.get("country") or "vn").lower()
		info = next((i for i in infos if str(i.get("country") or "").lower() == wanted), infos[0] if infos else {})
		tokens = TokenSet(
			access_token=str(body["access_token"]),
			refresh_token=str(body.get("refresh_token") or ""),
			access_expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
			# refresh_expires_in 0 means this token cannot be refreshed at all
			refresh_expires_at=now + timedelta(seconds=refresh_expires_in) if refresh_expires_in > 0 else None,
			shop_id=str(info.get("seller_id") or ""),
			extra={
				"account": body.get("account"),
				"country": body.get("country"),
				"account_platform": body.get("account_platform"),
				"user_id": str(info.get("user_id") or ""),
				"short_code": str(info.get("short_code") or ""),
				"refreshable": refresh_expires_in > 0,
			},
		)
		self.config.access_token = tokens.access_token
		self.config.refresh_token = tokens.refresh_token
		if tokens.shop_id:
			self.config.shop_id = tokens.shop_id
		return tokens

	# --- orders in -----------------------------------------------------------------------
	def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> bool:
		"""True when the Authorization header is hex HMAC-SHA256(app_secret, app_key + raw body)."""
		received = next((str(v) for k, v in headers.items() if str(k).lower() == "authorization"), "")
		expected = push_signature(str(self.config.app_key), self.config.app_secret, body)
		return bool(received) and hmac.compare_digest(expected, received.strip().lower())

	def parse_webhook(self, body: bytes) -> list[WebhookEvent]:
		"""One push is one message. message_type 0 (trade order) -> "order_status" with the
		order_status word; 10 (reverse order: cancel/return requests) -> "order_status" with an
		empty status, since reverse_status is no order status and the order must be read again;
		anything else (token expiry alert 8, products...) -> "other". The whole message is in data."""
		try:
			message = json.loads(body)
		except ValueError:
			raise ConnectorError("Lazada push body is not JSON") from None
		if not isinstance(message, dict):
			raise ConnectorError("Lazada push body is not an object")
		data = message.get("data") if isinstance(message.get("data"), dict) else {}
		order_id = str(data.get("trade_order_id") or "")
		kind = _int(message.get("message_type"), default=-1)
		if kind == 0 and order_id:
			return [WebhookEvent("order_status", order_id, str(data.get("order_status") or ""), message)]
		if kind == 10 and order_id:
			return [WebhookEvent("order_status", order_id, "", message)]
		return [WebhookEvent("other", order_id, "", message)]

	def list_updated_orders(self, since: datetime, until: datetime) -> Iterator[str]:
		"""Ids of orders updated in [since, until], oldest update first, each once.

		Pages by offset; past GetOrders' maximum offset it starts again from the last order's
		updated_at (update_after is inclusive, so nothing falls between)."""
		after, seen, offset = _aware(since), set(), 0
		while True:
			params = {
				"update_after": _iso(after),
				"update_before": _iso(until),
				"sort_by": "updated_at",
				"sort_direction": "ASC",
				"offset": offset,
				"limit": ORDERS_PAGE,
			}
			orders = (self._call(GET_ORDERS, params).get("data") or {}).get("orders") or []
			for order in orders:
				order_id = str(order.get("order_id") or "")
				if not order_id:
					continue
				if len(self._order_cache) > 10 * self.max_order_offset:
					self._order_cache.clear()  # a poll nobody read the details of
				self._order_cache[order_id] = order
				if order_id not in seen:
					seen.add(order_id)
					yield order_id
			if len(orders) < ORDERS_PAGE:
				return
			offset += len(orders)
			if offset > self.max_order_offset:
				last = parse_datetime(orders[-1].get("updated_at"), "updated_at")
				if last is None or _aware(last) <= after:
					raise ConnectorError(
						f"Lazada GetOrders: more than {self.max_order_offset} orders updated at {_iso(after)}; poll a shorter window"
					)
				after, offset = _aware(last), 0

	def get_order_details(self, order_ids: list[str]) -> list[dict]:
		"""[{"order": GetOrder object, "items": its order items}] in the order asked, each id once.

		Orders come from the last list_updated_orders when it listed them (same object as
		GetOrder), else one GetOrder each; items come 50 orders per GetMultipleOrderItems call."""
		ids = list(dict.fromkeys(str(i).strip() for i in order_ids if str(i).strip()))
		orders = {}
		for order_id in ids:
			order = self._order_cache.pop(order_id, None)
			if order is None:
				order = self._call(GET_ORDER, {"order_id": order_id}).get("data")
				if not isinstance(order, dict) or not order:
					raise ConnectorError(f"Lazada order {order_id} not found")
			orders[order_id] = order
		items: dict[str, list] = {order_id: [] for order_id in ids}
		for batch in _chunks(ids, ITEMS_BATCH):
			rows = self._call(GET_MULTIPLE_ORDER_ITEMS, {"order_ids": [_id(i) for i in batch]}).get("data") or []
			for row in rows:
				order_id = str(row.get("order_id") or "")
				if order_id in items:
					items[order_id].extend(row.get("order_items") or [])
		return [{"order": orders[order_id], "items": items[order_id]} for order_id in ids]

	def map_order(self, raw: dict) -> ChannelOrder:
		"""raw is one element of get_order_details: {"order": {...}, "items": [...]}."""
		if not isinstance(raw, dict) or "order" not in raw or "items" not in raw:
			raise InvalidOrder('Lazada raw order must be {"order": {...}, "items": [...]}')
		return order_from_lazada(raw["order"], raw["items"])

	# --- fulfilment back -----------------------------------------------------------------
	def ship_order(self, order_id: str, **params) -> ShipmentInfo:
		"""Pack the order's pending items, set their package ready to ship, fetch the AWB label.

		Safe to call again after a failure half-way: items already packed are only set ready to
		ship, items already ready to ship or further only reported. params: delivery_type
		("dropship"), shipping_allocate_type ("TFS", the local-seller default), shipment_provider_code
		(cross-border sellers), label (True: fetch the PDF AWB; its pdf_url, or a data: URL, is
		label_url; skipped for a parcel already with the carrier). The first package is reported
		when the order has several.
		"""
		items = self._order_items(order_id)
		packages: OrderedDict[str, dict] = OrderedDict()
		to_pack = [item for item in items if str(item.get("status") or "").lower() in PACKABLE]
		if to_pack:
			request = {
				"pack_order_list": [{"order_id": _id(order_id), "order_item_list": [_id(i["order_item_id"]) for i in to_pack]}],
				"delivery_type": params.get("delivery_type") or "dropship",
				"shipping_allocate_type": params.get("shipping_allocate_type") or "TFS",
			}
			if params.get("shipment_provider_code"):
				request["shipment_provider_code"] = params["shipment_provider_code"]
			data = _fulfil_data(self._call(PACK, {"packReq": request}, method="POST"), PACK)
			for order in data.get("pack_order_list") or []:
				for row in order.get("order_item_list") or []:
					_raise_item_error(row, f"Lazada pack of order {order_id} item {row.get('order_item_id')}")
					package = packages.setdefault(str(row.get("package_id") or ""), {"rts": True})
					package.update(tracking=row.get("tracking_number"), carrier=row.get("shipment_provider"))
		for item in items:
			package_id = str(item.get("package_id") or "")
			word = str(item.get("status") or "").lower()
			if not package_id or word in PACKABLE or word in ("canceled", "cancelled", "unpaid"):
				continue
			package = packages.setdefault(package_id, {"rts": False})
			package["rts"] = package["rts"] or word == "packed"
			package["printable"] = package.get("printable", True) and word in PRINTABLE
			package.setdefault("tracking", item.get("tracking_code"))
			package.setdefault("carrier", item.get("shipment_provider"))
		packages.pop("", None)
		if not packages:
			statuses = sorted({str(item.get("status")) for item in items})
			raise ConnectorError(f"Lazada order {order_id} has nothing to ship (item statuses {', '.join(statuses)})")

		for batch in _chunks([p for p, info in packages.items() if info["rts"]], FULFIL_BATCH):
			request = {"packages": [{"package_id": package_id} for package_id in batch]}
			data = _fulfil_data(self._call(READY_TO_SHIP, {"readyToShipReq": request}, method="POST"), READY_TO_SHIP)
			for row in data.get("packages") or []:
				_raise_item_error(row, f"Lazada ready-to-ship of package {row.get('package_id')}")

		package_id, info = next(iter(packages.items()))
		label_url = ""
		# Lazada prints no AWB once the parcel is with the carrier: a re-run on a shipped order only reports.
		if params.get("label", True) and info.get("printable", True):
			request = {"doc_type": "PDF", "packages": [{"package_id": package_id}]}
			data = _fulfil_data(self._call(PRINT_AWB, {"getDocumentReq": request}), PRINT_AWB)
			label_url = str(data.get("pdf_url") or "")
			if not label_url and data.get("file"):
				label_url = f"data:application/pdf;base64,{data['file']}"
		return ShipmentInfo(
			order_id=str(order_id),
			package_id=package_id,
			tracking_number=str(info.get("tracking") or ""),
			carrier=str(info.get("carrier") or ""),
			label_url=label_url,
		)

	def cancel_order(self, order_id: str, reason: str = "") -> None:
		"""Cancel every item still cancellable (pending .. ready_to_ship) as the seller.

		Lazada's reason ids differ per country and order, so OrderCancelValidate is asked first;
		`reason` picks one by reason_id or reason_name. Without one, the first offered reason that
		is not about stock or price is used: Lazada sets the SKU's stock to 0 for those."""
		items = self._order_items(order_id)
		item_ids = [_id(i["order_item_id"]) for i in items if str(i.get("status") or "").lower() in CANCELLABLE]
		if not item_ids:
			statuses = sorted({str(item.get("status")) for item in items})
			raise ConnectorError(f"Lazada order {order_id} has no item that can be cancelled (statuses {', '.join(statuses)})")
		data = self._call(CANCEL_VALIDATE, {"order_id": _id(order_id), "order_item_id_list": item_ids}).get("data") or {}
		if str(data.get("tip_type") or "").lower() == "error":
			raise ConnectorError(f"Lazada refuses to cancel order {order_id}: {data.get('tip_content')}")
		reason_id = _pick_reason(data.get("reason_options") or [], reason, order_id)
		data = self._call(
			CANCEL_CREATE, {"order_id": _id(order_id), "order_item_id_list": item_ids, "reason_id": reason_id}
		).get("data") or {}
		if str(data.get("tip_type") or "").lower() == "error":
			raise ConnectorError(f"Lazada refused to cancel order {order_id}: {data.get('tip_content')}")

	def _order_items(self, order_id: str) -> list[dict]:
		items = self._call(GET_ORDER_ITEMS, {"order_id": _id(order_id)}).get("data") or []
		if not items:
			raise ConnectorError(f"Lazada order {order_id} has no items")
		return items

	# --- stock, money, products ----------------------------------------------------------
	def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
		"""Set sellable stock, 50 SKUs per UpdateSellableQuantity call, one result per update.

		listing_id is the ItemId, variant_id the SkuId, sku the SellerSku; warehouse_id, when
		given, is a multi-warehouse seller's WarehouseCode. Quantities below 0 are sent as 0
		(Lazada refuses negatives); a SKU updated twice sends the later quantity. When Lazada
		answers 501 with a per-SKU detail, the SKUs named there fail with its message (not
		retryable: a business refusal such as stock below what a campaign holds) and the others
		are done. A call that fails as a whole marks its updates failed, retryable as the error
		says; an auth error is raised (every call would fail).
		"""
		results: dict[int, PushResult] = {}
		skus: OrderedDict[tuple[str, str, str], dict] = OrderedDict()
		for index, update in enumerate(updates):
			if not (update.variant_id or update.sku):
				results[index] = PushResult(update, False, "no Lazada SkuId or SellerSku to update")
				continue
			entry = skus.setdefault((update.listing_id or "", update.variant_id or "", update.sku or ""), {"qty": OrderedDict(), "indexes": []})
			entry["qty"][update.warehouse_id or ""] = max(int(update.qty), 0)
			entry["indexes"].append(index)

		for batch in _chunks(list(skus.items()), STOCK_BATCH):
			try:
				body = self._call(
					UPDATE_SELLABLE_QUANTITY, {"payload": _stock_xml(batch)}, method="POST", ok_codes=("0", STOCK_FAILED)
				)
			except AuthError:
				raise
			except ConnectorError as exc:
				for _, entry in batch:
					for i in entry["indexes"]:
						results[i] = PushResult(updates[i], False, str(exc), exc.retryable)
				continue
			failures = _stock_failures(body) if str(body.get("code")) == STOCK_FAILED else {}
			whole_batch = str(body.get("code")) == STOCK_FAILED and not failures
			for (item_id, sku_id, seller_sku), entry in batch:
				message = failures.get(seller_sku) or failures.get(sku_id)
				if whole_batch:
					message = f"Lazada {STOCK_FAILED}: {body.get('message') or 'update failed'}"
				for i in entry["indexes"]:
					results[i] = PushResult(updates[i], message is None, message or "")
		return [results[i] for i in range(len(updates))]

	def read_stock(self, listings: list[StockUpdate]) -> dict[StockUpdate, int]:
		"""Stock Lazada shows now, keyed by the very StockUpdate objects given (their qty is ignored).

		Listings with an ItemId are read with GetProductItem (one call per ItemId); those with only
		a SellerSku with GetProducts' sku_seller_list (50 a call). A listing matches the product's
		SKU by SkuId (variant_id), else by SellerSku. The figure is the SKU's sellableStock (what
		UpdateSellableQuantity sets), or its quantity when Lazada leaves sellableStock out; with a
		warehouse_id, that WarehouseCode's entry of multiWarehouseInventories. SKUs Lazada does not
		report, and items it refuses to describe, are left out; auth errors and retryable errors
		that outlast the retries are raised.
		"""
		by_item: OrderedDict[str, list[StockUpdate]] = OrderedDict()
		by_seller_sku: OrderedDict[str, list[StockUpdate]] = OrderedDict()
		for listing in listings:
			if listing.listing_id:
				by_item.setdefault(str(listing.listing_id), []).append(listing)
			elif listing.sku:
				by_seller_sku.setdefault(str(listing.sku), []).append(listing)
		found: dict[StockUpdate, int] = {}
		for item_id, wanted in by_item.items():
			try:
				product = self._call(GET_PRODUCT_ITEM, {"item_id": _id(item_id)}).get("data")
			except AuthError:
				raise
			except ConnectorError as exc:
				if exc.retryable:
					raise
				continue  # not this seller's item (or no longer there)
			if isinstance(product, dict):
				found.update(_sku_stocks([product], wanted))
		for batch in _chunks(list(by_seller_sku), SELLER_SKU_BATCH):
			params = {"filter": "all", "offset": 0, "limit": PRODUCTS_PAGE, "sku_seller_list": batch}
			products = (self._call(GET_PRODUCTS, params).get("data") or {}).get("products") or []
			found.update(_sku_stocks(products, [listing for sku in batch for listing in by_seller_sku[sku]]))
		return found

	def get_order_settlement(self, order_id: str, start: date | None = None, end: date | None = None) -> OrderSettlement | None:
		"""The order's settlement from its QueryTransactionDetails rows (see finance.py); None while
		Lazada has posted none.

		Lazada searches transaction dates only: by default the 179 days up to today (the seller's
		local date); pass start/end for an older order. A longer range is read in windows under
		Lazada's 180 days."""
		end = end or self._today()
		start = start or end - TRANSACTION_WINDOW
		rows = self._transactions(start, end, trade_order_id=str(order_id))
		return order_settlement(str(order_id), rows, self.currency)

	def fetch_finance(self, since: datetime, until: datetime) -> FinancePeriod:
		"""Every transaction dated from since's local date to until's (both whole days), grouped into
		one settlement per order and adjustments, and the payout statements created in [since, until].

		An order whose rows straddle the period's edge comes back with the rows of the period only;
		get_order_settlement reads it whole."""
		period = finance_from_transactions(self._transactions(self._local_date(since), self._local_date(until)), self.currency)
		for settlement in period.settlements:
			settlement.whole_order = False  # the period's rows of the order, not necessarily all
		period.payouts = self._payouts(since, until)
		return period

	def _transactions(self, start: date, end: date, **filters) -> list[dict]:
		"""QueryTransactionDetails rows dated start..end, window by window (under 180 days), page by page."""
		rows = []
		for window_start, window_end in _date_windows(start, end, TRANSACTION_WINDOW):
			offset = 0
			while True:
				params = {**filters, "start_time": window_start.isoformat(), "end_time": window_end.isoformat()}
				page = self._call(TRANSACTION_DETAILS, {**params, "offset": offset, "limit": TRANSACTIONS_PAGE}).get("data") or []
				if not isinstance(page, list):
					raise ConnectorError(f"Lazada {TRANSACTION_DETAILS}: data is not a list")
				rows.extend(page)
				if len(page) < TRANSACTIONS_PAGE:
					break
				offset += len(page)
		return rows

	def _payouts(self, since: datetime, until: datetime) -> list[Payout]:
		"""GetPayoutStatus statements created in [since, until] (Lazada filters by created_after only)."""
		statements = self._call(PAYOUT_STATUS, {"created_after": self._local_date(since).isoformat()}).get("data") or []
		if not isinstance(statements, list):
			raise ConnectorError(f"Lazada {PAYOUT_STATUS}: data is not a list")
		low, high = self._local_naive(since), self._local_naive(until)
		kept = [row for row in statements if _created_within(row, low, high)]
		return payouts_from_statements(kept, self.currency)

	@property
	def local_zone(self) -> timezone:
		country = str(self.config.extra.get("country") or "vn").lower()
		return timezone(timedelta(hours=COUNTRY_UTC_OFFSET.get(country, 7)))

	def _today(self) -> date:
		return self._now().astimezone(self.local_zone).date()

	def _local_date(self, value: datetime) -> date:
		return _aware(value).astimezone(self.local_zone).date()

	def _local_naive(self, value: datetime) -> datetime:
		return _aware(value).astimezone(self.local_zone).replace(tzinfo=None)

	def list_products(self) -> Iterator[ListingInfo]:
		"""Every product (filter "all"), one ListingInfo per SKU: ItemId, SkuId, SellerSku, name."""
		offset = 0
		while True:
			data = self._call(GET_PRODUCTS, {"filter": "all", "offset": offset, "limit": PRODUCTS_PAGE}).get("data") or {}
			products = data.get("products") or []
			for product in products:
				attributes = product.get("attributes") if isinstance(product.get("attributes"), dict) else {}
				for sku in product.get("skus") or []:
					yield ListingInfo(
						listing_id=str(product.get("item_id") or ""),
						variant_id=str(sku.get("SkuId") or ""),
						sku=str(sku.get("SellerSku") or ""),
						title=str(attributes.get("name") or ""),
					)
			offset += len(products)
			if len(products) < PRODUCTS_PAGE or offset >= _int(data.get("total_products"), default=offset + 1):
				return


def _date_windows(start: date, end: date, width: timedelta) -> Iterator[tuple[date, date]]:
	"""[start, end] in consecutive whole-day windows, each spanning at most `width`."""
	while start <= end:
		window_end = min(start + width, end)
		yield start, window_end
		start = window_end + timedelta(days=1)


def _created_within(row: dict, low: datetime, high: datetime) -> bool:
	"""A statement Lazada does not date is kept: better booked once than never."""
	created = statement_created_at(row)
	return created is None or low <= created <= high


def _sku_stocks(products: list[dict], listings: list[StockUpdate]) -> dict[StockUpdate, int]:
	"""Match listings to the SKUs of GetProductItem / GetProducts products; see read_stock."""
	by_sku_id, by_seller_sku = {}, {}
	for product in products:
		for sku in (product.get("skus") or []) if isinstance(product, dict) else []:
			if not isinstance(sku, dict):
				continue
			if sku.get("SkuId") not in (None, ""):
				by_sku_id[str(sku["SkuId"])] = sku
			if sku.get("SellerSku") not in (None, ""):
				by_seller_sku[str(sku["SellerSku"])] = sku
	found = {}
	for listing in listings:
		sku = (by_sku_id.get(str(listing.variant_id)) if listing.variant_id else None) or (
			by_seller_sku.get(str(listing.sku)) if listing.sku else None
		)
		qty = _sku_stock(sku, listing.warehouse_id) if sku else None
		if qty is not None:
			found[listing] = qty
	return found


def _sku_stock(sku: dict, warehouse: str = "") -> int | None:
	if warehouse:
		for row in sku.get("multiWarehouseInventories") or []:
			if isinstance(row, dict) and str(row.get("warehouseCode") or "").casefold() == warehouse.casefold():
				return _int_or_none(row.get("sellableQuantity", row.get("quantity")))
		return None
	qty = _int_or_none(sku.get("sellableStock"))
	return qty if qty is not None else _int_or_none(sku.get("quantity"))


def _int_or_none(value) -> int | None:
	if value is None or isinstance(value, bool):
		return None
	try:
		return int(value)
	except (TypeError, ValueError):
		return None


def _stock_xml(batch: list) -> str:
	"""UpdateSellableQuantity's payload; single-warehouse form unless a WarehouseCode is given."""
	parts = ["<Request><Product><Skus>"]
	for (item_id, sku_id, seller_sku), entry in batch:
		parts.append("<Sku>")
		for tag, value in (("ItemId", item_id), ("SkuId", sku_id), ("SellerSku", seller_sku)):
			if value:
				parts.append(f"<{tag}>{escape(str(value))}</{tag}>")
		quantities = entry["qty"]
		if list(quantities) == [""]:
			parts.append(f"<SellableQuantity>{quantities['']}</SellableQuantity>")
		else:
			parts.append("<MultiWarehouseInventories>")
			for warehouse, qty in quantities.items():
				code = escape(warehouse or "dropshipping")  # the seller's own (dropship) warehouse
				parts.append(
					f"<MultiWarehouseInventory><WarehouseCode>{code}</WarehouseCode>"
					f"<SellableQuantity>{qty}</SellableQuantity></MultiWarehouseInventory>"
				)
			parts.append("</MultiWarehouseInventories>")
		parts.append("</Sku>")
	parts.append("</Skus></Product></Request>")
	return "".join(parts)


def _stock_failures(body: dict) -> dict[str, str]:
	"""SellerSku / SkuId -> message from a 501 answer's detail list."""
	failures = {}
	for row in body.get("detail") or []:
		if not isinstance(row, dict):
			continue
		message = str(row.get("message") or body.get("message") or "update failed")
		for key in ("seller_sku", "SellerSku", "sku_id", "SkuId"):
			if row.get(key) not in (None, ""):
				failures[str(row[key])] = message
	return failures


def _fulfil_data(body: dict, path: str) -> dict:
	"""The fulfilment APIs answer code "0" with their own {"success", "error_code", "error_msg"}."""
	result = body.get("result") if isinstance(body.get("result"), dict) else {}
	if str(result.get("success")).lower() != "true":
		code = str(result.get("error_code") or "")
		raise ConnectorError(f"Lazada {path}: {code}: {result.get('error_msg') or 'failed'}", code=code)
	return result.get("data") or {}


def _raise_item_error(row: dict, what: str) -> None:
	code = str(row.get("item_err_code", "0"))
	if code != "0":
		cls = RetryableError if str(row.get("retry")).lower() == "true" else ConnectorError
		raise cls(f"{what}: {code}: {row.get('msg') or 'failed'}", code=code)


def _pick_reason(options: list[dict], reason: str, order_id: str) -> str:
	if not options:
		raise ConnectorError(f"Lazada offers no cancellation reason for order {order_id}")
	if reason:
		wanted = reason.strip().casefold()
		for option in options:
			if wanted in (str(option.get("reason_id")).casefold(), str(option.get("reason_name") or "").strip().casefold()):
				return str(option.get("reason_id"))
		offered = ", ".join(f"{o.get('reason_id')} {o.get('reason_name')}" for o in options)
		raise ConnectorError(f"Lazada does not offer reason {reason!r} for order {order_id}; it offers: {offered}")
	for option in options:
		name = str(option.get("reason_name") or "").lower()
		if "stock" not in name and "pric" not in name:
			return str(option.get("reason_id"))
	return str(options[0].get("reason_id"))


def _param(value) -> str:
	"""A parameter as sent and signed: lists and objects as compact JSON, booleans as true/false."""
	if isinstance(value, bool):
		return "true" if value else "false"
	if isinstance(value, (list, dict)):
		return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
	return str(value)


def _id(value):
	"""Lazada ids are numbers (Long) in JSON lists; keep anything else as text."""
	text = str(value).strip()
	return int(text) if text.isdigit() else text


def _int(value, default: int = 0) -> int:
	try:
		return int(value)
	except (TypeError, ValueError):
		return default


def _aware(value: datetime) -> datetime:
	return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _iso(value: datetime) -> str:
	"""GetOrders' date format, YYYY-MM-DDTHH:mm:ss±HH:MM."""
	return _aware(value).replace(microsecond=0).isoformat()


def _chunks(values: list, size: int) -> Iterator[list]:
	for start in range(0, len(values), size):
		yield values[start : start + size]
