"""Lazada order payloads -> the normalized ChannelOrder.

Only `order_from_lazada` is meant to be called from outside; `STATUS_MAP` is public so the
intake can map a push message's order_status word the same way the mapper does.
"""

from __future__ import annotations

from decimal import Decimal

from ...domain.limits import MAX_NOTE_LENGTH, MAX_TEXT_LENGTH, show
from ...domain.normalize import (
	parse_currency,
	parse_datetime,
	parse_order_id,
	parse_text,
)
from ...domain.order import (
	Address,
	Buyer,
	ChannelOrder,
	InvalidOrder,
	OrderLine,
	OrderStatus,
	PaymentMethod,
	Shipment,
)
from ..mapping import (
	Details,
	Fees,
	MarketplaceOrder,
	OrderHead,
	Packages,
	UnitLines,
	build_order,
	join_text,
	unmasked,
)

# Lazada order item statuses (GetOrders "statuses", GetOrderItems "status", the status filter
# and the push message's order_status) onto the domain lifecycle.
STATUS_MAP: dict[str, OrderStatus] = {
	"unpaid": OrderStatus.UNPAID,
	"pending": OrderStatus.CONFIRMED,
	"topack": OrderStatus.CONFIRMED,
	"repacked": OrderStatus.CONFIRMED,  # the package was cancelled and must be packed again
	"packed": OrderStatus.CONFIRMED,
	"toship": OrderStatus.CONFIRMED,
	"ready_to_ship_pending": OrderStatus.CONFIRMED,
	"ready_to_ship": OrderStatus.CONFIRMED,  # handed to the carrier's queue, not yet picked up
	"shipping": OrderStatus.SHIPPED,
	"shipped": OrderStatus.SHIPPED,
	# A failed attempt: the parcel is still with the carrier and is either re-delivered or
	# shipped back, and shipped_back_success / returned tells the latter.
	"failed_delivery": OrderStatus.SHIPPED,
	"shipped_back": OrderStatus.SHIPPED,  # on its way back, not in the warehouse yet
	"shipped_back_failed": OrderStatus.SHIPPED,
	# Lost or destroyed by the carrier: the goods left and never come back, so there is nothing
	# to receive into stock; Lazada's compensation arrives through the finance transactions.
	"lost": OrderStatus.SHIPPED,
	"lost_by_3pl": OrderStatus.SHIPPED,
	"damaged_by_3pl": OrderStatus.SHIPPED,
	"package_scrapped": OrderStatus.SHIPPED,
	"delivered": OrderStatus.DELIVERED,
	"confirmed": OrderStatus.COMPLETED,  # the buyer confirmed receipt after delivery
	"canceled": OrderStatus.CANCELLED,
	"cancelled": OrderStatus.CANCELLED,
	"failed": OrderStatus.CANCELLED,  # delivery finally failed: the order is void, goods come back
	"shipped_back_success": OrderStatus.RETURNED,
	"returned": OrderStatus.RETURNED,
}

# Money fields of GetOrder / GetOrderItems (see order_from_lazada).
PRICE = "price"
VOUCHER = "voucher"
VOUCHER_SELLER = "voucher_seller"
VOUCHER_PLATFORM = "voucher_platform"
VOUCHER_AMOUNT = "voucher_amount"
PAID_PRICE = "paid_price"
SHIPPING_FEE = "shipping_fee"
SHIPPING_FEE_ORIGINAL = "shipping_fee_original"
SHIPPING_DISCOUNT_SELLER = "shipping_fee_discount_seller"
SHIPPING_DISCOUNT_PLATFORM = "shipping_fee_discount_platform"

_FORWARD = [OrderStatus.UNPAID, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED]


