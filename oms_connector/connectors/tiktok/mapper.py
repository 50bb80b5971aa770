"""TikTok Shop 202309 order object -> the normalized ChannelOrder.

Facts this relies on (Get Order List / Get Order Detail 202309 reference):
- `line_items` has ONE entry per unit sold, so units of the same SKU are grouped into one line.
- Each line item carries `original_price`, `sale_price`, `seller_discount`, `platform_discount`
  for that unit, with sale_price = original_price - seller_discount - platform_discount.
- `payment.sub_total = original_total_product_price - seller_discount - platform_discount`,
  `payment.shipping_fee = original_shipping_fee - shipping_fee_seller_discount
  - shipping_fee_platform_discount` (what the buyer paid for shipping), and
  `payment.total_amount = sub_total + shipping_fee + taxes + retail_delivery_fee`.
- Every amount is a decimal string in `payment.currency`.
- `recipient_address` is absent while the order is UNPAID or ON_HOLD; with platform logistics
  the name and phone are masked ("(+84)90*****12").
- `oms_returns` is not TikTok's: the client puts the order's Search Returns 202309
  `return_orders[]` there (order_id, return_id, return_type, return_status,
  can_buyer_keep_item, return_line_items[] with order_line_item_id, sku_id, seller_sku).
"""

from __future__ import annotations

from decimal import Decimal

from ...domain.limits import MAX_NOTE_LENGTH, show
from ...domain.normalize import (
	as_list,
	as_object,
	parse_currency,
	parse_order_id,
	parse_text,
	parse_timestamp,
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
	first_text,
	join_text,
	text,
)

# TikTok order status -> domain status. The webhook spells cancelled "CANCEL".
STATUS_MAP: dict[str, OrderStatus] = {
	"UNPAID": OrderStatus.UNPAID,
	# Paid, but the buyer may still cancel without the seller's approval and the address is
	# withheld: nothing can be reserved or shipped yet, so it is treated like unpaid.
	"ON_HOLD": OrderStatus.UNPAID,
	"AWAITING_SHIPMENT": OrderStatus.CONFIRMED,
	# Some packages left, some did not: the order stays open; `shipments` says which went.
	"PARTIALLY_SHIPPING": OrderStatus.CONFIRMED,
	# Label printed, waiting for the carrier: goods are still in the warehouse.
	"AWAITING_COLLECTION": OrderStatus.CONFIRMED,
	"IN_TRANSIT": OrderStatus.SHIPPED,
	"DELIVERED": OrderStatus.DELIVERED,
	"COMPLETED": OrderStatus.COMPLETED,
	"CANCELLED": OrderStatus.CANCELLED,
	"CANCEL": OrderStatus.CANCELLED,
}

# Return statuses after which the return is settled in the buyer's favour. For a
# RETURN_AND_REFUND, TikTok only gets there once the returned package was accepted:
# RETURN_OR_REFUND_REQUEST_SUCCESS ("approved, the buyer will be refunded") and
# RETURN_OR_REFUND_REQUEST_COMPLETE ("processed, the buyer has been refunded"). Everything
# else is in progress (RETURN_OR_REFUND_REQUEST_PENDING, AWAITING_BUYER_SHIP,
# BUYER_SHIPPED_ITEM) or ended without a return (REFUND_OR_RETURN_REQUEST_REJECT,
# REJECT_RECEIVE_PACKAGE, RETURN_OR_REFUND_REQUEST_CANCEL).
COMPLETED_RETURN_STATUSES = {"RETURN_OR_REFUND_REQUEST_SUCCESS", "RETURN_OR_REFUND_REQUEST_COMPLETE"}
# Only this return type brings goods back. REFUND (the docs' name; "REFUND_ONLY" and unknown
# types are treated alike) is a returnless refund; REPLACEMENT makes TikTok create a new order.
GOODS_RETURN_TYPES = {"RETURN_AND_REFUND"}
# Order statuses a return can apply to: the goods have left the warehouse.
RETURNABLE_STATUSES = {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED}

# What a buyer may pay on top of goods and shipping, which the order has no line for; named when
# payment.total_amount is not what lines, discounts and shipping add up to.
BUYER_EXTRAS = ("tax", "product_tax", "shipping_fee_tax", "retail_delivery_fee", "small_order_fee", "buyer_service_fee", "handling_fee", "shipping_insurance_fee", "item_insurance_fee")
SHIPPING_DISCOUNTS = ("shipping_fee_seller_discount", "shipping_fee_platform_discount", "shipping_fee_cofunded_discount")

