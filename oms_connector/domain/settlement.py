"""What a marketplace settles with the seller: per order, adjustments without an order, payouts.

Every platform's finance data is mapped into these types by its connector; the ERPNext layer
books them. The accounting model (README, "Money"):

- the Sales Invoice is the seller's sale: its price after its own discounts, plus the shipping
  the buyer paid; a platform-funded discount or voucher is money the platform pays the seller;
- the marketplace owes the whole invoice, through the channel's clearing account;
- a settlement takes each charge (commission, service, transaction, shipping, withheld taxes…)
  out of the clearing account into its own account, leaving what the platform pays out;
- a payout moves that money from the clearing account to the bank.

Amounts are Decimal in the settlement currency. A charge is positive when the platform keeps
it from the seller and negative when the platform pays it to the seller (a compensation, a
shipping rebate larger than the shipping cost).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum


class ChargeKind(str, Enum):
	"""What a platform keeps from (or adds to) a sale; each kind books to its own account."""

	COMMISSION = "Commission"  # the platform's fixed / category commission
	SERVICE = "Service Fee"  # service programmes: free shipping, voucher extra, coins…
	TRANSACTION = "Transaction Fee"  # payment processing
	SHIPPING = "Shipping"  # what the seller bears of the carrier's fee, net of rebates
	MARKETING = "Marketing"  # affiliate commissions, campaign and promotion charges
	WITHHELD_VAT = "Withheld VAT"  # VAT the platform withholds (VN household / individual sellers)
	WITHHELD_PIT = "Withheld PIT"  # personal income tax the platform withholds
	WITHHELD_TAX = "Withheld Tax"  # other taxes withheld, where the platform does not split them
	REFUND = "Refund"  # money given back to the buyer out of the sale
	ADVERTISING = "Advertising"  # ads top-ups taken from the seller's balance
	PENALTY = "Penalty"  # fines for late shipment, cancellations, listing violations
	COMPENSATION = "Compensation"  # the platform pays for lost or damaged goods (negative)
	OTHER = "Other"  # anything the platform names that fits none of the above


ORDER_CHARGES = (
	ChargeKind.COMMISSION,
	ChargeKind.SERVICE,
	ChargeKind.TRANSACTION,
	ChargeKind.SHIPPING,
	ChargeKind.MARKETING,
	ChargeKind.WITHHELD_VAT,
	ChargeKind.WITHHELD_PIT,
	ChargeKind.WITHHELD_TAX,
	ChargeKind.REFUND,
	ChargeKind.OTHER,
)


class SettlementError(ValueError):
	"""A platform's settlement does not add up; the message says where."""


@dataclass
class Charge:
	kind: ChargeKind
	amount: Decimal
	label: str = ""  # the platform's own name for it, shown to the accountant


@dataclass
class OrderSettlement:
	"""One order's settlement as the platform states it now (Shopee's escrow is an estimate
	until the order completes: `final` says which)."""

	order_id: str
	revenue: Decimal  # the sale as the platform counts it: buyer paid + platform subsidies
	charges: list[Charge]
	payout: Decimal  # what the platform releases to the seller's balance for this order
	currency: str = "VND"
	final: bool = True
	settled_on: date | None = None
	payout_id: str = ""  # the payout / statement that carries it, when the platform says
	reference: str = ""  # the platform's id of this settlement (statement id, escrow release…)
	raw: dict = field(default_factory=dict)  # the platform's own data, kept with the booking
	# why the platform's figures could not be read as a settlement: booked as an Error to review,
	# so one bad order never holds up the rest of a period
	problem: str = ""
	# True: the platform's figures for the whole order (Shopee's escrow, a read of every row of
	# the order); False: one statement's part of it (Lazada's and TikTok's period reads), whose
	# `reference` lists the statements or transactions it holds, joined by "+"
	whole_order: bool = True

	@classmethod
	def unreadable(cls, order_id: str, payout: Decimal, problem: str, **values) -> "OrderSettlement":
		return cls(order_id=order_id, revenue=payout, charges=[], payout=payout, problem=problem, **values)

	@property
	def charges_total(self) -> Decimal:
		return sum((charge.amount for charge in self.charges), Decimal(0))

	def by_kind(self) -> dict[ChargeKind, Decimal]:
		"""Charges summed per kind, zero kinds left out."""
		totals: dict[ChargeKind, Decimal] = {}
		for charge in self.charges:
			totals[charge.kind] = totals.get(charge.kind, Decimal(0)) + charge.amount
		return {kind: amount for kind, amount in totals.items() if amount}

	def check(self) -> None:
		"""The platform's own arithmetic: revenue less charges is the payout."""
		if self.problem:
			raise SettlementError(self.problem)
		if not str(self.order_id or "").strip():
			raise SettlementError("settlement has no order id")
		difference = self.revenue - self.charges_total - self.payout
		if difference:
			raise SettlementError(
				f"order {self.order_id}: revenue {self.revenue} less charges {self.charges_total} "
				f"is not the payout {self.payout} (off by {difference})"
			)

	def fingerprint(self) -> str:
		"""Changes whenever a figure the books depend on changes, so a re-fetch books nothing
		and an adjusted settlement is corrected."""
		figures = {
			"revenue": str(self.revenue),
			"payout": str(self.payout),
			"charges": sorted(f"{kind.value}={amount}" for kind, amount in self.by_kind().items()),
		}
		return hashlib.sha256(json.dumps(figures, sort_keys=True).encode()).hexdigest()[:20]


