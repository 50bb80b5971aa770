"""Demo traffic: buyers ordering on the stand-ins and on the web store, and the orders moving on.

Each tick one storefront (Shopee, Lazada, TikTok Shop and the web store in turn) gets a new
order and announces it the way that platform does: a marketplace puts the order on its
stand-in and pushes a signed notice naming it (the site then reads the order from the
stand-in); the web store posts the whole order as signed canonical JSON. Orders ship after
`ship_after` seconds and complete `complete_after` seconds later; a few are cancelled by the
buyer before they ship. Every change is pushed again.

Buyers only order what a storefront shows in stock, so the stock the site pushes back to the
stand-ins decides what keeps selling. Pure Python: `DemoTraffic.tick` returns the pushes and
the caller sends them.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import itertools
import json
import random
import string
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from . import demo_shop
from .demo_shop import OPENING_QTY, TIKTOK_WAREHOUSE, DemoBuyer, DemoItem, masked, product_title
from .lazada_server import FakeLazada
from .shopee_server import FakeShopee
from .tiktok_server import FakeTikTokShop

PLACED, SHIPPED, COMPLETED, CANCELLED = "placed", "shipped", "completed", "cancelled"
NEXT_STAGE = {PLACED: SHIPPED, SHIPPED: COMPLETED}
VN = timezone(timedelta(hours=7))
SHIPPING_FEES = (0, 15000, 22000, 30000)


# --- what a buyer orders ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
	item: DemoItem
	qty: int
	discount: int  # per unit, VND, borne by the seller (a shop promotion)

	@property
	def unit_paid(self) -> int:
		return self.item.price - self.discount


@dataclass(frozen=True)
class Basket:
	lines: tuple[Line, ...]
	buyer: DemoBuyer
	cod: bool
	shipping_fee: int

	@property
	def goods_paid(self) -> int:
		return sum(line.unit_paid * line.qty for line in self.lines)

	@property
	def total(self) -> int:
		return self.goods_paid + self.shipping_fee


def pick_basket(rng: random.Random, stock_of: Callable[[DemoItem], int]) -> Basket | None:
	"""One to three in-stock items, one or two of each; None when nothing is in stock."""
	available = [item for item in demo_shop.ITEMS if stock_of(item) > 0]
	if not available:
		return None
	chosen = rng.sample(available, k=min(len(available), rng.choice((1, 1, 1, 2, 2, 3))))
	lines = tuple(
		Line(item, min(stock_of(item), rng.choice((1, 1, 1, 2))), _promotion(rng, item.price)) for item in chosen
	)
	return Basket(lines, rng.choice(demo_shop.BUYERS), cod=rng.random() < 0.35, shipping_fee=rng.choice(SHIPPING_FEES))


def _promotion(rng: random.Random, price: int) -> int:
	"""Now and then a 10% shop promotion, rounded to 1,000 VND."""
	return int(round(price * 0.1, -3)) if rng.random() < 0.25 else 0


# --- what a storefront sends --------------------------------------------------------------------------
@dataclass
class Push:
	channel: str
	path: str  # on the site: the order webhook or the marketplace webhook
	body: bytes
	headers: dict
	what: str  # for the log, e.g. "Shopee 241202K5D3F9QW shipped"
	attempts: int = 0


@dataclass
class DemoOrder:
	front: str
	order_id: str
	stage: str
	placed_at: float
	changed_at: float


class Storefront(abc.ABC):
	"""One place buyers order from: puts orders where the site reads them and announces them."""

	key: str  # "shopee", "lazada", "tiktok", "web"
	label: str
	channel: demo_shop.DemoChannel

	@abc.abstractmethod
	def new_order_id(self, rng: random.Random, now: float) -> str: ...

	@abc.abstractmethod
	def place(self, order_id: str, basket: Basket, now: float) -> None: ...

	@abc.abstractmethod
	def move(self, order_id: str, stage: str, now: float) -> None: ...

	@abc.abstractmethod
	def push(self, order_id: str, stage: str, now: float) -> Push: ...

	@abc.abstractmethod
	def stock_of(self, item: DemoItem) -> int:
		"""What the storefront shows buyers of the item now."""

	@abc.abstractmethod
	def forget(self, order_id: str) -> None: ...

	def settle(self, order_id: str, now: float) -> None:
		"""A completed order's money reaches the seller's balance on the platform (marketplaces)."""

	def pay_out(self, now: float) -> None:
		"""The platform sends the seller's balance to the bank (marketplaces)."""

	@abc.abstractmethod
	def export_state(self) -> dict: ...

	@abc.abstractmethod
	def import_state(self, state: dict) -> None: ...


