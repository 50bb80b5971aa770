"""TikTok Shop Finance API 202309 answers -> the settlement types of domain/settlement.py.

Pure functions, no HTTP. What they rely on (Finance API 202309 reference, and the captured
answers kept in tests/connectors/tiktok_published/):

- Amounts are decimal strings; fees, shipping costs and deductions are NEGATIVE (TikTok reports
  what the seller receives). A Charge is the opposite sign: positive when TikTok keeps money.
- Outside the UK and US, settlement_amount = revenue_amount + fee_amount + adjustment_amount.
  UK and US local sellers: settlement_amount = net_sales_amount + shipping_cost_amount +
  fee_amount + adjustment_amount. Whichever identity holds says which figures the record uses;
  a record for which neither holds is refused.
- fee_amount holds the seller's shipping cost for SEA sellers (shipping_cost_amount, or
  shipping_fee_amount = actual_shipping_fee_amount - platform shipping discount), but the 202309
  answer does not itemize every fee in it (VN payment, Xtra and infrastructure fees, ID dynamic
  commission...): what fee_amount holds beyond the itemized fields becomes one OTHER charge.
- revenue_amount is documented as customer_payment + platform discounts + refunds + shipping
  subsidy, which carries the buyer's shipping fee; real answers (ID) leave the buyer's shipping
  out (TikTok keeps it for the carrier). Both readings are accepted, nothing else.
- The sale of a settlement is the seller's price after its OWN discounts
  (after_seller_discounts_subtotal_amount: platform-funded discounts are in it) plus the shipping
  fee the buyer paid (customer_shipping_fee_amount; UK/US: customer_paid_shipping_fee_amount),
  which is ChannelOrder.seller_revenue of the mapped order.
- Statement transactions of type ORDER are order settlements; every other type (PLATFORM_PENALTY,
  GMV_PAYMENT_FOR_ADS, LOGISTICS_REIMBURSEMENT...) is an adjustment.
- Get Payments: settlement_amount + reserve_amount = payment_amount_before_exchange; `amount` is
  what reached the bank after currency exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from ...domain.order import InvalidOrder, to_money
from ...domain.settlement import Adjustment, Charge, ChargeKind, OrderSettlement, Payout, SettlementError, merge_parts

# Fields inside fee_amount that TikTok itemizes, and where each books. The second group are the
# 202501 names of fees 202309 leaves unitemized: taken when an answer carries them flat.
FEE_FIELDS: dict[str, ChargeKind] = {
	"platform_commission_amount": ChargeKind.COMMISSION,
	"referral_fee_amount": ChargeKind.SERVICE,
	"refund_administration_fee_amount": ChargeKind.SERVICE,
	"transaction_fee_amount": ChargeKind.TRANSACTION,
	"affiliate_commission_amount": ChargeKind.MARKETING,
	"affiliate_partner_commission_amount": ChargeKind.MARKETING,
	"affiliate_ads_commission_amount": ChargeKind.MARKETING,
	"pit_amount": ChargeKind.WITHHELD_PIT,
	"iva_vat_amount": ChargeKind.WITHHELD_VAT,
	"isr_income_tax_amount": ChargeKind.WITHHELD_TAX,
	"dynamic_commission_amount": ChargeKind.COMMISSION,
	"vn_fix_infrastructure_fee": ChargeKind.SERVICE,
	"sfp_service_fee_amount": ChargeKind.SERVICE,
	"voucher_xtra_service_fee_amount": ChargeKind.SERVICE,
	"flash_sales_service_fee_amount": ChargeKind.SERVICE,
	"live_specials_fee_amount": ChargeKind.SERVICE,
	"mall_service_fee_amount": ChargeKind.SERVICE,
	"bonus_cashback_service_fee_amount": ChargeKind.SERVICE,
	"pre_order_service_fee_amount": ChargeKind.SERVICE,
	"credit_card_handling_fee_amount": ChargeKind.TRANSACTION,
	"seller_paylater_handling_fee_amount": ChargeKind.TRANSACTION,
	"local_vat_amount": ChargeKind.WITHHELD_VAT,
}
NOT_ITEMIZED = "fee_amount not itemized by TikTok"

# Statement transaction type (adjustments) -> kind; any other type is OTHER.
ADJUSTMENT_KINDS: dict[str, ChargeKind] = {
	"GMV_PAYMENT_FOR_ADS": ChargeKind.ADVERTISING,
	"PLATFORM_PENALTY": ChargeKind.PENALTY,
	"DEDUCTIONS_INCURRED_BY_SELLER": ChargeKind.PENALTY,
	"PLATFORM_COMPENSATION": ChargeKind.COMPENSATION,
	"LOGISTICS_REIMBURSEMENT": ChargeKind.COMPENSATION,
	"PLATFORM_REIMBURSEMENT": ChargeKind.COMPENSATION,
	"SHIPPING_FEE_COMPENSATION": ChargeKind.COMPENSATION,
	"PLATFORM_COMMISSION_COMPENSATION": ChargeKind.COMPENSATION,
	"SHIPPING_FEE_ADJUSTMENT": ChargeKind.SHIPPING,
	"SHIPPING_FEE_REBATE": ChargeKind.SHIPPING,
	"SAMPLE_SHIPPING_FEE": ChargeKind.SHIPPING,
	"PLATFORM_COMMISSION_ADJUSTMENT": ChargeKind.COMMISSION,
	"REBATE": ChargeKind.SERVICE,
	"FBT_WAREHOUSE_SERVICE_FEE": ChargeKind.SERVICE,
	"PROMOTION_ADJUSTMENT": ChargeKind.MARKETING,
	"CHARGE_BACK": ChargeKind.REFUND,
	"CUSTOMER_SERVICE_COMPENSATION": ChargeKind.REFUND,
}


@dataclass
class Statement:
	"""One Get Statements entry: a day's settlement and the payment that carries it."""

	statement_id: str
	statement_time: int
	currency: str
	settlement: Decimal
	payment_id: str = ""
	payment_status: str = ""
	payment_time: int = 0
	raw: dict = field(default_factory=dict)

	@property
	def settled_on(self) -> date | None:
		return utc_date(self.statement_time)