@dataclass
class Adjustment:
	"""Money the platform moved that belongs to no order it told us about: ads, penalties,
	compensation, corrections. `amount` is signed like a charge (positive: taken)."""

	adjustment_id: str
	kind: ChargeKind
	amount: Decimal
	label: str = ""
	posted_on: date | None = None
	order_id: str = ""  # some adjustments name an order (a compensation for a lost parcel)
	currency: str = "VND"
	payout_id: str = ""
	raw: dict = field(default_factory=dict)


@dataclass
class Payout:
	"""Money the platform sent to the seller's bank account."""

	payout_id: str
	amount: Decimal  # what reached the bank
	paid_on: date | None
	currency: str = "VND"
	paid: bool = True  # False while the platform still processes it
	fee: Decimal = Decimal(0)  # a withdrawal fee the platform took on the way
	bank_reference: str = ""
	order_ids: list[str] = field(default_factory=list)  # orders it carries, when the platform says
	settlement_references: list[str] = field(default_factory=list)  # statements it carries
	raw: dict = field(default_factory=dict)


@dataclass
class FinancePeriod:
	"""Everything a platform's finance API says about a period."""

	settlements: list[OrderSettlement] = field(default_factory=list)
	adjustments: list[Adjustment] = field(default_factory=list)
	payouts: list[Payout] = field(default_factory=list)


@dataclass(frozen=True)
class Booking:
	"""How one order's settlement goes to the ledgers, given what ERPNext already holds for the
	order: its invoices net of credit notes (`invoiced`) and refunds paid out (`refunded`)."""

	charges: dict[ChargeKind, Decimal]  # booked out of the clearing account, per kind
	difference: Decimal  # what the platform's figures leave unexplained (positive: paid less)

	@property
	def total(self) -> Decimal:
		return sum(self.charges.values(), Decimal(0)) + self.difference


def plan_booking(settlement: OrderSettlement, invoiced: Decimal, refunded: Decimal) -> Booking:
	"""The charges to take out of the clearing account so that what stays there for the order
	equals the payout. Refunds the books already hold (credit note + refund entry) are not taken
	twice: the platform's refund charge counts only beyond them. Whatever remains between the
	books and the platform's payout is the `difference`, for the accountant to review."""
	charges = settlement.by_kind()
	platform_refund = charges.pop(ChargeKind.REFUND, Decimal(0))
	if platform_refund > refunded:
		charges[ChargeKind.REFUND] = platform_refund - refunded
	in_clearing = invoiced - refunded
	difference = in_clearing - sum(charges.values(), Decimal(0)) - settlement.payout
	return Booking(charges=charges, difference=difference)


def combine_parts(parts: list[OrderSettlement], incoming: OrderSettlement) -> list[OrderSettlement]:
	"""The parts an order's settlement is made of once `incoming` arrives. A whole-order read
	replaces every part; a part read again (same references) replaces itself, one already held
	inside a larger part is dropped, one holding earlier parts supersedes them; new ones add up."""
	if incoming.whole_order:
		return [incoming]
	mine = _references(incoming)
	kept = []
	for part in parts:
		theirs = _references(part)
		if mine < theirs:
			return parts  # already counted in a larger read
		if not theirs <= mine:
			kept.append(part)
	return [*kept, incoming]


def merge_parts(parts: list[OrderSettlement]) -> OrderSettlement:
	"""One order's settlement from its parts: figures added up, final once every part is."""
	if len(parts) == 1:
		return parts[0]
	last = max(parts, key=lambda part: part.settled_on or date.min)
	return OrderSettlement(
		order_id=parts[0].order_id,
		revenue=sum((part.revenue for part in parts), Decimal(0)),
		charges=[charge for part in parts for charge in part.charges],
		payout=sum((part.payout for part in parts), Decimal(0)),
		currency=parts[0].currency,
		final=all(part.final for part in parts),
		settled_on=last.settled_on,
		payout_id=last.payout_id,
		reference="+".join(part.reference for part in parts if part.reference),
		problem="; ".join(part.problem for part in parts if part.problem),
		whole_order=False,
	)


def _references(settlement: OrderSettlement) -> frozenset[str]:
	return frozenset(filter(None, settlement.reference.split("+"))) or frozenset({""})