class MarketplaceFront(Storefront):
	"""A storefront backed by a stand-in: its orders, tokens and stock live there."""

	fake: FakeShopee | FakeLazada | FakeTikTokShop

	def export_state(self) -> dict:
		return self.fake.export_state()

	def import_state(self, state: dict) -> None:
		self.fake.import_state(state)

	def accept_demo_tokens(self) -> None:
		"""The tokens the demo site's channel was given, as if this stand-in had issued them."""
		self.fake.accept_tokens(self.channel.access_token, self.channel.refresh_token)


def _products() -> list[list[DemoItem]]:
	"""The catalogue grouped by product: variants of one product together."""
	return [list(group) for _, group in itertools.groupby(demo_shop.ITEMS, key=lambda item: item.product_no)]


def _variant_label(item: DemoItem) -> str:
	return item.name.partition(" - ")[2]


def _iso(now: float) -> str:
	return datetime.fromtimestamp(now, VN).isoformat(timespec="seconds")


def _buyer_number(buyer: DemoBuyer) -> int:
	"""A stable platform buyer id per demo buyer."""
	return 100000000 + int(hashlib.sha1(buyer.phone.encode()).hexdigest()[:6], 16)


def _digits(rng: random.Random, count: int) -> str:
	return str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(count - 1))


# --- Shopee ------------------------------------------------------------------------------------------
SHOPEE_STATUS = {PLACED: "READY_TO_SHIP", SHIPPED: "SHIPPED", COMPLETED: "COMPLETED", CANCELLED: "CANCELLED"}


class ShopeeFront(MarketplaceFront):
	key, label, channel = "shopee", "Shopee", demo_shop.SHOPEE

	def __init__(self, fake: FakeShopee, push_url: str):
		self.fake, self.push_url = fake, push_url

	def list_catalogue(self) -> None:
		for variants in _products():
			listing = variants[0].on("shopee")
			models = [
				{"model_id": int(item.on("shopee").variant_id), "model_sku": item.on("shopee").sku, "stock": OPENING_QTY, "option": _variant_label(item)}
				for item in variants
				if item.variant_no
			]
			self.fake.add_item(int(listing.listing_id), product_title(variants[0]), "" if models else listing.sku, models or None)
			if not models:
				self.fake.items[int(listing.listing_id)]["stock"] = OPENING_QTY

	def accept_demo_tokens(self) -> None:
		self.fake.accept_tokens(self.channel.access_token, self.channel.refresh_token, demo_shop.TOKEN_LIFETIME)

	def new_order_id(self, rng, now) -> str:
		stamp = datetime.fromtimestamp(now, VN).strftime("%y%m%d")
		return stamp + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8))

	def place(self, order_id, basket, now) -> None:
		with self.fake._lock:
			self.fake.orders[order_id] = shopee_detail(order_id, basket, now)

	def move(self, order_id, stage, now) -> None:
		with self.fake._lock:
			order = self.fake.orders[order_id]
			order["order_status"] = SHOPEE_STATUS[stage]
			order["update_time"] = int(now)
			if stage == SHIPPED:
				self.fake.tracking[order_id] = "SPXVN0" + order_id[-8:]
				order["pickup_done_time"] = int(now)

	def push(self, order_id, stage, now) -> Push:
		message = {
			"shop_id": self.fake.shop_id,
			"code": 3,  # order status push
			"timestamp": int(now),
			"data": {"ordersn": order_id, "status": SHOPEE_STATUS[stage], "update_time": int(now)},
		}
		body = json.dumps(message, separators=(",", ":")).encode()
		headers = {"Authorization": self.fake.push_authorization(self.push_url, body), "Content-Type": "application/json"}
		return Push(self.channel.name, demo_shop.MARKETPLACE_WEBHOOK, body, headers, f"Shopee {order_id} {stage}")

	def settle(self, order_id, now) -> None:
		self.fake.release_escrow(order_id, at=now)

	def pay_out(self, now) -> None:
		with self.fake._lock:
			balance = self.fake._balance()
		if balance > 0:
			self.fake.withdraw(at=now)

	def stock_of(self, item) -> int:
		listing = item.on("shopee")
		product = self.fake.items.get(int(listing.listing_id)) or {}
		holder = product.get("models", {}).get(int(listing.variant_id)) if listing.variant_id else product
		return int((holder or {}).get("stock") or 0)

	def forget(self, order_id) -> None:
		with self.fake._lock:
			self.fake.orders.pop(order_id, None)
			self.fake.tracking.pop(order_id, None)