def order_from_lazada(order: dict, items: list[dict]) -> ChannelOrder:
	"""Map a Lazada order and its order items to a validated ChannelOrder, or raise InvalidOrder.

	`order` is one object of GetOrder (/order/get "data") or GetOrders (/orders/get
	"data.orders"); `items` are that order's order items from GetOrderItems (/order/items/get) or
	GetMultipleOrderItems (/orders/items/get "order_items").

	Lazada returns one order item per unit: two of the same SKU are two items. Items are grouped
	back into lines by (sku, item_price), so a SKU sold at one price is one line whose qty is the
	item count; external_line_id lists the order_item_ids, listing_id is the Lazada sku_id (the
	shop_sku when sku_id is absent).

	Money (all in the items' currency, VND when not given), read as Lazada's "Get Order" best practice
	(open.lazada.com docId 121327) defines it: "buyer paid price = price - voucher + shipping_fee",
	where price is the items' total before vouchers and shipping_fee what the buyer pays for shipping:
	- unit_price is item_price (before vouchers). Each item's voucher_seller becomes the line's
	  seller_discount and voucher_platform its platform_discount. The order-level voucher_seller /
	  voucher_platform are the sums of the same item vouchers, so they are only used (as
	  seller_voucher / platform_voucher) when no item splits them, never both. When neither does,
	  each item's voucher_amount (or item_price - paid_price, "paid price = item price - voucher")
	  is counted as the seller's discount, since nothing says Lazada funds it. An item that states
	  its vouchers must have paid_price = item_price - those vouchers.
	- shipping_fee is the order's shipping_fee (what the buyer pays after shipping promotions),
	  else the sum of the items' shipping_amount; with shipping_fee_original it must be
	  shipping_fee_original - shipping_fee_discount_seller - shipping_fee_discount_platform. The
	  Lazada-funded part is paid to the seller in the settlement (its shipping rebate), so the
	  order does not count it a second time.
	- platform_total is price - voucher + shipping_fee. When cancelled items were dropped (the
	  docs do not say whether price still counts them), or the order states no voucher, it is what
	  the kept items were paid (their paid_price) plus shipping_fee. It must equal what the lines,
	  vouchers and shipping fee add up to, or the order is refused naming the difference; an order
	  that states neither is refused too, never booked at a total nobody stated.

	Status: each item's status goes through STATUS_MAP. Cancelled items are dropped from the lines
	(their units never ship) unless every item is cancelled, which makes the order CANCELLED.
	Otherwise any returned item makes the order RETURNED, with returned_lines naming the returned
	SKUs when only some came back; else the order is as far as its slowest item (UNPAID < CONFIRMED
	< SHIPPED < DELIVERED < COMPLETED), so it is SHIPPED only when every unit left.

	Buyer and address: payment_method "COD" is COD, anything else prepaid. address_shipping gives
	the address: address1 the street line, address3 the province, address4 the district, address5
	the ward (Lazada VN's levels); phones come masked ('84*****89'), kept on the Buyer (the domain
	ignores masks for identity) but None on the Address. Items with a package_id become Shipments
	with their tracking_code and shipment_provider.
	"""
	return build_order(_LazadaOrder(order, items))


