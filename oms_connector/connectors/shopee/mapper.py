"""Shopee order payloads -> the normalized ChannelOrder.

Only `order_from_shopee` is meant to be called from outside; `STATUS_MAP` is public so the
intake can map a push message's status word the same way the mapper does.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

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
	to_money,
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


def order_from_shopee(detail: dict, escrow: dict | None = None) -> ChannelOrder:
	"""Map one order object of v2.order.get_order_detail (optionally with its escrow) to a ChannelOrder.

	`detail` must have been fetched with response_optional_fields covering at least item_list,
	recipient_address, buyer_username, buyer_user_id, payment_method and package_list (the
	connector's get_order_details asks for them). Raises InvalidOrder naming what is wrong.

	What get_order_detail tells and what it does not:
	- Lines: SKU is model_sku, or item_sku for items without variations; unit_price is
	  model_original_price; the gap to model_discounted_price (a product promotion or flash sale)
	  becomes the line's seller_discount. The detail cannot say who funds that gap (a Shopee-funded
	  flash sale looks the same), and for bundle deals Shopee reports a discounted price of 0 by
	  design, so such lines carry no discount at all here.
	- Order level: seller vouchers, Shopee vouchers, coins and the shipping fee the buyer paid are
	  NOT in the detail. estimated_shipping_fee / actual_shipping_fee are what the carrier
	  charges, not what the buyer paid, so they are not used as shipping_fee. total_amount is net
	  of all of them, so without escrow the mapper leaves shipping_fee and both vouchers at 0 and
	  platform_total unset (it could not reconcile), rather than guessing an attribution.
	- Pass `escrow` (the v2.payment.get_escrow_detail answer, whole or its "response") to fill
	  them exactly: each line's Shopee-funded part becomes platform_discount, the checkout snapshot
	  (buyer_payment_info) gives seller_voucher, platform_voucher (Shopee voucher + coins + card
	  promotion) and shipping_fee, and buyer_total_amount becomes platform_total when the figures
	  reconcile (buyer-side extras such as insurance premiums would break that; then it stays unset).

	Other choices: phones come masked ('******89'); the buyer keeps the masked value (the domain's
	identity logic ignores masks) but the shipping address gets None. Shopee VN splits an address
	as state = province, city = district (Huyện/Quận), district = ward (Xã/Phường), town = hamlet,
	so that is how they land in Address. listing_id is the Shopee item_id and external_line_id is
	"item_id:model_id" (model_id 0 for items without variations). Packages become Shipments
	without tracking numbers (get_tracking_number or the tracking push supplies those).
	"""
	order_sn = shopee_order_id(detail)
	currency = parse_currency(detail.get("currency"), f"order {order_sn or '?'} currency")
	status_word = parse_text(detail.get("order_status")).upper()
	if status_word not in STATUS_MAP:
		raise InvalidOrder(f"order {order_sn or '?'}: unknown Shopee order_status {show(detail.get('order_status'))}")

	items = detail.get("item_list")
	if not isinstance(items, list):
		raise InvalidOrder(f"order {order_sn or '?'}: item_list is missing (ask for it in response_optional_fields)")

	income, payment_info = _escrow_parts(escrow)
	escrow_items = defaultdict(list)
	for index, row in enumerate(as_list(income.get("items"), "escrow order_income.items"), 1):
		if not isinstance(row, dict):
			raise InvalidOrder(f"order {order_sn}: escrow item {index} must be an object")
		escrow_items[(_int(row.get("item_id")), _int(row.get("model_id")))].append(row)

	lines: list[OrderLine] = []
	sku_by_listing: dict[tuple[int, int], str] = {}
	for index, item in enumerate(items, 1):
		if not isinstance(item, dict):
			raise InvalidOrder(f"order {order_sn}: item {index} must be an object")
		where = f"order {order_sn} item {index}"
		item_id, model_id = _int(item.get("item_id")), _int(item.get("model_id"))
		sku = parse_text(item.get("model_sku"), None) or parse_text(item.get("item_sku"), None)
		qty = parse_qty(item.get("model_quantity_purchased", 0), where)
		unit_price = to_money(item.get("model_original_price"), currency, f"{where} model_original_price")
		discounted = item.get("model_discounted_price")
		discounted_price = (
			unit_price if discounted in (None, "") else to_money(discounted, currency, f"{where} model_discounted_price")
		)
		if discounted_price == 0 and item.get("promotion_type") == "bundle_deal":
			discounted_price = unit_price  # Shopee does not break bundle discounts down to items
		seller_discount = (unit_price - discounted_price) * qty
		platform_discount = Decimal(0)

		rows = escrow_items.get((item_id, model_id))
		if rows:
			# Escrow prices are line subtotals and split the discount by who funds it.
			row = rows.pop(0)
			total_discount = to_money(row.get("original_price"), currency, f"{where} escrow original_price") - to_money(
				row.get("discounted_price"), currency, f"{where} escrow discounted_price"
			)
			platform_discount = to_money(row.get("shopee_discount"), currency, f"{where} escrow shopee_discount")
			seller_discount = total_discount - platform_discount

		lines.append(
			OrderLine(
				sku=sku,
				qty=qty,
				unit_price=unit_price,
				seller_discount=seller_discount,
				platform_discount=platform_discount,
				external_line_id=f"{item_id}:{model_id}",
				listing_id=str(item_id) if item_id else "",
				title=parse_text(
					" - ".join(part for part in (parse_text(item.get("item_name")), parse_text(item.get("model_name"))) if part)
				),
				weight_kg=parse_qty(item.get("weight") or 0, f"{where} weight"),
			)
		)
		sku_by_listing.setdefault((item_id, model_id), sku)

	address_data = detail.get("recipient_address")
	address = None
	if isinstance(address_data, dict) and address_data:
		region = (_text(address_data, "region") or _text(detail, "region")).upper()
		phone = _text(address_data, "phone")
		address = Address(
			full_name=_text(address_data, "name"),
			phone=None if not phone or is_masked(phone) else phone,
			line1=_text(address_data, "full_address"),
			ward=_text(address_data, "district") or _text(address_data, "town"),
			district=_text(address_data, "city"),
			province=_text(address_data, "state"),
			country=_COUNTRIES.get(region, region or "Vietnam"),
			postal_code=_text(address_data, "zipcode"),
		)
		geo = address_data.get("geolocation") or {}
		if isinstance(geo, dict) and geo.get("latitude") not in (None, ""):
			address.latitude = parse_coordinate(geo.get("latitude"), f"order {order_sn} geolocation.latitude", 90.0)
			address.longitude = parse_coordinate(geo.get("longitude"), f"order {order_sn} geolocation.longitude", 180.0)

	recipient = address_data if isinstance(address_data, dict) else {}
	recipient_name = _text(recipient, "name")
	buyer = Buyer(
		name=recipient_name if recipient_name and not is_masked(recipient_name) else _text(detail, "buyer_username"),
		phone=_text(recipient, "phone") or None,
		platform_buyer_id=_text(detail, "buyer_user_id") if detail.get("buyer_user_id") else None,
	)

	shipments = []
	for index, package in enumerate(as_list(detail.get("package_list"), f"order {order_sn} package_list"), 1):
		if not isinstance(package, dict):
			raise InvalidOrder(f"order {order_sn}: package {index} must be an object")
		where = f"order {order_sn} package {_text(package, 'package_number') or index}"
		shipped: dict[str, Decimal] = {}
		for row in as_list(package.get("item_list"), f"{where} item_list"):
			if not isinstance(row, dict):
				raise InvalidOrder(f"{where}: item_list entries must be objects")
			key = (_int(row.get("item_id")), _int(row.get("model_id")))
			sku = sku_by_listing.get(key)
			if sku:
				shipped[sku] = shipped.get(sku, Decimal(0)) + parse_qty(row.get("model_quantity", 0), where)
		shipments.append(
			Shipment(
				package_id=_text(package, "package_number"),
				tracking_number=_text(package, "tracking_number"),
				carrier=_text(package, "shipping_carrier") or _text(detail, "shipping_carrier"),
				lines=shipped,
			)
		)

	cod = detail.get("cod")
	if cod is None:
		cod = _text(detail, "payment_method").lower() in ("cash on delivery", "cod")
	order = ChannelOrder(
		external_order_id=order_sn,
		status=STATUS_MAP[status_word],
		lines=lines,
		currency=currency,
		buyer=buyer,
		shipping_address=address,
		payment_method=PaymentMethod.COD if cod else PaymentMethod.PREPAID,
		created_at=parse_timestamp(detail.get("create_time"), f"order {order_sn} create_time"),
		updated_at=parse_timestamp(detail.get("update_time"), f"order {order_sn} update_time"),
		shipments=shipments,
		note=parse_text(detail.get("message_to_seller"), MAX_NOTE_LENGTH),
	)

	if income or payment_info:
		def escrow_money(key: str, income_key: str) -> Decimal:
			return _abs_money(payment_info.get(key, income.get(income_key)), currency, f"order {order_sn} escrow {key}")

		order.shipping_fee = escrow_money("shipping_fee", "buyer_paid_shipping_fee")
		order.seller_voucher = escrow_money("seller_voucher", "voucher_from_seller")
		order.platform_voucher = (
			escrow_money("shopee_voucher", "voucher_from_shopee")
			+ escrow_money("shopee_coins_redeemed", "coins")
			+ escrow_money("credit_card_promotion", "credit_card_promotion")
		)
		total = payment_info.get("buyer_total_amount", income.get("buyer_total_amount"))
		total = None if total in (None, "") else to_money(total, currency, f"order {order_sn} escrow buyer_total_amount")
		if total is not None and total == order.buyer_paid:
			order.platform_total = total

	order.validate()
	return order


def shopee_order_id(detail) -> str:
	"""The order_sn the mapper reads ("" when absent); InvalidOrder when it cannot be an id."""
	if not isinstance(detail, dict):
		raise InvalidOrder("Shopee order detail must be an object")
	return parse_order_id(detail.get("order_sn"), "Shopee order_sn")


def _escrow_parts(escrow: dict | None) -> tuple[dict, dict]:
	if not escrow:
		return {}, {}
	if not isinstance(escrow, dict):
		raise InvalidOrder("Shopee escrow detail must be an object")
	body = escrow.get("response") if isinstance(escrow.get("response"), dict) else escrow
	return (
		as_object(body.get("order_income"), "Shopee escrow order_income"),
		as_object(body.get("buyer_payment_info"), "Shopee escrow buyer_payment_info"),
	)


def _abs_money(value, currency: str, where: str) -> Decimal:
	# The checkout snapshot reports offsets as negatives (shopee_voucher: -5260); order_income as positives.
	return abs(to_money(value, currency, where))


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


def _text(data: dict, key: str) -> str:
	return parse_text(data.get(key))
