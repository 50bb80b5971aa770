"""Shopee's finance payloads -> the domain's settlement types. Pure: no frappe, no requests.

- `settlement_from_escrow`: one v2.payment.get_escrow_detail "response" -> OrderSettlement;
- `escrows_of_batch`: v2.payment.get_escrow_detail_batch -> {order_sn: escrow "response"};
- `read_wallet`: v2.payment.get_wallet_transaction_list's transactions -> the escrow releases
  (orders whose settlement the period holds), adjustments and payouts;
- `payouts_from_payout_detail`: v2.payment.get_payout_detail (cross-border sellers only).

The escrow's arithmetic is Shopee's own, as its API reference states it for escrow_amount
("new formula", non cross-border shops):

    escrow_amount = original_cost_of_goods_sold - original_shopee_discount + seller_return_refund
        + shopee_discount - voucher_from_seller - seller_coin_cash_back + buyer_paid_shipping_fee
        - actual_shipping_fee + shopee_shipping_rebate + shipping_fee_discount_from_3pl
        - reverse_shipping_fee + rsf_seller_protection_fee_claim_amount
        - final_return_to_seller_shipping_fee - seller_transaction_fee - service_fee
        - commission_fee - campaign_fee - shipping_seller_protection_fee_amount
        - delivery_seller_protection_fee_premium_amount - final_escrow_product_gst
        - order_ams_commission_fee - escrow_tax - sales_tax_on_lvg - reverse_shipping_fee_sst
        - shipping_fee_sst - withholding_tax - overseas_return_service_fee - vat_on_imported_goods
        - withholding_vat_tax - withholding_pit_tax - withholding_cit_tax
        - seller_order_processing_fee + buyer_paid_packaging_fee - trade_in_bonus_by_seller
        - fbs_fee - ads_escrow_top_up_fee_or_technical_support_fee - th_import_duty

The settlement's revenue is the order mapper's seller_revenue: the items at their price after
the seller's own discounts (escrow items' discounted_price + shopee_discount), less the seller's
voucher, plus the shipping the buyer paid, all as at checkout. Shopee's
original_cost_of_goods_sold - voucher_from_seller + buyer_paid_shipping_fee is that same sale, so
every other term of the formula is a charge (its field name the label) and
revenue - charges == escrow_amount. A return shows as seller_return_refund (negative: the sale
given back) and as Shopee's item rebate shrinking (original_shopee_discount - shopee_discount):
both are REFUND charges. Whatever does not add up is refused with a SettlementError naming the gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ...domain.order import InvalidOrder, to_money
from ...domain.settlement import Adjustment, Charge, ChargeKind, OrderSettlement, Payout, SettlementError
from .mapper import BUYER_FEES  # what the buyer may pay beyond goods and shipping; Shopee keeps it

VIETNAM = timezone(timedelta(hours=7))  # Shopee VN dates its wallet in local time

# Terms of Shopee's formula beyond the sale: (field, +1 when it adds to escrow_amount, kind).
FORMULA_CHARGES: tuple[tuple[str, int, ChargeKind], ...] = (
	("commission_fee", -1, ChargeKind.COMMISSION),
	("service_fee", -1, ChargeKind.SERVICE),
	("seller_transaction_fee", -1, ChargeKind.TRANSACTION),
	("actual_shipping_fee", -1, ChargeKind.SHIPPING),
	("shopee_shipping_rebate", +1, ChargeKind.SHIPPING),
	("shipping_fee_discount_from_3pl", +1, ChargeKind.SHIPPING),
	("reverse_shipping_fee", -1, ChargeKind.SHIPPING),
	("rsf_seller_protection_fee_claim_amount", +1, ChargeKind.SHIPPING),
	("final_return_to_seller_shipping_fee", -1, ChargeKind.SHIPPING),
	("shipping_seller_protection_fee_amount", -1, ChargeKind.SERVICE),
	("delivery_seller_protection_fee_premium_amount", -1, ChargeKind.SERVICE),
	("overseas_return_service_fee", -1, ChargeKind.SERVICE),
	("seller_order_processing_fee", -1, ChargeKind.SERVICE),
	("fbs_fee", -1, ChargeKind.SERVICE),
	("campaign_fee", -1, ChargeKind.MARKETING),
	("order_ams_commission_fee", -1, ChargeKind.MARKETING),
	("seller_coin_cash_back", -1, ChargeKind.MARKETING),
	("trade_in_bonus_by_seller", -1, ChargeKind.MARKETING),
	("ads_escrow_top_up_fee_or_technical_support_fee", -1, ChargeKind.ADVERTISING),
	("withholding_vat_tax", -1, ChargeKind.WITHHELD_VAT),
	("withholding_pit_tax", -1, ChargeKind.WITHHELD_PIT),
	("withholding_tax", -1, ChargeKind.WITHHELD_TAX),
	("withholding_cit_tax", -1, ChargeKind.WITHHELD_TAX),
	("escrow_tax", -1, ChargeKind.WITHHELD_TAX),
	("final_escrow_product_gst", -1, ChargeKind.WITHHELD_TAX),
	("sales_tax_on_lvg", -1, ChargeKind.WITHHELD_TAX),
	("vat_on_imported_goods", -1, ChargeKind.WITHHELD_TAX),
	("shipping_fee_sst", -1, ChargeKind.WITHHELD_TAX),
	("reverse_shipping_fee_sst", -1, ChargeKind.WITHHELD_TAX),
	("th_import_duty", -1, ChargeKind.WITHHELD_TAX),
	("buyer_paid_packaging_fee", +1, ChargeKind.OTHER),
)
# The formula's sale and return terms (see the module doc), handled apart from the charges.
SALE_TERMS = (
	"original_cost_of_goods_sold",
	"voucher_from_seller",
	"buyer_paid_shipping_fee",
	"seller_return_refund",
	"original_shopee_discount",
	"shopee_discount",
)
# Outside the formula, but an escrow may still carry them: taken only when that closes the gap exactly.
OUTSIDE_FORMULA: tuple[tuple[str, int, ChargeKind], ...] = (
	("seller_lost_compensation", +1, ChargeKind.COMPENSATION),
	("fsf_seller_protection_fee_claim_amount", +1, ChargeKind.SHIPPING),
	("final_escrow_shipping_gst", -1, ChargeKind.WITHHELD_TAX),
)
# order_income money fields that restate, estimate or detail what the formula already counts.
INFORMATIONAL = {
	"escrow_amount", "escrow_amount_after_adjustment", "total_adjustment_amount", "buyer_total_amount",
	"original_price", "order_original_price", "order_discounted_price", "order_selling_price",
	"order_seller_discount", "seller_discount", "voucher_from_shopee", "voucher_from_external_party",
	"coins", "buyer_transaction_fee", "cross_border_tax", "payment_promotion", "credit_card_promotion",
	"credit_card_transaction_fee", "estimated_shipping_fee", "final_shipping_fee", "cost_of_goods_sold",
	"drc_adjustable_refund", "seller_shipping_discount", "order_chargeable_weight", "final_product_protection",
	"final_product_vat_tax", "final_shipping_vat_tax", "escrow_import_tax", "return_to_seller_shipping_fee_sst",
	"prorated_coins_value_offset_return_items", "prorated_shopee_voucher_offset_return_items",
	"prorated_seller_voucher_offset_return_items", "prorated_payment_channel_promo_bank_offset_return_items",
	"prorated_payment_channel_promo_shopee_offset_return_items", "prorated_pix_discount_offset_return_items",
	"pix_discount", "remaining_voucher", "net_commission_fee", "net_service_fee", "bcrs_deposit",
	"buyer_paid_extended_warranty", "actual_installation_fee", "installation_fee_paid_by_buyer",
	"exchange_rate",
}  # fmt: skip


def settlement_from_escrow(
	escrow_response: dict,
	currency: str,
	*,
	final: bool = False,
	settled_on: date | None = None,
	reference: str = "",
	payout: Decimal | None = None,
) -> OrderSettlement:
	"""The order's settlement as its get_escrow_detail "response" (or the whole answer) states it.

	The payout is escrow_amount; `payout`, what the wallet released, must be that same figure. `final` says the escrow is released (it changes until the order
	completes). Raises SettlementError naming what does not add up."""
	escrow = _escrow_body(escrow_response)
	order_sn = str(escrow.get("order_sn") or "").strip()
	where = f"order {order_sn or '?'}"
	income = _object(escrow.get("order_income"), f"{where}: order_income")
	money = _MoneyReader(currency, where)
	revenue = _revenue(escrow, income, money, where)
	charges = _return_charges(escrow, income, money) + _formula_charges(income, money, FORMULA_CHARGES)
	escrow_amount = money(income, "escrow_amount")
	if payout is not None and payout != escrow_amount:
		raise SettlementError(f"{where}: the wallet received {payout} for it, but its escrow_amount is {escrow_amount}")
	settlement = OrderSettlement(
		order_id=order_sn,
		revenue=revenue,
		charges=charges,
		payout=escrow_amount,
		currency=currency,
		final=final,
		settled_on=settled_on,
		reference=reference,
		raw=escrow,
	)
	_close_gap(settlement, income, money)
	return settlement


def escrows_of_batch(batch_response) -> dict[str, dict]:
	"""order_sn -> escrow "response" of a get_escrow_detail_batch answer (whole, or its "response" list)."""
	rows = batch_response.get("response") if isinstance(batch_response, dict) else batch_response
	if not isinstance(rows, list):
		raise SettlementError("get_escrow_detail_batch: the response is not a list of escrow details")
	escrows: dict[str, dict] = {}
	for index, row in enumerate(rows, 1):
		escrow = row.get("escrow_detail") if isinstance(row, dict) else None
		if not isinstance(escrow, dict) or not str(escrow.get("order_sn") or "").strip():
			raise SettlementError(f"get_escrow_detail_batch: entry {index} has no escrow_detail naming an order_sn")
		escrows[str(escrow["order_sn"]).strip()] = escrow
	return escrows


# --- the escrow, step by step --------------------------------------------------------------------
class _MoneyReader:
	"""Reads money fields of one escrow in its currency; a bad value is a SettlementError naming it."""

	def __init__(self, currency: str, where: str):
		self.currency, self.where = currency, where

	def __call__(self, data: dict, key: str, default=0) -> Decimal:
		try:
			return to_money(data.get(key, default), self.currency, f"{self.where}: {key}")
		except InvalidOrder as exc:
			raise SettlementError(str(exc)) from None


def _escrow_body(escrow_response) -> dict:
	if not isinstance(escrow_response, dict):
		raise SettlementError("Shopee escrow detail must be an object")
	body = escrow_response.get("response")
	return body if isinstance(body, dict) else escrow_response


def _object(value, where: str) -> dict:
	if not isinstance(value, dict):
		raise SettlementError(f"{where} must be an object")
	return value


def _revenue(escrow: dict, income: dict, money: _MoneyReader, where: str) -> Decimal:
	"""The order mapper's seller_revenue, checked against what the buyer paid at checkout."""
	checkout = escrow.get("buyer_payment_info") if isinstance(escrow.get("buyer_payment_info"), dict) else {}

	def at_checkout(key: str, income_key: str) -> Decimal:
		# the checkout snapshot reports offsets as negatives (shopee_voucher: -5260); order_income as positives
		return abs(money(checkout, key) if key in checkout else money(income, income_key))

	items = [row for row in income.get("items") or [] if isinstance(row, dict)]
	if not items:
		raise SettlementError(f"{where}: the escrow lists no items")
	goods = sum((money(row, "discounted_price") for row in items), Decimal(0))
	item_rebates = sum((money(row, "shopee_discount") for row in items), Decimal(0))
	revenue = goods + item_rebates - at_checkout("seller_voucher", "voucher_from_seller") + at_checkout("shipping_fee", "buyer_paid_shipping_fee")
	platform_funded = item_rebates + sum(
		(at_checkout(key, income_key) for key, income_key in _PLATFORM_FUNDED), Decimal(0)
	)
	buyer_fees = sum((at_checkout(name, name) for name in BUYER_FEES), Decimal(0))
	paid = at_checkout("buyer_total_amount", "buyer_total_amount")
	if paid != revenue - platform_funded + buyer_fees:
		raise SettlementError(
			f"{where}: the buyer paid {paid} (buyer_total_amount), but the escrow's items ({goods} after discounts),"
			f" vouchers, coins and shipping add up to {revenue - platform_funded + buyer_fees}"
		)
	return revenue