def shopee_detail(order_sn: str, basket: Basket, now: float) -> dict:
	"""The order as v2.order.get_order_detail returns it with every optional field asked for."""
	items = []
	for line in basket.lines:
		listing = line.item.on("shopee")
		items.append(
			{
				"item_id": int(listing.listing_id),
				"item_name": product_title(line.item),
				"item_sku": "" if listing.variant_id else listing.sku,
				"model_id": int(listing.variant_id or 0),
				"model_name": _variant_label(line.item),
				"model_sku": listing.sku if listing.variant_id else "",
				"model_quantity_purchased": line.qty,
				"model_original_price": line.item.price,
				"model_discounted_price": line.unit_paid,
				"weight": line.item.weight_kg,
			}
		)
	buyer = basket.buyer
	return {
		"order_sn": order_sn,
		"region": "VN",
		"currency": "VND",
		"cod": basket.cod,
		"order_status": SHOPEE_STATUS[PLACED],
		"create_time": int(now),
		"update_time": int(now),
		"pay_time": None if basket.cod else int(now),
		"buyer_user_id": _buyer_number(buyer),
		"buyer_username": buyer.email.split("@")[0].replace(".", "_"),
		"payment_method": "Cash on Delivery" if basket.cod else "ShopeePay",
		"total_amount": basket.total,
		"shipping_carrier": "SPX Express",
		"message_to_seller": "",
		"recipient_address": {
			"name": buyer.name,
			"phone": masked(buyer.phone),
			"town": "",
			"district": buyer.ward,
			"city": buyer.district,
			"state": buyer.province,
			"region": "VN",
			"zipcode": "",
			"full_address": f"{buyer.line1}, {buyer.ward}, {buyer.district}, {buyer.province}",
		},
		"item_list": items,
		"package_list": [
			{
				"package_number": f"OFG{order_sn}",
				"logistics_status": "LOGISTICS_READY",
				"shipping_carrier": "SPX Express",
				"item_list": [{"item_id": i["item_id"], "model_id": i["model_id"], "model_quantity": i["model_quantity_purchased"]} for i in items],
			}
		],
	}


# --- Lazada ------------------------------------------------------------------------------------------
LAZADA_STATUS = {PLACED: "pending", SHIPPED: "shipped", COMPLETED: "confirmed", CANCELLED: "canceled"}


