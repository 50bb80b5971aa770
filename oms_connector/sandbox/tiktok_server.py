"""A local stand-in for TikTok Shop's Partner API (202309) and auth host.

It checks requests the way TikTok documents it, with its own signature code (it must not share
the client's signer, or a wrong algorithm would pass on both sides):
- query `app_key`, `timestamp` (unix seconds within [now - 5 min, now + 30 s]) and `sign`;
- sign = hex HMAC-SHA256 keyed by app_secret over
  app_secret + path + sorted key+value query pairs (minus sign, access_token) + raw body + app_secret;
- header `x-tts-access-token` for API calls; `shop_cipher` required on shop calls and refused on
  Get Authorized Shops;
- documented limits: page_size 1..100, ids <= 50 per detail call, SKUs of one product per
  inventory call, quantity 0..99,999, every warehouse of a SKU present;
- Get Product (GET /product/202309/products/{id}) answers the product with each SKU's
  inventory[] per warehouse as Update Inventory left it.
- Search Returns (POST /return_refund/202309/returns/search) answers from `returns` (return
  order objects the test adds), filtered by the body's order_ids / return_ids / return_types /
  return_status, page_size 1..50 (default 10), paged with next_page_token.
- Finance 202309: Get Statements (GET /finance/202309/statements, sort_field=statement_time
  required, statement_time_ge/lt, payment_status), Get Statement Transactions
  (.../statements/{id}/statement_transactions, sort_field=order_create_time required), Get Order
  Statement Transactions (.../orders/{id}/statement_transactions) and Get Payments
  (.../payments, sort_field=create_time required, create_time_ge/lt); page_size 1..100
  (default 20), paged with next_page_token. The money comes from the test controls settle_order,
  add_adjustment and pay_out: one statement per UTC day, fees negative as TikTok reports them.

Tests can make it answer HTTP 429/5xx or an error code a number of times, or expire the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from ..domain.order import currency_decimals
from .local_server import LocalServer

TIMESTAMP_PAST = 300  # seconds: "5 minutes before"
TIMESTAMP_FUTURE = 30  # seconds: "30 seconds beyond the current time"
DAY = 86_400
# Plausible VN fee rates for settle_order: commission on the sale after seller discounts, payment
# fee on what the buyer paid, and a service fee (Xtra programmes) that 202309 answers fold into
# fee_amount without a field of its own.
DEFAULT_FEE_RATES = {
	"platform_commission_amount": Decimal("0.06"),
	"transaction_fee_amount": Decimal("0.05"),
	"not_itemized": Decimal("0.03"),
}


def expected_sign(app_secret: str, path: str, query_pairs: list[tuple[str, str]], body: bytes, content_type: str) -> str:
	"""Recompute the signature from what actually arrived on the wire."""
	pieces = [path]
	for key, value in sorted((k, v) for k, v in query_pairs if k not in {"sign", "access_token"}):
		pieces.append(key)
		pieces.append(value)
	message = "".join(pieces).encode("utf-8")
	if not content_type.lower().startswith("multipart/form-data"):
		message += body
	secret = app_secret.encode("utf-8")
	return hmac.new(secret, secret + message + secret, hashlib.sha256).hexdigest()


@dataclass
class Failure:
	"""Answer the next `times` matching requests with this instead of the real thing."""

	times: int
	status: int = 200
	code: int = 0
	message: str = ""
	path_prefix: str = ""


@dataclass
class Recorded:
	method: str
	path: str
	query: dict
	body: object
	headers: dict = field(default_factory=dict)


class FakeError(Exception):
	def __init__(self, code: int, message: str, status: int = 200, data=None):
		super().__init__(message)
		self.code, self.message, self.status, self.data = code, message, status, data


class FakeTikTokShop(LocalServer):
	def __init__(self, app_key: str = "6a1testkey", app_secret: str = "s3cr3t-app-secret"):
		self.app_key = app_key
		self.app_secret = app_secret
		self.shop_id = "7494049642642441621"
		self.shop_cipher = "ROW_fakeCipher_AAAABBBB"
		self.shops = [
			{
				"id": self.shop_id,
				"name": "Cửa hàng Mai Anh",
				"region": "VN",
				"seller_type": "LOCAL",
				"cipher": self.shop_cipher,
				"code": "VNLCMAIANH",
			}
		]
		self.access_tokens: set[str] = {"TTP_access_1"}
		self.expired_tokens: set[str] = set()
		self.refresh_tokens: set[str] = {"TTP_refresh_1"}
		self.auth_codes: set[str] = set()
		self.orders: dict[str, dict] = {}
		self.products: dict[str, dict] = {}
		self.packages: dict[str, dict] = {}
		self.statements: dict[str, dict] = {}  # statement id -> statement with its transactions
		self.payments: dict[str, dict] = {}  # payment id -> Get Payments entry
		self._finance_counter = 0
		self.cancellations: list[dict] = []
		self.returns: list[dict] = []  # Search Returns return_orders[] objects
		self.return_order_ids_limit = 50  # order_ids per Search Returns call the fake accepts
		self.sku_errors: dict[str, tuple[int, str]] = {}  # sku id -> error TikTok reports for it
		self.requests: list[Recorded] = []
		self.failures: list[Failure] = []
		self.now = time.time
		self._token_counter = 1
		self._lock = threading.Lock()

	# --- test controls -------------------------------------------------------------------
	def fail_next(self, times: int, status: int = 200, code: int = 0, message: str = "", path_prefix: str = "") -> None:
		self.failures.append(Failure(times, status, code, message or f"injected {status}/{code}", path_prefix))

	def accept_tokens(self, access: str, refresh: str) -> None:
		"""Take a token pair as if this stand-in had issued it (the demo's pre-connected shop)."""
		with self._lock:
			self.access_tokens.add(access)
			self.refresh_tokens.add(refresh)

	def export_state(self) -> dict:
		"""What a restarted stand-in must remember (JSON): grants, orders, packages, stock and money."""
		with self._lock:
			return json.loads(
				json.dumps(
					{
						"access": sorted(self.access_tokens),
						"refresh": sorted(self.refresh_tokens),
						"orders": self.orders,
						"packages": self.packages,
						"products": self.products,
						"statements": self.statements,
						"payments": self.payments,
						"finance_counter": self._finance_counter,
						"token_counter": self._token_counter,
					}
				)
			)

	def import_state(self, state: dict) -> None:
		"""Take back what export_state gave; products it names replace the catalogue's."""
		with self._lock:
			self.access_tokens.update(state.get("access") or [])
			self.refresh_tokens.update(state.get("refresh") or [])
			self.orders.update(state.get("orders") or {})
			self.packages.update(state.get("packages") or {})
			self.products.update(state.get("products") or {})
			self.statements.update(state.get("statements") or {})
			self.payments.update(state.get("payments") or {})
			self._finance_counter = max(self._finance_counter, int(state.get("finance_counter") or 0))
			self._token_counter = max(self._token_counter, int(state.get("token_counter") or 0))

	def expire_token(self, token: str = "TTP_access_1") -> None:
		self.expired_tokens.add(token)

	def new_auth_code(self, code: str = "FeBoANmHP3yqdoUI9fZOCw") -> str:
		self.auth_codes.add(code)
		return code

	def calls(self, path_regex: str, method: str | None = None) -> list[Recorded]:
		return [r for r in self.requests if re.fullmatch(path_regex, r.path) and (method is None or r.method == method)]

	def webhook(self, payload: dict) -> tuple[dict, bytes]:
		"""A signed push as TikTok sends it: Authorization = hex HMAC(app_secret, app_key + body)."""
		body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
		digest = hmac.new(self.app_secret.encode(), self.app_key.encode() + body, hashlib.sha256).hexdigest()
		return {"Authorization": digest, "Content-Type": "application/json"}, body

	# --- plumbing ------------------------------------------------------------------------
	def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
		parts = urlsplit(handler.path)
		pairs = parse_qsl(parts.query, keep_blank_values=True)
		query = dict(pairs)
		length = int(handler.headers.get("Content-Length") or 0)
		raw = handler.rfile.read(length) if length else b""
		headers = {key.lower(): value for key, value in handler.headers.items()}
		try:
			body = json.loads(raw) if raw else None
		except ValueError:
			body = raw
		with self._lock:
			self.requests.append(Recorded(method, parts.path, query, body, headers))
			failure = next((f for f in self.failures if f.times > 0 and parts.path.startswith(f.path_prefix)), None)
			if failure:
				failure.times -= 1
		if failure:
			if failure.status >= 400 and not failure.code:
				self._send(handler, failure.status, {"message": failure.message}, raw_text=True)
			else:
				self._send(handler, failure.status, self._envelope(failure.code, failure.message))
			return
		try:
			if parts.path.startswith("/api/v2/token/"):
				data = self._token_endpoint(method, parts.path, query)
			else:
				self._authenticate(method, parts.path, pairs, raw, headers)
				with self._lock:
					data = self._route(method, parts.path, query, body if isinstance(body, dict) else {})
			self._send(handler, 200, self._envelope(0, "Success", data))
		except FakeError as exc:
			self._send(handler, exc.status, self._envelope(exc.code, exc.message, exc.data))

	def _envelope(self, code: int, message: str, data=None) -> dict:
		answer = {"code": code, "message": message, "request_id": f"2024{int(self.now())}FAKE"}
		if data is not None or code == 0:
			answer["data"] = data if data is not None else {}
		return answer

	def _send(self, handler, status: int, payload, raw_text: bool = False) -> None:
		body = (payload["message"] if raw_text else json.dumps(payload)).encode("utf-8")
		handler.send_response(status)
		handler.send_header("Content-Type", "text/plain" if raw_text else "application/json")
		handler.send_header("Content-Length", str(len(body)))
		handler.end_headers()
		handler.wfile.write(body)

	def _authenticate(self, method, path, pairs, raw: bytes, headers: dict) -> None:
		query = dict(pairs)
		if query.get("app_key") != self.app_key:
			raise FakeError(36009004, "Invalid credentials. Invalid `app_key` query parameter.", 401)
		if "sign" not in query:
			raise FakeError(36009004, "Missing credentials. The request does not include a required signature.", 401)
		try:
			timestamp = int(query.get("timestamp", ""))
		except ValueError:
			raise FakeError(36009004, "Invalid timestamp.", 401) from None
		now = self.now()
		if not (now - TIMESTAMP_PAST <= timestamp <= now + TIMESTAMP_FUTURE) or len(query["timestamp"]) != 10:
			raise FakeError(36009004, "Invalid timestamp. Must lie within 5 minutes before to 30 seconds after now.", 401)
		wanted = expected_sign(self.app_secret, path, pairs, raw, headers.get("content-type", ""))
		if not hmac.compare_digest(wanted, query["sign"]):
			raise FakeError(106001, "Invalid credentials. The 'sign' query parameter is invalid.", 401)
		token = headers.get("x-tts-access-token", "")
		if token in self.expired_tokens:
			raise FakeError(105002, "Expired credentials. The `x-tts-access-token` header has expired.", 401)
		if token not in self.access_tokens:
			raise FakeError(36009004, "Invalid credentials. The `x-tts-access-token` header is invalid.", 401)
		if path.startswith("/authorization/"):
			if "shop_cipher" in query:
				raise FakeError(36009004, "Unexpected identifier. The `shop_cipher` query parameter is not required.")
		elif "shop_cipher" not in query:
			raise FakeError(106013, "Missing identifier. The `shop_cipher` query parameter is required.")
		elif query["shop_cipher"] != self.shop_cipher:
			raise FakeError(101000, "Invalid query or header. The shop does not match the `shop_cipher`.")
		if method == "POST" and raw and not headers.get("content-type", "").startswith("application/json"):
			raise FakeError(36009022, "Invalid request format. The request body format must be application/json.")

	# --- auth host -----------------------------------------------------------------------
	def _issue_tokens(self) -> dict:
		self._token_counter += 1
		access, refresh = f"TTP_access_{self._token_counter}", f"TTP_refresh_{self._token_counter}"
		self.access_tokens.add(access)
		self.refresh_tokens.add(refresh)
		now = int(self.now())
		return {
			"access_token": access,
			"access_token_expire_in": now + 7 * 86400,
			"refresh_token": refresh,
			"refresh_token_expire_in": now + 365 * 86400,
			"open_id": "7010736057180325637",
			"seller_name": "Cửa hàng Mai Anh",
			"seller_base_region": "VN",
			"user_type": 0,
			"granted_scopes": ["seller.order.info", "seller.product.basic", "seller.fulfillment.basic", "seller.finance.info"],
		}

	def _token_endpoint(self, method: str, path: str, query: dict) -> dict:
		if method != "GET":
			raise FakeError(36009010, "Invalid method.")
		if query.get("app_key") != self.app_key or query.get("app_secret") != self.app_secret:
			raise FakeError(36009004, "Invalid credentials. Invalid `app_key` or `app_secret`.")
		with self._lock:
			if path == "/api/v2/token/get":
				if query.get("grant_type") != "authorized_code":
					raise FakeError(36004004, "grant_type must be authorized_code")
				if query.get("auth_code") not in self.auth_codes:
					raise FakeError(36004005, "can not find related auth record")
				self.auth_codes.discard(query["auth_code"])  # a code is good once
				return self._issue_tokens()
			if path == "/api/v2/token/refresh":
				if query.get("grant_type") != "refresh_token":
					raise FakeError(36004004, "grant_type must be refresh_token")
				if query.get("refresh_token") not in self.refresh_tokens:
					raise FakeError(36004001, "rt has expired")
				return self._issue_tokens()
		raise FakeError(36009009, "Invalid path.")

	# --- API -----------------------------------------------------------------------------
	def _route(self, method: str, path: str, query: dict, body: dict) -> dict:
		routes = [
			("GET", r"/authorization/202309/shops", self._shops),
			("POST", r"/order/202309/orders/search", self._search_orders),
			("GET", r"/order/202309/orders", self._order_detail),
			("POST", r"/fulfillment/202309/packages/(\w+)/ship", self._ship_package),
			("GET", r"/fulfillment/202309/packages/(\w+)/shipping_documents", self._shipping_documents),
			("GET", r"/fulfillment/202309/packages/(\w+)", self._package_detail),
			("POST", r"/return_refund/202309/cancellations", self._cancel),
			("POST", r"/return_refund/202309/returns/search", self._search_returns),
			("POST", r"/product/202309/products/search", self._search_products),
			("POST", r"/product/202309/products/(\w+)/inventory/update", self._update_inventory),
			("GET", r"/finance/202309/orders/(\w+)/statement_transactions", self._order_statement_transactions),
			("GET", r"/finance/202309/statements/(\w+)/statement_transactions", self._statement_transactions),
			("GET", r"/finance/202309/statements", self._get_statements),
			("GET", r"/finance/202309/payments", self._get_payments),
			("GET", r"/product/202309/products/(\w+)", self._get_product),
		]
		for route_method, pattern, handler in routes:
			match = re.fullmatch(pattern, path)
			if match:
				if route_method != method:
					raise FakeError(36009010, "Invalid method.")
				return handler(query, body, *match.groups())
		raise FakeError(36009009, "Invalid path.")

	def _shops(self, query, body) -> dict:
		return {"shops": self.shops}

	@staticmethod
	def _page_size(query) -> int:
		try:
			size = int(query.get("page_size", ""))
		except ValueError:
			raise FakeError(36009004, "page_size is a required field") from None
		if not 1 <= size <= 100:
			raise FakeError(36009004, "page_size must be within [1-100]")
		return size

	@staticmethod
	def _offset(query) -> int:
		token = query.get("page_token", "")
		if not token:
			return 0
		try:
			kind, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
			return int(offset)
		except Exception:
			raise FakeError(36009004, "page_token is invalid") from None

	@staticmethod
	def _token_for(offset: int) -> str:
		return base64.urlsafe_b64encode(f"page:{offset}".encode()).decode()

	def _search_orders(self, query, body) -> dict:
		size = self._page_size(query)
		offset = self._offset(query)
		ge = body.get("update_time_ge", 0)
		lt = body.get("update_time_lt", 2**62)
		for key in ("update_time_ge", "update_time_lt"):
			if key in body and not isinstance(body[key], int):
				raise FakeError(36009004, f"{key} must be a unix timestamp")
		matched = sorted(
			(o for o in self.orders.values() if ge <= o["update_time"] < lt),
			key=lambda o: (o["update_time"], o["id"]),
			reverse=query.get("sort_order", "DESC") == "DESC",
		)
		page = matched[offset : offset + size]
		more = offset + size < len(matched)
		return {
			"orders": page,
			"total_count": len(matched),
			"next_page_token": self._token_for(offset + size) if more else "",
		}

	def _order_detail(self, query, body) -> dict:
		ids = [i for i in query.get("ids", "").split(",") if i]
		if not ids:
			raise FakeError(36009004, "ids is a required field")
		if len(ids) > 50:
			raise FakeError(36009004, "ids exceeds the max count of 50")
		return {"orders": [self.orders[i] for i in ids if i in self.orders]}

	def _ship_package(self, query, body, package_id) -> dict:
		package = self.packages.get(package_id)
		if not package:
			raise FakeError(21011028, "The package does not belong to the current shop.")
		if package["package_status"] != "TO_FULFILL":
			raise FakeError(21011020, "These orders are already shipped.")
		shipment = body.get("self_shipment")
		if shipment:
			if not shipment.get("tracking_number") or not shipment.get("shipping_provider_id"):
				raise FakeError(21001001, "Invalid parameters.")
			package.update(
				shipping_type="SELLER",
				tracking_number=shipment["tracking_number"],
				shipping_provider_id=shipment["shipping_provider_id"],
				shipping_provider_name="Seller carrier",
			)
		else:
			package.update(tracking_number=f"VN{package_id[-8:]}TT", shipping_provider_name="J&T Express")
		package["package_status"] = "PROCESSING"
		order = self.orders.get(package["order_id"])
		if order:
			order["status"] = "AWAITING_COLLECTION"
			order["update_time"] = int(self.now())
			for item in order["line_items"]:
				if item.get("package_id") == package_id:
					item["tracking_number"] = package["tracking_number"]
					item["shipping_provider_name"] = package["shipping_provider_name"]
		return {}

	def _package_detail(self, query, body, package_id) -> dict:
		package = self.packages.get(package_id)
		if not package:
			raise FakeError(21011028, "The package does not belong to the current shop.")
		return {
			"package_id": package_id,
			"orders": [{"id": package["order_id"]}],
			"package_status": package["package_status"],
			"tracking_number": package.get("tracking_number", ""),
			"shipping_provider_name": package.get("shipping_provider_name", ""),
			"shipping_type": package.get("shipping_type", "TIKTOK"),
		}

	def _shipping_documents(self, query, body, package_id) -> dict:
		package = self.packages.get(package_id)
		if not package or package.get("shipping_type", "TIKTOK") != "TIKTOK":
			raise FakeError(21001001, "Shipping documents are only available for TikTok shipping packages.")
		if query.get("document_type") not in ("SHIPPING_LABEL", "PACKING_SLIP", "SHIPPING_LABEL_AND_PACKING_SLIP"):
			raise FakeError(21001001, "document_type is invalid")
		return {"doc_url": f"https://fake.tiktok.test/labels/{package_id}.pdf", "tracking_number": package["tracking_number"]}

	def _cancel(self, query, body) -> dict:
		order = self.orders.get(str(body.get("order_id", "")))
		if not order:
			raise FakeError(25001001, "An invalid request parameter was passed.")
		if not body.get("cancel_reason"):
			raise FakeError(25001014, "Unknown return reason.")
		if order["status"] in ("IN_TRANSIT", "DELIVERED", "COMPLETED", "CANCELLED"):
			raise FakeError(25001051, "Not allowed to return or cancel since order is completed or cancelled")
		order["status"] = "CANCELLED"
		order["update_time"] = int(self.now())
		cancel = {"cancel_id": f"40353{len(self.cancellations) + 1:05d}", "cancel_status": "CANCELLATION_REQUEST_SUCCESS"}
		self.cancellations.append({**body, **cancel})
		return cancel

	def _search_returns(self, query, body) -> dict:
		try:
			size = int(query.get("page_size") or 10)  # documented default 10
		except ValueError:
			raise FakeError(36009004, "page_size is invalid") from None
		if not 1 <= size <= 50:
			raise FakeError(36009004, "page_size must be within [1-50]")
		offset = self._offset(query)
		filters = {}
		for key, field_name in (
			("order_ids", "order_id"),
			("return_ids", "return_id"),
			("return_types", "return_type"),
			("return_status", "return_status"),
		):
			if key in body:
				if not isinstance(body[key], list) or not all(isinstance(v, str) for v in body[key]):
					raise FakeError(36009004, f"{key} must be a list of strings")
				filters[field_name] = set(body[key])
		if len(filters.get("order_id", ())) > self.return_order_ids_limit:
			raise FakeError(36009004, f"order_ids exceeds the max count of {self.return_order_ids_limit}")
		matched = sorted(
			(r for r in self.returns if all(str(r.get(name)) in wanted for name, wanted in filters.items())),
			key=lambda r: (r.get("create_time", 0), str(r.get("return_id"))),
			reverse=query.get("sort_order", "ASC") == "DESC",
		)
		page = matched[offset : offset + size]
		more = offset + size < len(matched)
		return {
			"return_orders": page,
			"total_count": len(matched),
			"next_page_token": self._token_for(offset + size) if more else "",
		}

	def _search_products(self, query, body) -> dict:
		size = self._page_size(query)
		offset = self._offset(query)
		products = sorted(self.products.values(), key=lambda p: p["id"])
		page = products[offset : offset + size]
		return {
			"products": page,
			"total_count": len(products),
			"next_page_token": self._token_for(offset + size) if offset + size < len(products) else "",
		}

	def _update_inventory(self, query, body, product_id) -> dict:
		product = self.products.get(product_id)
		if not product:
			raise FakeError(12052032, "The product does not exist")
		skus = body.get("skus")
		if not isinstance(skus, list) or not skus:
			raise FakeError(12052902, "The SKU list is empty.")
		if len(skus) > 100:
			raise FakeError(12052050, "A single product cannot have more than 100 different SKUs")
		known = {sku["id"]: sku for sku in product["skus"]}
		errors = []
		for entry in skus:
			sku = known.get(entry.get("id"))
			if sku is None:
				raise FakeError(12052556, "The SKU id not exist.")
			if entry["id"] in self.sku_errors:
				code, message = self.sku_errors[entry["id"]]
				errors.append({"code": code, "message": message, "detail": {"sku_id": entry["id"]}})
				continue
			wanted = {w["warehouse_id"] for w in sku["inventory"]}
			extra = []
			for item in entry.get("inventory") or []:
				warehouse = item.get("warehouse_id") or (next(iter(wanted)) if len(wanted) == 1 else "")
				quantity = item.get("quantity")
				if warehouse not in wanted:
					extra.append({"warehouse_id": warehouse, "code": 12052097, "message": "The warehouse does not exist"})
				elif not isinstance(quantity, int) or not 0 <= quantity <= 99_999:
					extra.append({"warehouse_id": warehouse, "code": 12052055, "message": "quantity out of range"})
			given = {item.get("warehouse_id") for item in entry.get("inventory") or []}
			if len(wanted) > 1 and not wanted <= given:
				errors.append({
					"code": 12019028,
					"message": "Multiple warehouses detected. Include all warehouse IDs and try again.",
					"detail": {"sku_id": entry["id"]},
				})
				continue
			if extra:
				errors.append({"code": 12052990, "message": "Check failed", "detail": {"sku_id": entry["id"], "extra_errors": extra}})
				continue
			for item in entry["inventory"]:
				warehouse = item.get("warehouse_id") or next(iter(wanted))
				for stock in sku["inventory"]:
					if stock["warehouse_id"] == warehouse:
						stock["quantity"] = item["quantity"]
		return {"errors": errors} if errors else {}

	def _get_product(self, query, body, product_id) -> dict:
		product = self.products.get(product_id)
		if not product:
			raise FakeError(12052032, "The product does not exist")
		return json.loads(json.dumps(product))  # a copy, as the wire would give

	# --- finance: test controls ------------------------------------------------------------
	def settle_order(self, order_id: str, at=None, fees: dict | None = None) -> str:
		"""Settle an order the stand-in holds: its ORDER transaction goes into the statement of
		`at`'s UTC day (datetime or unix seconds; default now). `fees` overrides DEFAULT_FEE_RATES
		with amounts TikTok keeps (positive), by 202309 field name (platform_commission_amount,
		affiliate_commission_amount, pit_amount...; "not_itemized" for fee_amount's unnamed part).
		Returns the statement id."""
		when = _seconds(at, self.now())
		with self._lock:
			order = self.orders.get(str(order_id))
			if order is None:
				raise ValueError(f"no order {order_id} to settle")
			if any(t.get("order_id") == str(order_id) for s in self.statements.values() for t in s["transactions"]):
				raise ValueError(f"order {order_id} is already settled")
			statement = self._open_statement(when, order["payment"].get("currency") or "VND")
			transaction = order_transaction(order, self._next_finance_id("7669"), fees)
			statement["transactions"].append(transaction)
			return statement["id"]

	def add_adjustment(self, amount, kind: str = "PLATFORM_PENALTY", at=None, order_id: str = "") -> str:
		"""An adjustment transaction (type `kind`) in the statement of `at`'s day. `amount` is
		signed as TikTok reports it: negative when TikTok takes money (penalty, ads), positive
		when it pays (compensation, reimbursement). Returns the adjustment id."""
		when = _seconds(at, self.now())
		with self._lock:
			statement = self._open_statement(when, "VND")
			adjustment_id = self._next_finance_id("7238")
			value = _amount_text(Decimal(str(amount)), statement["currency"])
			statement["transactions"].append({
				"id": self._next_finance_id("1636"),
				"type": kind,
				"adjustment_id": adjustment_id,
				"adjustment_order_id": str(order_id or "0"),
				"order_create_time": when,
				"currency": statement["currency"],
				"revenue_amount": "0",
				"fee_amount": "0",
				"adjustment_amount": value,
				"settlement_amount": value,
			})
			return adjustment_id

	def pay_out(self, at=None) -> str:
		"""Pay every unpaid statement in one payment (marking them PAID); its id, or "" when
		there is nothing to pay."""
		when = _seconds(at, self.now())
		with self._lock:
			unpaid = [s for s in self.statements.values() if s["payment_status"] != "PAID" and s["transactions"]]
			if not unpaid:
				return ""
			currency = unpaid[0]["currency"]
			total = _amount_text(sum((_statement_totals(s)["settlement"] for s in unpaid), Decimal(0)), currency)
			payment_id = self._next_finance_id("3458")
			money = {"value": total, "currency": currency}
			self.payments[payment_id] = {
				"id": payment_id,
				"create_time": when,
				"paid_time": when,
				"status": "PAID",
				"amount": dict(money),
				"settlement_amount": dict(money),
				"reserve_amount": {"value": "0", "currency": currency},
				"payment_amount_before_exchange": dict(money),
				"exchange_rate": "1.000000",
				"bank_account": "*************1234",
			}
			for statement in unpaid:
				statement.update(payment_status="PAID", payment_id=payment_id, payment_time=when)
			return payment_id

	def _next_finance_id(self, prefix: str) -> str:
		self._finance_counter += 1
		return f"{prefix}{self._finance_counter:015d}"

	def _open_statement(self, when: int, currency: str) -> dict:
		"""The unpaid statement of `when`'s UTC day (statements are cut at 00:00 UTC)."""
		day = when - when % DAY
		for statement in self.statements.values():
			if statement["statement_time"] == day and statement["payment_status"] != "PAID":
				return statement
		statement_id = self._next_finance_id("7673")
		self.statements[statement_id] = {
			"id": statement_id,
			"statement_time": day,
			"currency": currency,
			"payment_status": "PROCESSING",
			"payment_id": "",
			"payment_time": 0,
			"transactions": [],
		}
		return self.statements[statement_id]

	# --- finance: endpoints ----------------------------------------------------------------
	@staticmethod
	def _finance_query(query, sort_field: str, times: tuple[str, ...] = ()) -> tuple[int, int, bool, dict]:
		"""(page size, offset, descending, time filters) after TikTok's checks of the query."""
		if not query.get("sort_field"):
			raise FakeError(36009004, "sort_field is a required field")
		if query["sort_field"] != sort_field:
			raise FakeError(36009004, f"sort_field only supports {sort_field}")
		if query.get("sort_order", "ASC") not in ("ASC", "DESC"):
			raise FakeError(36009004, "sort_order must be ASC or DESC")
		try:
			size = int(query.get("page_size") or 20)  # documented default 20
		except ValueError:
			raise FakeError(36009004, "page_size is invalid") from None
		if not 1 <= size <= 100:
			raise FakeError(36009004, "page_size must be within [1-100]")
		bounds = {}
		for name in times:
			if query.get(name, "") != "":
				if not re.fullmatch(r"\d{1,10}", query[name]):
					raise FakeError(36009004, f"{name} must be a unix timestamp")
				bounds[name] = int(query[name])
		return size, FakeTikTokShop._offset(query), query.get("sort_order") == "DESC", bounds

	def _page(self, items: list, size: int, offset: int) -> tuple[list, str]:
		more = offset + size < len(items)
		return copy_json(items[offset : offset + size]), self._token_for(offset + size) if more else ""

	def _get_statements(self, query, body) -> dict:
		size, offset, descending, bounds = self._finance_query(query, "statement_time", ("statement_time_ge", "statement_time_lt"))
		status = query.get("payment_status", "")
		if status and status not in ("PAID", "FAILED", "PROCESSING"):
			raise FakeError(36009004, "payment_status is invalid")
		ge, lt = bounds.get("statement_time_ge", 0), bounds.get("statement_time_lt", 2**62)
		matched = sorted(
			(s for s in self.statements.values() if ge <= s["statement_time"] < lt and s["transactions"] and status in ("", s["payment_status"])),
			key=lambda s: (s["statement_time"], s["id"]),
			reverse=descending,
		)
		page, token = self._page([statement_view(s) for s in matched], size, offset)
		return {"statements": page, "next_page_token": token}

	def _statement_transactions(self, query, body, statement_id) -> dict:
		size, offset, descending, _ = self._finance_query(query, "order_create_time")
		statement = self.statements.get(statement_id)
		if statement is None:
			raise FakeError(36009004, "The statement does not exist.")
		transactions = sorted(statement["transactions"], key=lambda t: (t["order_create_time"], t["id"]), reverse=descending)
		page, token = self._page([{k: v for k, v in t.items() if k != "sku_statement_transactions"} for t in transactions], size, offset)
		view = statement_view(statement)
		return {
			"statement_id": statement_id,
			"statement_time": statement["statement_time"],
			"currency": statement["currency"],
			**{key: view[key] for key in ("revenue_amount", "fee_amount", "adjustment_amount", "settlement_amount", "net_sales_amount", "shipping_cost_amount")},
			"total_count": len(transactions),
			"next_page_token": token,
			"statement_transactions": page,
		}

	def _order_statement_transactions(self, query, body, order_id) -> dict:
		found = [
			{**t, "statement_id": s["id"], "statement_time": s["statement_time"], "status": "SETTLED"}
			for s in self.statements.values()
			for t in s["transactions"]
			if t.get("type") == "ORDER" and t.get("order_id") == order_id
		]
		order = self.orders.get(order_id) or {}
		return {"order_id": order_id, "order_create_time": order.get("create_time", 0), "statement_transactions": copy_json(found)}

	def _get_payments(self, query, body) -> dict:
		size, offset, descending, bounds = self._finance_query(query, "create_time", ("create_time_ge", "create_time_lt"))
		ge, lt = bounds.get("create_time_ge", 0), bounds.get("create_time_lt", 2**62)
		matched = sorted(
			(p for p in self.payments.values() if ge <= p["create_time"] < lt),
			key=lambda p: (p["create_time"], p["id"]),
			reverse=descending,
		)
		page, token = self._page(matched, size, offset)
		return {"payments": page, "next_page_token": token}


# --- finance figures ---------------------------------------------------------------------------
def copy_json(value):
	return json.loads(json.dumps(value))


def _seconds(at, default) -> int:
	if at is None:
		return int(default)
	return int(at.timestamp()) if isinstance(at, datetime) else int(at)


def _amount_text(amount: Decimal, currency: str) -> str:
	return str(amount.quantize(Decimal(1).scaleb(-currency_decimals(currency)), rounding=ROUND_HALF_UP))


def _statement_totals(statement: dict) -> dict[str, Decimal]:
	totals = {name: Decimal(0) for name in ("revenue", "fee", "adjustment", "settlement", "net_sales", "shipping_cost")}
	for transaction in statement["transactions"]:
		for name in totals:
			totals[name] += Decimal(str(transaction.get(f"{name}_amount") or 0))
	return totals


def statement_view(statement: dict) -> dict:
	"""A statement as Get Statements 202309 lists it."""
	totals = {f"{name}_amount": _amount_text(value, statement["currency"]) for name, value in _statement_totals(statement).items()}
	return {
		"id": statement["id"],
		"statement_time": statement["statement_time"],
		"currency": statement["currency"],
		**totals,
		"payment_status": statement["payment_status"],
		"payment_id": statement["payment_id"],
		"payment_time": statement["payment_time"],
	}


def order_transaction(order: dict, transaction_id: str, fees: dict | None = None) -> dict:
	"""The ORDER statement transaction TikTok would settle for `order` (a Get Order Detail
	object): sale after seller discounts plus the buyer's shipping (revenue_amount as documented),
	less the fees and the shipping the seller bears (fee_amount)."""
	payment = order["payment"]
	currency = payment.get("currency") or "VND"

	def money(name: str) -> Decimal:
		return Decimal(str(payment.get(name) or 0))

	subtotal = money("original_total_product_price") - money("seller_discount")
	buyer_shipping = money("shipping_fee")
	buyer_paid = subtotal - money("platform_discount") + buyer_shipping
	shipping = -(money("original_shipping_fee") - money("shipping_fee_platform_discount"))
	kept = _fee_amounts(subtotal, buyer_paid, fees, currency)
	fee_amount = shipping - sum(kept.values(), Decimal(0))

	def text(amount: Decimal) -> str:
		return _amount_text(amount, currency)

	transaction = {
		"id": transaction_id,
		"type": "ORDER",
		"order_id": order["id"],
		"order_create_time": order.get("create_time", 0),
		"currency": currency,
		"gross_sales_amount": text(money("original_total_product_price")),
		"seller_discount_amount": text(-money("seller_discount")),
		"platform_discount_amount": text(-money("platform_discount")),
		"after_seller_discounts_subtotal_amount": text(subtotal),
		"net_sales_amount": text(subtotal),
		"customer_shipping_fee_amount": text(buyer_shipping),
		"customer_payment_amount": text(buyer_paid),
		"revenue_amount": text(subtotal + buyer_shipping),
		"actual_shipping_fee_amount": text(-money("original_shipping_fee")),
		"platform_shipping_fee_discount_amount": text(money("shipping_fee_platform_discount")),
		"shipping_fee_amount": text(shipping),
		"shipping_cost_amount": text(shipping),
		"shipping_fee_subsidy_amount": "0",
		**{name: text(-amount) for name, amount in kept.items() if name != "not_itemized"},
		"fee_amount": text(fee_amount),
		"adjustment_amount": "0",
		"settlement_amount": text(subtotal + buyer_shipping + fee_amount),
		"sku_statement_transactions": _sku_rows(order, currency),
	}
	return transaction


def _fee_amounts(subtotal: Decimal, buyer_paid: Decimal, fees: dict | None, currency: str) -> dict[str, Decimal]:
	"""What TikTok keeps, by field: default rates (payment fee on what the buyer paid), then
	the test's own amounts."""
	kept = {
		name: (buyer_paid if name == "transaction_fee_amount" else subtotal) * rate
		for name, rate in DEFAULT_FEE_RATES.items()
	}
	kept.update({name: Decimal(str(amount)) for name, amount in (fees or {}).items()})
	return {name: Decimal(_amount_text(amount, currency)) for name, amount in kept.items()}


def _sku_rows(order: dict, currency: str) -> list[dict]:
	rows: dict[str, dict] = {}
	for item in order.get("line_items") or []:
		row = rows.setdefault(
			item.get("sku_id", ""),
			{"sku_id": item.get("sku_id", ""), "sku_name": item.get("sku_name", ""), "product_name": item.get("product_name", ""), "quantity": 0, "currency": currency},
		)
		row["quantity"] += 1
	return list(rows.values())
