"""The normalized order every channel is mapped into.

Plain dataclasses, no frappe: connectors build these from platform payloads, the
ERPNext layer turns them into documents. Money is Decimal in the order currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

from .limits import (
	MAX_AMOUNT,
	MAX_INTEGER_DIGITS,
	MAX_NUMBER_TEXT,
	MAX_ORDER_ID_LENGTH,
	MAX_ORDER_LINES,
	MAX_QTY,
	MAX_SKU_LENGTH,
	show,
)

# ISO 4217 minor units for the currencies sellers here use; anything else gets 2.
CURRENCY_DECIMALS = {"VND": 0, "JPY": 0, "KRW": 0, "IDR": 0, "USD": 2, "THB": 2, "MYR": 2, "PHP": 2, "SGD": 2}


class InvalidOrder(ValueError):
	"""The payload cannot be read as an order; the message says exactly why."""


class PaymentMethod(str, Enum):
	PREPAID = "Prepaid"
	COD = "COD"


class OrderStatus(str, Enum):
	"""The channel-side lifecycle every platform status maps onto."""

	UNPAID = "Unpaid"
	CONFIRMED = "Confirmed"
	SHIPPED = "Shipped"
	DELIVERED = "Delivered"
	COMPLETED = "Completed"
	CANCELLED = "Cancelled"
	RETURNED = "Returned"


def currency_decimals(currency: str) -> int:
	return CURRENCY_DECIMALS.get((currency or "").upper(), 2)


def to_money(value, currency: str = "VND", where: str = "") -> Decimal:
	"""Parse a money value (number or string such as '120.000' or '1,234.50') and round it.

	None and "" are 0. Booleans, NaN, infinities, objects and amounts of MAX_INTEGER_DIGITS
	or more digits before the point (what ERPNext's Currency columns cannot hold) raise
	InvalidOrder, its message starting with `where` (the field) when given.
	"""
	if value is None or (isinstance(value, str) and value == ""):
		return Decimal(0)
	label = f"{where}: " if where else ""
	amount = _money_decimal(value, currency)
	if amount is None or not amount.is_finite():
		raise InvalidOrder(f"{label}not a money amount: {show(value)}")
	if not amount or amount.adjusted() < MAX_INTEGER_DIGITS:
		amount = amount.quantize(Decimal(1).scaleb(-currency_decimals(currency)), rounding=ROUND_HALF_UP)
		if abs(amount) < MAX_AMOUNT:
			return amount
	raise InvalidOrder(
		f"{label}{show(value)} is too large an amount (ERPNext holds {MAX_INTEGER_DIGITS} digits before the point)"
	)


def _money_decimal(value, currency: str) -> Decimal | None:
	"""The Decimal a money value spells, or None when it is not a number at all."""
	if isinstance(value, bool):
		return None  # true is not 1 dong
	if isinstance(value, Decimal):
		return value
	if isinstance(value, int):
		# A huge int is not converted digit by digit: any value past the limit says "too large".
		return Decimal(value) if abs(value) < MAX_AMOUNT else Decimal(MAX_AMOUNT)
	if isinstance(value, float):
		return Decimal(str(value))
	if not isinstance(value, str) or len(value) > MAX_NUMBER_TEXT:
		return None
	text = value.strip().replace(" ", "").replace("₫", "").replace("đ", "")
	text = re.sub(r"(?i)vn[dđ]$", "", text)
	decimals = currency_decimals(currency)
	if decimals == 0 and re.fullmatch(r"-?\d{1,3}([.,]\d{3})+", text):
		# '120.000' or '120,000' in a 0-decimal currency is a thousands separator.
		text = re.sub(r"[.,]", "", text)
	elif "," in text and "." in text:
		text = text.replace(",", "")
	elif "," in text:
		text = text.replace(",", ".")
	try:
		return Decimal(text)
	except (ArithmeticError, ValueError):
		return None


def is_masked(value: str | None) -> bool:
	"""Marketplaces hide buyer data as '******89' or 'n***@gmail.com'; such values identify nobody."""
	return bool(value) and "*" in value


def normalize_phone(phone: str | None) -> str | None:
	"""Vietnamese numbers to the national form 0xxxxxxxxx; masked or empty -> None."""
	if not phone or is_masked(phone):
		return None
	digits = re.sub(r"\D", "", phone)
	if digits.startswith("84") and len(digits) >= 11:
		digits = "0" + digits[2:]
	elif len(digits) == 9 and not digits.startswith("0"):
		digits = "0" + digits
	return digits if len(digits) >= 8 else None


def normalize_email(email: str | None) -> str | None:
	if not email or is_masked(email) or "@" not in email:
		return None
	return email.strip().lower()


@dataclass
class Buyer:
	name: str = ""
	phone: str | None = None
	email: str | None = None
	platform_buyer_id: str | None = None  # stable per platform even when contact data is masked

	@property
	def identity_phone(self) -> str | None:
		return normalize_phone(self.phone)

	@property
	def identity_email(self) -> str | None:
		return normalize_email(self.email)


@dataclass
class Address:
	full_name: str = ""
	phone: str | None = None
	line1: str = ""
	line2: str = ""
	ward: str = ""
	district: str = ""
	province: str = ""
	country: str = "Vietnam"
	postal_code: str = ""
	latitude: float | None = None
	longitude: float | None = None

	@property
	def is_complete(self) -> bool:
		return bool(self.line1.strip() and (self.province.strip() or self.district.strip()))


@dataclass
class OrderLine:
	sku: str
	qty: Decimal
	unit_price: Decimal
	seller_discount: Decimal = Decimal(0)  # whole line, borne by the seller
	platform_discount: Decimal = Decimal(0)  # whole line, subsidised by the platform
	external_line_id: str = ""
	listing_id: str = ""  # the platform's product/variant id
	title: str = ""
	weight_kg: Decimal = Decimal(0)
	priced_by_erp: bool = False  # no price given: ERPNext's price list and pricing rules decide

	@property
	def gross(self) -> Decimal:
		return self.qty * self.unit_price

	@property
	def net(self) -> Decimal:
		return self.gross - self.seller_discount - self.platform_discount


@dataclass
class Shipment:
	"""One package that left (or will leave) the warehouse; empty lines means the whole order."""

	package_id: str = ""
	tracking_number: str = ""
	carrier: str = ""
	lines: dict[str, Decimal] = field(default_factory=dict)  # sku -> qty


@dataclass
class ChannelOrder:
	external_order_id: str
	status: OrderStatus
	lines: list[OrderLine]
	currency: str = "VND"
	buyer: Buyer = field(default_factory=Buyer)
	shipping_address: Address | None = None
	shipping_fee: Decimal = Decimal(0)  # what the buyer was charged for shipping
	seller_voucher: Decimal = Decimal(0)  # order-level, borne by the seller
	platform_voucher: Decimal = Decimal(0)  # order-level, subsidised by the platform
	payment_method: PaymentMethod = PaymentMethod.PREPAID
	created_at: datetime | None = None
	updated_at: datetime | None = None
	pickup_store: str | None = None
	shipments: list[Shipment] = field(default_factory=list)
	returned_lines: dict[str, Decimal] = field(default_factory=dict)  # sku -> qty; empty = all
	note: str = ""
	platform_total: Decimal | None = None  # the total the platform says the buyer paid, if it says

	@property
	def items_total(self) -> Decimal:
		return sum((line.gross for line in self.lines), Decimal(0))

	@property
	def line_discounts(self) -> Decimal:
		return sum((line.seller_discount + line.platform_discount for line in self.lines), Decimal(0))

	@property
	def order_discount(self) -> Decimal:
		return self.seller_voucher + self.platform_voucher

	@property
	def buyer_paid(self) -> Decimal:
		return self.items_total - self.line_discounts - self.order_discount + self.shipping_fee

	@property
	def platform_funded(self) -> Decimal:
		"""Discounts and vouchers the platform pays for: money it owes the seller."""
		return sum((line.platform_discount for line in self.lines), Decimal(0)) + self.platform_voucher

	@property
	def seller_revenue(self) -> Decimal:
		"""The sale as the seller books it: its price after its own discounts, plus the shipping
		the buyer paid (what the buyer paid and what the platform funded)."""
		return self.buyer_paid + self.platform_funded

	def validate(self) -> None:
		"""Raise InvalidOrder naming every problem that makes this order unreadable."""
		problems = []
		order_id = str(self.external_order_id or "").strip()
		if not order_id:
			problems.append("order id is missing")
		elif len(order_id) > MAX_ORDER_ID_LENGTH:
			problems.append(f"order id is longer than {MAX_ORDER_ID_LENGTH} characters")
		if not self.lines:
			problems.append("order has no lines")
		elif len(self.lines) > MAX_ORDER_LINES:
			problems.append(f"order has {len(self.lines)} lines, more than {MAX_ORDER_LINES}")
		for index, line in enumerate(self.lines[:MAX_ORDER_LINES], 1):
			problems.extend(_line_problems(index, line))
		for index, shipment in enumerate(self.shipments, 1):
			problems.extend(_quantity_problems(f"shipment {index}", shipment.lines))
		problems.extend(_quantity_problems("returned_lines", self.returned_lines))
		for name in ("shipping_fee", "seller_voucher", "platform_voucher", "items_total", "buyer_paid"):
			if abs(getattr(self, name)) >= MAX_AMOUNT:
				problems.append(f"{name} {getattr(self, name)} is too large for ERPNext")
		if self.buyer_paid < 0:
			problems.append("discounts exceed the order value")
		if self.platform_total is not None and self.lines and self.platform_total != self.buyer_paid:
			problems.append(
				f"the platform's total {self.platform_total} differs from lines, fees and discounts ({self.buyer_paid})"
			)
		if problems:
			raise InvalidOrder(_join_problems(problems))

	def missing_data(self) -> list[str]:
		"""Reasons the order can be read but not yet fulfilled (the order is Held, not broken)."""
		reasons = []
		if not self.pickup_store and (self.shipping_address is None or not self.shipping_address.is_complete):
			reasons.append("shipping address is missing or incomplete (needs street and province)")
		return reasons


def _line_problems(index: int, line: OrderLine) -> list[str]:
	problems = []
	sku = str(line.sku or "").strip()
	if not sku:
		problems.append(f"line {index} has no SKU")
	elif len(sku) > MAX_SKU_LENGTH:
		problems.append(f"line {index} has a SKU longer than {MAX_SKU_LENGTH} characters")
		sku = show(sku)
	if line.qty <= 0:
		problems.append(f"line {index} ({sku}) has quantity {line.qty}")
	elif line.qty >= MAX_QTY:
		problems.append(f"line {index} ({sku}) has quantity {line.qty}, too large for ERPNext")
	if line.unit_price < 0:
		problems.append(f"line {index} ({sku}) has a negative price")
	if problems:
		return problems
	if abs(line.gross) >= MAX_AMOUNT or abs(line.net) >= MAX_AMOUNT:
		problems.append(f"line {index} ({sku}) amounts to {line.gross}, too large for ERPNext")
	elif line.net < 0:
		problems.append(f"line {index} ({sku}) is discounted below zero")
	return problems


def _quantity_problems(where: str, quantities: dict) -> list[str]:
	"""Shipped or returned quantities per SKU: each must be a positive number ERPNext can hold."""
	problems = []
	for sku, qty in quantities.items():
		if not str(sku or "").strip():
			problems.append(f"{where} names no SKU")
		elif not isinstance(qty, Decimal) or not qty.is_finite() or qty <= 0 or qty >= MAX_QTY:
			shown = qty if isinstance(qty, Decimal) else show(qty)
			problems.append(f"{where} has quantity {shown} of {show(sku)}: it must be more than 0")
	return problems


def _join_problems(problems: list[str], most: int = 10) -> str:
	"""At most `most` problems in one message, so an order of 1000 bad lines gives a readable error."""
	shown = "; ".join(problems[:most])
	return shown if len(problems) <= most else f"{shown}; and {len(problems) - most} more"