class _LazadaOrder(MarketplaceOrder):
	def __init__(self, order: dict, items: list[dict]):
		self.order, self.items = order, items
		self.kept: list[dict] = []  # the items the order is made of (cancelled units dropped)
		self.returned_lines: dict[str, Decimal] = {}
		self.order_split = False  # the order, not its items, splits the vouchers by who funds them

	def head(self) -> OrderHead:
		order_id = lazada_order_id(self.order)
		items = self.items
		if not isinstance(items, list):
			raise InvalidOrder("Lazada order items must be a list")
		where = f"Lazada order {order_id or '?'}"
		if not items:
			raise InvalidOrder(f"{where}: has no order items")
		for index, item in enumerate(items, 1):
			if not isinstance(item, dict):
				raise InvalidOrder(f"{where}: item {index} must be an object")
			if (_text(item, "order_id") or order_id) != order_id:
				raise InvalidOrder(f"{where}: item {index} belongs to order {show(item.get('order_id'))}")
		currency = parse_currency(_text(items[0], "currency") or _text(self.order, "currency"), f"{where} currency")
		head = OrderHead(order_id, currency, where)
		head.status = self._item_statuses(head)
		return head

	def _item_statuses(self, head: OrderHead) -> OrderStatus:
		"""The order's status from its items'; sets the kept items and the returned lines."""
		statuses = []
		for index, item in enumerate(self.items, 1):
			word = _text(item, "status").lower()
			if word not in STATUS_MAP:
				raise InvalidOrder(f"{head.where}: item {index} has unknown Lazada status {show(item.get('status'))}")
			statuses.append(STATUS_MAP[word])
		active = [item for item, status in zip(self.items, statuses) if status != OrderStatus.CANCELLED]
		if not active:
			self.kept = self.items
			return OrderStatus.CANCELLED
		self.kept = active
		returned = [item for item, status in zip(self.items, statuses) if status == OrderStatus.RETURNED]
		if not returned:
			return min((s for s in statuses if s != OrderStatus.CANCELLED), key=_FORWARD.index)
		if len(returned) < len(active):
			for item in returned:
				sku = _text(item, "sku", None)
				self.returned_lines[sku] = self.returned_lines.get(sku, Decimal(0)) + 1
		return OrderStatus.RETURNED

	def lines(self, head: OrderHead) -> list[OrderLine]:
		# Vouchers are counted once: per item when items split them, else per order when the order
		# does, else per item from voucher_amount / paid_price.
		item_split = any(VOUCHER_SELLER in item or VOUCHER_PLATFORM in item for item in self.items)
		self.order_split = not item_split and (VOUCHER_SELLER in self.order or VOUCHER_PLATFORM in self.order)
		return _lines(self.kept, head, line_vouchers=not self.order_split)

	def address(self, head: OrderHead) -> Address | None:
		data = self._address_data(head)
		if not data:
			return None
		return Address(
			full_name=join_text(_text(data, "first_name"), _text(data, "last_name")),
			phone=unmasked(_text(data, "phone")),
			line1=_text(data, "address1"),
			line2=_text(data, "address2"),
			ward=_text(data, "address5"),
			district=_text(data, "address4") or _text(data, "addressDsitrict"),
			province=_text(data, "address3") or _text(data, "city"),
			country=_text(data, "country") or "Vietnam",
			postal_code=_text(data, "post_code"),
		)

	def _address_data(self, head: OrderHead) -> dict:
		data = self.order.get("address_shipping") or {}
		if not isinstance(data, dict):
			raise InvalidOrder(f"{head.where}: address_shipping must be an object")
		return data

	def buyer(self, head: OrderHead, address: Address | None) -> Buyer:
		data = self._address_data(head)
		buyer_ids = {_text(item, "buyer_id") for item in self.items} - {""}
		return Buyer(
			name=join_text(_text(self.order, "customer_first_name"), _text(self.order, "customer_last_name"))
			or (address.full_name if address else ""),
			phone=_text(data, "phone") or None,
			email=_text(data, "customer_email") or None,
			platform_buyer_id=buyer_ids.pop() if len(buyer_ids) == 1 else None,
		)

	def shipments(self, head: OrderHead) -> list[Shipment]:
		packages = Packages()
		for item in self.kept:
			package_id = _text(item, "package_id")
			if package_id:
				tracking = _text(item, "tracking_code")
				shipment = packages.add(package_id, _text(item, "sku", None), tracking, _text(item, "shipment_provider"))
				shipment.tracking_number = shipment.tracking_number or tracking
		return packages.shipments()

	def status(self, head: OrderHead, lines: list[OrderLine]) -> tuple[OrderStatus, dict[str, Decimal]]:
		return head.status, self.returned_lines

	def fees(self, head: OrderHead) -> Fees:
		if not _is_empty(self.order.get(SHIPPING_FEE)):
			return Fees(shipping_fee=head.money(self.order.get(SHIPPING_FEE), SHIPPING_FEE))
		amounts = (head.money(item.get("shipping_amount"), "item shipping_amount") for item in self.kept)
		return Fees(shipping_fee=sum(amounts, Decimal(0)))

	def details(self, head: OrderHead) -> Details:
		order = self.order
		return Details(
			payment_method=PaymentMethod.COD if _text(order, "payment_method").upper() == "COD" else PaymentMethod.PREPAID,
			created_at=parse_datetime(order.get("created_at"), f"{head.where} created_at"),
			updated_at=parse_datetime(order.get("updated_at"), f"{head.where} updated_at"),
			note=_text(order, "buyer_note", MAX_NOTE_LENGTH) or _text(order, "remarks", MAX_NOTE_LENGTH),
		)

	def reconcile(self, head: OrderHead, order: ChannelOrder) -> None:
		"""Order-level vouchers (when the order splits them), then the platform's total, which must add up."""
		if self.order_split:
			order.seller_voucher = head.money(self.order.get(VOUCHER_SELLER), VOUCHER_SELLER)
			order.platform_voucher = head.money(self.order.get(VOUCHER_PLATFORM), VOUCHER_PLATFORM)
		self._check_shipping_split(head, order)
		total, said_by = self._platform_total(head, order)
		if total != order.buyer_paid:
			order.validate()  # a broken line throws the total off: let it explain itself first
			raise InvalidOrder(
				f"{head.where}: the buyer paid {total} ({said_by}), not the {order.buyer_paid} that lines,"
				f" vouchers and shipping fee add up to (a difference of {total - order.buyer_paid})"
			)
		order.platform_total = total

	def _platform_total(self, head: OrderHead, order: ChannelOrder) -> tuple[Decimal, str]:
		"""What Lazada says the buyer paid, and which fields say it."""
		dropped = len(self.kept) < len(self.items)
		if not dropped and not _is_empty(self.order.get(PRICE)) and not _is_empty(self.order.get(VOUCHER)):
			price = head.money(self.order[PRICE], PRICE)
			voucher = head.money(self.order[VOUCHER], VOUCHER)
			return price - voucher + order.shipping_fee, f"price {price} - voucher {voucher} + shipping_fee {order.shipping_fee}"
		if all(not _is_empty(item.get(PAID_PRICE)) for item in self.kept):
			paid = sum((head.money(item[PAID_PRICE], f"item {PAID_PRICE}") for item in self.kept), Decimal(0))
			return paid + order.shipping_fee, f"the items' paid_price {paid} + shipping_fee {order.shipping_fee}"
		raise InvalidOrder(f"{head.where}: neither price and voucher nor every item's paid_price say what the buyer paid")

	def _check_shipping_split(self, head: OrderHead, order: ChannelOrder) -> None:
		"""shipping_fee must be shipping_fee_original less the seller's and Lazada's shipping discounts."""
		if _is_empty(self.order.get(SHIPPING_FEE_ORIGINAL)) or _is_empty(self.order.get(SHIPPING_FEE)):
			return
		original = head.money(self.order[SHIPPING_FEE_ORIGINAL], SHIPPING_FEE_ORIGINAL)
		seller = head.money(self.order.get(SHIPPING_DISCOUNT_SELLER), SHIPPING_DISCOUNT_SELLER)
		platform = head.money(self.order.get(SHIPPING_DISCOUNT_PLATFORM), SHIPPING_DISCOUNT_PLATFORM)
		if original - seller - platform != order.shipping_fee:
			raise InvalidOrder(
				f"{head.where}: shipping_fee {order.shipping_fee} is not shipping_fee_original {original} less the"
				f" seller's {seller} and Lazada's {platform} shipping discounts ({original - seller - platform})"
			)