def utc_date(timestamp) -> date | None:
	"""The UTC date of a unix timestamp (statements are cut at 00:00 UTC); None when absent."""
	value = _int(timestamp)
	try:
		return datetime.fromtimestamp(value, tz=timezone.utc).date() if value > 0 else None
	except (OverflowError, OSError, ValueError):
		return None


class _Figures:
	"""Reads one record's amounts in its currency; an unreadable amount is a SettlementError."""

	def __init__(self, record: dict, currency: str, where: str):
		if not isinstance(record, dict):
			raise SettlementError(f"{where}: not an object")
		self.record, self.currency, self.where = record, currency, where

	def has(self, name: str) -> bool:
		return self.record.get(name) not in (None, "")

	def __call__(self, name: str) -> Decimal:
		try:
			return to_money(self.record.get(name), self.currency, f"{self.where} {name}")
		except InvalidOrder as exc:
			raise SettlementError(str(exc)) from None

	def required(self, name: str) -> Decimal:
		if not self.has(name):
			raise SettlementError(f"{self.where}: no {name}")
		return self(name)

	def total(self, *names: str) -> Decimal:
		return sum((self(name) for name in names), Decimal(0))


def _int(value) -> int:
	try:
		return int(value or 0)
	except (TypeError, ValueError):
		return 0


def _text(value) -> str:
	text = str(value if value is not None else "").strip()
	return "" if text == "0" else text  # TikTok writes "0" for "no such id"


def _charge(charges: list[Charge], kind: ChargeKind, amount: Decimal, label: str) -> None:
	if amount:
		charges.append(Charge(kind, amount, label))