COUNTRY_BY_REGION = {"VN": "Vietnam", "TH": "Thailand", "MY": "Malaysia", "PH": "Philippines", "SG": "Singapore", "ID": "Indonesia"}


def tiktok_status(value) -> OrderStatus:
	word = parse_text(value).upper()
	if word not in STATUS_MAP:
		raise InvalidOrder(f"unknown TikTok order status {show(value)}")
	return STATUS_MAP[word]


def tiktok_order_id(order) -> str:
	"""The order id the mapper reads ("" when absent); InvalidOrder when it cannot be an id."""
	if not isinstance(order, dict):
		raise InvalidOrder("TikTok order must be an object")
	return parse_order_id(order.get("id"), "TikTok order id")


def _address(raw: dict | None) -> Address | None:
	raw = as_object(raw, "TikTok recipient_address")
	if not raw:
		return None
	province = district = ward = country = ""
	# Name first ("Province", "District", "Ward"...), level code (L0..L3) when the name is unknown.
	by_level: dict[str, str] = {}
	for part in as_list(raw.get("district_info"), "TikTok recipient_address.district_info"):
		if not isinstance(part, dict):
			raise InvalidOrder("TikTok recipient_address.district_info entries must be objects")
		name = text(part, "address_name")
		level_name = text(part, "address_level_name").lower()
		level = text(part, "address_level").upper()
		if not name:
			continue
		if "country" in level_name:
			country = country or name
		elif any(word in level_name for word in ("ward", "commune", "phường", "xã", "town")):
			ward = ward or name
		elif any(word in level_name for word in ("district", "quận", "huyện")):
			district = district or name
		elif any(word in level_name for word in ("province", "city", "tỉnh", "state")):
			province = province or name
		elif level:
			by_level[level] = name
	country = country or by_level.get("L0", "")
	province = province or by_level.get("L1", "")
	district = district or by_level.get("L2", "")
	ward = ward or by_level.get("L3", "")
	region = text(raw, "region_code").upper()
	return Address(
		full_name=text(raw, "name"),
		phone=text(raw, "phone_number") or None,
		line1=first_text(raw, "address_detail", "address_line1", "full_address"),
		line2=text(raw, "address_line2"),
		ward=ward,
		district=district,
		province=province,
		# ERPNext country names ("Vietnam"), not TikTok's local spelling ("Việt Nam").
		country=COUNTRY_BY_REGION.get(region) or country or region or "Vietnam",
		postal_code=text(raw, "postal_code"),
	)


def _returned_lines(order: dict, sku_by_item: dict[str, str], qty_by_sku: dict[str, Decimal]) -> dict[str, Decimal]:
	"""Units brought back by completed goods returns in `order["oms_returns"]`, per SKU.

	Each return line item is one unit (like order line items). It is matched to the order's line
	item through order_line_item_id, else by seller_sku / sku_id; a unit is counted once even
	if several returns name it, and never more units than the order has.
	"""
	returned_items: set[str] = set()
	counts: dict[str, Decimal] = {}
	for return_order in as_list(order.get("oms_returns"), "oms_returns"):
		if not isinstance(return_order, dict):
			continue
		if text(return_order, "return_type").upper() not in GOODS_RETURN_TYPES:
			continue
		if text(return_order, "return_status").upper() not in COMPLETED_RETURN_STATUSES:
			continue
		if return_order.get("can_buyer_keep_item") is True:
			continue  # refunded, but the goods stay with the buyer
		for index, item in enumerate(as_list(return_order.get("return_line_items"), "oms_returns return_line_items")):
			if not isinstance(item, dict):
				continue
			item_id = text(item, "order_line_item_id")
			sku = sku_by_item.get(item_id) if item_id else None
			if sku is None:
				sku = next(
					(key for key in (text(item, "seller_sku", None), text(item, "sku_id", None)) if key and key in qty_by_sku),
					None,
				)
			if sku is None:
				continue  # not a unit of this order
			unit = item_id or f"{text(return_order, 'return_id')}/{text(item, 'return_line_item_id') or index}"
			if unit in returned_items:
				continue
			returned_items.add(unit)
			if counts.get(sku, Decimal(0)) < qty_by_sku[sku]:
				counts[sku] = counts.get(sku, Decimal(0)) + 1
	return counts