class LazadaFront(MarketplaceFront):
	key, label, channel = "lazada", "Lazada", demo_shop.LAZADA

	def __init__(self, fake: FakeLazada):
		self.fake = fake

	def list_catalogue(self) -> None:
		for variants in _products():
			skus = []
			for item in variants:
				listing = item.on("lazada")
				skus.append({"SkuId": int(listing.variant_id), "SellerSku": listing.sku, "quantity": OPENING_QTY, "Status": "active"})
				self.fake.stock[listing.variant_id] = OPENING_QTY
			first = variants[0].on("lazada")
			self.fake.products.append({"item_id": int(first.listing_id), "attributes": {"name": product_title(variants[0])}, "skus": skus})

	def new_order_id(self, rng, now) -> str:
		return "4" + _digits(rng, 14)

	def place(self, order_id, basket, now) -> None:
		order, items = lazada_order(order_id, basket, now)
		with self.fake._lock:
			self.fake.orders[order_id], self.fake.items[order_id] = order, items

	def move(self, order_id, stage, now) -> None:
		with self.fake._lock:
			self.fake.orders[order_id]["updated_at"] = _iso(now)
			for item in self.fake.items[order_id]:
				item.update(status=LAZADA_STATUS[stage], updated_at=_iso(now))
				if stage == SHIPPED:
					item.update(package_id=f"FP{order_id[-10:]}", tracking_code=f"LZVN{order_id[-10:]}", shipment_provider="LEX VN")

	def push(self, order_id, stage, now) -> Push:
		message = {
			"seller_id": self.fake.seller_id,
			"message_type": 0,  # trade order
			"data": {"order_status": LAZADA_STATUS[stage], "trade_order_id": order_id, "status_update_time": int(now)},
			"timestamp": int(now * 1000),
			"site": "lazada_vn",
		}
		body = json.dumps(message, separators=(",", ":")).encode()
		headers = {"Authorization": self.fake.push_authorization(body), "Content-Type": "application/json"}
		return Push(self.channel.name, demo_shop.MARKETPLACE_WEBHOOK, body, headers, f"Lazada {order_id} {stage}")

	def settle(self, order_id, now) -> None:
		self.fake.settle_order(order_id, at=now)

	def pay_out(self, now) -> None:
		self.fake.pay_out(at=now)

	def stock_of(self, item) -> int:
		return int(self.fake.stock.get(item.on("lazada").variant_id, 0))

	def forget(self, order_id) -> None:
		with self.fake._lock:
			self.fake.orders.pop(order_id, None)
			self.fake.items.pop(order_id, None)


def lazada_order(order_id: str, basket: Basket, now: float) -> tuple[dict, list[dict]]:
	"""GetOrder's object and GetOrderItems' items (one per unit sold) for a new order."""
	buyer, stamp = basket.buyer, _iso(now)
	order = {
		"order_id": int(order_id),
		"order_number": int(order_id),
		"created_at": stamp,
		"updated_at": stamp,
		"price": f"{sum(line.item.price * line.qty for line in basket.lines):.2f}",
		"items_count": sum(line.qty for line in basket.lines),
		"payment_method": "COD" if basket.cod else "MIXEDCARD",
		"shipping_fee": f"{basket.shipping_fee:.2f}",
		"customer_first_name": buyer.name,
		"customer_last_name": "",
		"buyer_note": "",
		"warehouse_code": "dropshipping",
		"address_shipping": {
			"first_name": buyer.name,
			"last_name": "",
			"phone": "84" + masked(buyer.phone[1:]),
			"address1": buyer.line1,
			"address3": buyer.province,
			"address4": buyer.district,
			"address5": buyer.ward,
			"country": "Vietnam",
		},
	}
	units = [line for line in basket.lines for _ in range(line.qty)]
	items = [_lazada_unit(order_id, number, line, basket, stamp) for number, line in enumerate(units, 1)]
	items[0]["shipping_amount"] = f"{basket.shipping_fee:.2f}"  # the order's fee, carried by its first item
	return order, items


def _lazada_unit(order_id: str, number: int, line: Line, basket: Basket, stamp: str) -> dict:
	listing = line.item.on("lazada")
	return {
		"order_item_id": int(order_id) * 100 + number,
		"order_id": int(order_id),
		"sku": listing.sku,
		"sku_id": listing.variant_id,
		"shop_sku": f"{listing.listing_id}_VNAMZ-{listing.variant_id}",
		"name": product_title(line.item),
		"variation": _variant_label(line.item),
		"currency": "VND",
		"item_price": f"{line.item.price:.2f}",
		"paid_price": f"{line.unit_paid:.2f}",
		"voucher_seller": f"{line.discount:.2f}",
		"voucher_platform": "0.00",
		"shipping_amount": "0.00",
		"status": LAZADA_STATUS[PLACED],
		"package_id": "",
		"tracking_code": "",
		"shipment_provider": "",
		"buyer_id": _buyer_number(basket.buyer),
		"created_at": stamp,
		"updated_at": stamp,
	}


# --- TikTok Shop -------------------------------------------------------------------------------------
TIKTOK_STATUS = {PLACED: "AWAITING_SHIPMENT", SHIPPED: "IN_TRANSIT", COMPLETED: "COMPLETED", CANCELLED: "CANCELLED"}
TIKTOK_PUSH_STATUS = {**TIKTOK_STATUS, CANCELLED: "CANCEL"}  # the webhook's own spelling