# --- order settlements -------------------------------------------------------------------------
def transaction_settlement(
	transaction: dict, currency: str = "", order_id: str = "", statement: Statement | None = None
) -> OrderSettlement:
	"""One ORDER statement transaction (Get Statement Transactions or Get Order Statement
	Transactions 202309) as an OrderSettlement whose check() holds. SettlementError when TikTok's
	own figures do not add up or an amount is unreadable."""
	currency = str(transaction.get("currency") or currency or (statement.currency if statement else "") or "VND")
	order_id = str(transaction.get("order_id") or order_id or "").strip()
	figures = _Figures(transaction, currency, f"TikTok order {order_id or '?'} transaction {transaction.get('id', '?')}")
	payout = figures.required("settlement_amount")
	if _local_identity(figures, payout):
		revenue, charges = _sea_revenue_and_charges(figures)
	elif _uk_us_identity(figures, payout):
		revenue, charges = _uk_us_revenue_and_charges(figures)
	else:
		raise SettlementError(_identity_problem(figures, payout))
	settlement = OrderSettlement(
		order_id=order_id,
		revenue=revenue,
		charges=charges,
		payout=payout,
		currency=currency,
		final=str(transaction.get("status") or "SETTLED").upper() == "SETTLED",
		settled_on=utc_date(transaction.get("statement_time")) or (statement.settled_on if statement else None),
		payout_id=statement.payment_id if statement else "",
		reference=str(transaction.get("statement_id") or (statement.statement_id if statement else "")),
		raw=transaction,
	)
	settlement.check()
	return settlement


def _local_identity(figures: _Figures, payout: Decimal) -> bool:
	return figures.has("revenue_amount") and payout == figures.total("revenue_amount", "fee_amount", "adjustment_amount")


def _uk_us_identity(figures: _Figures, payout: Decimal) -> bool:
	return figures.has("net_sales_amount") and payout == figures.total(
		"net_sales_amount", "shipping_cost_amount", "fee_amount", "adjustment_amount"
	)


def _identity_problem(figures: _Figures, payout: Decimal) -> str:
	local = figures.total("revenue_amount", "fee_amount", "adjustment_amount")
	text = (
		f"{figures.where}: settlement_amount {payout} is not revenue_amount {figures('revenue_amount')} + fee_amount"
		f" {figures('fee_amount')} + adjustment_amount {figures('adjustment_amount')} ({local}, off by {payout - local})"
	)
	if figures.has("net_sales_amount"):
		uk_us = figures.total("net_sales_amount", "shipping_cost_amount", "fee_amount", "adjustment_amount")
		text += f", nor net_sales_amount + shipping_cost_amount + fee_amount + adjustment_amount ({uk_us})"
	return text


def _goods(figures: _Figures) -> Decimal | None:
	"""The sale after the seller's own discounts (platform-funded discounts are in it)."""
	if figures.has("after_seller_discounts_subtotal_amount"):
		return figures("after_seller_discounts_subtotal_amount")
	if figures.has("gross_sales_amount"):
		return figures("gross_sales_amount") - abs(figures("seller_discount_amount"))  # sign varies by region
	return None


def _fee_charges(figures: _Figures, charges: list[Charge], in_fee: Decimal = Decimal(0)) -> None:
	"""Each itemized fee, then what fee_amount holds beyond them and beyond `in_fee` (charges
	already taken from it, such as the seller's shipping)."""
	itemized = in_fee
	for name, kind in FEE_FIELDS.items():
		amount = -figures(name)
		_charge(charges, kind, amount, name)
		itemized += amount
	_charge(charges, ChargeKind.OTHER, -figures("fee_amount") - itemized, NOT_ITEMIZED)