_PLATFORM_FUNDED = (
	("shopee_voucher", "voucher_from_shopee"),
	("shopee_coins_redeemed", "coins"),
	("credit_card_promotion", "credit_card_promotion"),
)


def _return_charges(escrow: dict, income: dict, money: _MoneyReader) -> list[Charge]:
	"""The sale Shopee no longer pays for after a return: the refund and its shrunken rebate."""
	charges = []
	refund = -money(income, "seller_return_refund")  # negative in Shopee's figures: the sale given back
	if refund:
		charges.append(Charge(ChargeKind.REFUND, refund, "seller_return_refund"))
	rebate_lost = money(income, "original_shopee_discount") - money(income, "shopee_discount")
	if rebate_lost:
		charges.append(Charge(ChargeKind.REFUND, rebate_lost, "original_shopee_discount - shopee_discount"))
	return charges


def _formula_charges(income: dict, money: _MoneyReader, terms) -> list[Charge]:
	charges = []
	for key, sign, kind in terms:
		amount = money(income, key)
		if amount:
			charges.append(Charge(kind, -sign * amount, key))
	return charges


def _close_gap(settlement: OrderSettlement, income: dict, money: _MoneyReader) -> None:
	"""check() the settlement; a gap that fields outside the formula explain exactly becomes
	their charges (unknown fields as OTHER), any other gap is refused naming it."""
	gap = settlement.revenue - settlement.charges_total - settlement.payout
	if not gap:
		return
	candidates = _formula_charges(income, money, OUTSIDE_FORMULA) + _unknown_charges(income, money)
	for chosen in _gap_explanations(candidates):
		if sum((charge.amount for charge in chosen), Decimal(0)) == gap:
			settlement.charges.extend(chosen)
			return
	sale = money(income, "original_cost_of_goods_sold") - money(income, "voucher_from_seller") + money(income, "buyer_paid_shipping_fee")
	hints = [f"Shopee's sale (original_cost_of_goods_sold - voucher_from_seller + buyer_paid_shipping_fee) is {sale}"]
	hints += [f"{charge.label} {charge.amount}" for charge in candidates]
	raise SettlementError(
		f"order {settlement.order_id}: revenue {settlement.revenue} less charges {settlement.charges_total} is not"
		f" the payout {settlement.payout} (off by {gap}); " + "; ".join(hints)
	)


