"""Shopee order payloads -> the normalized ChannelOrder.

A stored Shopee payload is one order as the connector reads it, `shopee_payload(detail, escrow)`:
{"order": its v2.order.get_order_detail object, "escrow": its v2.payment.get_escrow_detail
"response"}, with "escrow_error" instead when Shopee would not give the escrow. Payloads stored
before escrows were read are a bare detail; `order_from_payload` reads both. `STATUS_MAP` is
public so the intake can map a push message's status word the same way the mapper does.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import NoReturn

from ...domain.limits import MAX_NOTE_LENGTH, MAX_NUMBER_TEXT, show
from ...domain.normalize import (
	as_list,
	as_object,
	parse_coordinate,
	parse_currency,
	parse_order_id,
	parse_qty,
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
	is_masked,
)
from ..mapping import (
	Details,
	MarketplaceOrder,
	OrderHead,
	build_order,
	first_text,
	join_text,
	text,
	unmasked,
)

# Shopee's order_status words (Data Definition "OrderStatus") onto the domain lifecycle.
STATUS_MAP: dict[str, OrderStatus] = {
	"UNPAID": OrderStatus.UNPAID,
	# Only returned with request_order_status_pending=true: Shopee is still checking the order.
	"PENDING": OrderStatus.UNPAID,
	"READY_TO_SHIP": OrderStatus.CONFIRMED,
	# Shipment arranged and a tracking number issued, but the parcel has not left yet.
	"PROCESSED": OrderStatus.CONFIRMED,
	# The carrier's pickup failed: the parcel is still with the seller.
	"RETRY_SHIP": OrderStatus.CONFIRMED,
	# Waiting for the seller's invoice before it may ship (BR).
	"INVOICE_PENDING": OrderStatus.CONFIRMED,
	# A cancellation is only *requested*: the seller may still reject it and ship. The domain
	# treats CANCELLED as final, so mapping this to CANCELLED would cancel the Sales Order of an
	# order that may go on; it stays CONFIRMED and the final CANCELLED arrives if granted.
	"IN_CANCEL": OrderStatus.CONFIRMED,
	"SHIPPED": OrderStatus.SHIPPED,
	# "The order has been received by buyer" and waits for the buyer's confirmation.
	"TO_CONFIRM_RECEIVE": OrderStatus.DELIVERED,
	"COMPLETED": OrderStatus.COMPLETED,
	"CANCELLED": OrderStatus.CANCELLED,
	"TO_RETURN": OrderStatus.RETURNED,
}

# The stored payload's keys (see the module doc).
ORDER_KEY = "order"
ESCROW_KEY = "escrow"
ESCROW_ERROR_KEY = "escrow_error"
NO_ESCROW_READ = "it was not read with this order"
# What a buyer may pay on top of goods and shipping, which the order has no line for (each read
# from the checkout snapshot, else from order_income); named when a total does not add up.
BUYER_FEES = (
	"buyer_service_fee",
	"buyer_transaction_fee",
	"insurance_premium",
	"buyer_tax_amount",
	"buyer_paid_packaging_fee",
	"bulky_handling_fee",
	"cross_border_tax",
)

_COUNTRIES = {
	"VN": "Vietnam",
	"SG": "Singapore",
	"MY": "Malaysia",
	"TH": "Thailand",
	"PH": "Philippines",
	"ID": "Indonesia",
	"TW": "Taiwan",
	"BR": "Brazil",
}


def shopee_payload(detail: dict, escrow: dict | None, escrow_error: str = "") -> dict:
	"""The payload to store for one order: its detail with its escrow, or with why there is none."""
	if escrow is not None:
		return {ORDER_KEY: detail, ESCROW_KEY: escrow}
	return {ORDER_KEY: detail, ESCROW_KEY: None, ESCROW_ERROR_KEY: escrow_error or "Shopee gave no escrow"}


def order_from_payload(payload) -> ChannelOrder:
	"""Map a stored Shopee payload (see the module doc) to a ChannelOrder, or raise InvalidOrder."""
	detail, escrow, no_escrow_because = _split_payload(payload)
	return build_order(_ShopeeOrder(detail, escrow, no_escrow_because))


def payload_order_id(payload) -> str:
	"""The order_sn `order_from_payload` gives the order ("" when absent); InvalidOrder when unreadable."""
	return shopee_order_id(_split_payload(payload)[0])


def order_from_shopee(detail: dict, escrow: dict | None = None) -> ChannelOrder:
	"""Map one order object of v2.order.get_order_detail, with its escrow when there is one, to a ChannelOrder.

	`detail` must have been fetched with response_optional_fields covering at least item_list,
	recipient_address, buyer_username, buyer_user_id, payment_method, total_amount and
	package_list (the connector's get_order_details asks for them). Raises InvalidOrder naming
	what is wrong.

	What the buyer paid, and how it splits, is only in the escrow (`escrow`: the
	v2.payment.get_escrow_detail answer, whole or its "response"; it must name the same order_sn):
	- Lines: SKU is model_sku, or item_sku for items without variations; unit_price is
	  model_original_price. Each escrow item splits its discount (original_price -
	  discounted_price, line subtotals) into seller_discount and the Shopee-funded
	  platform_discount (shopee_discount).
	- Order level: the checkout snapshot (buyer_payment_info, else order_income) gives
	  shipping_fee (what the buyer paid, not what the carrier charges), seller_voucher, and
	  platform_voucher (Shopee voucher + coins + card promotion). buyer_total_amount becomes
	  platform_total and must equal lines - discounts - vouchers + shipping: a buyer-paid fee the
	  order has no line for (a service fee, insurance) is refused naming it, never booked at a
	  total the buyer did not pay. A COD order's total must also be the detail's total_amount,
	  what the carrier collects.
	- The escrow's figures are estimates until the order completes: the connector reads it again
	  with every fetch, so a changed escrow is a new payload.
	Without an escrow the detail alone cannot split total_amount into shipping fee and vouchers:
	the gap between model_original_price and model_discounted_price becomes the line's
	seller_discount (bundle deals, which Shopee prices at 0 by design, get none), and the order
	maps only when total_amount is exactly what those lines add up to; otherwise it is refused.

	Other choices: phones come masked ('******89'); the buyer keeps the masked value (the domain's
	identity logic ignores masks) but the shipping address gets None. Shopee VN splits an address
	as state = province, city = district (Huyện/Quận), district = ward (Xã/Phường), town = hamlet,
	so that is how they land in Address. listing_id is the Shopee item_id and external_line_id is
	"item_id:model_id" (model_id 0 for items without variations). Packages become Shipments
	without tracking numbers (get_tracking_number or the tracking push supplies those).
	"""
	return build_order(_ShopeeOrder(detail, escrow, NO_ESCROW_READ))


def shopee_order_id(detail) -> str:
	"""The order_sn the mapper reads ("" when absent); InvalidOrder when it cannot be an id."""
	if not isinstance(detail, dict):
		raise InvalidOrder("Shopee order detail must be an object")
	return parse_order_id(detail.get("order_sn"), "Shopee order_sn")


def _split_payload(payload) -> tuple[dict, dict | None, str]:
	"""(detail, escrow or None, why there is no escrow) of a stored payload."""
	if not isinstance(payload, dict):
		raise InvalidOrder("Shopee payload must be an object")
	if ORDER_KEY not in payload:
		return payload, None, NO_ESCROW_READ  # a bare detail, stored before escrows were read
	detail = payload[ORDER_KEY]
	if not isinstance(detail, dict):
		raise InvalidOrder(f"Shopee payload {ORDER_KEY!r} must be an object")
	reason = parse_text(payload.get(ESCROW_ERROR_KEY), MAX_NOTE_LENGTH)
	return detail, payload.get(ESCROW_KEY), (f"Shopee did not give it: {reason}" if reason else NO_ESCROW_READ)


class _ShopeeOrder(MarketplaceOrder):
	def __init__(self, detail: dict, escrow: dict | None, no_escrow_because: str):
		self.detail, self.escrow, self.no_escrow_because = detail, escrow, no_escrow_because
		self.income: dict = {}
		self.payment_info: dict = {}
		self.sku_by_listing: dict[tuple[int, int], str] = {}  # what the packages name their items by

	def head(self) -> OrderHead:
		detail = self.detail
		order_sn = shopee_order_id(detail)
		currency = parse_currency(detail.get("currency"), f"order {order_sn or '?'} currency")
		status_word = text(detail, "order_status").upper()
		if status_word not in STATUS_MAP:
			raise InvalidOrder(f"order {order_sn or '?'}: unknown Shopee order_status {show(detail.get('order_status'))}")
		if not isinstance(detail.get("item_list"), list):
			raise InvalidOrder(f"order {order_sn or '?'}: item_list is missing (ask for it in response_optional_fields)")
		if self.escrow is not None:
			self.income, self.payment_info = _escrow_parts(self.escrow, order_sn)
		return OrderHead(order_sn, currency, f"order {order_sn}", STATUS_MAP[status_word])

	def lines(self, head: OrderHead) -> list[OrderLine]:
		escrow_items = defaultdict(list)
		for index, row in enumerate(as_list(self.income.get("items"), "escrow order_income.items"), 1):
			if not isinstance(row, dict):
				raise InvalidOrder(f"{head.where}: escrow item {index} must be an object")
			escrow_items[(_int(row.get("item_id")), _int(row.get("model_id")))].append(row)
		lines = []
		for index, item in enumerate(self.detail["item_list"], 1):
			if not isinstance(item, dict):
				raise InvalidOrder(f"{head.where}: item {index} must be an object")
			key = (_int(item.get("item_id")), _int(item.get("model_id")))
			line = _line(item, key, escrow_items.get(key), head.within(f"item {index}"))
			lines.append(line)
			self.sku_by_listing.setdefault(key, line.sku)
		return lines

	def address(self, head: OrderHead) -> Address | None:
		data = self.detail.get("recipient_address")
		if not isinstance(data, dict) or not data:
			return None
		region = (text(data, "region") or text(self.detail, "region")).upper()
		address = Address(
			full_name=text(data, "name"),
			phone=unmasked(text(data, "phone")),
			line1=text(data, "full_address"),
			ward=first_text(data, "district", "town"),
			district=text(data, "city"),
			province=text(data, "state"),
			country=_COUNTRIES.get(region, region or "Vietnam"),
			postal_code=text(data, "zipcode"),
		)
		geo = data.get("geolocation") or {}
		if isinstance(geo, dict) and geo.get("latitude") not in (None, ""):
			address.latitude = parse_coordinate(geo.get("latitude"), f"{head.where} geolocation.latitude", 90.0)
			address.longitude = parse_coordinate(geo.get("longitude"), f"{head.where} geolocation.longitude", 180.0)
		return address

	def buyer(self, head: OrderHead, address: Address | None) -> Buyer:
		detail = self.detail
		recipient = detail.get("recipient_address") if isinstance(detail.get("recipient_address"), dict) else {}
		name = text(recipient, "name")
		return Buyer(
			name=name if name and not is_masked(name) else text(detail, "buyer_username"),
			phone=text(recipient, "phone") or None,
			platform_buyer_id=text(detail, "buyer_user_id") if detail.get("buyer_user_id") else None,
		)

	def shipments(self, head: OrderHead) -> list[Shipment]:
		shipments = []
		for index, package in enumerate(as_list(self.detail.get("package_list"), f"{head.where} package_list"), 1):
			if not isinstance(package, dict):
				raise InvalidOrder(f"{head.where}: package {index} must be an object")
			where = f"{head.where} package {text(package, 'package_number') or index}"
			shipped: dict[str, Decimal] = {}
			for row in as_list(package.get("item_list"), f"{where} item_list"):
				if not isinstance(row, dict):
					raise InvalidOrder(f"{where}: item_list entries must be objects")
				sku = self.sku_by_listing.get((_int(row.get("item_id")), _int(row.get("model_id"))))
				if sku:
					shipped[sku] = shipped.get(sku, Decimal(0)) + parse_qty(row.get("model_quantity", 0), where)
			shipments.append(
				Shipment(
					package_id=text(package, "package_number"),
					tracking_number=text(package, "tracking_number"),
					carrier=text(package, "shipping_carrier") or text(self.detail, "shipping_carrier"),
					lines=shipped,
				)
			)
		return shipments

	def details(self, head: OrderHead) -> Details:
		detail = self.detail
		cod = detail.get("cod")
		if cod is None:
			cod = text(detail, "payment_method").lower() in ("cash on delivery", "cod")
		return Details(
			payment_method=PaymentMethod.COD if cod else PaymentMethod.PREPAID,
			created_at=parse_timestamp(detail.get("create_time"), f"{head.where} create_time"),
			updated_at=parse_timestamp(detail.get("update_time"), f"{head.where} update_time"),
			note=parse_text(detail.get("message_to_seller"), MAX_NOTE_LENGTH),
		)

	def reconcile(self, head: OrderHead, order: ChannelOrder) -> None:
		"""The amounts only the escrow knows; without one, the detail's total must be the lines'."""
		if self.escrow is None:
			self._check_detail_total(head, order)
			return
		income, payment_info = self.income, self.payment_info

		def escrow_money(key: str, income_key: str) -> Decimal:
			return _abs_money(payment_info.get(key, income.get(income_key)), head, f"escrow {key}")

		order.shipping_fee = escrow_money("shipping_fee", "buyer_paid_shipping_fee")
		order.seller_voucher = escrow_money("seller_voucher", "voucher_from_seller")
		order.platform_voucher = (
			escrow_money("shopee_voucher", "voucher_from_shopee")
			+ escrow_money("shopee_coins_redeemed", "coins")
			+ escrow_money("credit_card_promotion", "credit_card_promotion")
		)
		order.platform_total = self._escrow_total(head, order)

	def _escrow_total(self, head: OrderHead, order: ChannelOrder) -> Decimal:
		"""buyer_total_amount, once it is checked to be what the order adds up to."""
		total = self.payment_info.get("buyer_total_amount", self.income.get("buyer_total_amount"))
		if total in (None, ""):
			raise InvalidOrder(f"{head.where}: the escrow has no buyer_total_amount")
		total = head.money(total, "escrow buyer_total_amount")
		if total != order.buyer_paid:
			fees = _buyer_fees(self.payment_info, self.income, head)
			_refuse_total(
				order,
				f"{head.where}: the buyer paid {total} (escrow buyer_total_amount), not the {order.buyer_paid} that"
				f" lines, discounts, vouchers and shipping fee add up to" + (f"; buyer-paid fees: {fees}" if fees else ""),
			)
		collected = self.detail.get("total_amount")
		if order.payment_method == PaymentMethod.COD and collected not in (None, ""):
			collected = head.money(collected, "total_amount")
			if collected != total:  # a COD remittance is what the carrier collected: they must agree
				raise InvalidOrder(
					f"{head.where}: the carrier collects {collected} (total_amount) but the escrow says the buyer paid {total}"
				)
		return total

	def _check_detail_total(self, head: OrderHead, order: ChannelOrder) -> None:
		"""Without the escrow, book the order only when total_amount is what its lines add up to."""
		total = self.detail.get("total_amount")
		if total in (None, ""):
			raise InvalidOrder(
				f"{head.where}: neither the escrow detail ({self.no_escrow_because}) nor total_amount says what the buyer paid"
			)
		total = head.money(total, "total_amount")
		if total != order.buyer_paid:
			_refuse_total(
				order,
				f"{head.where}: the buyer paid {total} (total_amount), not the {order.buyer_paid} the lines add up to;"
				f" only the escrow detail splits that into shipping fee and vouchers, and {self.no_escrow_because}",
			)
		order.platform_total = total


def _line(item: dict, key: tuple[int, int], escrow_rows: list | None, head: OrderHead) -> OrderLine:
	"""One item_list entry; `head.where` names the item, `escrow_rows` are its escrow items, if any."""
	item_id, model_id = key
	sku = parse_text(item.get("model_sku"), None) or parse_text(item.get("item_sku"), None)
	qty = parse_qty(item.get("model_quantity_purchased", 0), head.where)
	unit_price = head.money(item.get("model_original_price"), "model_original_price")
	discounted = item.get("model_discounted_price")
	discounted_price = unit_price if discounted in (None, "") else head.money(discounted, "model_discounted_price")
	if discounted_price == 0 and item.get("promotion_type") == "bundle_deal":
		discounted_price = unit_price  # Shopee does not break bundle discounts down to items
	seller_discount = (unit_price - discounted_price) * qty
	platform_discount = Decimal(0)
	if escrow_rows:
		# Escrow prices are line subtotals and split the discount by who funds it.
		row = escrow_rows.pop(0)
		total_discount = head.money(row.get("original_price"), "escrow original_price") - head.money(
			row.get("discounted_price"), "escrow discounted_price"
		)
		platform_discount = head.money(row.get("shopee_discount"), "escrow shopee_discount")
		seller_discount = total_discount - platform_discount
	return OrderLine(
		sku=sku,
		qty=qty,
		unit_price=unit_price,
		seller_discount=seller_discount,
		platform_discount=platform_discount,
		external_line_id=f"{item_id}:{model_id}",
		listing_id=str(item_id) if item_id else "",
		title=join_text(text(item, "item_name"), text(item, "model_name"), sep=" - "),
		weight_kg=parse_qty(item.get("weight") or 0, f"{head.where} weight"),
	)


def _escrow_parts(escrow, order_sn: str) -> tuple[dict, dict]:
	"""(order_income, buyer_payment_info) of the escrow of order `order_sn`; InvalidOrder if it is another's."""
	if not isinstance(escrow, dict):
		raise InvalidOrder(f"order {order_sn}: Shopee escrow detail must be an object")
	body = escrow.get("response") if isinstance(escrow.get("response"), dict) else escrow
	escrow_sn = parse_order_id(body.get("order_sn"), "Shopee escrow order_sn")
	if escrow_sn != order_sn:
		raise InvalidOrder(f"order {order_sn}: the escrow detail is of order {escrow_sn or '(none named)'}, not this one")
	return (
		as_object(body.get("order_income"), "Shopee escrow order_income"),
		as_object(body.get("buyer_payment_info"), "Shopee escrow buyer_payment_info"),
	)


def _refuse_total(order: ChannelOrder, message: str) -> NoReturn:
	"""Raise InvalidOrder(message), unless a broken line (that throws the total off) explains itself first."""
	order.validate()
	raise InvalidOrder(message)


def _buyer_fees(payment_info: dict, income: dict, head: OrderHead) -> str:
	"""The non-zero BUYER_FEES of an escrow, as "name amount" text ("" when none)."""
	found = []
	for name in BUYER_FEES:
		value = payment_info.get(name, income.get(name))
		try:
			amount = head.money(value or 0, f"escrow {name}")
		except InvalidOrder:
			continue  # naming the fees only explains a refusal; an unreadable one is left out
		if amount:
			found.append(f"{name} {amount}")
	return ", ".join(found)


def _abs_money(value, head: OrderHead, name: str) -> Decimal:
	# The checkout snapshot reports offsets as negatives (shopee_voucher: -5260); order_income as positives.
	return abs(head.money(value, name))


_MAX_ID = 10**20  # Shopee item and model ids are 11-12 digits


def _int(value) -> int:
	"""A Shopee item/model id as an int; anything that is not a sane whole number is 0."""
	if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
		return 0
	if isinstance(value, Decimal) and (not value.is_finite() or value.adjusted() > 20):
		return 0
	try:
		number = int(value or 0)
	except (TypeError, ValueError, OverflowError, ArithmeticError):
		return 0
	return number if abs(number) < _MAX_ID else 0
