"""A local stand-in for the Shopee Open Platform v2 gateway, strict the way Shopee is.

It checks every request as the documentation says Shopee does, with its own implementation
of the signing rules (nothing is imported from the connector):
- common parameters in the query: partner_id, timestamp (within 300 s of now) and sign; shop
  APIs also access_token and shop_id;
- sign = lowercase hex HMAC-SHA256(partner_key, partner_id + path + timestamp [+ access_token + shop_id]);
- per-API limits: get_order_list 15-day window and page_size 1..100, get_order_detail 1..50
  order_sn, update_stock 1..50 models of one item, get_item_base_info 1..50 items;
- stock read back as update_stock left it: stock_info_v2 (summary_info.total_available_stock,
  seller_stock per location_id) on get_item_base_info for items without models, on
  get_model_list per model;
- tokens: the code and every refresh token work once; access tokens can be expired on demand;
- an escrow detail for every order it holds (as Shopee keeps one per order): the one a test put
  in `escrow`, else one read off the detail as if the buyer used no voucher (lines at their
  discounted price, the rest of total_amount the shipping fee the buyer paid, `fee_rates` of
  commission, service and transaction fees), its escrow_amount by Shopee's documented formula;
  orders in `without_escrow` get error_data "data not exist", unknown orders order_not_found;
  get_escrow_detail_batch serves 1..50 of them (POST order_sn_list), leaving out unknown ones;
- a seller wallet (get_wallet_transaction_list: page_no from 0, page_size 1..100,
  create_time_from..create_time_to at most 15 days, newest first) that the test controls
  release_escrow, add_wallet_transaction and withdraw write to; money out has a negative amount.
Faults can be queued per path: HTTP 429, any 5xx, or a Shopee error code such as error_busy.
Every request is recorded in `calls` so tests can check batching and paging.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

from .local_server import LocalServer

PUBLIC_PATHS = {
	"/api/v2/shop/auth_partner",
	"/api/v2/auth/token/get",
	"/api/v2/auth/access_token/get",
	"/api/v2/push/get_lost_push_message",
	"/api/v2/push/confirm_consumed_lost_push_message",
}
GET_PATHS = {
	"/api/v2/shop/auth_partner",
	"/api/v2/order/get_order_list",
	"/api/v2/order/get_order_detail",
	"/api/v2/logistics/get_shipping_parameter",
	"/api/v2/logistics/get_tracking_number",
	"/api/v2/payment/get_escrow_detail",
	"/api/v2/payment/get_wallet_transaction_list",
	"/api/v2/product/get_item_list",
	"/api/v2/product/get_item_base_info",
	"/api/v2/product/get_model_list",
	"/api/v2/push/get_lost_push_message",
}
# get_order_detail fields only returned when named in response_optional_fields (API reference).
OPTIONAL_DETAIL_FIELDS = {
	"buyer_user_id", "buyer_username", "estimated_shipping_fee", "recipient_address", "actual_shipping_fee",
	"goods_to_declare", "note", "note_update_time", "item_list", "pay_time", "dropshipper", "dropshipper_phone",
	"split_up", "buyer_cancel_reason", "cancel_by", "cancel_reason", "actual_shipping_fee_confirmed",
	"buyer_cpf_id", "fulfillment_flag", "pickup_done_time", "package_list", "shipping_carrier", "payment_method",
	"total_amount", "invoice_data", "order_chargeable_weight_gram", "return_request_due_date", "edt", "payment_info",
}
MAX_WINDOW = 15 * 24 * 3600
# Shopee VN's usual fees, as fractions: fixed (commission) fee on the goods, a service programme
# (Voucher Xtra) on the goods, the payment fee on goods plus the shipping the buyer paid.
DEFAULT_FEE_RATES = {"commission_fee": Decimal("0.04"), "service_fee": Decimal("0.03"), "seller_transaction_fee": Decimal("0.0491")}
# get_wallet_transaction_list transaction types: which way the money goes, and the listing tab.
WALLET_TYPES = {
	"ESCROW_VERIFIED_ADD": (+1, "wallet_order_income"),
	"ESCROW_VERIFIED_MINUS": (-1, "wallet_order_income"),
	"WITHDRAWAL_CREATED": (-1, "wallet_withdrawals"),
	"WITHDRAWAL_COMPLETED": (-1, "wallet_withdrawals"),
	"WITHDRAWAL_CANCELLED": (+1, "wallet_withdrawals"),
	"ADJUSTMENT_ADD": (+1, "wallet_adjustment_filter"),
	"ADJUSTMENT_MINUS": (-1, "wallet_adjustment_filter"),
	"ADJUSTMENT_CENTER_ADD": (+1, "wallet_adjustment_filter"),
	"ADJUSTMENT_CENTER_DEDUCT": (-1, "wallet_adjustment_filter"),
	"PAID_ADS_CHARGE": (-1, "wallet_wallet_payment"),
	"PAID_ADS_REFUND": (+1, "wallet_wallet_payment"),
	"AFFILIATE_FEE_DEDUCT": (-1, "wallet_wallet_payment"),
	"FSF_COST_PASSING_DEDUCT": (-1, "wallet_adjustment_filter"),
}
TIMESTAMP_TOLERANCE = 300


class ShopeeError(Exception):
	def __init__(self, error: str, message: str, status: int = 200):
		super().__init__(message)
		self.error, self.message, self.status = error, message, status


def shopee_sign(partner_key: str, *parts) -> str:
	"""The documented algorithm, written out independently of the connector."""
	base = "".join(str(part) for part in parts)
	return hmac.new(partner_key.encode("utf-8"), base.encode("utf-8"), hashlib.sha256).hexdigest()


class FakeShopee(LocalServer):
	def __init__(self, partner_id: int = 2001887, partner_key: str = "fake-partner-key-0123456789abcdef", shop_id: int = 14701711, clock=time.time):
		self.partner_id = partner_id
		self.partner_key = partner_key
		self.shop_id = shop_id
		self.clock = clock
		self.orders: dict[str, dict] = {}  # order_sn -> full get_order_detail object
		self.escrow: dict[str, dict] = {}  # order_sn -> get_escrow_detail "response" (else escrow_of_detail)
		self.without_escrow: set[str] = set()  # orders Shopee has no escrow for yet
		self.fee_rates: dict[str, Decimal] = dict(DEFAULT_FEE_RATES)  # what escrow_of_detail charges
		self.wallet: list[dict] = []  # get_wallet_transaction_list rows, oldest first
		self.shop_name = "OMS Demo Shop"
		self.items: dict[int, dict] = {}  # item_id -> {item_name, item_sku, status, tier_variation, models{model_id: {...}}}
		self.tracking: dict[str, str] = {}  # order_sn -> tracking number once shipped
		self.stock_failures: dict[tuple[int, int], str] = {}  # (item_id, model_id) -> failed_reason
		self.default_location = "VNZ"  # where seller stock sent without a location_id is kept
		self.shipping_parameter: dict = {
			"info_needed": {"dropoff": [], "pickup": ["address_id", "pickup_time_id"]},
			"dropoff": None,
			"pickup": {
				"address_list": [
					{"address_id": 123, "region": "VN", "address_flag": ["default_address", "return_address"], "time_slot_list": [{"date": 1, "pickup_time_id": "slot-a"}]},
					{
						"address_id": 234,
						"region": "VN",
						"address_flag": ["pickup_address"],
						"time_slot_list": [
							{"date": 1, "pickup_time_id": "slot-1", "flags": []},
							{"date": 2, "pickup_time_id": "slot-2", "flags": ["recommended"]},
						],
					},
				]
			},
		}
		self.lost_push: list[dict] = []  # {message_id, shop_id, code, timestamp, data(str), consumed}
		self.calls: list[dict] = []
		self.expired_error = "invalid_access_token"
		self._access: dict[str, dict] = {}  # token -> {"shop_id", "expires_at"}
		self._refresh: dict[str, dict] = {}  # token -> {"shop_id", "used"}
		self._codes: dict[str, dict] = {}  # code -> {"shop_id", "used"}
		self._faults: dict[str, list[tuple[str, str]]] = {}
		self._lock = threading.Lock()
		self._message_id = 1000
		self._transaction_id = 3_000_000_000
		self._withdrawal_id = 700_000

	# --- test controls -------------------------------------------------------------------
	def issue_tokens(self, shop_id: int | None = None, lifetime: int = 4 * 3600) -> tuple[str, str]:
		shop_id = shop_id or self.shop_id
		access, refresh = secrets.token_hex(16), secrets.token_hex(16)
		self._access[access] = {"shop_id": shop_id, "expires_at": self.clock() + lifetime}
		self._refresh[refresh] = {"shop_id": shop_id, "used": False}
		return access, refresh

	def accept_tokens(self, access: str, refresh: str, lifetime: float) -> None:
		"""Take a token pair as if this stand-in had issued it (the demo's pre-connected shop)."""
		with self._lock:
			self._access[access] = {"shop_id": self.shop_id, "expires_at": self.clock() + lifetime}
			self._refresh.setdefault(refresh, {"shop_id": self.shop_id, "used": False})

	def export_state(self) -> dict:
		"""What a restarted stand-in must remember (JSON): grants, orders, tracking, stock, escrows and the wallet."""
		with self._lock:
			return json.loads(
				json.dumps(
					{
						"access": self._access,
						"refresh": self._refresh,
						"orders": self.orders,
						"tracking": self.tracking,
						"items": self.items,
						"escrow": self.escrow,
						"wallet": self.wallet,
						"ids": [self._transaction_id, self._withdrawal_id],
					},
					default=str,
				)
			)

	def import_state(self, state: dict) -> None:
		"""Take back what export_state gave; items it names replace the catalogue's."""
		with self._lock:
			self._access.update(state.get("access") or {})
			self._refresh.update(state.get("refresh") or {})
			self.orders.update(state.get("orders") or {})
			self.tracking.update(state.get("tracking") or {})
			self.escrow.update(state.get("escrow") or {})
			if state.get("wallet"):
				self.wallet = list(state["wallet"])
			ids = state.get("ids") or []
			if len(ids) == 2:
				self._transaction_id, self._withdrawal_id = max(self._transaction_id, int(ids[0])), max(self._withdrawal_id, int(ids[1]))
			for item_id, item in (state.get("items") or {}).items():
				item["models"] = {int(model_id): model for model_id, model in (item.get("models") or {}).items()}
				self.items[int(item_id)] = item

	def expire_access_token(self, token: str, error: str | None = None) -> None:
		self._access[token]["expires_at"] = 0
		if error:
			self.expired_error = error

	def fail(self, path: str, kind: str, times: int = 1, message: str = "") -> None:
		"""Queue `times` failures on path: "429", "500".."599", "sleep:<seconds>" (answers that late),
		or a Shopee error code (HTTP 200)."""
		self._faults.setdefault(path, []).extend([(kind, message)] * times)

	def add_order(self, detail: dict) -> None:
		self.orders[detail["order_sn"]] = detail

	def add_item(self, item_id: int, name: str, sku: str = "", models: list[dict] | None = None, status: str = "NORMAL") -> None:
		"""models: [{"model_id", "model_sku", "stock", "option"}]; none means an item without variations."""
		tiers = [{"name": "Variation", "option_list": [{"option": m.get("option", str(m["model_id"]))} for m in models]}] if models else []
		self.items[item_id] = {
			"item_name": name,
			"item_sku": sku,
			"status": status,
			"update_time": int(self.clock()),
			"tier_variation": tiers,
			"models": {int(m["model_id"]): {**m, "tier_index": [i]} for i, m in enumerate(models or [])},
			"stock": 0,
		}

	def add_lost_push(self, code: int, data: dict, shop_id: int | None = None) -> int:
		self._message_id += 1
		shop_id = shop_id or self.shop_id
		message = {"data": data, "shop_id": shop_id, "code": code, "timestamp": int(self.clock())}
		self.lost_push.append(
			{"message_id": self._message_id, "shop_id": shop_id, "code": code, "timestamp": message["timestamp"], "data": json.dumps(message), "consumed": False}
		)
		return self._message_id

	def push_authorization(self, url: str, body: bytes) -> str:
		"""The Authorization header Shopee puts on a push to `url` carrying `body`."""
		return hmac.new(self.partner_key.encode(), url.encode() + b"|" + body, hashlib.sha256).hexdigest()

	def calls_to(self, path: str) -> list[dict]:
		return [call for call in self.calls if call["path"] == path]

	# --- wallet controls -----------------------------------------------------------------
	def release_escrow(self, order_sn: str, escrow: dict | None = None, at: float | None = None) -> int:
		"""Shopee verifies the order's escrow and pays it into the wallet: an ESCROW_VERIFIED_ADD
		(ESCROW_VERIFIED_MINUS when negative) of its escrow_amount. The escrow (default: the one
		get_escrow_detail serves now) is kept, so the escrow APIs serve that one from then on."""
		with self._lock:
			if escrow is None:
				escrow = self.escrow.get(order_sn) or escrow_of_detail(self._order(order_sn), self.fee_rates)
			self.escrow[order_sn] = escrow
			self.without_escrow.discard(order_sn)
			amount = Decimal(str(escrow["order_income"]["escrow_amount"]))
			kind = "ESCROW_VERIFIED_ADD" if amount >= 0 else "ESCROW_VERIFIED_MINUS"
			buyer = (self.orders.get(order_sn) or {}).get("buyer_username") or escrow.get("buyer_user_name") or ""
			return self._add_transaction(kind, amount, at, order_sn=order_sn, buyer_name=buyer)

	def add_wallet_transaction(self, transaction_type: str, amount, order_sn: str = "", description: str = "", at: float | None = None, reason: str = "") -> int:
		"""Any wallet transaction; `amount` is how much, its direction the type's (a negative amount
		always takes money out). Returns its transaction_id."""
		direction, _ = WALLET_TYPES.get(transaction_type, (+1, "Default"))
		value = Decimal(str(amount))
		signed = value if value < 0 else direction * value
		with self._lock:
			return self._add_transaction(transaction_type, signed, at, order_sn=order_sn, description=description, reason=reason)

	def withdraw(self, amount=None, at: float | None = None, fee=0, complete: bool = True) -> int:
		"""The seller withdraws `amount` (default: the whole balance) to the bank: WITHDRAWAL_CREATED
		takes it from the balance, then (with `complete`) WITHDRAWAL_COMPLETED. `fee` is the
		withdrawal's transaction_fee. Returns the withdrawal_id."""
		with self._lock:
			value = self._balance() if amount is None else Decimal(str(amount))
			if value <= 0:
				raise ValueError(f"nothing to withdraw: balance {self._balance()}, asked {amount}")
			self._withdrawal_id += 1
			fields = {"withdrawal_id": self._withdrawal_id, "withdrawal_type": "BANK", "transaction_fee": _number(Decimal(str(fee)))}
			self._add_transaction("WITHDRAWAL_CREATED", -value, at, **fields)
			if complete:
				self._add_transaction("WITHDRAWAL_COMPLETED", -value, at, moves_balance=False, **fields)
			return self._withdrawal_id

	def complete_withdrawal(self, withdrawal_id: int, at: float | None = None) -> int:
		"""The bank transfer of a withdrawal made with complete=False went through."""
		with self._lock:
			created = next(t for t in self.wallet if t["withdrawal_id"] == withdrawal_id and t["transaction_type"] == "WITHDRAWAL_CREATED")
			fields = {k: created[k] for k in ("withdrawal_id", "withdrawal_type", "transaction_fee")}
			return self._add_transaction("WITHDRAWAL_COMPLETED", Decimal(str(created["amount"])), at, moves_balance=False, **fields)

	def _balance(self) -> Decimal:
		return Decimal(str(self.wallet[-1]["current_balance"])) if self.wallet else Decimal(0)

	def _add_transaction(self, kind: str, signed: Decimal, at, moves_balance: bool = True, **fields) -> int:
		self._transaction_id += 1
		balance = self._balance() + (signed if moves_balance else 0)
		row = {
			"transaction_id": self._transaction_id, "status": "COMPLETED", "transaction_type": kind,
			"amount": _number(signed), "current_balance": _number(balance),
			"create_time": int(self.clock() if at is None else at), "order_sn": "", "refund_sn": "",
			"withdrawal_type": "", "transaction_fee": 0, "description": "", "buyer_name": "", "pay_order_list": [],
			"shop_name": self.shop_name, "withdrawal_id": 0, "root_withdrawal_id": 0, "reason": "",
			"wallet_type": "shopee_pay", "money_flow": "MONEY_IN" if signed >= 0 else "MONEY_OUT",
			"transaction_tab_type": WALLET_TYPES.get(kind, (0, "Default"))[1],
		}  # fmt: skip
		row.update(fields)
		self.wallet.append(row)
		return self._transaction_id

	# --- HTTP ----------------------------------------------------------------------------
	def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
		parts = urlsplit(handler.path)
		query = parse_qs(parts.query, keep_blank_values=True)
		length = int(handler.headers.get("Content-Length") or 0)
		raw = handler.rfile.read(length) if length else b""
		with self._lock:
			self.calls.append({"method": method, "path": parts.path, "query": query, "body": raw})
			status, headers, payload = self._handle(method, parts.path, query, raw)
		data = json.dumps(payload).encode() if payload is not None else b""
		handler.send_response(status)
		for key, value in headers.items():
			handler.send_header(key, value)
		handler.send_header("Content-Type", "application/json")
		handler.send_header("Content-Length", str(len(data)))
		handler.end_headers()
		handler.wfile.write(data)

	def _handle(self, method: str, path: str, query: dict, raw: bytes):
		request_id = secrets.token_hex(16)
		faults = self._faults.get(path)
		if faults:
			kind, message = faults.pop(0)
			if kind.startswith("sleep:"):  # answer too late: the client has timed out by then
				time.sleep(float(kind.partition(":")[2]))
				return 504, {}, {"error": "error_server", "message": "late", "request_id": request_id}
			if kind.isdigit():
				return int(kind), {}, {"error": "error_server", "message": message or "gateway trouble", "request_id": request_id}
			return 200, {}, {"error": kind, "message": message or "Our system is busy, please try later.", "request_id": request_id}
		try:
			expected_method = "GET" if path in GET_PATHS else "POST"
			if method != expected_method:
				raise ShopeeError("error_not_found", f"{path} is a {expected_method} API", 404)
			shop_id = self._authenticate(path, query)
			body = {}
			if method == "POST":
				try:
					body = json.loads(raw or b"{}")
				except ValueError:
					raise ShopeeError("error_param", "The request body is not a valid json format") from None
			handler = getattr(self, "_api_" + path.rsplit("/", 2)[-2] + "_" + path.rsplit("/", 1)[-1], None)
			if handler is None:
				raise ShopeeError("error_not_found", f"no such API {path}", 404)
			result = handler(shop_id, _Query(query), body)
		except ShopeeError as exc:
			return exc.status, {}, {"error": exc.error, "message": exc.message, "request_id": request_id}
		if isinstance(result, tuple):  # a redirect
			return result
		answer = {"error": "", "message": "", "request_id": request_id}
		answer.update(result)
		return 200, {}, answer

	def _authenticate(self, path: str, query: dict) -> int | None:
		q = _Query(query)
		partner_id = q.get("partner_id")
		if partner_id is None:
			raise ShopeeError("error_param", "There is no partner_id in query.")
		if partner_id != str(self.partner_id):
			raise ShopeeError("error_param", "Invalid partner_id.")
		timestamp = q.get("timestamp")
		if not timestamp:
			raise ShopeeError("error_param", "no timestamp")
		try:
			ts = int(timestamp)
		except ValueError:
			raise ShopeeError("error_param", "Invalid timestamp") from None
		if abs(self.clock() - ts) > TIMESTAMP_TOLERANCE:
			raise ShopeeError("error_param", "Invalid timestamp")
		received = q.get("sign")
		if not received:
			raise ShopeeError("error_param", "There is no sign in query.")
		if path in PUBLIC_PATHS:
			if not hmac.compare_digest(received, shopee_sign(self.partner_key, partner_id, path, timestamp)):
				raise ShopeeError("error_sign", "Wrong sign.", 403)
			return None
		token, shop_id = q.get("access_token"), q.get("shop_id")
		if not token:
			raise ShopeeError("error_param", "There is no access_token in query.")
		if not shop_id:
			raise ShopeeError("error_param", "There is no shop_id in query.")
		if not hmac.compare_digest(received, shopee_sign(self.partner_key, partner_id, path, timestamp, token, shop_id)):
			raise ShopeeError("error_sign", "Wrong sign.", 403)
		grant = self._access.get(token)
		if grant is None or grant["expires_at"] < self.clock() or str(grant["shop_id"]) != shop_id:
			raise ShopeeError(self.expired_error, "Invalid access_token.", 403)
		return int(shop_id)

	# --- auth ----------------------------------------------------------------------------
	def _api_shop_auth_partner(self, shop_id, q, body):
		redirect = q.get("redirect")
		if not redirect:
			raise ShopeeError("error_param", "redirect is required")
		code = secrets.token_hex(16)
		self._codes[code] = {"shop_id": self.shop_id, "used": False}
		joiner = "&" if "?" in redirect else "?"
		return 302, {"Location": redirect + joiner + urlencode({"code": code, "shop_id": self.shop_id})}, None

	def _api_token_get(self, shop_id, q, body):
		self._check_body_partner(body)
		grant = self._codes.get(str(body.get("code") or ""))
		if grant is None or grant["used"]:
			raise ShopeeError("invalid_code", "The code is expired or used or invalid, please check the code.")
		if body.get("shop_id") != grant["shop_id"]:
			raise ShopeeError("invalid_shop_id", "The code or shop_id is wrong, please check the code or the shop_id.")
		grant["used"] = True
		access, refresh = self.issue_tokens(grant["shop_id"])
		return {"access_token": access, "refresh_token": refresh, "expire_in": 14400}

	def _api_access_token_get(self, shop_id, q, body):
		self._check_body_partner(body)
		if not body.get("refresh_token"):
			raise ShopeeError("error_param", "Wrong parameters, detail: refresh_token is required.")
		if not isinstance(body.get("shop_id"), int):
			raise ShopeeError("error_param", "Wrong parameters, detail: shop_id must be an int.")
		grant = self._refresh.get(body["refresh_token"])
		if grant is None or grant["used"] or grant["shop_id"] != body["shop_id"]:
			raise ShopeeError("error_auth", "Invalid refresh_token.", 403)
		grant["used"] = True  # single use
		access, refresh = self.issue_tokens(grant["shop_id"])
		return {"access_token": access, "refresh_token": refresh, "expire_in": 14400, "partner_id": self.partner_id, "shop_id": grant["shop_id"]}

	def _check_body_partner(self, body):
		if body.get("partner_id") != self.partner_id:
			raise ShopeeError("error_param", "Wrong parameters, detail: partner_id in body must be the int partner_id.")

	# --- orders --------------------------------------------------------------------------
	def _api_order_get_order_list(self, shop_id, q, body):
		field = q.require("time_range_field")
		if field not in ("create_time", "update_time"):
			raise ShopeeError("error_param", "Wrong parameters, detail: time_range_field.")
		time_from, time_to = q.require_int("time_from"), q.require_int("time_to")
		if time_from >= time_to or time_to - time_from > MAX_WINDOW:
			raise ShopeeError("order.order_list_invalid_time", "Start time must be earlier than end time and diff in 15days.")
		page_size = q.require_int("page_size")
		if not 1 <= page_size <= 100:
			raise ShopeeError("error_param", "Wrong parameters, detail: page_size should be between 1 and 100.")
		cursor = q.get("cursor") or ""
		offset = int(cursor) if cursor.isdigit() else 0
		matching = sorted(
			(o for o in self.orders.values() if time_from <= o[field] <= time_to), key=lambda o: (o[field], o["order_sn"])
		)
		page = matching[offset : offset + page_size]
		more = offset + page_size < len(matching)
		return {
			"response": {
				"more": more,
				"next_cursor": str(offset + page_size) if more else "",
				"order_list": [{"order_sn": o["order_sn"]} for o in page],
			}
		}

	def _api_order_get_order_detail(self, shop_id, q, body):
		order_sns = [sn for sn in q.require("order_sn_list").split(",") if sn]
		if not 1 <= len(order_sns) <= 50:
			raise ShopeeError("error_param", "Wrong parameters, detail: order_sn_list limit [1,50].")
		wanted = {f.strip() for f in (q.get("response_optional_fields") or "").split(",") if f.strip()}
		answer = []
		for order_sn in order_sns:
			detail = self.orders.get(order_sn)
			if detail is None:
				raise ShopeeError("error_not_found", "Wrong parameters, detail: the order is not found.")
			answer.append({k: v for k, v in detail.items() if k not in OPTIONAL_DETAIL_FIELDS or k in wanted})
		return {"response": {"order_list": answer}}

	def _api_order_cancel_order(self, shop_id, q, body):
		order = self._order(body.get("order_sn"))
		reason = body.get("cancel_reason")
		if reason not in ("OUT_OF_STOCK", "UNDELIVERABLE_AREA"):
			raise ShopeeError("error_param", "Wrong parameters, detail: cancel_reason.")
		if reason == "OUT_OF_STOCK":
			items = body.get("item_list")
			if not items or any(not isinstance(i.get("item_id"), int) or not isinstance(i.get("model_id"), int) for i in items):
				raise ShopeeError("error_param", "Wrong parameters, detail: item_list is required when cancel_reason is OUT_OF_STOCK.")
		if order["order_status"] not in ("UNPAID", "READY_TO_SHIP", "PROCESSED", "RETRY_SHIP"):
			raise ShopeeError("order.error_limit", "Can not cancel this order.")
		order["order_status"] = "CANCELLED"
		order["update_time"] = int(self.clock())
		return {"response": {"update_time": order["update_time"]}}

	# --- logistics -----------------------------------------------------------------------
	def _api_logistics_get_shipping_parameter(self, shop_id, q, body):
		self._order(q.require("order_sn"))
		return {"response": self.shipping_parameter}

	def _api_logistics_ship_order(self, shop_id, q, body):
		order = self._order(body.get("order_sn"))
		if "package_number" in body and not body["package_number"]:
			raise ShopeeError("error_param", "package_number must not be an empty string.")
		needed = self.shipping_parameter["info_needed"]
		if "pickup" in needed:
			pickup = body.get("pickup")
			if not isinstance(pickup, dict) or not isinstance(pickup.get("address_id"), int):
				raise ShopeeError("logistics.error_param", "pickup.address_id is required for this order.")
			addresses = {a["address_id"]: a for a in self.shipping_parameter["pickup"]["address_list"]}
			if pickup["address_id"] not in addresses:
				raise ShopeeError("logistics.address_not_found", "Address is not found.")
			slots = {s["pickup_time_id"] for s in addresses[pickup["address_id"]].get("time_slot_list") or []}
			if slots and pickup.get("pickup_time_id") not in slots:
				raise ShopeeError("logistics.error_cutoff_time", "Pickup time is not invalid. Please check the pickup time.")
		if order["order_status"] not in ("READY_TO_SHIP", "RETRY_SHIP"):
			raise ShopeeError("logistics.error_status_limit", "Can not ship this order in its current status.")
		order["order_status"] = "PROCESSED"
		order["update_time"] = int(self.clock())
		self.tracking[order["order_sn"]] = "SPXVN" + order["order_sn"][-8:]
		return {}

	def _api_logistics_get_tracking_number(self, shop_id, q, body):
		order_sn = q.require("order_sn")
		self._order(order_sn)
		return {"response": {"tracking_number": self.tracking.get(order_sn, "")}}

	# --- payment -------------------------------------------------------------------------
	def _api_payment_get_escrow_detail(self, shop_id, q, body):
		return {"response": self._escrow_of(q.require("order_sn"))}

	def _api_payment_get_escrow_detail_batch(self, shop_id, q, body):
		order_sns = body.get("order_sn_list")
		if not isinstance(order_sns, list) or not order_sns or any(not isinstance(sn, str) or not sn for sn in order_sns):
			raise ShopeeError("error_param", "order_sn_list is required, format should be string[]")
		if len(order_sns) > 50:
			raise ShopeeError("exceed_max_limit", "Your request exceeds the max limit of 50 orders.")
		known = [sn for sn in order_sns if (sn in self.escrow or sn in self.orders) and sn not in self.without_escrow]
		return {"response": [{"escrow_detail": self._escrow_of(sn)} for sn in known]}

	def _escrow_of(self, order_sn: str) -> dict:
		if order_sn in self.without_escrow:
			raise ShopeeError("error_data", "data not exist")
		if order_sn in self.escrow:
			return self.escrow[order_sn]
		if order_sn in self.orders:
			return escrow_of_detail(self.orders[order_sn], self.fee_rates)
		raise ShopeeError("order_not_found", "Order SN provided is invalid or does not belong to you. Please enter a valid Order SN.")

	def _api_payment_get_wallet_transaction_list(self, shop_id, q, body):
		page_no, page_size = q.require_int("page_no"), q.require_int("page_size")
		if page_no < 0 or not 1 <= page_size <= 100:
			raise ShopeeError("error_param", "Wrong parameters, detail: page_no >= 0 and page_size 1..100.")
		rows = self._wallet_between(q.get("create_time_from"), q.get("create_time_to"))
		for name in ("transaction_type", "money_flow", "wallet_type"):
			if q.get(name):
				rows = [row for row in rows if row[name] == q.get(name)]
		rows.sort(key=lambda row: (row["create_time"], row["transaction_id"]), reverse=True)  # newest first
		page = rows[page_no * page_size : (page_no + 1) * page_size]
		return {"response": {"transaction_list": page, "more": (page_no + 1) * page_size < len(rows)}}

	def _wallet_between(self, time_from, time_to) -> list[dict]:
		if time_from in (None, "") and time_to in (None, ""):
			return list(self.wallet)
		try:
			start, end = int(time_from), int(time_to)
		except (TypeError, ValueError):
			raise ShopeeError("time_invalid", "The param error: time is invalid") from None
		if start > end:
			raise ShopeeError("time_invalid", "The param error: create_time_from bigger than create_time_to.")
		if end - start > MAX_WINDOW:
			raise ShopeeError("time_period_too_large", "The param error: time period too large.")
		return [row for row in self.wallet if start <= row["create_time"] <= end]

	# --- products ------------------------------------------------------------------------
	def _api_product_get_item_list(self, shop_id, q, body):
		offset, page_size = q.require_int("offset"), q.require_int("page_size")
		if offset < 0 or not 1 <= page_size <= 100:
			raise ShopeeError("error_param", "Invalid or missing page_size parameter , please enter a valid value that is with 1-100.")
		statuses = q.all("item_status")
		if not statuses:
			raise ShopeeError("error_param", "Wrong parameters, detail: item_status is required.")
		matching = [i for i in sorted(self.items) if self.items[i]["status"] in statuses]
		page = matching[offset : offset + page_size]
		more = offset + page_size < len(matching)
		return {
			"response": {
				"item": [{"item_id": i, "item_status": self.items[i]["status"], "update_time": self.items[i]["update_time"]} for i in page],
				"total_count": len(matching),
				"has_next_page": more,
				"next_offset": offset + page_size if more else 0,
			}
		}

	def _api_product_get_item_base_info(self, shop_id, q, body):
		ids = [int(i) for i in q.require("item_id_list").strip("[]").split(",") if i.strip()]
		if not 1 <= len(ids) <= 50:
			raise ShopeeError("error_param", "item_id_list is blank or exceeded max limit.")
		return {
			"response": {
				"item_list": [
					{
						"item_id": i,
						"item_name": self.items[i]["item_name"],
						"item_sku": self.items[i]["item_sku"],
						"item_status": self.items[i]["status"],
						"has_model": bool(self.items[i]["models"]),
						# an item with models keeps its stock on the models (get_model_list)
						**({} if self.items[i]["models"] else {"stock_info_v2": self._stock_info(self.items[i])}),
					}
					for i in ids
					if i in self.items
				]
			}
		}

	def _api_product_get_model_list(self, shop_id, q, body):
		item = self.items.get(q.require_int("item_id"))
		if item is None:
			raise ShopeeError("error_item_not_found", "Item not found.")
		return {
			"response": {
				"tier_variation": item["tier_variation"],
				"model": [
					{"model_id": mid, "model_sku": m.get("model_sku", ""), "tier_index": m["tier_index"], "stock_info_v2": self._stock_info(m)}
					for mid, m in item["models"].items()
				],
			}
		}

	def _api_product_update_stock(self, shop_id, q, body):
		item = self.items.get(body.get("item_id")) if isinstance(body.get("item_id"), int) else None
		if item is None:
			raise ShopeeError("product.error_param", "invalid field ItemId: value must Not Null")
		stock_list = body.get("stock_list")
		if not isinstance(stock_list, list) or not 1 <= len(stock_list) <= 50:
			raise ShopeeError("product.error_param", "stock_list length should be between 1 to 50.")
		failures, successes = [], []
		for entry in stock_list:
			model_id = entry.get("model_id", 0)
			seller_stock = entry.get("seller_stock")
			if not isinstance(seller_stock, list) or not seller_stock or any(not isinstance(s.get("stock"), int) or s["stock"] < 0 for s in seller_stock):
				raise ShopeeError("product.error_param", "seller_stock.stock is required and must be >= 0.")
			known = model_id in item["models"] if item["models"] else model_id == 0
			reason = self.stock_failures.get((body["item_id"], model_id))
			if not known:
				failures.append({"model_id": model_id, "failed_reason": "model not found"})
			elif reason:
				failures.append({"model_id": model_id, "failed_reason": reason})
			else:
				holder = item["models"][model_id] if item["models"] else item
				# seller_stock updates the locations it names; the others keep their stock
				locations = dict(holder.get("locations") or {self.default_location: holder.get("stock", 0)})
				locations.update({str(s.get("location_id") or self.default_location): s["stock"] for s in seller_stock})
				holder["locations"] = locations
				holder["stock"] = sum(locations.values())
				successes.append({"model_id": model_id, "stock": holder["stock"]})
		return {"response": {"failure_list": failures, "success_list": successes}}

	def _stock_info(self, holder: dict) -> dict:
		"""stock_info_v2 of an item or model: seller stock per location, nothing reserved."""
		locations = holder.get("locations") or {self.default_location: holder.get("stock", 0)}
		return {
			"summary_info": {"total_reserved_stock": 0, "total_available_stock": sum(locations.values())},
			"seller_stock": [{"location_id": location, "stock": stock, "if_saleable": True} for location, stock in locations.items()],
		}

	# --- push ----------------------------------------------------------------------------
	def _api_push_get_lost_push_message(self, shop_id, q, body):
		pending = [m for m in self.lost_push if not m["consumed"]]
		page = pending[:100]
		return {
			"response": {
				"push_message_list": [{k: m[k] for k in ("shop_id", "code", "timestamp", "data")} for m in page],
				"has_next_page": len(pending) > 100,
				"last_message_id": page[-1]["message_id"] if page else 0,
			}
		}

	def _api_push_confirm_consumed_lost_push_message(self, shop_id, q, body):
		last = body.get("last_message_id")
		if not isinstance(last, int):
			raise ShopeeError("error_param", "last_message_id is required.")
		for message in self.lost_push:
			if message["message_id"] <= last:
				message["consumed"] = True
		return {}

	def _order(self, order_sn) -> dict:
		if not order_sn:
			raise ShopeeError("error_param", "Wrong parameters, detail: order_sn is a required field.")
		order = self.orders.get(order_sn)
		if order is None:
			raise ShopeeError("error_not_found", "Wrong parameters, detail: the order is not found.")
		return order


def escrow_of_detail(detail: dict, rates: dict | None = None) -> dict:
	"""The escrow of an order bought without vouchers: what its get_order_detail object implies,
	with Shopee's fees at `rates` (DEFAULT_FEE_RATES) and the carrier's fee the shipping the buyer
	paid, escrow_amount by Shopee's formula (goods + buyer-paid shipping - shipping - fees)."""
	rates = DEFAULT_FEE_RATES if rates is None else rates
	places = 0 if str(detail.get("currency") or "VND").upper() in ("VND", "IDR") else 2
	items = [_escrow_item(item) for item in detail.get("item_list") or []]
	subtotal = sum((Decimal(str(row["discounted_price"])) for row in items), Decimal(0))
	total = Decimal(str(detail.get("total_amount", subtotal)))
	shipping = max(total - subtotal, Decimal(0))
	fees = {name: _round(subtotal * Decimal(str(rates.get(name, 0))), places) for name in ("commission_fee", "service_fee")}
	fees["seller_transaction_fee"] = _round((subtotal + shipping) * Decimal(str(rates.get("seller_transaction_fee", 0))), places)
	checkout = {
		"buyer_total_amount": _number(total),
		"merchant_subtotal": _number(subtotal),
		"shipping_fee": _number(shipping),
		"seller_voucher": 0,
		"shopee_voucher": _number(min(total - subtotal, Decimal(0))),  # paid less than the goods: Shopee's voucher covered it
		"shopee_coins_redeemed": 0,
		"credit_card_promotion": 0,
	}
	income = {
		"buyer_total_amount": _number(total),
		"original_cost_of_goods_sold": _number(subtotal),
		"cost_of_goods_sold": _number(subtotal),
		"original_price": _number(sum((Decimal(str(row["original_price"])) for row in items), Decimal(0))),
		"seller_discount": _number(sum((Decimal(str(row["seller_discount"])) for row in items), Decimal(0))),
		"shopee_discount": 0,
		"original_shopee_discount": 0,
		"voucher_from_seller": 0,
		"voucher_from_shopee": _number(max(subtotal - total, Decimal(0))),
		"coins": 0,
		"buyer_paid_shipping_fee": _number(shipping),
		"actual_shipping_fee": _number(shipping),
		"shopee_shipping_rebate": 0,
		"seller_return_refund": 0,
		**{name: _number(amount) for name, amount in fees.items()},
		"escrow_amount": _number(subtotal - sum(fees.values(), Decimal(0))),
		"items": items,
	}
	return {"order_sn": detail["order_sn"], "buyer_user_name": detail.get("buyer_username", ""), "buyer_payment_info": checkout, "order_income": income}


def _escrow_item(item: dict) -> dict:
	qty, original = item["model_quantity_purchased"], item["model_original_price"]
	paid = item.get("model_discounted_price", original)
	if paid == 0 and item.get("promotion_type") == "bundle_deal":
		paid = original  # the detail prices bundle items at 0; the escrow gives their real price
	return {
		"item_id": item["item_id"],
		"model_id": item.get("model_id", 0),
		"model_sku": item.get("model_sku", ""),
		"quantity_purchased": qty,
		"original_price": original * qty,
		"discounted_price": paid * qty,
		"seller_discount": (original - paid) * qty,
		"shopee_discount": 0,
	}


def _round(amount: Decimal, places: int) -> Decimal:
	return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _number(amount: Decimal):
	"""A JSON number as Shopee writes it: whole amounts as integers."""
	return int(amount) if amount == amount.to_integral_value() else float(amount)


class _Query:
	def __init__(self, query: dict):
		self.query = query

	def get(self, name: str) -> str | None:
		values = self.query.get(name)
		return values[-1] if values else None

	def all(self, name: str) -> list[str]:
		return list(self.query.get(name) or [])

	def require(self, name: str) -> str:
		value = self.get(name)
		if value in (None, ""):
			raise ShopeeError("error_param", f"Wrong parameters, detail: {name} is a required field.")
		return value

	def require_int(self, name: str) -> int:
		try:
			return int(self.require(name))
		except ValueError:
			raise ShopeeError("error_param", f"Wrong parameters, detail: {name} must be a number.") from None