class TikTokFront(MarketplaceFront):
	key, label, channel = "tiktok", "TikTok Shop", demo_shop.TIKTOK

	def __init__(self, fake: FakeTikTokShop):
		self.fake = fake

	def list_catalogue(self) -> None:
		for variants in _products():
			product_id = variants[0].on("tiktok").listing_id
			self.fake.products[product_id] = {
				"id": product_id,
				"title": product_title(variants[0]),
				"status": "ACTIVATE",
				"skus": [
					{
						"id": item.on("tiktok").variant_id,
						"seller_sku": item.on("tiktok").sku,
						"price": {"currency": "VND", "sale_price": str(item.price)},
						"inventory": [{"warehouse_id": TIKTOK_WAREHOUSE, "quantity": OPENING_QTY}],
					}
					for item in variants
				],
			}

	def new_order_id(self, rng, now) -> str:
		return "57" + _digits(rng, 16)

	def place(self, order_id, basket, now) -> None:
		order = tiktok_order(order_id, basket, now)
		with self.fake._lock:
			self.fake.orders[order_id] = order
			self.fake.packages[order["packages"][0]["id"]] = {"order_id": order_id, "package_status": "TO_FULFILL"}

	def move(self, order_id, stage, now) -> None:
		with self.fake._lock:
			order = self.fake.orders[order_id]
			order.update(status=TIKTOK_STATUS[stage], update_time=int(now))
			if stage == SHIPPED:
				tracking = f"VN{order_id[-10:]}TT"
				order["tracking_number"] = tracking
				for item in order["line_items"]:
					item.update(tracking_number=tracking, shipping_provider_name="J&T Express", display_status=TIKTOK_STATUS[stage])
				self.fake.packages[order["packages"][0]["id"]].update(package_status="PROCESSING", tracking_number=tracking)

	def push(self, order_id, stage, now) -> Push:
		headers, body = self.fake.webhook(
			{
				"type": 1,  # order status change
				"tts_notification_id": str(int(now * 1000)) + order_id[-6:],
				"shop_id": self.fake.shop_id,
				"timestamp": int(now),
				"data": {"order_id": order_id, "order_status": TIKTOK_PUSH_STATUS[stage], "update_time": int(now)},
			}
		)
		return Push(self.channel.name, demo_shop.MARKETPLACE_WEBHOOK, body, headers, f"TikTok Shop {order_id} {stage}")

	def settle(self, order_id, now) -> None:
		self.fake.settle_order(order_id, at=now)

	def pay_out(self, now) -> None:
		self.fake.pay_out(at=now)

	def stock_of(self, item) -> int:
		listing = item.on("tiktok")
		product = self.fake.products.get(listing.listing_id) or {}
		sku = next((sku for sku in product.get("skus") or [] if sku["id"] == listing.variant_id), {})
		return sum(int(row.get("quantity") or 0) for row in sku.get("inventory") or [])

	def forget(self, order_id) -> None:
		with self.fake._lock:
			order = self.fake.orders.pop(order_id, None)
			if order:
				self.fake.packages.pop(order["packages"][0]["id"], None)