def _gap_explanations(candidates: list[Charge]) -> Iterable[list[Charge]]:
	"""One candidate at a time, then all of them (each unknown field either way round)."""
	for charge in candidates:
		yield [charge]
		if charge.kind == ChargeKind.OTHER:
			yield [Charge(charge.kind, -charge.amount, charge.label)]
	if len(candidates) > 1:
		yield candidates


def _unknown_charges(income: dict, money: _MoneyReader) -> list[Charge]:
	"""Non-zero money fields this mapper does not know, as deductions (a fee Shopee added lately)."""
	known = INFORMATIONAL | set(SALE_TERMS) | {key for key, _, _ in FORMULA_CHARGES + OUTSIDE_FORMULA}
	charges = []
	for key, value in sorted(income.items()):
		if key in known or key.endswith("_pri") or isinstance(value, bool) or not isinstance(value, (int, float)):
			continue
		amount = money(income, key)
		if amount:
			charges.append(Charge(ChargeKind.OTHER, amount, key))
	return charges


# --- the wallet ----------------------------------------------------------------------------------
# get_wallet_transaction_list's transaction_type enum (API reference): which way the money goes, and
# the kind of an adjustment. Escrow types carry the order's settlement, withdrawal types the payouts.
ESCROW_TYPES = {"ESCROW_VERIFIED_ADD": +1, "ESCROW_VERIFIED_MINUS": -1}
FAST_ESCROW_TYPES = {"FAST_ESCROW_DISBURSE": +1, "FAST_ESCROW_DISBURSE_REMAIN": +1, "FAST_ESCROW_DEDUCT": -1}
WITHDRAWAL_TYPES = {"WITHDRAWAL_CREATED", "WITHDRAWAL_COMPLETED", "WITHDRAWAL_CANCELLED"}
ADJUSTMENT_TYPES: dict[str, tuple[int, ChargeKind]] = {
	"ADJUSTMENT_ADD": (+1, ChargeKind.OTHER),
	"ADJUSTMENT_MINUS": (-1, ChargeKind.OTHER),
	"FBS_ADJUSTMENT_ADD": (+1, ChargeKind.OTHER),
	"FBS_ADJUSTMENT_MINUS": (-1, ChargeKind.OTHER),
	"ADJUSTMENT_CENTER_ADD": (+1, ChargeKind.OTHER),
	"ADJUSTMENT_CENTER_DEDUCT": (-1, ChargeKind.OTHER),
	"FSF_COST_PASSING_DEDUCT": (-1, ChargeKind.SHIPPING),
	"PERCEPTION_VAT_TAX_DEDUCT": (-1, ChargeKind.WITHHELD_VAT),
	"PERCEPTION_TURNOVER_TAX_DEDUCT": (-1, ChargeKind.WITHHELD_TAX),
	"PAID_ADS_CHARGE": (-1, ChargeKind.ADVERTISING),
	"PAID_ADS_REFUND": (+1, ChargeKind.ADVERTISING),
	"AFFILIATE_ADS_SELLER_FEE": (-1, ChargeKind.MARKETING),
	"AFFILIATE_ADS_SELLER_FEE_REFUND": (+1, ChargeKind.MARKETING),
	"AFFILIATE_FEE_DEDUCT": (-1, ChargeKind.MARKETING),
}
MONEY_FLOW = {"MONEY_IN": +1, "MONEY_OUT": -1}


