"""A local stand-in for the Lazada Open Platform gateway (lazop), strict the way Lazada is.

It checks every request as Lazada's documentation says, with its own implementation of the
signing rules (nothing is imported from the connector):
- common parameters, in the query or the POSTed form: app_key, timestamp (ms, within 7200 s
  of now), sign_method=sha256 and sign; seller APIs also access_token;
- sign = uppercase hex HMAC-SHA256(app_secret, api path + name1value1name2value2...) over every
  parameter but sign, sorted by name;
- per-API limits: GetOrders limit <= 100 and offset <= max_offset, GetMultipleOrderItems <= 50
  order ids, UpdateSellableQuantity <= 50 SKUs in its XML payload, GetProducts limit <= 50,
  pack/rts/print <= 20 packages, QueryTransactionDetails window < 180 days and limit <= 500,
  GetProducts sku_seller_list <= 100 SellerSkus;
- finance: QueryTransactionDetails pages the rows posted with settle_order / add_transaction
  (dates YYYY-MM-DD, filters trade_order_id, trade_order_line_id, trans_type), GetPayoutStatus
  answers the statements pay_out closed, created on or after created_after;
- stock reads (GetProductItem by item_id, GetProducts) answer each SKU's sellableStock, quantity
  and multiWarehouseInventories from what UpdateSellableQuantity stored;
- pack only pending/repacked items, rts only packed packages, cancel only pending..ready_to_ship
  items with a reason OrderCancelValidate offered;
- tokens: a code and a refresh token work once; access tokens can be expired on demand.
Faults can be queued per API path: HTTP 429, any 5xx, or a Lazada error code (ApiCallLimit...).
Every authenticated request is recorded in `calls` so tests can check batching and paging.
The seller's consent page /oauth/authorize redirects straight back with a fresh code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

from .local_server import LocalServer

TIMESTAMP_TOLERANCE_MS = 7200 * 1000
ISO_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:?\d{2})$")
AUTH_PATHS = {"/auth/token/create", "/auth/token/refresh"}
POST_ONLY = {"/order/fulfill/pack", "/order/package/rts"}
CANCELLABLE = {"pending", "repacked", "packed", "ready_to_ship", "ready_to_ship_pending"}
VN = timezone(timedelta(hours=7))  # Lazada Vietnam's dates are local dates
NOT_PAID, PAID = "Not paid", "Paid"  # QueryTransactionDetails paid_status, as its example spells it
VN_WITHHOLDING_FROM = date(2025, 7, 1)  # Decree 117/2025: platforms withhold VAT and PIT from then on
# settle_order's rates: commission and payment fee of a Lazada VN shop; withheld VAT 1% and PIT 0.5%
# of the sale (Decree 117/2025's rates for goods).
DEFAULT_FEE_RATES = {"commission": Decimal("0.05"), "payment": Decimal("0.02"), "vat": Decimal("0.01"), "pit": Decimal("0.005")}
# Names of the fee types the stand-in posts, from Lazada's fee_type enum list.
FEE_NAMES = {
	"13": "Item Price Credit", "14": "Reversal Item Price", "118": "Promotional Charges Vouchers",
	"121": "Reversal Promotional Charges Vouchers", "16": "Commission", "15": "Reversal Commission",
	"3": "Payment Fee", "4": "Payment Fee Credit", "8": "Shipping Fee (Paid By Customer)",
	"7": "Shipping Fee Paid by Seller", "157": "Auto. Shipping fee subsidy (by Lazada)", "59": "Item Price Subsidy",
	"112": "Sponsored Product Fee", "54": "Penalty", "85": "Lost Claim", "235": "Seller balance adjustments - Debit",
}


class LazadaError(Exception):
	def __init__(self, code: str, message: str, kind: str = "ISV", status: int = 200, **extra):
		super().__init__(message)
		self.code, self.message, self.kind, self.status, self.extra = code, message, kind, status, extra


def lazada_sign(app_secret: str, api: str, params: dict[str, str]) -> str:
	"""The documented algorithm, written out independently of the connector."""
	names = sorted(name for name in params if name != "sign")
	text = api
	for name in names:
		text = text + name + params[name]
	mac = hmac.new(app_secret.encode("utf-8"), digestmod=hashlib.sha256)
	mac.update(text.encode("utf-8"))
	return mac.hexdigest().upper()


class FakeLazada(LocalServer):
	def __init__(self, app_key: str = "112233", app_secret: str = "fake-lazada-app-secret-0123456789", seller_id: str = "200000000101", clock=time.time):
		self.app_key = app_key
		self.app_secret = app_secret
		self.seller_id = seller_id
		self.clock = clock
		self.max_offset = 5000  # GetOrders' documented maximum offset
		self.orders: dict[str, dict] = {}  # order_id -> GetOrder object (statuses derived from items)
		self.items: dict[str, list[dict]] = {}  # order_id -> order items, one per unit
		self.products: list[dict] = []  # GetProducts "products" rows
		self.transactions: list[dict] = []  # QueryTransactionDetails rows, in the order posted
		self.statements: list[dict] = []  # GetPayoutStatus statements, oldest first
		self.short_code = "VNFAKE01"  # the seller code Lazada puts in transaction and statement numbers
		self.currency = "VND"
		self.stock: dict[str, int] = {}  # SkuId or SellerSku -> sellable quantity
		self.warehouse_stock: dict[str, dict[str, int]] = {}  # SkuId or SellerSku -> WarehouseCode -> quantity
		self.stock_failures: dict[str, str] = {}  # SellerSku -> message Lazada answers for it
		self.cancel_reasons = [
			{"reason_name": "Out of Stock", "reason_id": "10000021"},
			{"reason_name": "Sourcing Delay", "reason_id": "10000019"},
			{"reason_name": "Wrong Price or Pricing Error", "reason_id": "10000023"},
		]
		self.cancellations: list[dict] = []
		self.calls: list[dict] = []
		self._access: set[str] = set()
		self._refresh: dict[str, bool] = {}  # token -> used
		self._codes: dict[str, bool] = {}  # code -> used
		self._faults: dict[str, list[tuple[str, str]]] = {}
		self._counter = 0
		self._lock = threading.Lock()

	@property
	def url(self) -> str:
		return self.base_url

	@property
	def api_url(self) -> str:
		return self.url + "/rest"

	# --- test controls -------------------------------------------------------------------
	def issue_tokens(self) -> tuple[str, str]:
		access, refresh = f"AT-{secrets.token_hex(8)}", f"RT-{secrets.token_hex(8)}"
		with self._lock:
			self._access.add(access)
			self._refresh[refresh] = False
		return access, refresh

	def accept_tokens(self, access: str, refresh: str) -> None:
		"""Take a token pair as if this stand-in had issued it (the demo's pre-connected shop)."""
		with self._lock:
			self._access.add(access)
			self._refresh.setdefault(refresh, False)

	def export_state(self) -> dict:
		"""What a restarted stand-in must remember (JSON): grants, orders, stock and finance."""
		with self._lock:
			return json.loads(
				json.dumps(
					{
						"access": sorted(self._access),
						"refresh": self._refresh,
						"orders": self.orders,
						"items": self.items,
						"stock": self.stock,
						"warehouse_stock": self.warehouse_stock,
						"transactions": self.transactions,
						"statements": self.statements,
						"counter": self._counter,
					}
				)
			)

	def import_state(self, state: dict) -> None:
		"""Take back what export_state gave."""
		with self._lock:
			self._access.update(state.get("access") or [])
			self._refresh.update(state.get("refresh") or {})
			self.orders.update(state.get("orders") or {})
			self.items.update(state.get("items") or {})
			self.stock.update(state.get("stock") or {})
			self.warehouse_stock.update(state.get("warehouse_stock") or {})
			known = {row["transaction_number"] for row in self.transactions}
			self.transactions.extend(row for row in state.get("transactions") or [] if row["transaction_number"] not in known)
			numbers = {statement["statement_number"] for statement in self.statements}
			self.statements.extend(s for s in state.get("statements") or [] if s["statement_number"] not in numbers)
			self._counter = max(self._counter, int(state.get("counter") or 0))

	def expire_access_token(self, token: str | None = None) -> None:
		"""Make one access token (or all) answer IllegalAccessToken from now on."""
		with self._lock:
			if token is None:
				self._access.clear()
			else:
				self._access.discard(token)

	def fail(self, path: str, kind: str, times: int = 1, message: str = "") -> None:
		"""Answer the next `times` calls to `path` with HTTP 429, a 5xx status ("500", "503") or a
		Lazada error code ("ApiCallLimit", "ServiceTimeout", ...)."""
		with self._lock:
			self._faults.setdefault(path, []).extend([(kind, message)] * times)

	def add_order(self, order: dict, items: list[dict]) -> None:
		order_id = str(order["order_id"])
		self.orders[order_id] = order
		self.items[order_id] = items

	def push_authorization(self, body: bytes) -> str:
		"""The Authorization header Lazada puts on a push: hex HMAC-SHA256(secret, app_key + body)."""
		return hmac.new(self.app_secret.encode(), (self.app_key + body.decode("utf-8")).encode("utf-8"), hashlib.sha256).hexdigest()

	def calls_to(self, path: str, ok_only: bool = True) -> list[dict]:
		return [c for c in self.calls if c["path"] == path and (c["code"] == "0" or not ok_only)]

	# --- HTTP ----------------------------------------------------------------------------
	def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
		parts = urlsplit(handler.path)
		params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
		if method == "POST":
			length = int(handler.headers.get("Content-Length") or 0)
			raw = handler.rfile.read(length).decode("utf-8")
			params.update({k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()})
		if parts.path == "/oauth/authorize":
			return self._authorize_page(handler, params)
		if not parts.path.startswith("/rest/"):
			return self._send(handler, 404, {"code": "InvalidApiPath", "message": parts.path})
		api = parts.path[len("/rest") :]
		call = {"method": method, "path": api, "params": params, "code": ""}
		try:
			with self._lock:
				self._check_signature(api, params)
				self.calls.append(call)  # every request that passed the signature check
				self._check_token(api, params)
				fault = self._take_fault(api)
			if fault:
				kind, message = fault
				call["code"] = kind
				if kind.isdigit():
					headers = {"Retry-After": "0"} if kind == "429" else None
					return self._send(handler, int(kind), {"error": message or f"HTTP {kind}"}, headers)
				text = message or "Api access frequency exceeds the limit. this ban will last 1 seconds"
				raise LazadaError(kind, text, "ISP" if kind.startswith("Service") else "ISV")
			if api in POST_ONLY and method != "POST":
				raise LazadaError("InvalidHttpMethod", f"{api} must be called with POST")
			handler_fn = getattr(self, "_api" + api.replace("/", "_"), None)
			if handler_fn is None:
				raise LazadaError("InvalidApiPath", f"no such API {api}", status=404)
			with self._lock:
				body = handler_fn(params)
			body.setdefault("code", "0")
			call["code"] = str(body["code"])
		except LazadaError as exc:
			call["code"] = exc.code
			body = {"code": exc.code, "type": exc.kind, "message": exc.message, **exc.extra}
			body["request_id"] = secrets.token_hex(12)
			return self._send(handler, exc.status, body)
		body["request_id"] = secrets.token_hex(12)
		self._send(handler, 200, body)

	def _send(self, handler, status: int, body: dict, headers: dict | None = None) -> None:
		raw = json.dumps(body).encode()
		handler.send_response(status)
		handler.send_header("Content-Type", "application/json;charset=UTF-8")
		handler.send_header("Content-Length", str(len(raw)))
		for name, value in (headers or {}).items():
			handler.send_header(name, value)
		handler.end_headers()
		handler.wfile.write(raw)

	def _authorize_page(self, handler, params: dict) -> None:
		"""The seller logs in and grants the app: redirect back with a one-time code."""
		if params.get("response_type") != "code" or params.get("client_id") != self.app_key or not params.get("redirect_uri"):
			return self._send(handler, 400, {"code": "InvalidRequest", "message": "bad authorization request"})
		code = f"0_{self.app_key}_{secrets.token_hex(10)}"
		with self._lock:
			self._codes[code] = False
		back = {"code": code}
		if params.get("state"):
			back["state"] = params["state"]
		handler.send_response(302)
		handler.send_header("Location", params["redirect_uri"] + "?" + urlencode(back))
		handler.send_header("Content-Length", "0")
		handler.end_headers()

	def _check_signature(self, api: str, params: dict) -> None:
		for name in ("app_key", "timestamp", "sign_method", "sign"):
			if not params.get(name):
				raise LazadaError("MissingParameter", f"the input parameter \u201c{name}\u201d that is mandatory for processing this request is not supplied")
		if params["app_key"] != self.app_key:
			raise LazadaError("InvalidAppKey", "the specified app key is invalid")
		if params["sign_method"] != "sha256":
			raise LazadaError("InvalidSignMethod", "sign_method must be sha256")
		try:
			timestamp = int(params["timestamp"])
		except ValueError:
			raise LazadaError("InvalidTimestamp", "timestamp must be milliseconds") from None
		if abs(self.clock() * 1000 - timestamp) > TIMESTAMP_TOLERANCE_MS:
			raise LazadaError("InvalidTimestamp", "timestamp differs from UTC by more than 7200 seconds")
		if not hmac.compare_digest(lazada_sign(self.app_secret, api, params), params["sign"]):
			raise LazadaError("IncompleteSignature", "The request signature does not conform to lazop standards")

	def _check_token(self, api: str, params: dict) -> None:
		if api in AUTH_PATHS:
			return
		if not params.get("access_token"):
			raise LazadaError("MissingParameter", "the input parameter \u201caccess_token\u201d that is mandatory for processing this request is not supplied")
		if params["access_token"] not in self._access:
			raise LazadaError("IllegalAccessToken", "The specified access token is invalid or expired")

	def _take_fault(self, api: str):
		queue = self._faults.get(api)
		return queue.pop(0) if queue else None

	def _next(self, prefix: str) -> str:
		self._counter += 1
		return f"{prefix}{self._counter:06d}"

	# --- auth ----------------------------------------------------------------------------
	def _token_answer(self) -> dict:
		access, refresh = f"AT-{secrets.token_hex(8)}", f"RT-{secrets.token_hex(8)}"
		self._access.add(access)
		self._refresh[refresh] = False
		return {
			"access_token": access,
			"refresh_token": refresh,
			"expires_in": 604800,
			"refresh_expires_in": 2592000,
			"country": "vn",
			"account_platform": "seller_center",
			"account": "shop@example.vn",
			"country_user_info": [{"country": "vn", "user_id": "100000101", "seller_id": self.seller_id, "short_code": self.short_code}],
		}

	def _api_auth_token_create(self, q: dict) -> dict:
		code = _require(q, "code")
		if self._codes.get(code) is not False:
			raise LazadaError("InvalidCode", "Invalid authorization code")
		self._codes[code] = True
		return self._token_answer()

	def _api_auth_token_refresh(self, q: dict) -> dict:
		token = _require(q, "refresh_token")
		if self._refresh.get(token) is not False:
			raise LazadaError("IllegalRefreshToken", "The specified refresh token is invalid or expired")
		self._refresh[token] = True
		answer = self._token_answer()
		answer["country_user_info_list"] = answer.pop("country_user_info")  # as RefreshAccessToken names it
		return answer

	# --- orders --------------------------------------------------------------------------
	def _order_view(self, order_id: str) -> dict:
		order = dict(self.orders[order_id])
		order["statuses"] = sorted({item["status"] for item in self.items[order_id]})
		return order

	def _api_orders_get(self, q: dict) -> dict:
		after = q.get("update_after") or q.get("created_after")
		if not after:
			raise LazadaError("MissingParameter", "Either UpdatedAfter or CreatedAfter is mandatory")
		for name in ("update_after", "update_before", "created_after", "created_before"):
			if q.get(name) and not ISO_SECONDS.match(q[name]):
				raise LazadaError("17", f'E017: "{q[name]}" Invalid Date Format')
		limit, offset = _int(q, "limit", 100), _int(q, "offset", 0)
		if not 1 <= limit <= 100:
			raise LazadaError("19", f'E019: "{limit}" Invalid Limit')
		if not 0 <= offset <= self.max_offset:
			raise LazadaError("14", f'E014: "{offset}" Invalid Offset')
		sort_by = q.get("sort_by", "created_at")
		if sort_by not in ("created_at", "updated_at"):
			raise LazadaError("75", "E075: Invalid sort filter.")
		direction = q.get("sort_direction", "DESC")
		if direction not in ("ASC", "DESC"):
			raise LazadaError("74", "E074: Invalid sort direction.")
		key = "updated_at" if q.get("update_after") else "created_at"
		low = _iso(after)
		high = _iso(q.get("update_before") or q.get("created_before") or "9999-12-31T00:00:00+00:00")
		rows = [
			self._order_view(order_id)
			for order_id, order in self.orders.items()
			if low <= _iso(order[key]) <= high and (not q.get("status") or q["status"] in {i["status"] for i in self.items[order_id]})
		]
		rows.sort(key=lambda o: (_iso(o[sort_by]), str(o["order_id"])), reverse=direction == "DESC")
		page = rows[offset : offset + limit]
		return {"data": {"count": len(page), "countTotal": len(rows), "orders": page}}

	def _api_order_get(self, q: dict) -> dict:
		order_id = _require(q, "order_id")
		if order_id not in self.orders:
			raise LazadaError("16", f'E016: "{order_id}" Invalid Order ID')
		return {"data": self._order_view(order_id)}

	def _api_order_items_get(self, q: dict) -> dict:
		order_id = _require(q, "order_id")
		if order_id not in self.orders:
			raise LazadaError("16", f'E016: "{order_id}" Invalid Order ID')
		return {"data": [dict(item) for item in self.items[order_id]]}

	def _api_orders_items_get(self, q: dict) -> dict:
		ids = _json_list(q, "order_ids", "56", "E056: Invalid OrdersIdList format. Must use array format [1,2]")
		if len(ids) > 50:
			raise LazadaError("38", "E038: Too many orders were requested")
		if any(not isinstance(i, int) for i in ids):
			raise LazadaError("56", "E056: Invalid OrdersIdList format. Must use array format [1,2]")
		if any(str(i) not in self.orders for i in ids):
			raise LazadaError("37", "E037: One or more order id in the list are incorrect")
		return {
			"data": [
				{"order_id": i, "order_number": i, "order_items": [dict(item) for item in self.items[str(i)]]} for i in ids
			]
		}

	# --- fulfilment ----------------------------------------------------------------------
	def _item(self, order_id: str, item_id) -> dict | None:
		return next((i for i in self.items.get(order_id, []) if str(i["order_item_id"]) == str(item_id)), None)

	def _package_items(self, package_id: str) -> list[dict]:
		return [i for items in self.items.values() for i in items if i.get("package_id") == package_id]

	def _api_order_fulfill_pack(self, q: dict) -> dict:
		request = _json_object(q, "packReq")
		orders = request.get("pack_order_list") or []
		if not orders or len(orders) > 20:
			return _fulfil_failure("700022", "batch size out of limit")
		if request.get("delivery_type") != "dropship" or not request.get("shipping_allocate_type"):
			return _fulfil_failure("700004", "param illegal")
		answer = []
		for entry in orders:
			order_id = str(entry.get("order_id"))
			if order_id not in self.orders:
				return _fulfil_failure("700021", "order not found")
			package_id, tracking = self._next("FP"), self._next("LZVN")
			rows = []
			for item_id in entry.get("order_item_list") or []:
				item = self._item(order_id, item_id)
				if item is None:
					rows.append({"order_item_id": item_id, "item_err_code": "700025", "msg": "order item not found", "retry": False})
				elif item["status"] not in ("pending", "repacked"):
					rows.append({"order_item_id": item_id, "item_err_code": "700026", "msg": "item current status not allow to pack", "retry": False})
				else:
					item.update(status="packed", package_id=package_id, tracking_code=tracking, shipment_provider="LEX VN")
					rows.append(
						{
							"order_item_id": item_id,
							"item_err_code": "0",
							"msg": "success",
							"tracking_number": tracking,
							"shipment_provider": "LEX VN",
							"package_id": package_id,
							"retry": False,
						}
					)
			answer.append({"order_id": int(order_id), "order_item_list": rows})
		return {"result": {"success": True, "data": {"pack_order_list": answer}}}

	def _api_order_package_rts(self, q: dict) -> dict:
		packages = _json_object(q, "readyToShipReq").get("packages") or []
		if not packages or len(packages) > 20:
			return _fulfil_failure("700022", "batch size out of limit")
		rows = []
		for entry in packages:
			package_id = str(entry.get("package_id"))
			items = self._package_items(package_id)
			if not items:
				rows.append({"package_id": package_id, "item_err_code": "11", "msg": "package not found", "retry": False})
			elif any(i["status"] != "packed" for i in items):
				rows.append({"package_id": package_id, "item_err_code": "700000", "msg": "current package status not allow to operation", "retry": False})
			else:
				for item in items:
					item["status"] = "ready_to_ship"
				rows.append({"package_id": package_id, "item_err_code": "0", "msg": "success", "retry": False})
		return {"result": {"success": True, "data": {"packages": rows}}}

	def _api_order_package_document_get(self, q: dict) -> dict:
		request = _json_object(q, "getDocumentReq")
		packages = request.get("packages") or []
		if request.get("doc_type") not in ("PDF", "HTML") or not packages or len(packages) > 20:
			return _fulfil_failure("700004", "param illegal")
		for entry in packages:
			items = self._package_items(str(entry.get("package_id")))
			if not items or any(i["status"] not in ("packed", "ready_to_ship") for i in items):
				return _fulfil_failure("700040", "There are no packages that support printing!")
		file = base64.b64encode(b"%PDF-1.4 fake awb").decode()
		first = packages[0]["package_id"]
		return {"result": {"success": True, "data": {"file": file, "doc_type": "PDF", "pdf_url": f"{self.url}/awb/{first}.pdf"}}}

	def _cancel_items(self, q: dict) -> tuple[str, list[dict]]:
		order_id = _require(q, "order_id")
		if order_id not in self.orders:
			raise LazadaError("122", "E0122: invalid trade order")
		ids = _json_list(q, "order_item_id_list", "102", "E0102: trade order line id is empty or invalid")
		items = [self._item(order_id, i) for i in ids]
		if not ids or any(i is None or i["status"] not in CANCELLABLE for i in items):
			raise LazadaError("123", f"E0123: invalid trade order lines {ids}")
		return order_id, items

	def _api_order_reverse_cancel_validate(self, q: dict) -> dict:
		self._cancel_items(q)
		return {"data": {"tip_content": "SKU stock may be set to 0 for some reasons", "tip_type": "warning", "reason_options": self.cancel_reasons}}

	def _api_order_reverse_cancel_create(self, q: dict) -> dict:
		order_id, items = self._cancel_items(q)
		reason_id = q.get("reason_id") or ""
		if reason_id not in {r["reason_id"] for r in self.cancel_reasons}:
			raise LazadaError("104", "E0104: reason is empty or invalid")
		for item in items:
			item["status"] = "canceled"
		self.cancellations.append({"order_id": order_id, "items": [i["order_item_id"] for i in items], "reason_id": reason_id})
		return {"data": {"tip_content": "", "tip_type": "warning"}}

	# --- products and stock --------------------------------------------------------------
	def _api_product_stock_sellable_update(self, q: dict) -> dict:
		try:
			root = ET.fromstring(_require(q, "payload"))
		except ET.ParseError:
			raise LazadaError("5", "E005: Invalid Request Format") from None
		skus = root.findall("./Product/Skus/Sku")
		if root.tag != "Request" or not skus:
			raise LazadaError("30", "E030: Empty Request")
		if len(skus) > 50:
			raise LazadaError("204", "E204: Too many SKU in one request")
		failures = []
		for sku in skus:
			sku_id, seller_sku = sku.findtext("SkuId") or "", sku.findtext("SellerSku") or ""
			warehouses = sku.findall("./MultiWarehouseInventories/MultiWarehouseInventory")
			codes = [w.findtext("WarehouseCode") or "dropshipping" for w in warehouses]
			quantities = [sku.findtext("SellableQuantity")] if sku.find("SellableQuantity") is not None else [
				w.findtext("SellableQuantity") for w in warehouses
			]
			if not (sku_id or seller_sku) or not quantities or any(not (x or "").isdigit() for x in quantities):
				failures.append({"field": "SellableQuantity", "message": "invalid SKU or quantity", "seller_sku": seller_sku, "sku_id": sku_id})
			elif seller_sku in self.stock_failures:
				failures.append({"field": "SellableQuantity", "message": self.stock_failures[seller_sku], "seller_sku": seller_sku, "sku_id": sku_id})
			else:
				key = sku_id or seller_sku
				if sku.find("SellableQuantity") is not None:
					self.warehouse_stock[key] = {"dropshipping": int(quantities[0])}
				else:  # the warehouses named are set, the others keep their quantity
					self.warehouse_stock.setdefault(key, {}).update({code: int(x) for code, x in zip(codes, quantities)})
				self.stock[key] = sum(self.warehouse_stock[key].values())
		if failures:
			raise LazadaError("501", "E501: Update product failed", detail=failures)
		return {"data": {}}

	def _api_products_get(self, q: dict) -> dict:
		if q.get("filter", "all") not in ("all", "live", "inactive", "deleted", "pending", "rejected", "sold-out"):
			raise LazadaError("36", "E036: Invalid status filter")
		limit, offset = _int(q, "limit", 20), _int(q, "offset", 0)
		if not 1 <= limit <= 50:
			raise LazadaError("19", "Invalid Limit")
		if not 0 <= offset <= 10000:
			raise LazadaError("14", f'E014: "{offset}" Invalid Offset')
		products = self.products
		if q.get("sku_seller_list"):
			wanted = _json_list(q, "sku_seller_list", "InvalidParameter", "sku_seller_list must be a JSON array")
			if len(wanted) > 100:
				raise LazadaError("InvalidParameter", "sku_seller_list has more than 100 SKUs")
			wanted = {str(sku) for sku in wanted}
			products = [p for p in products if any(str(s.get("SellerSku")) in wanted for s in p.get("skus") or [])]
		page = [self._product_view(p) for p in products[offset : offset + limit]]
		return {"data": {"total_products": len(products), "products": page}}

	def _api_product_item_get(self, q: dict) -> dict:
		item_id = q.get("item_id")
		if not item_id:  # seller_sku is deprecated: Lazada reads items by item_id
			raise LazadaError("MissingParameter", "the input parameter \u201citem_id\u201d that is mandatory for processing this request is not supplied")
		product = next((p for p in self.products if str(p.get("item_id")) == item_id), None)
		if product is None:
			raise LazadaError("EDIT_ITEM_NOT_BELONG_SELLER", "The item does not belong to the seller")
		return {"data": self._product_view(product)}

	def _product_view(self, product: dict) -> dict:
		"""A product as the read APIs show it: each SKU's stock as the last update left it."""
		view = dict(product)
		view["skus"] = []
		for sku in product.get("skus") or []:
			sku = dict(sku)
			key = next((str(k) for k in (sku.get("SkuId"), sku.get("SellerSku")) if k not in (None, "") and str(k) in self.stock), None)
			if key is not None:
				warehouses = self.warehouse_stock.get(key) or {"dropshipping": self.stock[key]}
				sku.update(
					quantity=self.stock[key],
					sellableStock=self.stock[key],
					Available=self.stock[key],
					multiWarehouseInventories=[
						{"warehouseCode": code, "quantity": qty, "sellableQuantity": qty, "occupyQuantity": 0, "withholdQuantity": 0, "totalQuantity": qty}
						for code, qty in warehouses.items()
					],
				)
			view["skus"].append(sku)
		return view

	# --- finance -------------------------------------------------------------------------
	def _api_finance_transaction_details_get(self, q: dict) -> dict:
		start, end = _date_param(q, "start_time"), _date_param(q, "end_time")
		if (end - start).days >= 180 or end < start:
			raise LazadaError("1000012", "endTime - startTime must should be less than 180 days")
		limit, offset = _int(q, "limit", 100), _int(q, "offset", 0)
		if not 1 <= limit <= 500:
			raise LazadaError("19", "Invalid Limit")
		if offset < 0:
			raise LazadaError("14", f'E014: "{offset}" Invalid Offset')
		trans_type = q.get("trans_type") or "-1"
		if trans_type != "-1" and trans_type not in {row["fee_type"] for row in self.transactions}:
			raise LazadaError("1000014", "Can not find that transactionType")
		wanted = {"order_no": q.get("trade_order_id"), "orderItem_no": q.get("trade_order_line_id")}
		rows = [
			dict(row)
			for row in self.transactions
			if start <= _transaction_day(row) <= end
			and all(not value or row[key] == value for key, value in wanted.items())
			and trans_type in ("-1", row["fee_type"])
		]
		return {"data": rows[offset : offset + limit]}

	def _api_finance_payout_status_get(self, q: dict) -> dict:
		after = _date_param(q, "created_after")
		return {"data": [dict(s) for s in self.statements if datetime.fromisoformat(s["created_at"]).date() >= after]}

	# --- finance test controls -----------------------------------------------------------
	def settle_order(self, order_id: str, at=None, fees: dict | None = None) -> list[str]:
		"""Post what Lazada posts once an order is delivered, from the order this stand-in holds:
		per sold unit its Item Price Credit (item_price), the seller's voucher as Promotional Charges
		Vouchers, Commission and Payment Fee; per order the Shipping Fee (Paid By Customer), the
		Shipping Fee Paid by Seller (shipping_fee_original) and Lazada's shipping subsidy; and, for
		transactions from 1 July 2025, Vietnam's withheld VAT and PIT (named only: Lazada publishes no
		fee_type for them). `fees` overrides DEFAULT_FEE_RATES by key; a rate of 0 posts no row.
		Cancelled units post nothing. Answers the new rows' transaction numbers."""
		rates = {**DEFAULT_FEE_RATES, **{key: Decimal(str(value)) for key, value in (fees or {}).items()}}
		unknown = set(rates) - set(DEFAULT_FEE_RATES)
		if unknown:
			raise ValueError(f"unknown fee rates {sorted(unknown)}; known: {sorted(DEFAULT_FEE_RATES)}")
		with self._lock:
			order_id = str(order_id)
			order, items = self.orders[order_id], self.items[order_id]
			sold = [item for item in items if item["status"] not in ("canceled", "cancelled")]
			day = self._day(at)
			numbers = []
			for item, voucher in zip(sold, _seller_vouchers(order, sold)):
				numbers += self._post_unit(order_id, item, voucher, rates, day)
			if sold:
				numbers += self._post_shipping(order_id, order, sold, day)
			return numbers

	def add_transaction(self, fee_type: str, amount, fee_name: str = "", order_no: str = "", at=None) -> str:
		"""Post one QueryTransactionDetails row (amount signed from the seller's side); answers its number."""
		with self._lock:
			return self._post(str(fee_type), fee_name or FEE_NAMES.get(str(fee_type), ""), Decimal(str(amount)), self._day(at), str(order_no or ""))

	def pay_out(self, at=None, paid: bool = True) -> str:
		"""Close every unpaid transaction into a GetPayoutStatus statement (paid unless told not) whose
		payout is their sum (0.00 when it is negative, carried to the next statement's opening
		balance); the rows become "Paid". Answers the statement number."""
		with self._lock:
			when = self._moment(at)
			rows = [row for row in self.transactions if row["paid_status"] == NOT_PAID]
			for row in rows:
				row["paid_status"] = PAID
			statement = _statement(rows, self._opening_balance(), self._statement_number(when.date()), when, paid, self.currency)
			self.statements.append(statement)
			return statement["statement_number"]

	def _post_unit(self, order_id: str, item: dict, seller_voucher: Decimal, rates: dict, day: date) -> list[str]:
		price = _decimal(item.get("item_price"))
		sale = price - seller_voucher
		paid = _decimal(item.get("paid_price")) if item.get("paid_price") not in (None, "") else sale
		posts = [("13", price), ("118", -seller_voucher), ("16", -sale * rates["commission"]), ("3", -paid * rates["payment"])]
		if day >= VN_WITHHOLDING_FROM:
			posts += [("", -sale * rates["vat"], "Withholding VAT"), ("", -sale * rates["pit"], "Withholding PIT")]
		return self._post_all(posts, order_id, item, day)

	def _post_shipping(self, order_id: str, order: dict, sold: list[dict], day: date) -> list[str]:
		paid = _decimal(order.get("shipping_fee")) if order.get("shipping_fee") not in (None, "") else sum(
			(_decimal(item.get("shipping_amount")) for item in sold), Decimal(0)
		)
		original = _decimal(order.get("shipping_fee_original")) or paid
		posts = [("8", paid), ("7", -original), ("157", _decimal(order.get("shipping_fee_discount_platform")))]
		return self._post_all(posts, order_id, sold[0], day)

	def _post_all(self, posts: list[tuple], order_id: str, item: dict, day: date) -> list[str]:
		numbers = []
		for fee_type, amount, *name in posts:
			amount = _round(amount, item.get("currency"))
			if amount:
				numbers.append(self._post(fee_type, name[0] if name else FEE_NAMES[fee_type], amount, day, order_id, item))
		return numbers

	def _post(self, fee_type: str, fee_name: str, amount: Decimal, day: date, order_no: str, item: dict | None = None) -> str:
		"""One row with every field QueryTransactionDetails documents, as its example spells them."""
		item = item or {}
		number = self._next(f"{self.short_code}-")
		monday = day - timedelta(days=day.weekday())  # Lazada's statements run Monday to Sunday
		self.transactions.append(
			{
				"order_no": order_no,
				"transaction_date": day.strftime("%d %b %Y"),
				"amount": f"{amount:.2f}",
				"paid_status": NOT_PAID,
				"shipping_provider": str(item.get("shipment_provider") or ""),
				"WHT_included_in_amount": "No",
				"payment_ref_id": "",
				"lazada_sku": str(item.get("shop_sku") or ""),
				"fee_type": fee_type,
				"transaction_type": fee_name,
				"orderItem_no": str(item.get("order_item_id") or ""),
				"orderItem_status": str(item.get("status") or ""),
				"reference": str(item.get("order_item_id") or ""),
				"fee_name": fee_name,
				"shipping_speed": "",
				"WHT_amount": "0.00",
				"transaction_number": number,
				"seller_sku": str(item.get("sku") or ""),
				"statement": f"{monday:%d %b %Y} - {monday + timedelta(days=6):%d %b %Y}",
				"details": "",
				"comment": "",
				"VAT_in_amount": "0.00",
				"shipment_type": "Dropshipping" if item else "",
			}
		)
		return number

	def _moment(self, at) -> datetime:
		"""`at` (unix seconds, a datetime or a date; now when None) as Vietnam's local time."""
		if at is None:
			at = self.clock()
		if isinstance(at, (int, float)):
			return datetime.fromtimestamp(at, VN).replace(tzinfo=None)
		if isinstance(at, datetime):
			return at.astimezone(VN).replace(tzinfo=None) if at.tzinfo else at
		return datetime.combine(at, datetime.min.time())

	def _day(self, at) -> date:
		return self._moment(at).date()

	def _opening_balance(self) -> Decimal:
		"""A negative closing balance carries over; a positive one was paid out."""
		closing = _decimal(self.statements[-1]["closing_balance"]) if self.statements else Decimal(0)
		return min(closing, Decimal(0))

	def _statement_number(self, day: date) -> str:
		"""Like the statement numbers Lazada VN answers ("VN344XRB8H-2026-0803"), unique here."""
		number, taken, n = f"{self.short_code}-{day:%Y-%m%d}", {s["statement_number"] for s in self.statements}, 1
		while number in taken:
			n += 1
			number = f"{self.short_code}-{day:%Y-%m%d}-{n}"
		return number


def _fulfil_failure(code: str, message: str) -> dict:
	return {"result": {"success": False, "error_code": code, "error_msg": message}}


def _require(q: dict, name: str) -> str:
	if not q.get(name):
		raise LazadaError("MissingParameter", f"the input parameter \u201c{name}\u201d that is mandatory for processing this request is not supplied")
	return q[name]


def _int(q: dict, name: str, default: int) -> int:
	try:
		return int(q.get(name, default))
	except ValueError:
		raise LazadaError("InvalidParameter", f"{name} must be a number") from None


def _json_list(q: dict, name: str, code: str, message: str) -> list:
	try:
		value = json.loads(_require(q, name))
	except ValueError:
		raise LazadaError(code, message) from None
	if not isinstance(value, list):
		raise LazadaError(code, message)
	return value


def _json_object(q: dict, name: str) -> dict:
	try:
		value = json.loads(_require(q, name))
	except ValueError:
		raise LazadaError("InvalidParameter", f"{name} is not JSON") from None
	if not isinstance(value, dict):
		raise LazadaError("InvalidParameter", f"{name} must be an object")
	return value


def _date_param(q: dict, name: str) -> date:
	value = _require(q, name)
	if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
		raise LazadaError("17", f'"{value}" Invalid Date Format')
	try:
		return date.fromisoformat(value)
	except ValueError:
		raise LazadaError("17", f'"{value}" Invalid Date Format') from None


def _transaction_day(row: dict) -> date:
	return datetime.strptime(row["transaction_date"], "%d %b %Y").date()


def _decimal(value) -> Decimal:
	return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _round(amount: Decimal, currency) -> Decimal:
	"""VND has no minor unit; the others here have two."""
	step = Decimal(1) if str(currency or "VND").upper() in ("VND", "IDR") else Decimal("0.01")
	return amount.quantize(step, rounding=ROUND_HALF_UP)


def _seller_vouchers(order: dict, sold: list[dict]) -> list[Decimal]:
	"""What the seller funds of each unit: its voucher_seller when the items split vouchers, else the
	order's voucher_seller on the first unit, else what the unit was paid under its price."""
	if any("voucher_seller" in item or "voucher_platform" in item for item in sold):
		return [_decimal(item.get("voucher_seller")) for item in sold]
	if "voucher_seller" in order or "voucher_platform" in order:
		return [_decimal(order.get("voucher_seller"))] + [Decimal(0)] * (len(sold) - 1)
	return [max(_decimal(i.get("item_price")) - _decimal(i.get("paid_price") or i.get("item_price")), Decimal(0)) for i in sold]


def _statement(rows: list[dict], opening: Decimal, number: str, when: datetime, paid: bool, currency: str) -> dict:
	"""A GetPayoutStatus statement of these rows, its subtotals as Lazada's "GetPayoutStatus response
	field resolution" page defines them."""

	def amount(fee_types: set[str]) -> Decimal:
		return sum((_decimal(r["amount"]) for r in rows if r["fee_type"] in fee_types), Decimal(0))

	item_revenue, refunds = amount({"13", "501"}), -amount({"14", "505"})
	others = [_decimal(r["amount"]) for r in rows if r["fee_type"] not in {"13", "501", "14", "505"}]
	other_revenue = sum((a for a in others if a > 0), Decimal(0))
	fees = -sum((a for a in others if a < 0), Decimal(0))
	subtotal1 = item_revenue + other_revenue - fees
	closing = opening + subtotal1 - refunds
	stamp = when.strftime("%Y-%m-%d %H:%M:%S")
	figures = {
		"opening_balance": opening, "item_revenue": item_revenue, "other_revenue_total": other_revenue,
		"fees_total": fees, "subtotal1": subtotal1, "refunds": refunds, "subtotal2": subtotal1 - refunds,
		"closing_balance": closing, "shipment_fee": -amount({"7"}), "shipment_fee_credit": amount({"8"}),
		"fees_on_refunds_total": amount({"15"}), "guarantee_deposit": Decimal(0),
	}
	statement = {key: f"{value:.2f}" for key, value in figures.items()}
	statement.update(
		statement_number=number, payout=f"{max(closing, Decimal(0)):.2f} {currency}", paid="1" if paid else "0",
		created_at=stamp, updated_at=stamp,
	)
	return statement


def _iso(value: str) -> datetime:
	return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