def _sea_revenue_and_charges(figures: _Figures) -> tuple[Decimal, list[Charge]]:
	"""settlement = revenue_amount + fee_amount + adjustment_amount (all but UK/US)."""
	buyer_shipping = figures("customer_shipping_fee_amount")
	subsidy = figures("shipping_fee_subsidy_amount")
	refund, shipping_in_revenue = _sea_revenue_parts(figures, buyer_shipping, subsidy)
	shipping_name = "shipping_cost_amount" if figures.has("shipping_cost_amount") else "shipping_fee_amount"
	seller_shipping = -figures(shipping_name)
	charges: list[Charge] = []
	_charge(charges, ChargeKind.REFUND, -refund, "refunds in revenue_amount")
	_charge(charges, ChargeKind.SHIPPING, seller_shipping, shipping_name)
	_charge(charges, ChargeKind.SHIPPING, -subsidy, "shipping_fee_subsidy_amount")
	_charge(charges, ChargeKind.SHIPPING, buyer_shipping - shipping_in_revenue, "customer_shipping_fee_amount kept by TikTok")
	_fee_charges(figures, charges, in_fee=seller_shipping)
	_charge(charges, ChargeKind.OTHER, -figures("adjustment_amount"), "adjustment_amount")
	goods = _goods(figures)
	if goods is None:  # nothing but TikTok's total: read it as documented (buyer shipping in it)
		goods = figures("revenue_amount") - refund - subsidy - buyer_shipping
	return goods + buyer_shipping, charges


def _sea_revenue_parts(figures: _Figures, buyer_shipping: Decimal, subsidy: Decimal) -> tuple[Decimal, Decimal]:
	"""(refund, buyer shipping inside revenue_amount) for which TikTok's revenue_amount is the
	sale plus refunds, shipping subsidy and maybe the buyer's shipping."""
	revenue_amount, goods = figures("revenue_amount"), _goods(figures)
	documented = figures.total("customer_order_refund_amount", "platform_discount_refund_amount")
	as_sales = figures.total("gross_sales_refund_amount", "seller_discount_refund_amount")
	if goods is None:
		return documented, buyer_shipping
	for refund in dict.fromkeys((documented, as_sales)):
		for in_revenue in dict.fromkeys((buyer_shipping, Decimal(0))):
			if goods + refund + in_revenue + subsidy == revenue_amount:
				return refund, in_revenue
	raise SettlementError(
		f"{figures.where}: revenue_amount {revenue_amount} is not the sale after seller discounts {goods} plus"
		f" refunds ({documented} or {as_sales}), shipping_fee_subsidy_amount {subsidy} and, or not,"
		f" customer_shipping_fee_amount {buyer_shipping}"
	)


def _uk_us_revenue_and_charges(figures: _Figures) -> tuple[Decimal, list[Charge]]:
	"""settlement = net_sales_amount + shipping_cost_amount + fee_amount + adjustment_amount."""
	net_sales = figures("net_sales_amount")
	refund = figures.total("gross_sales_refund_amount", "seller_discount_refund_amount")
	goods = _goods(figures)
	if goods is None:
		goods = net_sales - refund
	if goods + refund != net_sales:
		raise SettlementError(
			f"{figures.where}: net_sales_amount {net_sales} is not the sale after seller discounts {goods}"
			f" plus its refunds {refund}"
		)
	buyer_shipping = figures("customer_paid_shipping_fee_amount")
	shipping_refund = figures("customer_paid_shipping_fee_refund_amount")
	charges: list[Charge] = []
	_charge(charges, ChargeKind.REFUND, -refund, "gross_sales_refund_amount + seller_discount_refund_amount")
	_charge(charges, ChargeKind.REFUND, -shipping_refund, "customer_paid_shipping_fee_refund_amount")
	seller_shipping = -(figures("shipping_cost_amount") - buyer_shipping - shipping_refund)
	_charge(charges, ChargeKind.SHIPPING, seller_shipping, "shipping_cost_amount")
	_fee_charges(figures, charges)
	_charge(charges, ChargeKind.OTHER, -figures("adjustment_amount"), "adjustment_amount")
	return goods + buyer_shipping, charges