def _unit_amounts(item: dict, unit: OrderHead) -> tuple[Decimal, Decimal, Decimal]:
	"""(original_price, seller_discount, platform_discount) of one unit; sale_price must be their result."""
	price = unit.money(item.get("original_price") or item.get("sale_price"), "original_price")
	seller = unit.money(item.get("seller_discount"), "seller_discount")
	platform = unit.money(item.get("platform_discount"), "platform_discount")
	sale = item.get("sale_price")
	if sale not in (None, "") and unit.money(sale, "sale_price") != price - seller - platform:
		raise InvalidOrder(
			f"{unit.where}: sale_price {unit.money(sale, 'sale_price')} is not original_price {price} less"
			f" seller_discount {seller} and platform_discount {platform} ({price - seller - platform})"
		)
	return price, seller, platform


def order_from_tiktok(order: dict) -> ChannelOrder:
	"""Map one 202309 order object (from Get Order List or Get Order Detail) to a ChannelOrder.

	Units are grouped by seller SKU (falling back to the TikTok SKU id when the seller left it
	empty) and unit price, so five line items of the same SKU become one line of quantity five.
	Line-level seller and platform discounts are summed per line; if `payment` reports more
	discount than the line items carry, the difference is treated as an order-level voucher.
	`shipping_fee` is what the buyer paid for shipping (after shipping discounts), and
	`platform_total` is `payment.total_amount`, so `ChannelOrder.validate()` cross-checks the sums.

	Returns: when the order has left the warehouse (SHIPPED / DELIVERED / COMPLETED) and
	`oms_returns` holds a RETURN_AND_REFUND return in a COMPLETED_RETURN_STATUSES status whose
	goods are not kept by the buyer, the status becomes RETURNED and `returned_lines` counts
	the returned line items per SKU (always explicit, even when every unit came back). A
	returnless refund (REFUND / REFUND_ONLY) or a REPLACEMENT returns no goods: the order keeps
	its status and the money side shows in the settlement. Returns still in progress, rejected
	or cancelled are ignored too.
	Raises InvalidOrder when the payload cannot be read as an order.
	"""
	return build_order(_TikTokOrder(order))


