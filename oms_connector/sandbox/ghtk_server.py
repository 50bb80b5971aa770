"""A local stand-in for GHTK's shipment API (services.giaohangtietkiem.vn), strict the way GHTK is.

Written from GHTK's documentation, nothing imported from the connector:
- every request needs the header `Token` (and `X-Client-Source` when the fake is given a partner
  code); otherwise HTTP 401 {"success": false, "message": "Cần cung cấp token hợp lệ", "error_code": 20101};
- GET /services/address/getAddressLevel4?province=&district=&ward_street=: the level-4 names
  ("Khác" first) of a ward it knows, ["Khác"] for a street line, a refusal for an unknown
  province, district or ward ("Phường/Xã ..." it does not have);
- GET /services/shipment/fee: pick_province, pick_district, province, district, deliver_option
  (xteam|none) required, weight in integer GRAMS; fee by weight and same/other province, fly
  dearer and only between provinces (inside one, GHTK falls back to road), insurance 0.5% of
  value above 1,000,000 VND;
- POST /services/shipment/order (JSON): products with weight in KILOGRAMS (a product over 20 kg
  is refused as a weight sent in grams), the required order fields, ward or street for the
  receiver (API v1.5.4), hamlet; a second order with the same order.id is refused with
  error.code ORDER_ID_EXIST and the first order's label (error.ghtk_label);
- GET /services/shipment/v2/{label | partner_id:<id>}: the order's status as GHTK shows it;
- POST /services/shipment/cancel/{label | partner_id:<id>}: only before pickup (status 1, 2, 7,
  8, 12, 127, 128), as GHTK; after that, or twice, success false with GHTK's words;
- GET /services/label/{label}: a small valid one-page PDF.
Test controls: fail(path, "429" | "5xx" | "sleep:<s>" (answers 504 that late) | "late:<s>" (does
the work, answers that late: the client has timed out and the order exists)), advance(label,
status_id, reason_code, reason, webhook_url) which records the status and can post GHTK's
webhook (form fields, ?hash= in the URL) to a URL. Every request is recorded in `calls`.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from .local_server import LocalServer
from .pdf import minimal_pdf

VN = timezone(timedelta(hours=7))
STATUS_TEXT = {
	-1: "Hủy đơn hàng", 1: "Chưa tiếp nhận", 2: "Đã tiếp nhận", 3: "Đã lấy hàng/Đã nhập kho",
	4: "Đã điều phối giao hàng/Đang giao hàng", 5: "Đã giao hàng/Chưa đối soát", 6: "Đã đối soát",
	7: "Không lấy được hàng", 8: "Hoãn lấy hàng", 9: "Không giao được hàng", 10: "Delay giao hàng",
	11: "Đã đối soát công nợ trả hàng", 12: "Đã điều phối lấy hàng/Đang lấy hàng", 13: "Đơn hàng bồi hoàn",
	20: "Đang trả hàng (COD cầm hàng đi trả)", 21: "Đã trả hàng (COD đã trả xong hàng)",
	123: "Shipper báo đã lấy hàng", 127: "Shipper (nhân viên lấy/giao hàng) báo không lấy được hàng",
	128: "Shipper báo delay lấy hàng", 45: "Shipper báo đã giao hàng",
	49: "Shipper báo không giao được giao hàng", 410: "Shipper báo delay giao hàng",
}
CANCELLABLE = {1, 2, 7, 8, 12, 127, 128}
PREFIXES = ("thành phố ", "tp. ", "tp ", "tỉnh ", "quận ", "huyện ", "thị xã ", "phường ", "xã ", "thị trấn ")
WARD_WORDS = ("phường", "xã", "thị trấn", "p.")
DEFAULT_AREAS = {
	"TP. Hồ Chí Minh": {
		"Quận 1": {"Phường Bến Nghé": ["Khác"], "Phường Bến Thành": ["Khác", "Khu phố 1"]},
		"Quận 3": {"Phường 1": ["Khác"], "Phường Võ Thị Sáu": ["Khác"]},
	},
	"Hà Nội": {
		"Quận Cầu Giấy": {"Phường Dịch Vọng": ["Khác", "Tổ 1", "Tổ 2"], "Phường Mai Dịch": ["Khác"]},
		"Quận Hai Bà Trưng": {"Phường Thanh Nhàn": ["Khác"]},
	},
}


def _norm(name: str) -> str:
	text = " ".join(str(name or "").casefold().split())
	for prefix in PREFIXES:
		if text.startswith(prefix):
			return text[len(prefix):].strip()
	return text


class GHTKError(Exception):
	def __init__(self, message: str, status: int = 200, error_code: str = "", error: dict | None = None):
		super().__init__(message)
		self.message, self.status, self.error_code, self.error = message, status, error_code, error


class FakeGHTK(LocalServer):
	def __init__(self, token: str = "fake-ghtk-token-0123456789", client_source: str = "", shop_code: str = "S1", clock=time.time):
		self.token = token
		self.client_source = client_source
		self.shop_code = shop_code
		self.clock = clock
		self.areas: dict[str, dict[str, dict[str, list[str]]]] = json.loads(json.dumps(DEFAULT_AREAS))
		self.orders: dict[str, dict] = {}  # label -> {"order": stored status order, "request": body}
		self.by_partner: dict[str, str] = {}  # order.id -> label
		self.history: dict[str, list[dict]] = {}  # label -> webhook field sets, oldest first
		self.webhook_url = ""  # where advance() posts when no url is given
		self.calls: list[dict] = []
		self._faults: dict[str, list[str]] = {}
		self._lock = threading.Lock()
		self._seq = 17373471

	# --- test controls -------------------------------------------------------------------
	def fail(self, path: str, kind: str, times: int = 1) -> None:
		"""Queue `times` faults on requests whose path starts with `path`: "429", "500".."599",
		"sleep:<s>" (answers 504 after s seconds), "late:<s>" (does the work, answers after s)."""
		self._faults.setdefault(path, []).extend([kind] * times)

	def calls_to(self, path: str) -> list[dict]:
		return [call for call in self.calls if call["path"].startswith(path)]

	def order(self, key: str) -> dict | None:
		label = self._label_of(key)
		return self.orders[label]["order"] if label else None

	def advance(self, label: str, status_id: int, reason_code: str = "", reason: str = "", webhook_url: str | None = None, weight_kg: float | None = None) -> dict:
		"""Move the order to status_id as GHTK would, record it, and post GHTK's webhook to
		webhook_url (or self.webhook_url) when there is one. Returns the webhook fields."""
		with self._lock:
			record = self.orders[label]
			order = record["order"]
			order["status"] = str(status_id)
			order["status_text"] = STATUS_TEXT.get(status_id, "")
			now = datetime.fromtimestamp(self.clock(), VN)
			order["modified"] = now.strftime("%Y-%m-%d %H:%M:%S")
			if status_id in (3, 123):
				order["pick_date"] = now.strftime("%Y-%m-%d")
			if status_id in (5, 6, 45):
				order["deliver_date"] = now.strftime("%Y-%m-%d")
			fields = {
				"label_id": label,
				"partner_id": order["partner_id"],
				"status_id": str(status_id),
				"action_time": now.isoformat(timespec="seconds"),
				"reason_code": str(reason_code or ""),
				"reason": reason or "",
				"weight": str(weight_kg if weight_kg is not None else order["weight"] / 1000),
				"fee": str(order["ship_money"]),
				"pick_money": str(order["pick_money"]),
				"return_part_package": "0",
			}
			self.history.setdefault(label, []).append(fields)
		url = webhook_url if webhook_url is not None else self.webhook_url
		if url:
			requests.post(url, data=fields, headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
		return fields

	# --- HTTP ----------------------------------------------------------------------------
	def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
		parts = urlsplit(handler.path)
		query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
		length = int(handler.headers.get("Content-Length") or 0)
		raw = handler.rfile.read(length) if length else b""
		path = unquote(parts.path)
		delay = 0.0
		with self._lock:
			self.calls.append({"method": method, "path": path, "query": query, "body": raw, "headers": dict(handler.headers)})
			fault = self._take_fault(path)
		if fault and fault.startswith("sleep:"):
			time.sleep(float(fault.partition(":")[2]))
			return self._reply(handler, 504, {"success": False, "message": "Gateway Timeout"})
		if fault and fault.isdigit():
			return self._reply(handler, int(fault), {"success": False, "message": "Hệ thống GHTK đang sự cố", "error_code": "10103"})
		if fault and fault.startswith("late:"):
			delay = float(fault.partition(":")[2])
		with self._lock:
			try:
				status, payload = self._handle(method, path, query, raw, handler.headers)
			except GHTKError as exc:
				body = {"success": False, "message": exc.message}
				if exc.error_code:
					body["error_code"] = exc.error_code
				if exc.error:
					body["error"] = exc.error
				status, payload = exc.status, body
		if delay:
			time.sleep(delay)
		self._reply(handler, status, payload)

	def _take_fault(self, path: str) -> str:
		for prefix, queue in self._faults.items():
			if path.startswith(prefix) and queue:
				return queue.pop(0)
		return ""

	@staticmethod
	def _reply(handler, status: int, payload) -> None:
		if isinstance(payload, bytes):
			data, content_type = payload, "application/pdf"
		else:
			data, content_type = json.dumps(payload, ensure_ascii=False).encode(), "application/json"
		try:
			handler.send_response(status)
			handler.send_header("Content-Type", content_type)
			handler.send_header("Content-Length", str(len(data)))
			handler.end_headers()
			handler.wfile.write(data)
		except (BrokenPipeError, ConnectionResetError):
			pass  # the client gave up (a timeout test)

	def _handle(self, method: str, path: str, query: dict, raw: bytes, headers) -> tuple[int, object]:
		if headers.get("Token") != self.token:
			raise GHTKError("Cần cung cấp token hợp lệ", 401, "20101")
		if self.client_source and headers.get("X-Client-Source") != self.client_source:
			raise GHTKError("X-Client-Source không hợp lệ", 401, "20102")
		routes = [
			("GET", "/services/address/getAddressLevel4", self._level4),
			("GET", "/services/shipment/fee", self._fee),
			("POST", "/services/shipment/order", self._create),
			("GET", "/services/shipment/v2/", self._status),
			("POST", "/services/shipment/cancel/", self._cancel),
			("GET", "/services/label/", self._label),
		]
		clean = path.rstrip("/") if not path.endswith("/v2/") else path
		for verb, route, handler in routes:
			if clean == route or (route.endswith("/") and clean.startswith(route)):
				if method != verb:
					raise GHTKError("Phương thức không hợp lệ", 405, "10102")
				return 200, handler(clean[len(route):] if route.endswith("/") else "", query, raw)
		raise GHTKError("Đường dẫn không tồn tại, vui lòng thử lại sau", 404, "10104")

	# --- address data --------------------------------------------------------------------
	def _place(self, province: str, district: str) -> dict[str, list[str]]:
		for name, districts in self.areas.items():
			if _norm(name) == _norm(province):
				for dname, wards in districts.items():
					if _norm(dname) == _norm(district):
						return wards
				raise GHTKError(f"Không tìm thấy quận/huyện {district} của {province}")
		raise GHTKError(f"Không tìm thấy tỉnh/thành phố {province}")

	def _ward(self, wards: dict[str, list[str]], ward: str) -> list[str] | None:
		for wname, hamlets in wards.items():
			if _norm(wname) == _norm(ward):
				return hamlets
		return None

	def _level4(self, _, query: dict, raw: bytes):
		for field in ("province", "district", "ward_street"):
			if not query.get(field):
				raise GHTKError(f"Thiếu thông tin {field}")
		wards = self._place(query["province"], query["district"])
		hamlets = self._ward(wards, query["ward_street"])
		if hamlets is None:
			if query["ward_street"].casefold().startswith(WARD_WORDS):
				raise GHTKError(f"Không tìm thấy phường/xã {query['ward_street']}")
			hamlets = ["Khác"]  # a street line: GHTK places it in the district
		return {"success": True, "data": list(hamlets)}

	# --- fee -----------------------------------------------------------------------------
	def _fee_of(self, pick_province: str, province: str, grams: int, value: int, transport: str) -> dict:
		same = _norm(pick_province) == _norm(province)
		steps = max(0, -(-(grams - 3000) // 500)) if same else max(0, -(-(grams - 500) // 500))
		fee = 22000 + 2500 * steps if same else 30000 + 5000 * steps
		if transport == "fly" and not same:
			fee = int(Decimal(fee * 13) / 10)
		else:
			transport = "road"
		insurance = int((Decimal(value) * Decimal("0.005")).quantize(Decimal(1), ROUND_HALF_UP)) if value > 1_000_000 else 0
		return {"name": "area1" if same else "area2", "fee": fee, "insurance_fee": insurance, "delivery_type": transport, "delivery": True}

	def _fee(self, _, query: dict, raw: bytes):
		for field in ("pick_province", "pick_district", "province", "district", "weight", "deliver_option"):
			if query.get(field) in (None, ""):
				raise GHTKError(f"Thiếu thông tin {field}")
		if query["deliver_option"] not in ("xteam", "none"):
			raise GHTKError("deliver_option chỉ nhận xteam hoặc none")
		if not query["weight"].isdigit() or int(query["weight"]) <= 0:
			raise GHTKError("weight phải là số nguyên, đơn vị gram")
		self._place(query["pick_province"], query["pick_district"])
		self._place(query["province"], query["district"])
		value = int(query.get("value") or 0)
		fee = self._fee_of(query["pick_province"], query["province"], int(query["weight"]), value, query.get("transport") or "road")
		return {"success": True, "message": "", "fee": fee}

	# --- orders --------------------------------------------------------------------------
	def _create(self, _, query: dict, raw: bytes):
		try:
			body = json.loads(raw or b"{}")
		except ValueError:
			raise GHTKError("Dữ liệu không hợp lệ", 422, "30101") from None
		products, order = body.get("products"), body.get("order")
		if not isinstance(order, dict):
			raise GHTKError("Thiếu thông tin đơn hàng", 422, "30101")
		if not isinstance(products, list) or not products:
			raise GHTKError("Thiếu thông tin sản phẩm", 422, "30102")
		grams = 0
		for product in products:
			for field in ("name", "weight", "quantity"):
				if product.get(field) in (None, ""):
					raise GHTKError(f"Sản phẩm thiếu {field}", 422)
			weight = float(product["weight"])
			if weight <= 0 or weight > 20:
				raise GHTKError(f"Khối lượng sản phẩm {product['name']} không hợp lệ: {product['weight']} (đơn vị kg)", 422)
			grams += int(round(weight * 1000)) * int(product["quantity"])
		if order.get("total_weight") not in (None, ""):
			grams = int(round(float(order["total_weight"]) * 1000))
		required = ["id", "pick_name", "pick_money", "pick_tel", "tel", "name", "address", "province", "district", "hamlet", "value"]
		if not order.get("pick_address_id"):
			required += ["pick_address", "pick_province", "pick_district"]
		for field in required:
			if order.get(field) in (None, ""):
				raise GHTKError(f"Thiếu thông tin {field}", 422)
		if not order.get("ward") and not order.get("street"):
			raise GHTKError("Cần truyền phường/xã (ward) hoặc đường (street) của người nhận", 422)
		partner_id = str(order["id"])
		if partner_id in self.by_partner:
			label = self.by_partner[partner_id]
			first = self.orders[label]["order"]
			raise GHTKError(
				"Mã đơn hàng đã tồn tại trên hệ thống GHTK",
				200,
				error={"code": "ORDER_ID_EXIST", "partner_id": partner_id, "ghtk_label": label, "created": first["created"], "status": int(first["status"])},
			)
		if not order.get("pick_address_id"):
			self._place(order["pick_province"], order["pick_district"])
		wards = self._place(order["province"], order["district"])
		if order.get("ward") and self._ward(wards, order["ward"]) is None:
			raise GHTKError(f"Không tìm thấy phường/xã {order['ward']}", 422)
		transport = order.get("transport") or "road"
		if transport not in ("road", "fly"):
			transport = "road"
		pick_province = order.get("pick_province") or ""
		fee = self._fee_of(pick_province, order["province"], grams, int(order["value"]), transport)
		self._seq += 1
		label = f"{self.shop_code}.A1.{self._seq}"
		now = datetime.fromtimestamp(self.clock(), VN)
		stored = {
			"label_id": label,
			"partner_id": partner_id,
			"status": "1",
			"status_text": STATUS_TEXT[1],
			"created": now.strftime("%Y-%m-%d %H:%M:%S"),
			"modified": now.strftime("%Y-%m-%d %H:%M:%S"),
			"message": order.get("note") or "",
			"pick_date": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
			"deliver_date": (now + timedelta(days=3)).strftime("%Y-%m-%d"),
			"customer_fullname": order["name"],
			"customer_tel": order["tel"],
			"address": ", ".join(part for part in (order["address"], order.get("ward") or order.get("street") or "", order["district"], order["province"]) if part),
			"storage_day": 3,
			"ship_money": fee["fee"],
			"insurance": fee["insurance_fee"],
			"value": int(order["value"]),
			"weight": grams,
			"pick_money": int(order["pick_money"]),
			"is_freeship": int(order.get("is_freeship") or 0),
			"transport": fee["delivery_type"],
		}
		self.orders[label] = {"order": stored, "request": body}
		self.by_partner[partner_id] = label
		return {
			"success": True,
			"message": "Các đơn hàng đã được add vào hệ thống GHTK thành công.",
			"order": {
				"partner_id": partner_id,
				"label": label,
				"area": "1" if fee["name"] == "area1" else "2",
				"fee": str(fee["fee"]),
				"insurance_fee": str(fee["insurance_fee"]),
				"estimated_pick_time": "Chiều " + (now + timedelta(days=1)).strftime("%Y-%m-%d"),
				"estimated_deliver_time": "Chiều " + (now + timedelta(days=3)).strftime("%Y-%m-%d"),
				"products": [],
				"status_id": 1,
				"tracking_id": self._seq,
			},
		}

	def _label_of(self, key: str) -> str | None:
		if key.startswith("partner_id:"):
			return self.by_partner.get(key[len("partner_id:"):])
		return key if key in self.orders else None

	def _status(self, key: str, query: dict, raw: bytes):
		label = self._label_of(key)
		if not label:
			raise GHTKError("Không tìm thấy đơn hàng")
		return {"success": True, "message": "", "order": dict(self.orders[label]["order"])}

	def _cancel(self, key: str, query: dict, raw: bytes):
		label = self._label_of(key)
		if not label:
			raise GHTKError("Không tìm thấy đơn hàng")
		order = self.orders[label]["order"]
		status = int(order["status"])
		if status == -1:
			raise GHTKError("Đơn hàng đã ở trạng thái hủy")
		if status not in CANCELLABLE:
			raise GHTKError(f"Đơn hàng {label} đã lấy hàng, không thể hủy")
		order["status"], order["status_text"] = "-1", STATUS_TEXT[-1]
		order["modified"] = datetime.fromtimestamp(self.clock(), VN).strftime("%Y-%m-%d %H:%M:%S")
		self.history.setdefault(label, []).append({"label_id": label, "partner_id": order["partner_id"], "status_id": "-1"})
		return {"success": True, "message": "", "log_id": f"log-{label}"}

	def _label(self, key: str, query: dict, raw: bytes):
		if key not in self.orders:
			raise GHTKError("Không tìm thấy đơn hàng")
		return minimal_pdf(f"GHTK {key} {self.orders[key]['order']['customer_fullname']}")