def order_settlement_from_tiktok(data: dict, order_id: str = "") -> OrderSettlement | None:
	"""Get Order Statement Transactions 202309 `data` as the order's one settlement: None while
	TikTok has no transaction for it; several transactions (settled in several statements) are
	added up, their statement ids joined in `reference`."""
	if not isinstance(data, dict):
		raise SettlementError(f"TikTok order {order_id}: statement transactions answer is not an object")
	order_id = str(data.get("order_id") or order_id)
	transactions = [t for t in data.get("statement_transactions") or [] if isinstance(t, dict)]
	parts = [transaction_settlement(t, order_id=order_id) for t in transactions]
	if not parts:
		return None
	return parts[0] if len(parts) == 1 else merge_settlements(parts)


def merge_settlements(parts: list[OrderSettlement]) -> OrderSettlement:
	"""One order's settlements added up (a later statement can carry a refund or a correction)."""
	currencies = {part.currency for part in parts}
	if len(currencies) > 1:
		raise SettlementError(f"TikTok order {parts[0].order_id}: transactions in several currencies {sorted(currencies)}")
	merged = merge_parts(parts)
	merged.whole_order = True  # the order's transactions, as Get Order Statement Transactions lists them
	merged.reference = "+".join(dict.fromkeys(part.reference for part in parts if part.reference))
	merged.raw = {"statement_transactions": [part.raw for part in parts]}
	merged.check()
	return merged


# --- statements and their transactions ---------------------------------------------------------
def statement_from_tiktok(raw: dict) -> Statement:
	"""One Get Statements 202309 entry; SettlementError when its totals do not add up."""
	if not isinstance(raw, dict) or not _text(raw.get("id")):
		raise SettlementError(f"TikTok statement without an id: {raw!r:.200}")
	currency = str(raw.get("currency") or "VND")
	figures = _Figures(raw, currency, f"TikTok statement {raw['id']}")
	settlement = figures.required("settlement_amount")
	if not (_local_identity(figures, settlement) or _uk_us_identity(figures, settlement)):
		raise SettlementError(_identity_problem(figures, settlement))
	return Statement(
		statement_id=str(raw["id"]),
		statement_time=_int(raw.get("statement_time")),
		currency=currency,
		settlement=settlement,
		payment_id=_text(raw.get("payment_id")),
		payment_status=str(raw.get("payment_status") or "").upper(),
		payment_time=_int(raw.get("payment_time")),
		raw=raw,
	)


def is_order_transaction(transaction: dict) -> bool:
	"""ORDER transactions are sales; every other type is an adjustment (an order id or not)."""
	kind = str(transaction.get("type") or "").upper()
	return kind == "ORDER" if kind else bool(_text(transaction.get("order_id")))


def adjustment_from_tiktok(transaction: dict, statement: Statement | None = None) -> Adjustment:
	"""A non-ORDER statement transaction: its money, signed like a charge (positive: taken)."""
	currency = str(transaction.get("currency") or (statement.currency if statement else "") or "VND")
	adjustment_id = _text(transaction.get("adjustment_id")) or _text(transaction.get("id"))
	figures = _Figures(transaction, currency, f"TikTok adjustment {adjustment_id or '?'}")
	name = "settlement_amount" if figures.has("settlement_amount") else "adjustment_amount"
	kind_word = str(transaction.get("type") or "OTHER_ADJUSTMENT").upper()
	if not adjustment_id:
		raise SettlementError(f"TikTok {kind_word} transaction without an id")
	return Adjustment(
		adjustment_id=adjustment_id,
		kind=ADJUSTMENT_KINDS.get(kind_word, ChargeKind.OTHER),
		amount=-figures.required(name),
		label=kind_word,
		posted_on=statement.settled_on if statement else utc_date(transaction.get("statement_time")),
		order_id=_text(transaction.get("adjustment_order_id")) or _text(transaction.get("order_id")),
		currency=currency,
		payout_id=statement.payment_id if statement else "",
		raw=transaction,
	)