def tiktok_order(order_id: str, basket: Basket, now: float) -> dict:
	"""A 202309 order object (Get Order Detail) for a new order: one line item per unit."""
	package_id = "1153" + order_id[-14:]
	buyer = basket.buyer
	units = [line for line in basket.lines for _ in range(line.qty)]
	gross = sum(line.item.price * line.qty for line in basket.lines)
	discounts = sum(line.discount * line.qty for line in basket.lines)
	return {
		"id": order_id,
		"status": TIKTOK_STATUS[PLACED],
		"create_time": int(now),
		"update_time": int(now),
		"paid_time": int(now),
		"is_cod": basket.cod,
		"payment_method_name": "Thanh toán khi nhận hàng" if basket.cod else "Thẻ tín dụng/Ghi nợ",
		"shipping_provider": "J&T Express",
		"shipping_type": "TIKTOK",
		"user_id": str(_buyer_number(buyer)),
		"buyer_message": "",
		"packages": [{"id": package_id}],
		"payment": {
			"currency": "VND",
			"original_total_product_price": str(gross),
			"seller_discount": str(discounts),
			"platform_discount": "0",
			"sub_total": str(gross - discounts),
			"original_shipping_fee": str(basket.shipping_fee),
			"shipping_fee_seller_discount": "0",
			"shipping_fee_platform_discount": "0",
			"shipping_fee": str(basket.shipping_fee),
			"taxes": "0",
			"total_amount": str(basket.total),
		},
		"recipient_address": {
			"name": buyer.name,
			"phone_number": f"(+84){buyer.phone[1:3]}*****{buyer.phone[-2:]}",
			"address_detail": buyer.line1,
			"full_address": f"{buyer.line1}, {buyer.ward}, {buyer.district}, {buyer.province}",
			"region_code": "VN",
			"district_info": [
				{"address_level": "L0", "address_level_name": "Country", "address_name": "Việt Nam"},
				{"address_level": "L1", "address_level_name": "Province", "address_name": buyer.province},
				{"address_level": "L2", "address_level_name": "District", "address_name": buyer.district},
				{"address_level": "L3", "address_level_name": "Ward", "address_name": buyer.ward},
			],
		},
		"line_items": [_tiktok_unit(order_id, number, line, package_id) for number, line in enumerate(units, 1)],
	}


def _tiktok_unit(order_id: str, number: int, line: Line, package_id: str) -> dict:
	listing = line.item.on("tiktok")
	return {
		"id": f"{order_id}{number:03d}",
		"sku_id": listing.variant_id,
		"product_id": listing.listing_id,
		"product_name": product_title(line.item),
		"sku_name": _variant_label(line.item),
		"seller_sku": listing.sku,
		"currency": "VND",
		"original_price": str(line.item.price),
		"sale_price": str(line.unit_paid),
		"seller_discount": str(line.discount),
		"platform_discount": "0",
		"package_id": package_id,
		"display_status": TIKTOK_STATUS[PLACED],
	}


# --- the web store (Custom API) ------------------------------------------------------------------------
WEB_STATUS = {PLACED: "confirmed", SHIPPED: "shipped", COMPLETED: "completed", CANCELLED: "cancelled"}


class WebStoreFront(Storefront):
	"""The shop's own web store: it keeps its orders itself and posts each as canonical JSON."""

	key, label, channel = "web", "Web store", demo_shop.WEB_STORE

	def __init__(self, stock_of: Callable[[DemoItem], int]):
		self._stock_of = stock_of  # a web store shows the stock it was last told, as the marketplaces do
		self.orders: dict[str, dict] = {}

	def new_order_id(self, rng, now) -> str:
		return "WEB-" + _digits(rng, 8)

	def place(self, order_id, basket, now) -> None:
		self.orders[order_id] = web_order(order_id, basket, now)

	def move(self, order_id, stage, now) -> None:
		order = self.orders[order_id]
		order.update(status=WEB_STATUS[stage], updated_at=_iso(now))
		if stage == SHIPPED:
			tracking = "GHN" + order_id[-8:]
			lines = {line["sku"]: line["qty"] for line in order["lines"]}
			order["shipments"] = [{"package_id": tracking, "tracking_number": tracking, "carrier": "GHN", "lines": lines}]

	def push(self, order_id, stage, now) -> Push:
		body = json.dumps(self.orders[order_id], ensure_ascii=False).encode()
		signature = hmac.new(self.channel.app_secret.encode(), body, hashlib.sha256).hexdigest()
		headers = {"X-OMS-Signature": signature, "Content-Type": "application/json"}
		return Push(self.channel.name, demo_shop.ORDER_WEBHOOK, body, headers, f"Web store {order_id} {stage}")

	def stock_of(self, item) -> int:
		return self._stock_of(item)

	def forget(self, order_id) -> None:
		self.orders.pop(order_id, None)

	def export_state(self) -> dict:
		return {"orders": self.orders}

	def import_state(self, state: dict) -> None:
		self.orders.update(state.get("orders") or {})