def _lines(items: list[dict], head: OrderHead, line_vouchers: bool) -> list[OrderLine]:
	lines = UnitLines()
	for item in items:
		price = head.money(item.get("item_price"), "item item_price")
		seller, platform = _item_discounts(item, price, head) if line_vouchers else (Decimal(0), Decimal(0))
		lines.add(
			_text(item, "sku", None),
			price,
			seller,
			platform,
			_text(item, "order_item_id"),
			listing_id=_text(item, "sku_id") or _text(item, "shop_sku"),
			title=join_text(_text(item, "name"), _text(item, "variation"), sep=" - "),
		)
	if not lines.lines():
		raise InvalidOrder(f"{head.where}: has no order items")
	return lines.lines()


def _item_discounts(item: dict, price: Decimal, head: OrderHead) -> tuple[Decimal, Decimal]:
	"""(seller-funded, platform-funded) voucher on one unit; its paid_price must agree when it states them."""

	def money(key: str) -> Decimal:
		return head.money(item.get(key), f"item {key}")

	if VOUCHER_SELLER in item or VOUCHER_PLATFORM in item:
		seller, platform = money(VOUCHER_SELLER), money(VOUCHER_PLATFORM)
	elif not _is_empty(item.get(VOUCHER_AMOUNT)):
		seller, platform = money(VOUCHER_AMOUNT), Decimal(0)
	elif not _is_empty(item.get(PAID_PRICE)):
		return max(price - money(PAID_PRICE), Decimal(0)), Decimal(0)
	else:
		return Decimal(0), Decimal(0)
	if not _is_empty(item.get(PAID_PRICE)) and money(PAID_PRICE) != price - seller - platform:
		raise InvalidOrder(
			f"{head.where}: item {_text(item, 'order_item_id') or '?'} was paid {money(PAID_PRICE)} (paid_price), not its"
			f" item_price {price} less its vouchers {seller + platform} ({price - seller - platform}): a difference of"
			f" {money(PAID_PRICE) - (price - seller - platform)} no field explains"
		)
	return seller, platform


def lazada_order_id(order) -> str:
	"""The id the mapper reads: order_id, else order_number ("" when neither is there).

	InvalidOrder when the first one present cannot be an id (erp.platforms' peek reads it the same way).
	"""
	if not isinstance(order, dict):
		raise InvalidOrder("Lazada order must be an object")
	for key in ("order_id", "order_number"):
		value = order.get(key)
		if _is_empty(value):
			continue
		return parse_order_id(value, f"Lazada {key}")
	return ""


def _is_empty(value) -> bool:
	# Lazada sends the string "null" for empty fields
	return value is None or (isinstance(value, str) and value.strip().lower() in ("", "null"))


def _text(data: dict, key: str, limit: int | None = MAX_TEXT_LENGTH) -> str:
	text = parse_text(data.get(key), limit)
	return "" if text.lower() == "null" else text

