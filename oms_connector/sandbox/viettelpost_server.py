"""A local stand-in for Viettel Post's partner API v2 (base path /v2) and its print link.

What it checks and answers, as the partner document ("TÀI LIỆU KẾT NỐI API VIETTELPOST") says:
- POST /v2/user/Login {USERNAME, PASSWORD} -> data.token (with `expired`, epoch ms); tokens live
  `token_lifetime` seconds; POST /v2/user/ownerconnect (header Token) -> a long-lived token;
- every order API wants header Token: none -> "Header Token is required", unknown or expired ->
  "Token invalid or expired" (error true);
- GET /v2/categories/listProvinceById?provinceId=-1 (and the older listProvince),
  listDistrict?provinceId=, listWards?districtId= from a few real places; after the 2025 merger
  each province also lists a district entry DISTRICT_VALUE "NEW" whose wards are the new ones;
- POST /v2/order/getPriceAll -> the bare list of services (as documented); getPrice for one;
  "Price does not apply to this itinerary!" for a service the route does not take;
- POST /v2/order/createOrder: ids checked (ward in district in province), ORDER_PAYMENT 1..4,
  ORDER_SERVICE known; with CHECK_UNIQUE a second ORDER_NUMBER is refused;
- POST /v2/order/UpdateOrder TYPE 4 cancels an order below 200 and not 105/107;
- POST /v2/order/printing-code {ORDER_ARRAY (<=100), EXPIRY_TIME (future, ms)} -> message = code;
  GET /DigitalizePrint/report.do?type=&bill=<code>&showPostage= serves a small valid PDF.
Messages the document does not give (the duplicate refusal, a cancel refused by status) are this
stand-in's own wording and say so in `STAND_IN_WORDING`.

Test controls: fail(path, kind) queues "429", "500".."599", "sleep:<s>" (does the work, then
answers that late: the client has timed out by then) or "error:<message>"; expire_token(token);
advance(order_number, status_code, note) records a status and, with `webhook_url` set, posts the
webhook {"DATA": {...}, "TOKEN": webhook_secret} there. Every request is kept in `calls`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import requests

from .local_server import LocalServer
from .pdf import minimal_pdf

VN_TZ = timezone(timedelta(hours=7))
STAND_IN_WORDING = {"duplicate": "ORDER_NUMBER already exists", "cancel_refused": "Order can not be cancelled in its current status"}
# Provinces, districts and wards. Hà Nội 1 / HCM 2, Hoàng Mai 4, Nam Từ Liêm 25, Long Biên 20,
# Định Công 74, Đại Mỗ 498, Thạch Bàn 405, Quận 1 43 are the ids of the document's examples; the
# others are this stand-in's own. Hà Tĩnh has both "Huyện Kỳ Anh" and "Thị xã Kỳ Anh" (real).
PROVINCES = [
	{"PROVINCE_ID": 1, "PROVINCE_CODE": "HNI", "PROVINCE_NAME": "Hà Nội"},
	{"PROVINCE_ID": 2, "PROVINCE_CODE": "HCM", "PROVINCE_NAME": "Hồ Chí Minh"},
	{"PROVINCE_ID": 42, "PROVINCE_CODE": "HTH", "PROVINCE_NAME": "Hà Tĩnh"},
]
DISTRICTS = [
	{"DISTRICT_ID": 4, "DISTRICT_VALUE": "008", "DISTRICT_NAME": "QUẬN HOÀNG MAI", "PROVINCE_ID": 1},
	{"DISTRICT_ID": 20, "DISTRICT_VALUE": "004", "DISTRICT_NAME": "QUẬN LONG BIÊN", "PROVINCE_ID": 1},
	{"DISTRICT_ID": 25, "DISTRICT_VALUE": "019", "DISTRICT_NAME": "QUẬN NAM TỪ LIÊM", "PROVINCE_ID": 1},
	{"DISTRICT_ID": 100000001, "DISTRICT_VALUE": "NEW", "DISTRICT_NAME": "Bỏ qua - Sử dụng địa chỉ 2 cấp", "PROVINCE_ID": 1},
	{"DISTRICT_ID": 43, "DISTRICT_VALUE": "760", "DISTRICT_NAME": "QUẬN 1", "PROVINCE_ID": 2},
	{"DISTRICT_ID": 100000002, "DISTRICT_VALUE": "NEW", "DISTRICT_NAME": "Bỏ qua - Sử dụng địa chỉ 2 cấp", "PROVINCE_ID": 2},
	{"DISTRICT_ID": 515, "DISTRICT_VALUE": "444", "DISTRICT_NAME": "HUYỆN KỲ ANH", "PROVINCE_ID": 42},
	{"DISTRICT_ID": 516, "DISTRICT_VALUE": "445", "DISTRICT_NAME": "THỊ XÃ KỲ ANH", "PROVINCE_ID": 42},
]
WARDS = [
	{"WARDS_ID": 74, "WARDS_NAME": "PHƯỜNG ĐỊNH CÔNG", "DISTRICT_ID": 4},
	{"WARDS_ID": 75, "WARDS_NAME": "PHƯỜNG HOÀNG LIỆT", "DISTRICT_ID": 4},
	{"WARDS_ID": 405, "WARDS_NAME": "PHƯỜNG THẠCH BÀN", "DISTRICT_ID": 20},
	{"WARDS_ID": 498, "WARDS_NAME": "PHƯỜNG ĐẠI MỖ", "DISTRICT_ID": 25},
	{"WARDS_ID": 1001, "WARDS_NAME": "PHƯỜNG BẾN NGHÉ", "DISTRICT_ID": 43},
	{"WARDS_ID": 1002, "WARDS_NAME": "PHƯỜNG NGUYỄN THÁI BÌNH", "DISTRICT_ID": 43},
	{"WARDS_ID": 90001, "WARDS_NAME": "PHƯỜNG HOÀNG MAI", "DISTRICT_ID": 100000001},
	{"WARDS_ID": 90002, "WARDS_NAME": "PHƯỜNG SÀI GÒN", "DISTRICT_ID": 100000002},
	{"WARDS_ID": 5150, "WARDS_NAME": "XÃ KỲ TÂN", "DISTRICT_ID": 515},
	{"WARDS_ID": 5160, "WARDS_NAME": "PHƯỜNG HƯNG TRÍ", "DISTRICT_ID": 516},
]
# code -> (name, base fee for the first 500 g, per extra 500 g, hours, same-province only)
SERVICES = {
	"PHS": ("Nội tỉnh tiết kiệm", 15000, 2500, 24, True),
	"VCN": ("Chuyển phát nhanh", 22000, 5000, 48, False),
	"VTK": ("Tiết kiệm", 18000, 3500, 96, False),
}
COD_FEE_RATE = 0.008  # of MONEY_COLLECTION, at least COD_FEE_MIN when something is collected
COD_FEE_MIN = 10000
VAT = 0.10
AUTH_PATHS = {"/v2/order/getPriceAll", "/v2/order/getPrice", "/v2/order/createOrder", "/v2/order/UpdateOrder", "/v2/order/printing-code", "/v2/user/ownerconnect"}


class VTPError(Exception):
	def __init__(self, message: str, status: int = 200, http: int = 200):
		super().__init__(message)
		self.message, self.status, self.http = message, status, http


class FakeViettelPost(LocalServer):
	def __init__(self, username: str = "0933177454", password: str = "xyz@222", token_lifetime: float = 3600, clock=time.time):
		self.users = {username: password}
		self.token_lifetime = token_lifetime
		self.clock = clock
		self.provinces = [dict(p) for p in PROVINCES]
		self.districts = [dict(d) for d in DISTRICTS]
		self.wards = [dict(w) for w in WARDS]
		self.orders: dict[str, dict] = {}  # tracking number -> {"request", "status", "history", ...}
		self.print_codes: dict[str, dict] = {}  # code -> {"orders", "expires_ms"}
		self.webhook_url = ""
		self.webhook_secret = "vtp-webhook-secret"
		self.webhooks: list[dict] = []  # every webhook body built by advance(), posted or not
		self.calls: list[dict] = []
		self.logins = 0
		self._tokens: dict[str, dict] = {}  # token -> {"user", "expires_at" (None: long-lived)}
		self._faults: dict[str, list[str]] = {}
		self._lock = threading.Lock()
		self._serial = 1587818000

	# --- test controls -------------------------------------------------------------------
	def issue_token(self, username: str | None = None, lifetime: float | None = None) -> str:
		token = "eyJhbGciOiJFUzI1NiJ9." + secrets.token_urlsafe(24)
		life = self.token_lifetime if lifetime is None else lifetime
		self._tokens[token] = {"user": username or next(iter(self.users)), "expires_at": None if life <= 0 else self.clock() + life}
		return token

	def expire_token(self, token: str) -> None:
		self._tokens[token]["expires_at"] = self.clock() - 1

	def fail(self, path: str, kind: str, times: int = 1) -> None:
		self._faults.setdefault(path, []).extend([kind] * times)

	def calls_to(self, path: str) -> list[dict]:
		return [call for call in self.calls if call["path"] == path]

	def order_by_reference(self, reference: str) -> list[dict]:
		return [order for order in self.orders.values() if order["request"].get("ORDER_NUMBER") == reference]

	def advance(self, order_number: str, status_code: int, note: str = "", status_name: str = "", returning: bool = False, at: datetime | None = None) -> dict:
		"""Viettel Post moves the order to `status_code`: recorded, and posted to webhook_url if set."""
		with self._lock:
			order = self.orders[order_number]
			when = (at or datetime.fromtimestamp(self.clock(), tz=VN_TZ)).astimezone(VN_TZ)
			order["status"] = int(status_code)
			order["history"].append({"status": int(status_code), "at": when, "note": note})
			request = order["request"]
			body = {
				"DATA": {
					"ORDER_NUMBER": order_number,
					"ORDER_REFERENCE": request.get("ORDER_NUMBER") or "",
					"ORDER_STATUSDATE": when.strftime("%d/%m/%Y %H:%M:%S"),
					"ORDER_STATUS": int(status_code),
					"STATUS_NAME": status_name,
					"LOCALION_CURRENTLY": "HNI, HMI, Bưu cục Hoàng Mai - HNI - Hà Nội",
					"LOCATION_CURRENTLY": "HNI, HMI, Bưu cục Hoàng Mai - HNI - Hà Nội",
					"NOTE": note,
					"MONEY_COLLECTION": request.get("MONEY_COLLECTION", 0),
					"MONEY_TOTAL": order["price"]["MONEY_TOTAL"],
					"MONEY_TOTALFEE": order["price"]["MONEY_TOTAL_FEE"],
					"MONEY_FEECOD": order["price"]["MONEY_COLLECTION_FEE"],
					"MONEY_TOTALVAT": order["price"]["MONEY_VAT"],
					"PRODUCT_WEIGHT": request.get("PRODUCT_WEIGHT", 0),
					"ORDER_SERVICE": request.get("ORDER_SERVICE"),
					"ORDER_PAYMENT": request.get("ORDER_PAYMENT"),
					"IS_RETURNING": bool(returning),
					"RECEIVER_FULLNAME": request.get("RECEIVER_FULLNAME", ""),
				},
				"TOKEN": self.webhook_secret,
			}
			self.webhooks.append(body)
			url = self.webhook_url
		if url:
			requests.post(url, json=body, timeout=5)
		return body

	# --- HTTP ----------------------------------------------------------------------------
	def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
		parts = urlsplit(handler.path)
		query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
		length = int(handler.headers.get("Content-Length") or 0)
		raw = handler.rfile.read(length) if length else b""
		token = handler.headers.get("Token")
		late = 0.0
		with self._lock:
			self.calls.append({"method": method, "path": parts.path, "query": query, "body": raw, "token": token})
			faults = self._faults.get(parts.path)
			kind = faults.pop(0) if faults else ""
			if kind.isdigit():
				status, content_type, data = int(kind), "application/json", json.dumps({"status": int(kind), "error": True, "message": "System error"}).encode()
			elif kind.startswith("error:"):
				status, content_type, data = 200, "application/json", json.dumps({"status": 500, "error": True, "message": kind[6:]}).encode()
			else:
				if kind.startswith("sleep:"):
					late = float(kind.partition(":")[2])
				status, content_type, data = self._handle(method, parts.path, query, raw, token)
		if late:
			time.sleep(late)  # the work is done; the answer comes after the client gave up
		try:
			handler.send_response(status)
			handler.send_header("Content-Type", content_type)
			handler.send_header("Content-Length", str(len(data)))
			handler.end_headers()
			handler.wfile.write(data)
		except (BrokenPipeError, ConnectionResetError):
			pass

	def _handle(self, method: str, path: str, query: dict, raw: bytes, token: str | None):
		if path == "/DigitalizePrint/report.do" and method == "GET":
			return self._print(query)
		try:
			if method == "GET" and path.startswith("/v2/categories/"):
				return self._json({"status": 200, "error": False, "message": "OK", "data": self._categories(path, query)})
			if method != "POST":
				raise VTPError(f"Request method '{method}' not supported", 405, 405)
			try:
				body = json.loads(raw or b"{}")
			except ValueError:
				raise VTPError("Invalid JSON", 400) from None
			if path in AUTH_PATHS:
				self._authenticate(token)
			handler = {
				"/v2/user/Login": self._login,
				"/v2/user/ownerconnect": self._owner_connect,
				"/v2/order/getPriceAll": self._price_all,
				"/v2/order/getPrice": self._price,
				"/v2/order/createOrder": self._create,
				"/v2/order/UpdateOrder": self._update,
				"/v2/order/printing-code": self._printing_code,
			}.get(path)
			if handler is None:
				raise VTPError("Not Found", 404, 404)
			result = handler(body)
		except VTPError as exc:
			return exc.http, "application/json", json.dumps({"status": exc.status, "error": True, "message": exc.message, "data": None}).encode()
		return self._json(result)

	@staticmethod
	def _json(payload):
		return 200, "application/json", json.dumps(payload, ensure_ascii=False).encode()

	def _authenticate(self, token: str | None) -> None:
		if not token:
			raise VTPError("Header Token is required", 401)
		grant = self._tokens.get(token)
		if grant is None or (grant["expires_at"] is not None and grant["expires_at"] < self.clock()):
			raise VTPError("Token invalid or expired", 401)

	# --- auth ----------------------------------------------------------------------------
	def _login(self, body):
		user, password = str(body.get("USERNAME") or ""), str(body.get("PASSWORD") or "")
		if self.users.get(user) != password or not user:
			raise VTPError("Invalid owner account or password!", 400)
		self.logins += 1
		return self._token_answer(user, self.issue_token(user))

	def _owner_connect(self, body):
		user, password = str(body.get("USERNAME") or ""), str(body.get("PASSWORD") or "")
		if self.users.get(user) != password or not user:
			raise VTPError("Invalid owner account or password!", 400)
		return self._token_answer(user, self.issue_token(user, lifetime=0))

	def _token_answer(self, user: str, token: str) -> dict:
		expires = self._tokens[token]["expires_at"]
		return {
			"status": 200, "error": False, "message": "OK",
			"data": {"userId": 7856551, "token": token, "partner": 7856551, "phone": user, "postcode": None,
				"expired": int(expires * 1000) if expires else 0, "encrypted": None, "source": 5},
		}  # fmt: skip

	# --- master data ---------------------------------------------------------------------
	def _categories(self, path: str, query: dict) -> list[dict]:
		name = path.rsplit("/", 1)[-1]
		if name in ("listProvinceById", "listProvince", "listProvinceNew"):
			wanted = int(query.get("provinceId", -1) or -1)
			return [p for p in self.provinces if wanted == -1 or p["PROVINCE_ID"] == wanted]
		if name == "listDistrict":
			wanted = int(query.get("provinceId", -1) or -1)
			return [d for d in self.districts if wanted == -1 or d["PROVINCE_ID"] == wanted]
		if name == "listWards":
			wanted = int(query.get("districtId", -1) or -1)
			return [w for w in self.wards if wanted == -1 or w["DISTRICT_ID"] == wanted]
		raise VTPError("Not Found", 404, 404)

	# --- prices --------------------------------------------------------------------------
	def _check_route(self, body: dict, side: str, need_ward: bool) -> None:
		province, district, ward = (body.get(f"{side}_{level}") for level in ("PROVINCE", "DISTRICT", "WARD"))
		province_row = next((p for p in self.provinces if p["PROVINCE_ID"] == province), None)
		if province_row is None:
			raise VTPError(f"Incorrect data: {side}_PROVINCE")
		district_row = next((d for d in self.districts if d["DISTRICT_ID"] == district), None)
		if district_row is None or district_row["PROVINCE_ID"] != province:
			raise VTPError(f"Incorrect data: {side}_DISTRICT")
		if need_ward or ward:
			ward_row = next((w for w in self.wards if w["WARDS_ID"] == ward), None)
			if ward_row is None or ward_row["DISTRICT_ID"] != district:
				raise VTPError(f"Invalid [{side}_WARD, {side}_DISTRICT, {side}_PROVINCE]")

	def _services_for(self, body: dict) -> list[str]:
		same = body.get("SENDER_PROVINCE") == body.get("RECEIVER_PROVINCE")
		return [code for code, row in SERVICES.items() if same or not row[4]]

	def _fees(self, code: str, body: dict) -> dict:
		name, base, step, hours, _ = SERVICES[code]
		weight = max(int(body.get("PRODUCT_WEIGHT") or 0), 1)
		size = [int(body.get(k) or 0) for k in ("PRODUCT_LENGTH", "PRODUCT_WIDTH", "PRODUCT_HEIGHT")]
		exchange = size[0] * size[1] * size[2] * 1000 // 6000 if all(size) else 0
		billed = max(weight, exchange)
		fee = base + step * max(0, -(-(billed - 500) // 500))
		collection = int(body.get("MONEY_COLLECTION") or 0)
		cod_fee = max(int(collection * COD_FEE_RATE), COD_FEE_MIN) if collection > 0 else 0
		vat = int(round((fee + cod_fee) * VAT))
		return {
			"MONEY_TOTAL_OLD": fee + cod_fee + vat, "MONEY_TOTAL": fee + cod_fee + vat, "MONEY_TOTAL_FEE": fee,
			"MONEY_FEE": 0, "MONEY_COLLECTION_FEE": cod_fee, "MONEY_OTHER_FEE": 0, "MONEY_VAS": 0, "MONEY_VAT": vat,
			"KPI_HT": float(hours), "EXCHANGE_WEIGHT": exchange,
		}  # fmt: skip

	def _price_all(self, body):
		self._check_route(body, "SENDER", False)
		self._check_route(body, "RECEIVER", False)
		if body.get("PRODUCT_TYPE") not in ("HH", "TH"):
			raise VTPError("Incorrect data: PRODUCT_TYPE")
		answer = []
		for code in self._services_for(body):
			name, base, step, hours, _ = SERVICES[code]
			fees = self._fees(code, {**body, "MONEY_COLLECTION": 0})
			answer.append({
				"MA_DV_CHINH": code, "TEN_DICHVU": name, "GIA_CUOC": fees["MONEY_TOTAL_FEE"] + int(round(fees["MONEY_TOTAL_FEE"] * VAT)),
				"THOI_GIAN": f"{hours} giờ", "EXCHANGE_WEIGHT": fees["EXCHANGE_WEIGHT"],
				"EXTRA_SERVICE": [{"SERVICE_CODE": "GBH", "SERVICE_NAME": "Bảo hiểm", "DESCRIPTION": None}],
			})  # fmt: skip
		return answer  # getPriceAll answers the bare list

	def _price(self, body):
		self._check_route(body, "SENDER", False)
		self._check_route(body, "RECEIVER", False)
		code = body.get("ORDER_SERVICE")
		if code not in SERVICES or code not in self._services_for(body):
			raise VTPError("Price does not apply to this itinerary!")
		return {"status": 200, "error": False, "message": "OK", "data": {k: v for k, v in self._fees(code, body).items() if k != "EXCHANGE_WEIGHT"}}

	# --- orders --------------------------------------------------------------------------
	def _create(self, body):
		reference = str(body.get("ORDER_NUMBER") or "")
		if body.get("CHECK_UNIQUE") and reference and self.order_by_reference(reference):
			raise VTPError(STAND_IN_WORDING["duplicate"])
		if not body.get("GROUPADDRESS_ID"):
			self._check_route(body, "SENDER", True)
		self._check_route(body, "RECEIVER", True)
		for field in ("RECEIVER_FULLNAME", "RECEIVER_PHONE", "RECEIVER_ADDRESS"):
			if not body.get(field):
				raise VTPError(f"Incorrect data: {field}")
		if body.get("ORDER_PAYMENT") not in (1, 2, 3, 4):
			raise VTPError("Incorrect data: ORDER_PAYMENT")
		if body.get("PRODUCT_TYPE", "HH") not in ("HH", "TH"):
			raise VTPError("Incorrect data: PRODUCT_TYPE")
		code = body.get("ORDER_SERVICE")
		if code not in SERVICES:
			raise VTPError("Incorrect data: ORDER_SERVICE")
		if code not in self._services_for(body):
			raise VTPError("Price does not apply to this itinerary!")
		if int(body.get("MONEY_COLLECTION") or 0) < 0:
			raise VTPError("Invalid [MONEY_COLLECTION]")
		self._serial += 1
		tracking = str(self._serial)
		fees = self._fees(code, body)
		self.orders[tracking] = {"request": body, "status": -100, "history": [], "price": fees}
		data = {
			"ORDER_NUMBER": tracking, "MONEY_COLLECTION": int(body.get("MONEY_COLLECTION") or 0), "EXCHANGE_WEIGHT": fees["EXCHANGE_WEIGHT"],
			**{k: fees[k] for k in ("MONEY_TOTAL", "MONEY_TOTAL_FEE", "MONEY_FEE", "MONEY_COLLECTION_FEE", "MONEY_OTHER_FEE", "MONEY_VAS", "MONEY_VAT", "KPI_HT")},
			"RECEIVER_PROVINCE": body["RECEIVER_PROVINCE"], "RECEIVER_DISTRICT": body["RECEIVER_DISTRICT"], "RECEIVER_WARD": body["RECEIVER_WARD"],
		}  # fmt: skip
		return {"status": 200, "error": False, "message": "OK", "data": data}

	def _update(self, body):
		order = self.orders.get(str(body.get("ORDER_NUMBER") or ""))
		if order is None:
			raise VTPError("Order does not exist")
		kind = body.get("TYPE")
		if kind != 4:
			raise VTPError(f"TYPE {kind} is not served by this stand-in")
		if order["status"] >= 200 or order["status"] in (105, 107):
			raise VTPError(STAND_IN_WORDING["cancel_refused"])
		order["status"] = 107
		order["history"].append({"status": 107, "at": datetime.fromtimestamp(self.clock(), tz=VN_TZ), "note": body.get("NOTE") or ""})
		return {"status": 200, "error": False, "message": "Hủy đơn hàng thành công", "data": None}

	def _printing_code(self, body):
		orders, expiry = body.get("ORDER_ARRAY"), body.get("EXPIRY_TIME")
		if not isinstance(orders, list) or not 1 <= len(orders) <= 100:
			raise VTPError("ORDER_ARRAY must hold 1 to 100 waybills")
		if not isinstance(expiry, int) or expiry <= self.clock() * 1000:
			raise VTPError("EXPIRY_TIME must be in the future")
		missing = [number for number in orders if number not in self.orders]
		if missing:
			raise VTPError("Order does not exist")
		code = secrets.token_urlsafe(24) + "="
		self.print_codes[code] = {"orders": list(orders), "expires_ms": expiry}
		return {"status": 200, "error": False, "message": code, "data": None}

	def _print(self, query: dict):
		grant = self.print_codes.get(query.get("bill", ""))
		if grant is None or grant["expires_ms"] < self.clock() * 1000:
			return 404, "text/html", b"<html><body>Link in het han</body></html>"
		return 200, "application/pdf", minimal_pdf("Viettel Post " + " ".join(grant["orders"]))
