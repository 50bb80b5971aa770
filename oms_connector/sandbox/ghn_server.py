"""A local stand-in for GHN's public API (https://api.ghn.vn/home/docs/detail), strict the way GHN is.

Paths as on the gateway: /shiip/public-api/... (so a connector's base_url is
`<base_url>/shiip/public-api`) and the label page /a5/public-api/printA5?token=...
- `Token` header on every request (wrong or missing: HTTP 401); `ShopId` header on shop APIs
  (fee, leadtime, create, cancel, soc), which must be the token's shop;
- a small master data set: real GHN ids where GHN's docs show them (Hồ Chí Minh 202, Hà Nội 201,
  Lào Cai 269 with its published NameExtension, Quận 1 1442, Quận 2 1443, Quận 3 1444, Phường Đa
  Kao 20106); the other ids are illustrative. Both a "Thành phố Thủ Đức" and a disabled-by-nobody
  "Quận Thủ Đức" are kept, as GHN keeps old names, so "Thủ Đức" alone is ambiguous;
- create: required fields, weight 1..50,000 g, sides up to 200 cm, insurance_value up to
  5,000,000, cod_amount up to 50,000,000, the ward must be in the district, payment_type_id 1|2,
  required_note one of GHN's three; a client_order_code seen before is refused (GHN keeps them
  unique per shop, cancelled orders included);
- fee from the route (same district, same province, elsewhere) and the billed weight (the larger
  of actual and L×W×H/5); leadtime one day in a province, three elsewhere (+1 for "Tiết kiệm");
- cancel only before pickup; a5/gen-token then printA5 serves a minimal valid PDF;
- faults per path like FakeShopee.fail: "429", "500".."599", "sleep:<s>" (answers late, having done
  nothing), "late:<s>" (does the work, then answers late: the create a client timed out on);
- advance(order_code, status, reason, callback_url): records the status in the order's log and
  can post GHN's callback JSON to a URL.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import requests

from .local_server import LocalServer
from .pdf import minimal_pdf

API = "/shiip/public-api"
SHOP_PATHS = {"/v2/shipping-order/fee", "/v2/shipping-order/leadtime", "/v2/shipping-order/create", "/v2/switch-status/cancel", "/v2/shipping-order/soc"}
REQUIRED_NOTES = {"KHONGCHOXEMHANG", "CHOXEMHANGKHONGTHU", "CHOTHUHANG"}
CANCELLABLE = {"ready_to_pick", "picking", "money_collect_picking"}
MAX_WEIGHT, MAX_SIDE, MAX_INSURANCE, MAX_COD = 50_000, 200, 5_000_000, 50_000_000

PROVINCES = [
	{"ProvinceID": 202, "ProvinceName": "Hồ Chí Minh", "NameExtension": ["Hồ Chí Minh", "TP.Hồ Chí Minh", "TP. Hồ Chí Minh", "TP Hồ Chí Minh", "Thành phố Hồ Chí Minh", "HCM", "hochiminh", "Sài Gòn"], "IsEnable": 1},
	{"ProvinceID": 201, "ProvinceName": "Hà Nội", "NameExtension": ["Hà Nội", "TP.Hà Nội", "TP. Hà Nội", "TP Hà Nội", "Thành phố Hà Nội", "HN", "hanoi"], "IsEnable": 1},
	# As GHN's own example shows it (packagist tringuyenduc2903/giaohangnhanh-laravel README).
	{"ProvinceID": 269, "ProvinceName": "Lào Cai", "NameExtension": ["Lào Cai", "Tỉnh Lào Cai", "T.Lào Cai", "T Lào Cai", "laocai"], "IsEnable": 1},
]
DISTRICTS = [
	{"DistrictID": 1442, "ProvinceID": 202, "DistrictName": "Quận 1", "NameExtension": ["Quận 1", "Q1", "Q.1", "Quan 1", "District 1"], "IsEnable": 1},
	{"DistrictID": 1443, "ProvinceID": 202, "DistrictName": "Quận 2", "NameExtension": ["Quận 2", "Q2", "Q.2"], "IsEnable": 1},
	{"DistrictID": 1444, "ProvinceID": 202, "DistrictName": "Quận 3", "NameExtension": ["Quận 3", "Q3", "Q.3"], "IsEnable": 1},
	{"DistrictID": 3695, "ProvinceID": 202, "DistrictName": "Thành phố Thủ Đức", "NameExtension": ["Thành phố Thủ Đức", "TP Thủ Đức", "TP. Thủ Đức"], "IsEnable": 1},
	{"DistrictID": 1462, "ProvinceID": 202, "DistrictName": "Quận Thủ Đức", "NameExtension": ["Quận Thủ Đức", "Q. Thủ Đức"], "IsEnable": 1},
	{"DistrictID": 1485, "ProvinceID": 201, "DistrictName": "Quận Ba Đình", "NameExtension": ["Quận Ba Đình", "Q. Ba Đình", "Ba Đình"], "IsEnable": 1},
	{"DistrictID": 1999, "ProvinceID": 269, "DistrictName": "Thành phố Lào Cai", "NameExtension": ["Thành phố Lào Cai", "TP Lào Cai"], "IsEnable": 1},
]
WARDS = [
	{"WardCode": "20106", "DistrictID": 1442, "WardName": "Phường Đa Kao", "NameExtension": ["Phường Đa Kao", "P. Đa Kao", "Đa Kao", "P.Đa Kao"]},
	{"WardCode": "20109", "DistrictID": 1442, "WardName": "Phường Bến Nghé", "NameExtension": ["Phường Bến Nghé", "P. Bến Nghé", "Bến Nghé"]},
	{"WardCode": "20308", "DistrictID": 1444, "WardName": "Phường 14", "NameExtension": ["Phường 14", "P14", "P.14"]},
	{"WardCode": "20305", "DistrictID": 1444, "WardName": "Phường 5", "NameExtension": ["Phường 5", "P5", "P.5", "Phường 05"]},
	{"WardCode": "90737", "DistrictID": 3695, "WardName": "Phường Linh Trung", "NameExtension": ["Phường Linh Trung", "P. Linh Trung"]},
	{"WardCode": "1A0101", "DistrictID": 1485, "WardName": "Phường Phúc Xá", "NameExtension": ["Phường Phúc Xá", "P. Phúc Xá"]},
	{"WardCode": "80201", "DistrictID": 1999, "WardName": "Phường Cốc Lếu", "NameExtension": ["Phường Cốc Lếu", "P. Cốc Lếu"]},
]
SERVICES = [
	{"service_id": 53320, "short_name": "Chuẩn", "service_type_id": 2},
	{"service_id": 53321, "short_name": "Tiết kiệm", "service_type_id": 3},
]
MINIMAL_PDF = minimal_pdf("GHN A5 label")


class GHNError(Exception):
	def __init__(self, message: str, code: int = 400, http: int = 400, code_message: str = "USER_ERR_COMMON"):
		super().__init__(message)
		self.message, self.code, self.http, self.code_message = message, code, http, code_message


def _iso(moment: datetime) -> str:
	return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class FakeGHN(LocalServer):
	def __init__(self, token: str = "fake-ghn-token-285518-c4bb", shop_id: int = 885, clock=time.time):
		self.token = token
		self.shop_id = shop_id
		self.clock = clock
		self.provinces = [dict(p) for p in PROVINCES]
		self.districts = [dict(d) for d in DISTRICTS]
		self.wards = [dict(w) for w in WARDS]
		self.orders: dict[str, dict] = {}  # order_code -> the order as detail returns it
		self.by_client_code: dict[str, str] = {}
		self.print_tokens: dict[str, list[str]] = {}
		self.callbacks: list[dict] = []  # what advance() posted
		self.calls: list[dict] = []
		self._faults: dict[str, list[str]] = {}
		self._lock = threading.Lock()

	@property
	def api_url(self) -> str:
		return self.base_url + API

	# --- test controls -------------------------------------------------------------------
	def fail(self, path: str, kind: str, times: int = 1) -> None:
		"""Queue `times` faults on an API path such as "/v2/shipping-order/create" (see module doc)."""
		self._faults.setdefault(path, []).extend([kind] * times)

	def advance(self, order_code: str, status: str, reason: str = "", callback_url: str | None = None, callback_type: str = "switch_status") -> dict:
		"""Record a status (GHN's code, known or not) and, given a URL, post the callback there."""
		with self._lock:
			order = self.orders[order_code]
			now = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
			order["status"] = status
			order["updated_date"] = _iso(now)
			order["log"].append({"status": status, "updated_date": _iso(now), **({"reason": reason} if reason else {})})
			callback = {
				"CODAmount": order["cod_amount"],
				"CODTransferDate": None,
				"ClientOrderCode": order["client_order_code"],
				"ConvertedWeight": order["converted_weight"],
				"Description": status,
				"Fee": {"MainService": order["fee"]["main_service"], "Insurance": order["fee"]["insurance"], "Total": order["total_fee"]},
				"Height": order["height"],
				"Length": order["length"],
				"OrderCode": order_code,
				"PaymentType": order["payment_type_id"],
				"Reason": reason,
				"ReasonCode": "",
				"ShopID": self.shop_id,
				"Status": status,
				"Time": _iso(now),
				"TotalFee": order["total_fee"],
				"Type": callback_type,
				"Weight": order["weight"],
				"Width": order["width"],
			}
		if callback_url:
			requests.post(callback_url, json=callback, timeout=5)
		self.callbacks.append(callback)
		return callback

	# --- HTTP ----------------------------------------------------------------------------
	def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
		parts = urlsplit(handler.path)
		query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
		length = int(handler.headers.get("Content-Length") or 0)
		raw = handler.rfile.read(length) if length else b""
		headers = {k.lower(): v for k, v in handler.headers.items()}
		path = parts.path[len(API) :] if parts.path.startswith(API) else parts.path
		self.calls.append({"method": method, "path": path, "query": query, "headers": headers, "body": raw})
		late = 0.0
		faults = self._faults.get(path)
		kind = faults.pop(0) if faults else ""
		if kind.startswith("sleep:"):
			time.sleep(float(kind.partition(":")[2]))
			return self._reply(handler, 504, {"code": 504, "message": "gateway timeout", "data": None})
		if kind.isdigit():
			return self._reply(handler, int(kind), {"code": int(kind), "message": "gateway trouble", "data": None})
		if kind.startswith("late:"):
			late = float(kind.partition(":")[2])
		if path == "/a5/public-api/printA5":
			codes = self.print_tokens.get(query.get("token", ""))
			if codes is None:
				return self._reply(handler, 400, {"code": 400, "message": "Token không hợp lệ", "data": None})
			return self._reply(handler, 200, MINIMAL_PDF, "application/pdf")
		with self._lock:
			try:
				if headers.get("token") != self.token:
					raise GHNError("Token is not valid!", 401, 401, "USER_ERR_AUTH")
				if path in SHOP_PATHS:
					shop = headers.get("shopid", "")
					if not shop:
						raise GHNError("ShopId is required", 400, 400)
					if shop != str(self.shop_id):
						raise GHNError(f"Shop {shop} không thuộc quyền quản lý của token", 401, 401, "USER_ERR_AUTH")
				try:
					body = json.loads(raw or b"{}") if method == "POST" else {}
				except ValueError:
					raise GHNError("code=400, message=Syntax error", 400) from None
				if not isinstance(body, dict):
					raise GHNError("body is not an object")
				handler_fn = getattr(self, "_api_" + path.strip("/").replace("/", "_").replace("-", "_"), None)
				if handler_fn is None:
					raise GHNError(f"no such API {path}", 404, 404)
				data = handler_fn(body, query)
				status, payload = 200, {"code": 200, "message": "Success", "data": data}
			except GHNError as exc:
				status, payload = exc.http, {"code": exc.code, "message": exc.message, "data": None, "code_message": exc.code_message}
		if late:
			time.sleep(late)
		self._reply(handler, status, payload)

	def _reply(self, handler, status: int, payload, content_type: str = "application/json") -> None:
		data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
		try:
			handler.send_response(status)
			handler.send_header("Content-Type", content_type)
			handler.send_header("Content-Length", str(len(data)))
			handler.end_headers()
			handler.wfile.write(data)
		except (BrokenPipeError, ConnectionResetError):
			pass  # the client gave up (timed out) before the answer

	# --- master data ---------------------------------------------------------------------
	def _api_master_data_province(self, body, query):
		return self.provinces

	def _api_master_data_district(self, body, query):
		province_id = _int(body.get("province_id", query.get("province_id")), "province_id")
		return [d for d in self.districts if d["ProvinceID"] == province_id]

	def _api_master_data_ward(self, body, query):
		district_id = _int(body.get("district_id", query.get("district_id")), "district_id")
		return [w for w in self.wards if w["DistrictID"] == district_id]

	# --- pricing -------------------------------------------------------------------------
	def _district(self, district_id) -> dict:
		district = next((d for d in self.districts if d["DistrictID"] == _int(district_id, "district_id")), None)
		if district is None:
			raise GHNError(f"District {district_id} not found")
		return district

	def _ward(self, district_id, ward_code) -> dict:
		ward = next((w for w in self.wards if w["WardCode"] == str(ward_code or "") and w["DistrictID"] == int(district_id)), None)
		if ward is None:
			raise GHNError(f"Ward {ward_code!r} is not in district {district_id}")
		return ward

	def _api_v2_shipping_order_available_services(self, body, query):
		if _int(body.get("shop_id"), "shop_id") != self.shop_id:
			raise GHNError("shop_id không hợp lệ")
		self._district(body.get("from_district"))
		self._district(body.get("to_district"))
		return SERVICES

	def _price(self, body) -> dict:
		service_id = body.get("service_id")
		if not any(s["service_id"] == service_id for s in SERVICES):
			raise GHNError(f"service_id {service_id} is not available on this route")
		origin, destination = self._district(body.get("from_district_id")), self._district(body.get("to_district_id"))
		self._ward(destination["DistrictID"], body.get("to_ward_code"))
		weight = _int(body.get("weight"), "weight")
		if not 1 <= weight <= MAX_WEIGHT:
			raise GHNError(f"weight must be 1..{MAX_WEIGHT} gram")
		sides = [_int(body.get(k) or 0, k) for k in ("length", "width", "height")]
		if any(side > MAX_SIDE or side < 0 for side in sides):
			raise GHNError(f"length, width and height must be at most {MAX_SIDE} cm")
		insurance = _int(body.get("insurance_value") or 0, "insurance_value")
		if insurance > MAX_INSURANCE:
			raise GHNError(f"insurance_value must be at most {MAX_INSURANCE}")
		billed = max(weight, sides[0] * sides[1] * sides[2] // 5)
		if origin["DistrictID"] == destination["DistrictID"]:
			base = 15_000
		elif origin["ProvinceID"] == destination["ProvinceID"]:
			base = 22_000
		else:
			base = 30_000
		extra = max(0, (billed - 500 + 499) // 500) * 2_500
		main = base + extra
		if service_id == 53321:
			main = main * 9 // 10
		insurance_fee = insurance * 5 // 1000
		return {"main": main, "insurance": insurance_fee, "billed": billed, "same_province": origin["ProvinceID"] == destination["ProvinceID"]}

	def _api_v2_shipping_order_fee(self, body, query):
		price = self._price(body)
		return {
			"total": price["main"] + price["insurance"],
			"service_fee": price["main"],
			"insurance_fee": price["insurance"],
			"pick_station_fee": 0,
			"coupon_value": 0,
			"r2s_fee": 0,
			"document_return": 0,
			"double_check": 0,
			"cod_fee": 0,
			"pick_remote_areas_fee": 0,
			"deliver_remote_areas_fee": 0,
			"cod_failed_fee": 0,
		}

	def _leadtime(self, service_id, same_province: bool) -> int:
		days = (1 if same_province else 3) + (1 if service_id == 53321 else 0)
		return int(self.clock()) + days * 86400

	def _api_v2_shipping_order_leadtime(self, body, query):
		origin, destination = self._district(body.get("from_district_id")), self._district(body.get("to_district_id"))
		self._ward(destination["DistrictID"], body.get("to_ward_code"))
		return {"leadtime": self._leadtime(body.get("service_id"), origin["ProvinceID"] == destination["ProvinceID"]), "order_date": int(self.clock())}

	# --- orders --------------------------------------------------------------------------
	def _api_v2_shipping_order_create(self, body, query):
		for field in ("to_name", "to_phone", "to_address", "to_ward_code", "to_district_id", "weight", "required_note", "payment_type_id"):
			if body.get(field) in (None, ""):
				raise GHNError(f"{field} is required")
		if not body.get("service_id") and not body.get("service_type_id"):
			raise GHNError("service_id or service_type_id is required")
		if body["payment_type_id"] not in (1, 2):
			raise GHNError("payment_type_id must be 1 or 2")
		if body["required_note"] not in REQUIRED_NOTES:
			raise GHNError(f"required_note must be one of {sorted(REQUIRED_NOTES)}")
		cod = _int(body.get("cod_amount") or 0, "cod_amount")
		if not 0 <= cod <= MAX_COD:
			raise GHNError(f"cod_amount must be at most {MAX_COD}")
		if not body.get("from_district_id"):  # GHN takes the shop's pickup address
			body = {**body, "from_district_id": int(body.get("return_district_id") or 1442)}
		price = self._price(body)
		client_code = str(body.get("client_order_code") or "")
		if client_code and client_code in self.by_client_code:
			raise GHNError(f"Mã đơn hàng client_order_code {client_code} đã tồn tại", 400, 400, "USER_ERR_DUPLICATE")
		order_code = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))
		now = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
		expected = datetime.fromtimestamp(self._leadtime(body.get("service_id"), price["same_province"]), tz=timezone.utc)
		total = price["main"] + price["insurance"]
		self.orders[order_code] = {
			"shop_id": self.shop_id,
			"order_code": order_code,
			"client_order_code": client_code,
			"status": "ready_to_pick",
			"to_name": body["to_name"],
			"to_phone": body["to_phone"],
			"to_address": body["to_address"],
			"to_ward_code": body["to_ward_code"],
			"to_district_id": body["to_district_id"],
			"weight": body["weight"],
			"length": body.get("length") or 0,
			"width": body.get("width") or 0,
			"height": body.get("height") or 0,
			"converted_weight": price["billed"],
			"service_id": body.get("service_id"),
			"payment_type_id": body["payment_type_id"],
			"cod_amount": cod,
			"insurance_value": body.get("insurance_value") or 0,
			"required_note": body["required_note"],
			"note": body.get("note") or "",
			"items": body.get("items") or [],
			"leadtime": _iso(expected),
			"created_date": _iso(now),
			"updated_date": _iso(now),
			"log": [],
			"fee": {"main_service": price["main"], "insurance": price["insurance"], "station_do": 0, "station_pu": 0, "return": 0, "r2s": 0, "coupon": 0},
			"total_fee": total,
		}
		if client_code:
			self.by_client_code[client_code] = order_code
		return {
			"order_code": order_code,
			"sort_code": "19-70-04",
			"trans_type": "truck",
			"ward_encode": "",
			"district_encode": "",
			"fee": self.orders[order_code]["fee"],
			"total_fee": str(total),
			"expected_delivery_time": _iso(expected),
		}

	def _order(self, order_code) -> dict:
		order = self.orders.get(str(order_code or ""))
		if order is None:
			raise GHNError("Lỗi gọi API: corev2_tenant_order_detail - code=404, message=Đơn hàng không tồn tại")
		return order

	def _detail(self, order: dict) -> dict:
		return {k: v for k, v in order.items() if k not in ("fee", "total_fee")}

	def _api_v2_shipping_order_detail(self, body, query):
		return self._detail(self._order(body.get("order_code")))

	def _api_v2_shipping_order_detail_by_client_code(self, body, query):
		return self._detail(self._order(self.by_client_code.get(str(body.get("client_order_code") or ""))))

	def _api_v2_shipping_order_soc(self, body, query):
		order = self._order(body.get("order_code"))
		return {
			"order_code": order["order_code"],
			"detail": order["fee"],
			"payment": [{"value": order["total_fee"], "payment_type": order["payment_type_id"], "paid_date": "0001-01-01T00:00:00Z", "created_date": order["created_date"]}],
			"cod_collect_date": "0001-01-01T00:00:00Z",
		}

	def _api_v2_switch_status_cancel(self, body, query):
		codes = body.get("order_codes")
		if not isinstance(codes, list) or not codes:
			raise GHNError("order_codes is required")
		results = []
		for code in codes:
			order = self.orders.get(str(code))
			if order is None:
				results.append({"order_code": code, "result": False, "message": "Đơn hàng không tồn tại"})
			elif order["status"] not in CANCELLABLE:
				results.append({"order_code": code, "result": False, "message": f"Không thể hủy đơn ở trạng thái {order['status']}"})
			else:
				order["status"] = "cancel"
				order["log"].append({"status": "cancel", "updated_date": _iso(datetime.fromtimestamp(self.clock(), tz=timezone.utc))})
				results.append({"order_code": code, "result": True, "message": "OK"})
		return results

	def _api_v2_a5_gen_token(self, body, query):
		codes = body.get("order_codes")
		if not isinstance(codes, list) or not codes:
			raise GHNError("order_codes is required")
		for code in codes:
			self._order(code)
		token = secrets.token_hex(16)
		self.print_tokens[token] = list(codes)
		return {"token": token}


def _int(value, name: str) -> int:
	if isinstance(value, bool):
		raise GHNError(f"{name} must be a number")
	try:
		return int(value)
	except (TypeError, ValueError):
		raise GHNError(f"{name} must be a number") from None
