"""The skeleton every marketplace order mapper fills in, and the parts they share.

A platform's order payload becomes a ChannelOrder in the same steps on every marketplace;
`build_order` runs them, in this order, on a `MarketplaceOrder` the platform subclasses:

1. head       the order id, currency, a "where" for messages, the status when the payload says
              it outright (otherwise step 6 decides it);
2. lines      the order lines with their discounts;
3. address    the shipping address, then the buyer (who is often read from the address);
4. shipments  the packages;
5. status     the status and the returned lines, which may depend on the lines;
6. fees       the shipping fee and order vouchers that do not need the finished order;
7. details    payment method, order times, the buyer's note;
8. reconcile  what needs the finished order: amounts set after the fact, the platform's total.

The steps run in the order the mappers always read their payloads, so the first problem in a
payload is the one reported. Every value is read through domain.normalize's readers, so a
step raises InvalidOrder or nothing. Pure Python, no frappe.
"""

from __future__ import annotations

import abc
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..domain.limits import MAX_TEXT_LENGTH
from ..domain.normalize import parse_text
from ..domain.order import (
	Address,
	Buyer,
	ChannelOrder,
	OrderLine,
	OrderStatus,
	PaymentMethod,
	Shipment,
	is_masked,
	to_money,
)


@dataclass
class OrderHead:
	order_id: str
	currency: str
	where: str  # how error messages name this order
	status: OrderStatus | None = None

	def within(self, part: str) -> OrderHead:
		"""The same order, its messages naming `part` of it ("item 2")."""
		return OrderHead(self.order_id, self.currency, f"{self.where} {part}", self.status)

	def money(self, value, name: str) -> Decimal:
		"""A money value of this order; InvalidOrder names `name` within `where`."""
		return to_money(value, self.currency, f"{self.where} {name}")


@dataclass
class Fees:
	shipping_fee: Decimal = Decimal(0)
	seller_voucher: Decimal = Decimal(0)
	platform_voucher: Decimal = Decimal(0)


@dataclass
class Details:
	payment_method: PaymentMethod = PaymentMethod.PREPAID
	created_at: datetime | None = None
	updated_at: datetime | None = None
	note: str = ""


class MarketplaceOrder(abc.ABC):
	"""One payload being mapped: build_order calls these steps in turn (see the module doc)."""

	@abc.abstractmethod
	def head(self) -> OrderHead: ...

	@abc.abstractmethod
	def lines(self, head: OrderHead) -> list[OrderLine]: ...

	def address(self, head: OrderHead) -> Address | None:
		return None

	def buyer(self, head: OrderHead, address: Address | None) -> Buyer:
		return Buyer()

	def shipments(self, head: OrderHead) -> list[Shipment]:
		return []

	def status(self, head: OrderHead, lines: list[OrderLine]) -> tuple[OrderStatus, dict[str, Decimal]]:
		"""The order's status and its returned lines (SKU -> qty; empty: none, or all if RETURNED)."""
		return head.status, {}

	def fees(self, head: OrderHead) -> Fees:
		return Fees()

	def details(self, head: OrderHead) -> Details:
		return Details()

	def reconcile(self, head: OrderHead, order: ChannelOrder) -> None:
		"""Fill in what needs the finished order (e.g. a platform total that must add up)."""


def build_order(source: MarketplaceOrder) -> ChannelOrder:
	"""Run the steps of `source` and assemble the validated ChannelOrder."""
	head = source.head()
	lines = source.lines(head)
	address = source.address(head)
	buyer = source.buyer(head, address)
	shipments = source.shipments(head)
	status, returned_lines = source.status(head, lines)
	fees = source.fees(head)
	details = source.details(head)
	order = ChannelOrder(
		external_order_id=head.order_id,
		status=status,
		lines=lines,
		currency=head.currency,
		buyer=buyer,
		shipping_address=address,
		shipping_fee=fees.shipping_fee,
		seller_voucher=fees.seller_voucher,
		platform_voucher=fees.platform_voucher,
		payment_method=details.payment_method,
		created_at=details.created_at,
		updated_at=details.updated_at,
		shipments=shipments,
		returned_lines=returned_lines,
		note=details.note,
	)
	source.reconcile(head, order)
	order.validate()
	return order


# --- shared parts -------------------------------------------------------------------------------
def text(data: dict, key: str, limit: int | None = MAX_TEXT_LENGTH) -> str:
	"""data[key] as bounded text ("" when absent or not text); see domain.normalize.parse_text."""
	return parse_text(data.get(key), limit)


def first_text(data: dict, *keys: str) -> str:
	"""The first of data's `keys` that holds text."""
	for key in keys:
		value = text(data, key)
		if value:
			return value
	return ""


def join_text(*parts: str, sep: str = " ") -> str:
	"""The non-empty parts joined, cut to what a text field holds (each part fits; together they may not)."""
	return parse_text(sep.join(part for part in parts if part))


def unmasked(phone: str) -> str | None:
	"""A phone number for the address, None when empty or masked ('******89')."""
	return None if not phone or is_masked(phone) else phone


@dataclass
class UnitLines:
	"""Platforms that list one item per unit sold: units of one SKU at one price become one line.

	The line's qty counts the units, its discounts add up theirs, external_line_id lists their
	ids; listing_id and title are the first unit's.
	"""

	_by_key: OrderedDict = field(default_factory=OrderedDict)

	def add(self, sku: str, unit_price: Decimal, seller: Decimal, platform: Decimal, unit_id: str, **first) -> OrderLine:
		line = self._by_key.get((sku, unit_price))
		if line is None:
			line = self._by_key[(sku, unit_price)] = OrderLine(sku=sku, qty=Decimal(0), unit_price=unit_price, **first)
		line.qty += 1
		line.seller_discount += seller
		line.platform_discount += platform
		line.external_line_id = ",".join(x for x in (line.external_line_id, unit_id) if x)
		return line

	def lines(self) -> list[OrderLine]:
		return list(self._by_key.values())


@dataclass
class Packages:
	"""Shipments collected unit by unit from items that name their package."""

	_by_id: OrderedDict = field(default_factory=OrderedDict)

	def add(self, package_id: str, sku: str, tracking_number: str = "", carrier: str = "") -> Shipment:
		"""One unit of `sku` in the package; its tracking number and carrier are the first unit's."""
		shipment = self._by_id.setdefault(
			package_id, Shipment(package_id=package_id, tracking_number=tracking_number, carrier=carrier)
		)
		shipment.lines[sku] = shipment.lines.get(sku, Decimal(0)) + 1
		return shipment

	def shipments(self) -> list[Shipment]:
		return list(self._by_id.values())