def statement_transactions_from_tiktok(
	transactions: list[dict], statement: Statement
) -> tuple[list[OrderSettlement], list[Adjustment]]:
	"""Get Statement Transactions 202309 `statement_transactions[]` of one statement: order
	settlements (reference = statement id, payout_id = its payment) and adjustments."""
	settlements: list[OrderSettlement] = []
	adjustments: list[Adjustment] = []
	for transaction in transactions:
		if not isinstance(transaction, dict):
			raise SettlementError(f"TikTok statement {statement.statement_id}: a transaction is not an object")
		if is_order_transaction(transaction):
			settlements.append(_readable_settlement(transaction, statement))
		else:
			adjustments.append(adjustment_from_tiktok(transaction, statement))
	return settlements, adjustments


def _readable_settlement(transaction: dict, statement: Statement) -> OrderSettlement:
	"""The transaction's settlement; one whose figures don't add up comes back unreadable, naming
	why (booked as an Error to review), so it never holds up the rest of the statement."""
	try:
		return transaction_settlement(transaction, statement=statement)
	except SettlementError as exc:
		order_id = str(transaction.get("order_id") or "")
		if not order_id:
			raise
		try:
			payout = to_money(transaction.get("settlement_amount"), str(transaction.get("currency") or "VND"))
		except Exception:
			payout = Decimal(0)
		return OrderSettlement.unreadable(
			order_id, payout, str(exc), reference=statement.statement_id, raw=transaction, whole_order=False
		)


# --- payments ----------------------------------------------------------------------------------
def _money_object(payment: dict, name: str, where: str) -> tuple[Decimal | None, str]:
	value = payment.get(name)
	if not isinstance(value, dict) or value.get("value") in (None, ""):
		return None, ""
	currency = str(value.get("currency") or "VND")
	return _Figures(value, currency, f"{where} {name}")("value"), currency


def payout_from_tiktok(payment: dict) -> Payout:
	"""One Get Payments 202309 entry; SettlementError when settlement_amount + reserve_amount
	is not payment_amount_before_exchange."""
	if not isinstance(payment, dict) or not _text(payment.get("id")):
		raise SettlementError(f"TikTok payment without an id: {payment!r:.200}")
	where = f"TikTok payment {payment['id']}"
	amount, currency = _money_object(payment, "amount", where)
	if amount is None:
		raise SettlementError(f"{where}: no amount")
	settled, _ = _money_object(payment, "settlement_amount", where)
	reserve, _ = _money_object(payment, "reserve_amount", where)
	before, _ = _money_object(payment, "payment_amount_before_exchange", where)
	if settled is not None and before is not None and settled + (reserve or 0) != before:
		raise SettlementError(
			f"{where}: settlement_amount {settled} + reserve_amount {reserve or 0} is not"
			f" payment_amount_before_exchange {before}"
		)
	paid = str(payment.get("status") or "").upper() == "PAID"
	return Payout(
		payout_id=str(payment["id"]),
		amount=amount,
		paid_on=utc_date(payment.get("paid_time")) if paid else None,
		currency=currency,
		paid=paid,
		raw=payment,
	)


def payouts_from_statements(statements: list[Statement]) -> list[Payout]:
	"""Payouts as the statements name them (payment_id, payment_status, payment_time), for shops
	where Get Payments is not available (TikTok: "unavailable to SEA markets")."""
	by_payment: dict[str, list[Statement]] = {}
	for statement in statements:
		if statement.payment_id:
			by_payment.setdefault(statement.payment_id, []).append(statement)
	payouts = []
	for payment_id, carried in by_payment.items():
		paid = all(statement.payment_status == "PAID" for statement in carried)
		payouts.append(
			Payout(
				payout_id=payment_id,
				amount=sum((statement.settlement for statement in carried), Decimal(0)),
				paid_on=utc_date(max(statement.payment_time for statement in carried)) if paid else None,
				currency=carried[0].currency,
				paid=paid,
				settlement_references=[statement.statement_id for statement in carried],
				raw={"statements": [statement.raw for statement in carried]},
			)
		)
	return payouts