@dataclass
class EscrowRelease:
	"""An order whose escrow the wallet released (wholly or, with fast escrow, in part)."""

	order_sn: str
	amount: Decimal  # what the wallet received for it (negative: charged)
	released_on: date | None
	reference: str  # the wallet transaction id(s)
	final: bool  # the escrow is verified: its figures no longer change


@dataclass
class WalletPeriod:
	releases: dict[str, EscrowRelease] = field(default_factory=dict)
	adjustments: list[Adjustment] = field(default_factory=list)
	payouts: list[Payout] = field(default_factory=list)


def wallet_page(answer: dict) -> tuple[list[dict], bool]:
	"""(transaction_list, more) of one get_wallet_transaction_list answer (whole or its "response")."""
	body = answer.get("response") if isinstance(answer.get("response"), dict) else answer
	rows = body.get("transaction_list") or []
	if not isinstance(rows, list) or any(not isinstance(row, dict) for row in rows):
		raise SettlementError("get_wallet_transaction_list: transaction_list must be a list of objects")
	return rows, bool(body.get("more"))


def transaction_key(row: dict) -> str:
	"""Shopee's transaction_id, else (the current reference lists none) a digest of the row's own figures."""
	if row.get("transaction_id") not in (None, "", 0):
		return str(row["transaction_id"])
	figures = {k: row.get(k) for k in ("transaction_type", "create_time", "amount", "current_balance", "order_sn", "withdrawal_id")}
	return "h" + hashlib.sha256(json.dumps(figures, sort_keys=True, default=str).encode()).hexdigest()[:16]