class _TikTokOrder(MarketplaceOrder):
	def __init__(self, order: dict):
		self.order = order
		self.payment: dict = {}
		self.sku_by_item: dict[str, str] = {}  # line item id -> SKU, for the returns
		self.packages = Packages()
		self.vouchers = Fees()

	def head(self) -> OrderHead:
		order_id = tiktok_order_id(self.order)
		if not order_id:
			raise InvalidOrder("TikTok order has no id")
		self.payment = as_object(self.order.get("payment"), f"TikTok order {order_id}: payment")
		currency = parse_currency(self.payment.get("currency"), f"TikTok order {order_id}: payment.currency")
		if not isinstance(self.order.get("line_items"), list):
			raise InvalidOrder(f"TikTok order {order_id}: line_items must be a list")
		return OrderHead(order_id, currency, f"TikTok order {order_id}")

	def lines(self, head: OrderHead) -> list[OrderLine]:
		units = UnitLines()
		for index, item in enumerate(self.order["line_items"], 1):
			if not isinstance(item, dict):
				raise InvalidOrder(f"{head.where}: line item {index} must be an object")
			unit = head.within(f"line item {index}")
			sku = text(item, "seller_sku", None) or text(item, "sku_id", None)
			price, seller, platform = _unit_amounts(item, unit)
			units.add(
				sku,
				price,
				seller,
				platform,
				text(item, "id"),
				listing_id=text(item, "sku_id"),
				title=join_text(text(item, "product_name"), text(item, "sku_name"), sep=" - "),
			)
			if text(item, "id"):
				self.sku_by_item[text(item, "id")] = sku
			if text(item, "package_id"):
				self.packages.add(
					text(item, "package_id"),
					sku,
					text(item, "tracking_number") or text(self.order, "tracking_number"),
					text(item, "shipping_provider_name") or text(self.order, "shipping_provider"),
				)
		lines = units.lines()
		# Whatever payment-level discount is not spread over the line items is an order voucher.
		line_seller = sum((line.seller_discount for line in lines), Decimal(0))
		line_platform = sum((line.platform_discount for line in lines), Decimal(0))
		self.vouchers = Fees(
			seller_voucher=max(head.money(self.payment.get("seller_discount"), "payment.seller_discount") - line_seller, Decimal(0)),
			platform_voucher=max(
				head.money(self.payment.get("platform_discount"), "payment.platform_discount") - line_platform, Decimal(0)
			),
		)
		return lines

	def address(self, head: OrderHead) -> Address | None:
		return _address(self.order.get("recipient_address"))

	def buyer(self, head: OrderHead, address: Address | None) -> Buyer:
		return Buyer(
			name=address.full_name if address else "",
			phone=address.phone if address else None,
			email=text(self.order, "buyer_email") or None,
			platform_buyer_id=text(self.order, "user_id") or None,
		)

	def shipments(self, head: OrderHead) -> list[Shipment]:
		return self.packages.shipments()

	def status(self, head: OrderHead, lines: list[OrderLine]) -> tuple[OrderStatus, dict[str, Decimal]]:
		status = tiktok_status(self.order.get("status"))
		if status not in RETURNABLE_STATUSES or not self.order.get("oms_returns"):
			return status, {}
		qty_by_sku: dict[str, Decimal] = {}
		for line in lines:
			qty_by_sku[line.sku] = qty_by_sku.get(line.sku, Decimal(0)) + line.qty
		returned_lines = _returned_lines(self.order, self.sku_by_item, qty_by_sku)
		return (OrderStatus.RETURNED if returned_lines else status), returned_lines

	def fees(self, head: OrderHead) -> Fees:
		shipping_fee = head.money(self.payment.get("shipping_fee"), "payment.shipping_fee")
		return Fees(shipping_fee, self.vouchers.seller_voucher, self.vouchers.platform_voucher)

	def details(self, head: OrderHead) -> Details:
		return Details(
			payment_method=PaymentMethod.COD if self.order.get("is_cod") is True else PaymentMethod.PREPAID,
			created_at=parse_timestamp(self.order.get("create_time"), f"{head.where} create_time"),
			updated_at=parse_timestamp(self.order.get("update_time"), f"{head.where} update_time"),
			note=text(self.order, "buyer_message", MAX_NOTE_LENGTH),
		)

	def reconcile(self, head: OrderHead, order: ChannelOrder) -> None:
		"""payment.total_amount is the platform's total, once sub_total, shipping and total add up."""
		payment = self.payment
		self._check_shipping(head, order)
		sub_total = payment.get("sub_total")
		goods = order.items_total - order.line_discounts - order.order_discount
		if sub_total not in (None, "") and head.money(sub_total, "payment.sub_total") != goods:
			raise InvalidOrder(
				f"{head.where}: payment.sub_total {head.money(sub_total, 'payment.sub_total')} is not the {goods} the line"
				f" items less payment.seller_discount and payment.platform_discount add up to"
			)
		total = payment.get("total_amount")
		if total in (None, ""):
			raise InvalidOrder(f"{head.where}: payment.total_amount does not say what the buyer paid")
		total = head.money(total, "payment.total_amount")
		if total != order.buyer_paid:
			order.validate()  # a broken line throws the total off: let it explain itself first
			extras = ", ".join(f"{name} {payment[name]}" for name in BUYER_EXTRAS if _nonzero(payment.get(name)))
			raise InvalidOrder(
				f"{head.where}: the buyer paid {total} (payment.total_amount), not the {order.buyer_paid} that lines,"
				f" discounts and shipping fee add up to (a difference of {total - order.buyer_paid})"
				+ (f"; buyer-paid extras the order has no line for: {extras}" if extras else "")
			)
		order.platform_total = total

	def _check_shipping(self, head: OrderHead, order: ChannelOrder) -> None:
		"""payment.shipping_fee must be original_shipping_fee less the shipping discounts."""
		original = self.payment.get("original_shipping_fee")
		if original in (None, ""):
			return
		original = head.money(original, "payment.original_shipping_fee")
		discounts = sum((head.money(self.payment.get(name), f"payment.{name}") for name in SHIPPING_DISCOUNTS), Decimal(0))
		if original - discounts != order.shipping_fee:
			raise InvalidOrder(
				f"{head.where}: payment.shipping_fee {order.shipping_fee} is not original_shipping_fee {original} less"
				f" its shipping discounts {discounts} ({original - discounts})"
			)


def _nonzero(value) -> bool:
	try:
		return bool(value) and Decimal(str(value)) != 0
	except ArithmeticError:
		return True  # unreadable: worth naming
