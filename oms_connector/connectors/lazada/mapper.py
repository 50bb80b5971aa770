"""Lazada order payloads -> the normalized ChannelOrder.

Only `order_from_lazada` is meant to be called from outside; `STATUS_MAP` is public so the
intake can map a push message's order_status word the same way the mapper does.
"""

from __future__ import annotations

from collections import OrderedDict
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
	is_masked,
	to_money,
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

	Money (all in the items' currency, VND when not given):
	- unit_price is item_price (before vouchers). Each item's voucher_seller becomes the line's
	  seller_discount and voucher_platform its platform_discount. The order-level voucher_seller /
	  voucher_platform are the sums of the same item vouchers, so they are only used (as
	  seller_voucher / platform_voucher) when no item splits them, never both. When neither does,
	  each item's voucher_amount (or item_price - paid_price, "paid price = item price - voucher")
	  is counted as the seller's discount, since nothing says Lazada funds it.
	- shipping_fee is the order's shipping_fee (what the buyer pays after shipping promotions;
	  shipping_fee_original is before them), else the sum of the items' shipping_amount.
	- platform_total is set to sum(paid_price) + shipping_fee only when it reconciles with lines and
	  vouchers: Lazada never states the buyer's total itself (order "price" excludes vouchers and
	  shipping), so a mismatch leaves it unset instead of failing the order.

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
	order_id = lazada_order_id(order)
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
	currency = parse_currency(_text(items[0], "currency") or _text(order, "currency"), f"{where} currency")

	statuses = []
	for index, item in enumerate(items, 1):
		word = _text(item, "status").lower()
		if word not in STATUS_MAP:
			raise InvalidOrder(f"{where}: item {index} has unknown Lazada status {show(item.get('status'))}")
		statuses.append(STATUS_MAP[word])

	active = [item for item, status in zip(items, statuses) if status != OrderStatus.CANCELLED]
	returned_lines: dict[str, Decimal] = {}
	if not active:
		status = OrderStatus.CANCELLED
		kept = items
	else:
		kept = active
		returned = [item for item, s in zip(items, statuses) if s == OrderStatus.RETURNED]
		if returned:
			status = OrderStatus.RETURNED
			if len(returned) < len(active):
				for item in returned:
					sku = _text(item, "sku", None)
					returned_lines[sku] = returned_lines.get(sku, Decimal(0)) + 1
		else:
			status = min((s for s in statuses if s != OrderStatus.CANCELLED), key=_FORWARD.index)

	# Vouchers are counted once: per item when items split them, else per order when the order
	# does, else per item from voucher_amount / paid_price.
	item_split = any("voucher_seller" in item or "voucher_platform" in item for item in items)
	order_split = not item_split and ("voucher_seller" in order or "voucher_platform" in order)
	lines = _lines(kept, currency, where, line_vouchers=not order_split)

	address_data = order.get("address_shipping") or {}
	if not isinstance(address_data, dict):
		raise InvalidOrder(f"{where}: address_shipping must be an object")
	address = None
	if address_data:
		phone = _text(address_data, "phone")
		address = Address(
			full_name=_join(_text(address_data, "first_name"), _text(address_data, "last_name")),
			phone=None if not phone or is_masked(phone) else phone,
			line1=_text(address_data, "address1"),
			line2=_text(address_data, "address2"),
			ward=_text(address_data, "address5"),
			district=_text(address_data, "address4") or _text(address_data, "addressDsitrict"),
			province=_text(address_data, "address3") or _text(address_data, "city"),
			country=_text(address_data, "country") or "Vietnam",
			postal_code=_text(address_data, "post_code"),
		)

	buyer_ids = {_text(item, "buyer_id") for item in items} - {""}
	buyer = Buyer(
		name=_join(_text(order, "customer_first_name"), _text(order, "customer_last_name"))
		or (address.full_name if address else ""),
		phone=_text(address_data, "phone") or None,
		email=_text(address_data, "customer_email") or None,
		platform_buyer_id=buyer_ids.pop() if len(buyer_ids) == 1 else None,
	)

	shipments: OrderedDict[str, Shipment] = OrderedDict()
	for item in kept:
		package_id = _text(item, "package_id")
		if not package_id:
			continue
		shipment = shipments.setdefault(
			package_id,
			Shipment(
				package_id=package_id,
				tracking_number=_text(item, "tracking_code"),
				carrier=_text(item, "shipment_provider"),
			),
		)
		shipment.tracking_number = shipment.tracking_number or _text(item, "tracking_code")
		sku = _text(item, "sku", None)
		shipment.lines[sku] = shipment.lines.get(sku, Decimal(0)) + 1

	if order.get("shipping_fee") not in (None, ""):
		shipping_fee = to_money(order.get("shipping_fee"), currency, f"{where} shipping_fee")
	else:
		shipping_fee = sum(
			(to_money(item.get("shipping_amount"), currency, f"{where} item shipping_amount") for item in kept), Decimal(0)
		)

	result = ChannelOrder(
		external_order_id=order_id,
		status=status,
		lines=lines,
		currency=currency,
		buyer=buyer,
		shipping_address=address,
		shipping_fee=shipping_fee,
		payment_method=PaymentMethod.COD
		if _text(order, "payment_method").upper() == "COD"
		else PaymentMethod.PREPAID,
		created_at=parse_datetime(order.get("created_at"), f"{where} created_at"),
		updated_at=parse_datetime(order.get("updated_at"), f"{where} updated_at"),
		shipments=list(shipments.values()),
		returned_lines=returned_lines,
		note=_text(order, "buyer_note", MAX_NOTE_LENGTH) or _text(order, "remarks", MAX_NOTE_LENGTH),
	)
	if order_split:
		result.seller_voucher = to_money(order.get("voucher_seller"), currency, f"{where} voucher_seller")
		result.platform_voucher = to_money(order.get("voucher_platform"), currency, f"{where} voucher_platform")

	if kept and all(item.get("paid_price") not in (None, "") for item in kept):
		paid = sum((to_money(item["paid_price"], currency, f"{where} item paid_price") for item in kept), Decimal(0))
		paid += shipping_fee
		if paid == result.buyer_paid:
			result.platform_total = paid

	result.validate()
	return result