def read_wallet(transactions: list[dict], currency: str, tz=VIETNAM) -> WalletPeriod:
	"""Sort a period's wallet transactions into escrow releases, adjustments and payouts.

	Only COMPLETED transactions count, except a withdrawal still PENDING/INITIAL (an unpaid Payout).
	A transaction's sign is its money_flow, else its amount's (negative: out), else its type's."""
	period = WalletPeriod()
	withdrawals: dict[str, list[dict]] = {}
	for row in sorted(transactions, key=_listing_order):
		kind = str(row.get("transaction_type") or "").upper()
		status = str(row.get("status") or "COMPLETED").upper()
		if kind in WITHDRAWAL_TYPES:
			if status != "FAILED":
				withdrawals.setdefault(str(row.get("withdrawal_id") or transaction_key(row)), []).append(row)
		elif status != "COMPLETED":
			continue
		elif row.get("order_sn") and (kind in ESCROW_TYPES or kind in FAST_ESCROW_TYPES):
			_add_release(period.releases, row, kind, currency, tz)
		else:
			period.adjustments.append(_adjustment(row, kind, currency, tz))
	period.payouts = [p for key, rows in withdrawals.items() if (p := _payout(key, rows, currency, tz))]
	return period


def _listing_order(row: dict) -> tuple:
	"""Oldest first, then by transaction id (numerically: shorter ids are older)."""
	key = transaction_key(row)
	return (_int(row.get("create_time")), len(key), key)