def web_order(order_id: str, basket: Basket, now: float) -> dict:
	"""The canonical JSON (domain.normalize) a web store sends: SKUs are the shop's item codes."""
	buyer = basket.buyer
	return {
		"order_id": order_id,
		"status": WEB_STATUS[PLACED],
		"currency": "VND",
		"buyer": {"name": buyer.name, "phone": buyer.phone, "email": buyer.email},
		"shipping_address": {
			"full_name": buyer.name,
			"phone": buyer.phone,
			"line1": buyer.line1,
			"ward": buyer.ward,
			"district": buyer.district,
			"province": buyer.province,
			"country": "Vietnam",
		},
		"lines": [
			{"sku": line.item.code, "qty": line.qty, "unit_price": line.item.price, "seller_discount": line.discount * line.qty, "title": line.item.name}
			for line in basket.lines
		],
		"shipping_fee": basket.shipping_fee,
		"payment_method": "COD" if basket.cod else "Prepaid",
		"created_at": _iso(now),
		"updated_at": _iso(now),
		"total": basket.total,
	}


# --- the loop's brain --------------------------------------------------------------------------------
@dataclass
class Timing:
	ship_after: float = 60.0  # seconds from order to shipment
	complete_after: float = 120.0  # seconds from shipment to completion
	cancel_share: float = 0.08  # of orders the buyer cancels before they ship
	keep_for: float = 6 * 3600.0  # finished orders are forgotten after this
	payout_every: float = 1800.0  # seconds between the marketplaces' payouts to the bank


@dataclass
class DemoTraffic:
	fronts: list[Storefront]
	rng: random.Random
	timing: Timing = field(default_factory=Timing)
	selling: tuple[str, ...] | None = None  # keys of the storefronts taking new orders (None: all)
	orders: dict[str, DemoOrder] = field(default_factory=dict)
	turn: int = 0
	last_payout: float = 0.0

	def tick(self, now: float) -> list[Push]:
		"""Move every order that is due, then place one new order; the pushes to send."""
		pushes = [self._move(order, now) for order in self._due(now)]
		placed = self._place_next(now)
		if placed:
			pushes.append(placed)
		self._forget_finished(now)
		if now - self.last_payout >= self.timing.payout_every:
			if self.last_payout:
				for front in self.fronts:
					front.pay_out(now)
			self.last_payout = now
		return pushes

	def front(self, key: str) -> Storefront:
		return next(front for front in self.fronts if front.key == key)

	def _place_next(self, now: float) -> Push | None:
		sellers = [front for front in self.fronts if self.selling is None or front.key in self.selling]
		for _ in sellers:  # a storefront with nothing in stock passes its turn on
			front = sellers[self.turn % len(sellers)]
			self.turn += 1
			basket = pick_basket(self.rng, front.stock_of)
			if basket:
				order_id = front.new_order_id(self.rng, now)
				front.place(order_id, basket, now)
				self.orders[f"{front.key}:{order_id}"] = DemoOrder(front.key, order_id, PLACED, now, now)
				return front.push(order_id, PLACED, now)
		return None

	def _due(self, now: float) -> list[DemoOrder]:
		waits = {PLACED: self.timing.ship_after, SHIPPED: self.timing.complete_after}
		return [o for o in self.orders.values() if o.stage in waits and now - o.changed_at >= waits[o.stage]]

	def _move(self, order: DemoOrder, now: float) -> Push:
		stage = NEXT_STAGE[order.stage]
		if order.stage == PLACED and self.rng.random() < self.timing.cancel_share:
			stage = CANCELLED
		front = self.front(order.front)
		front.move(order.order_id, stage, now)
		if stage == COMPLETED:
			front.settle(order.order_id, now)
		order.stage, order.changed_at = stage, now
		return front.push(order.order_id, stage, now)

	def _forget_finished(self, now: float) -> None:
		for key, order in list(self.orders.items()):
			if order.stage in (COMPLETED, CANCELLED) and now - order.changed_at > self.timing.keep_for:
				self.front(order.front).forget(order.order_id)
				del self.orders[key]

	def export_state(self) -> dict:
		return {
			"turn": self.turn,
			"orders": [asdict(order) for order in self.orders.values()],
			"fronts": {front.key: front.export_state() for front in self.fronts},
		}

	def import_state(self, state: dict) -> None:
		self.turn = int(state.get("turn") or 0)
		for row in state.get("orders") or []:
			order = DemoOrder(**row)
			self.orders[f"{order.front}:{order.order_id}"] = order
		for front in self.fronts:
			front.import_state((state.get("fronts") or {}).get(front.key) or {})