def _lines(items: list[dict], currency: str, where: str, line_vouchers: bool) -> list[OrderLine]:
	groups: OrderedDict[tuple[str, Decimal], OrderLine] = OrderedDict()
	for item in items:
		sku = _text(item, "sku", None)
		price = to_money(item.get("item_price"), currency, f"{where} item item_price")
		seller, platform = _item_discounts(item, price, currency, where) if line_vouchers else (Decimal(0), Decimal(0))
		line = groups.get((sku, price))
		if line is None:
			line = groups[(sku, price)] = OrderLine(
				sku=sku,
				qty=Decimal(0),
				unit_price=price,
				listing_id=_text(item, "sku_id") or _text(item, "shop_sku"),
				title=_join(_text(item, "name"), _text(item, "variation"), sep=" - "),
			)
		line.qty += 1
		line.seller_discount += seller
		line.platform_discount += platform
		item_id = _text(item, "order_item_id")
		line.external_line_id = ",".join(x for x in (line.external_line_id, item_id) if x)
	if not groups:
		raise InvalidOrder(f"{where}: has no order items")
	return list(groups.values())


def _item_discounts(item: dict, price: Decimal, currency: str, where: str) -> tuple[Decimal, Decimal]:
	"""(seller-funded, platform-funded) voucher on one unit."""

	def money(key: str) -> Decimal:
		return to_money(item.get(key), currency, f"{where} item {key}")

	if "voucher_seller" in item or "voucher_platform" in item:
		return money("voucher_seller"), money("voucher_platform")
	if item.get("voucher_amount") not in (None, ""):
		return money("voucher_amount"), Decimal(0)
	if item.get("paid_price") not in (None, ""):
		return max(price - money("paid_price"), Decimal(0)), Decimal(0)
	return Decimal(0), Decimal(0)


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


def _join(*parts: str, sep: str = " ") -> str:
	return parse_text(sep.join(part for part in parts if part))  # each part fits; together they may not