def _signed(row: dict, direction: int, currency: str) -> Decimal:
	"""The money the transaction brings into the wallet (negative: takes out)."""
	amount = _money(row.get("amount"), currency, f"wallet transaction {transaction_key(row)} amount")
	flow = MONEY_FLOW.get(str(row.get("money_flow") or "").upper())
	if flow:
		return flow * abs(amount)
	return amount if amount < 0 else (direction or 1) * amount


def _add_release(releases: dict, row: dict, kind: str, currency: str, tz) -> None:
	order_sn = str(row["order_sn"]).strip()
	direction = ESCROW_TYPES.get(kind) or FAST_ESCROW_TYPES[kind]
	amount = _signed(row, direction, currency)
	final = kind in ESCROW_TYPES or kind == "FAST_ESCROW_DISBURSE_REMAIN"
	day = _day(row.get("create_time"), tz)
	known = releases.get(order_sn)
	if known is None:
		releases[order_sn] = EscrowRelease(order_sn, amount, day, transaction_key(row), final)
		return
	known.amount += amount
	known.released_on = day or known.released_on
	known.reference = f"{known.reference},{transaction_key(row)}"
	known.final = known.final or final


def _adjustment(row: dict, kind: str, currency: str, tz) -> Adjustment:
	direction, charge_kind = ADJUSTMENT_TYPES.get(kind, (0, ChargeKind.OTHER))
	label = next((str(row[k]) for k in ("reason", "txn_title", "description") if str(row.get(k) or "").strip()), kind or "?")
	return Adjustment(
		adjustment_id=transaction_key(row),
		kind=charge_kind,
		amount=-_signed(row, direction, currency),  # signed like a charge: positive when Shopee took it
		label=label if label == kind else f"{kind}: {label}",
		posted_on=_day(row.get("create_time"), tz),
		order_id=str(row.get("order_sn") or "").strip(),
		currency=currency,
		raw=row,
	)


def _payout(withdrawal_id: str, rows: list[dict], currency: str, tz) -> Payout | None:
	"""One withdrawal's transactions -> its Payout: paid once completed, none once cancelled.
	What reached the bank is the amount taken from the wallet less the withdrawal's transaction_fee."""
	by_type = {str(row.get("transaction_type") or "").upper(): row for row in rows}
	if "WITHDRAWAL_CANCELLED" in by_type:
		return None
	done = by_type.get("WITHDRAWAL_COMPLETED")
	completed = done is not None and str(done.get("status") or "COMPLETED").upper() == "COMPLETED"
	row = done or by_type["WITHDRAWAL_CREATED"]
	where = f"withdrawal {withdrawal_id}"
	taken = abs(_money(row.get("amount"), currency, f"{where} amount"))
	fee = abs(_money(row.get("transaction_fee"), currency, f"{where} transaction_fee"))
	return Payout(
		payout_id=withdrawal_id,
		amount=taken - fee,
		paid_on=_day(row.get("create_time"), tz) if completed else None,
		currency=currency,
		paid=completed,
		fee=fee,
		raw={"transactions": rows},
	)


