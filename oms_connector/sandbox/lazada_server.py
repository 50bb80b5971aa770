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
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

from .local_server import LocalServer

TIMESTAMP_TOLERANCE_MS = 7200 * 1000
ISO_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:?\d{2})$")
AUTH_PATHS = {"/auth/token/create", "/auth/token/refresh"}
POST_ONLY = {"/order/fulfill/pack", "/order/package/rts"}
CANCELLABLE = {"pending", "repacked", "packed", "ready_to_ship", "ready_to_ship_pending"}


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
		self.transactions: list[dict] = []  # QueryTransactionDetails rows
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
		"""What a restarted stand-in must remember (JSON): grants, orders and stock."""
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
			"country_user_info": [{"country": "vn", "user_id": "100000101", "seller_id": self.seller_id, "short_code": "VNFAKE01"}],
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
		try:
			start, end = date.fromisoformat(_require(q, "start_time")), date.fromisoformat(_require(q, "end_time"))
		except ValueError:
			raise LazadaError("17", "Invalid Date Format") from None
		if (end - start).days >= 180 or end < start:
			raise LazadaError("1000012", "endTime - startTime must should be less than 180 days")
		limit, offset = _int(q, "limit", 100), _int(q, "offset", 0)
		if not 1 <= limit <= 500:
			raise LazadaError("19", "Invalid Limit")
		rows = [
			row
			for row in self.transactions
			if (not q.get("trade_order_id") or row["order_no"] == q["trade_order_id"])
			and start <= datetime.strptime(row["transaction_date"], "%d %b %Y").date() <= end
		]
		return {"data": rows[offset : offset + limit]}


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


def _iso(value: str) -> datetime:
	return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