# --- cross-border payouts ------------------------------------------------------------------------
PAYOUT_MODULE_KINDS = {"commission fee": ChargeKind.COMMISSION, "refund amount": ChargeKind.REFUND, "service fee": ChargeKind.SERVICE}


def payouts_from_payout_detail(answer: dict, tz=timezone.utc) -> tuple[list[Payout], list[Adjustment]]:
	"""v2.payment.get_payout_detail (cross-border sellers only) -> its payouts and offline adjustments.

	Each payout's from_amount must be its escrows plus its offline adjustments, in the settlement
	currency; payout_amount is what reached the seller, in payout_currency."""
	body = answer.get("response") if isinstance(answer.get("response"), dict) else answer
	payouts, adjustments = [], []
	for entry in body.get("payout_list") or []:
		info = _object(entry.get("payout_info"), "get_payout_detail payout_info")
		settled_in = str(info.get("from_currency") or "")
		paid_at = _int(info.get("payout_time"))
		payout_id = f"payout-{paid_at}-{info.get('payee_id') or ''}"
		escrows = [row for row in entry.get("escrow_list") or [] if isinstance(row, dict)]
		offline = [row for row in entry.get("offline_adjustment_list") or [] if isinstance(row, dict)]
		carried = sum((_money(row.get("escrow_amount"), settled_in, f"{payout_id} escrow_amount") for row in escrows), Decimal(0))
		adjusted = sum((_money(row.get("adjustment_amount"), settled_in, f"{payout_id} adjustment_amount") for row in offline), Decimal(0))
		settled = _money(info.get("from_amount"), settled_in, f"{payout_id} from_amount")
		if settled != carried + adjusted:
			raise SettlementError(
				f"{payout_id}: from_amount {settled} {settled_in} is not its escrows {carried} plus offline"
				f" adjustments {adjusted} (off by {settled - carried - adjusted})"
			)
		payout_currency = str(info.get("payout_currency") or settled_in)
		payouts.append(
			Payout(
				payout_id=payout_id,
				amount=_money(info.get("payout_amount"), payout_currency, f"{payout_id} payout_amount"),
				paid_on=_day(paid_at, tz),
				currency=payout_currency,
				order_ids=[str(row.get("order_sn") or "") for row in escrows],
				raw=entry,
			)
		)
		adjustments += [_offline_adjustment(row, index, payout_id, settled_in, _day(paid_at, tz)) for index, row in enumerate(offline, 1)]
	return payouts, adjustments


def _offline_adjustment(row: dict, index: int, payout_id: str, currency: str, day: date | None) -> Adjustment:
	module = str(row.get("module") or "")
	return Adjustment(
		adjustment_id=f"{payout_id}-{index}",
		kind=PAYOUT_MODULE_KINDS.get(module.lower(), ChargeKind.OTHER),
		amount=-_money(row.get("adjustment_amount"), currency, f"{payout_id} adjustment_amount"),  # positive: paid to the seller
		label=" - ".join(part for part in (module, str(row.get("scenario") or ""), str(row.get("remark") or "")) if part),
		posted_on=day,
		order_id=str(row.get("order_sn") or ""),
		currency=currency,
		payout_id=payout_id,
		raw=row,
	)


# --- small readers -------------------------------------------------------------------------------
def _money(value, currency: str, where: str) -> Decimal:
	try:
		return to_money(value, currency, where)
	except InvalidOrder as exc:
		raise SettlementError(str(exc)) from None


def _int(value) -> int:
	try:
		return int(value or 0)
	except (TypeError, ValueError):
		return 0


def _day(timestamp, tz) -> date | None:
	seconds = _int(timestamp)
	return datetime.fromtimestamp(seconds, tz).date() if seconds > 0 else None
