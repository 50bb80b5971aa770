"""Lazada finance payloads -> the domain's settlement types. Pure functions, no HTTP.

QueryTransactionDetails (/finance/transaction/details/get) answers one row per money movement,
signed from the seller's side (a fee is negative, a credit positive), each with a fee_type id from
Lazada's "queryTransactionDetails fee_type field enum list" (open.lazada.com docId 120956). The rows
of one order_no become one OrderSettlement:

- revenue is the sale the Sales Invoice carries (ChannelOrder.seller_revenue): the item price
  credits, Lazada's subsidies on the item price, the shipping fee the buyer paid, less the seller's
  own promotions when Lazada posts them as rows (its vouchers, bundles, flexi-combos: the invoice
  price is already net of them, so they are not charges);
- every other row is a charge of its ChargeKind (FEE_TYPES), its amount the row's with the sign
  turned (positive: Lazada keeps it); reversals of the sale are REFUND, reversals of a fee go back
  to that fee's kind;
- payout is the sum of the rows, so revenue - charges == payout by construction.

Rows without an order_no, and rows whose fee type is no order fee (sponsored ads, penalties,
compensation claims, balance adjustments, storage...), become Adjustments. GetPayoutStatus
(/finance/payout/status/get) statements become Payouts.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ...domain.order import InvalidOrder, to_money
from ...domain.settlement import (
	Adjustment,
	Charge,
	ChargeKind,
	FinancePeriod,
	OrderSettlement,
	Payout,
	SettlementError,
)

SALE = None  # the kind of a row that is part of the sale itself (revenue), not a charge
PAID_WORDS = {"paid", "yes", "1", "true"}  # paid_status is "Not paid" / "Paid" ("Yes / No" in the field table)


@dataclass(frozen=True)
class FeeType:
	"""What one fee_type id is: Lazada's name for it, its kind (SALE for revenue) and whether it
	belongs to an order's settlement (False: an adjustment even when the row names an order)."""

	name: str
	kind: ChargeKind | None
	order_fee: bool = True


def _table(kind: ChargeKind | None, names: dict[int, str], order_fee: bool = True) -> dict[str, FeeType]:
	return {str(fee_type): FeeType(name, kind, order_fee) for fee_type, name in names.items()}


K = ChargeKind
# fee_type id -> FeeType, from the enum list (docId 120956, 2024-07-19). Ids not listed here are
# order fees of kind OTHER when the row names an order, adjustments of kind OTHER when it does not.
FEE_TYPES: dict[str, FeeType] = {
	**_table(SALE, {13: "Item Price Credit", 501: "Item Price", 212: "Presale Deposit"}),
	**_table(SALE, {59: "Item Price Subsidy", 502: "Lazada Subsidy on Item Price"}),  # Lazada-funded
	**_table(SALE, {8: "Shipping Fee (Paid By Customer)"}),
	# the seller's own promotions, already out of the invoice price
	**_table(SALE, {
		117: "Promotional Charges Bundles", 118: "Promotional Charges Vouchers",
		202: "Seller Funded Marketing Voucher", 209: "Promotional Charges Flexi-Combo",
	}),
	**_table(K.REFUND, {
		14: "Reversal Item Price", 505: "Reversal Item Price", 213: "Reversal Presale Deposit",
		504: "Reversal Lazada Subsidy on Item Price", 142: "Reversal shipping Fee (Paid by Customer)",
		518: "Reversal shipping fee paid by customer SOD-COD", 519: "Shipping Fee Refund to Customer",
		120: "Reversal Promotional Charges Bundles", 121: "Reversal Promotional Charges Vouchers",
		203: "Reversal Seller Funded Marketing Voucher", 210: "Reversal Promotional Charges Flexi-Combo",
	}),
	**_table(K.COMMISSION, {
		16: "Commission", 15: "Reversal Commission", 65: "Commission Rebate", 341: "Commission Discount/Rebate",
		66: "Commission fee refund - correction for overcharge", 123: "Commission fee - correction for undercharge",
		218: "Utility Payment Commission", 219: "Reversal Utility Payment Commission",
	}),
	**_table(K.TRANSACTION, {
		3: "Payment Fee", 4: "Payment Fee Credit", 67: "Payment fee refund - correction for overcharge",
		84: "Payment fee - correction for undercharge", 135: "COD Fee", 286: "SOD-COD charge", 513: "SOD - COD charge",
		514: "Payment fee refund - correction for SOD-COD", 221: "Installment fee", 222: "Reversal Installment Fee",
		267: "Paylater Interest Fee (Paid by Seller)", 268: "Reversal of PayLater Interest Fee (Paid by Seller)",
	}),
	**_table(K.SHIPPING, {
		7: "Shipping Fee Paid by Seller", 143: "Reversal Shipping Fee Paid by Seller", 21: "Shipping Fee (Charged By 3P)",
		157: "Auto. Shipping fee subsidy (by Lazada)", 158: "Reversal automated shipping subsidy",
		211: "Shipping Fee Voucher (by Lazada)", 512: "Reversal Shipping Fee Voucher (by Lazada)",
		500: "Shipping Fee Subsidy by Lazada", 503: "Reversal Shipping Fee Subsidy by Lazada",
		1028: "Shipping Fee Subsidy(By Seller)", 520: "Shipping Fee Voucher Refund to Laz",
		26: "Return To Seller Fee", 27: "Dropshipping Delivery Fee", 28: "Shipping Cost", 46: "Dropshipping Item Delivery Fee",
		49: "Shipping Fee (Order Level)", 124: "Shipping fee - correction for undercharge",
		141: "Shipping fee refund - correction for overcharge", 159: "Shipping Fee (Surcharge)",
		160: "Shipping Fee (Extra Handling)", 161: "Shipping Fee (Insurance)", 200: "Return Shipping Fees",
		1027: "Wrong Weight Adjustment", 127: "Pick Up Fee", 279: "Pick Up Fee Reversal", 128: "Failed Delivery Fee",
		317: "Shipping Fee Cashback", 331: "Reversal Shipping Fee Cashback",
	}),
	**_table(K.SERVICE, {
		274: "Seller Picks Commission", 275: "Reversal of Seller Picks Commission", 277: "LazChoice Commission",
		278: "Reversal of LazChoice Commission", 1040: "Lazpick/LazTop commission", 1041: "Lazpick/LazTop commission - Reversal",
		298: "Free Shipping Max Fee", 299: "Reversal of Free Shipping Max Fee", 304: "LCP Fee", 305: "Reversal LCP Fee",
		343: "LCP Fee - Adjustment", 306: "Lazcoin discount", 307: "Reversal Lazcoin discount",
		1023: "DPP Service Fee", 1024: "Reversal of DPP Service Fee", 22: "Fulfillment by Lazada Handling Fee - Automatic",
		34: "Pick Fee", 35: "Pack Fee", 52: "Pack Fee Credit", 53: "Pick Fee Credit",
	}),
	**_table(K.MARKETING, {119: "Promotional Charge General", 122: "Reversal Promotional Charges General", 289: "Reversal of Promotional Charges"}),
	**_table(K.WITHHELD_TAX, {201: "Reimbursements Withholding tax", 251: "Reimbursements Withholding tax (LEL)"}),
	# --- never part of an order's settlement -------------------------------------------------
	**_table(K.ADVERTISING, {
		112: "Sponsored Product Fee", 214: "Sponsored Product Fee Claim", 327: "Sponsored Product Rebate",
		249: "Sponsored Solutions Top-up", 250: "Sponsored Discovery - Top up (credit)", 285: "Sponsored Discovery - Top-up (cashier)",
		259: "Sponsored Discovery - Lazada credit balance", 260: "Sponsored Discovery - Consumption credit",
		262: "Sponsored Discovery - Voucher", 263: "Sponsored Discovery - Top up claim", 290: "Sponsored Discovery - Top up refund",
		264: "Sponsored Discovery - Top up Credit (Balance)", 265: "Sponsored Discovery - Voucher claim",
		373: "Sponsored Media - Top up (credit)", 374: "Sponsored Media - Top up (cashier)",
		375: "Sponsored Media - Consumption credit", 376: "Sponsored Media - Consumption voucher", 377: "Sponsored Media - Top up (refund)",
		318: "Universal Shopping Campaign", 320: "Universal Shopping Campaign Refund",
		208: "Marketing solution /social media advertising", 328: "Reversal Marketing Solution - Social Media Advertising",
	}, order_fee=False),
	**_table(K.MARKETING, {239: "Sponsored Affiliates", 240: "Sponsored Affiliates Refund", 261: "Sponsored Affiliates Claims"}, order_fee=False),
	**_table(K.PENALTY, {
		54: "Penalty", 55: "Penalty Credit", 60: "Penalty & Payment Claims", 80: "Penalty Charges", 81: "Adjustments Penalty",
		103: "Adjustments Penalty", 23: "Cancellation Fee", 71: "Fake RTS", 96: "Fake RTS", 73: "Wrong Way Bill",
		75: "Wrong Shipment Provider", 87: "Cancellation Due To OOS", 88: "Cancellation Due To Wrong Pricing",
		93: "Cancellation Due To Late Fulfilment", 365: "Penalty Charges (International)",
		366: "Adjustment Penalty Charges (International)",
	}, order_fee=False),
	**_table(K.COMPENSATION, {
		47: "Lost Or Damaged - Product", 48: "Lost Or Damaged - Sales Order Item", 61: "Adjustments Claims",
		85: "Lost Claim", 125: "Other Claims - Returns", 126: "Adjustments Claim", 140: "Shipping Fee Claims",
		24: "Reversal - Shipping Fee Claims", 206: "Damaged Claim", 207: "Lost & Damaged FBL Inventories",
		216: "Lost Claim(Lazada)", 217: "Damaged Claim(Lazada)", 228: "Voucher Claims", 230: "Shipping Fee Subsidy Claim",
		231: "Customer Shipping Fee Claim", 232: "Reversal - Lost Claims", 233: "Reversal - Damaged Claims",
		281: "Fraud Returns Compensation",
	}, order_fee=False),
	**_table(K.SERVICE, {
		254: "Storage Fee", 297: "Inventory Storage Fees", 255: "Disposal Charge", 256: "Pullout Charge",
		130: "FBL Handling Fee", 132: "FBL Inbound Fee", 227: "Bank Verification Fee", 237: "Seller Training Fee",
		109: "Other Services Fee",
	}, order_fee=False),
	**_table(K.OTHER, {
		62: "Adjustments Item Charge", 83: "Adjustments Item Charge", 104: "Adjustments Others", 115: "Adjustments Others",
		235: "Seller balance adjustments - Debit", 236: "Seller balance adjustments - Credit",
		329: "Item Price Correction Credit", 330: "Item Price Correction Debit", 280: "Offline Refund Adjustment DRTM",
		326: "DRTM Offline Refund Adjustment", 344: "Adjustments Campaign Fee", 107: "Seller Incentive",
		108: "Adjustments Seller Incentive", 19: "Seller Credit", 111: "Other Debits (non taxable)", 116: "Other Debits",
	}, order_fee=False),
}
del K

# Lazada's names -> the fee types that carry them (a name can have two ids: "Reversal Item Price")
_BY_NAME: dict[str, set[str]] = {}
for _fee_type, _fee in FEE_TYPES.items():
	_BY_NAME.setdefault(_fee.name.casefold(), set()).add(_fee_type)

# Vietnam's withholding on household and individual sellers (Decree 117/2025, since 1 July 2025):
# Lazada publishes no fee_type for it, so the rows are told by name.
_WITHHOLDING = re.compile(r"withh[oe]ld|khấu trừ|khau tru|\bwht\b|thuế\s*(gtgt|tncn)", re.IGNORECASE)
_VAT = re.compile(r"\bvat\b|gtgt|value[- ]added", re.IGNORECASE)
_PIT = re.compile(r"\bpit\b|tncn|personal income|thu nhập cá nhân", re.IGNORECASE)


def fee_type_of(row: dict) -> FeeType:
	"""What a transaction row is: by its fee_type, else by its name; a VN withholding row by its name.

	SettlementError when the row's own name is Lazada's name of a fee type of another kind
	(Lazada's published example is such a row: fee_type 13 named "Payment Fee")."""
	fee_type = _text(row.get("fee_type"))
	names = [_text(row.get(key)) for key in ("fee_name", "transaction_type")]
	known = FEE_TYPES.get(fee_type)
	if known is not None:
		_check_name(row, fee_type, known, names)
	else:
		known = next((FEE_TYPES[min(_BY_NAME[n.casefold()])] for n in names if n.casefold() in _BY_NAME), None)
	label = next((n for n in names if n), known.name if known else f"fee_type {fee_type or '?'}")
	withheld = _withheld_kind(" ".join(names))
	if withheld and (known is None or known.kind == ChargeKind.WITHHELD_TAX):
		return FeeType(label, withheld, order_fee=True)
	if known is None:
		return FeeType(label, ChargeKind.OTHER)
	return FeeType(label, known.kind, known.order_fee)


def _check_name(row: dict, fee_type: str, known: FeeType, names: list[str]) -> None:
	for name in names:
		others = _BY_NAME.get(name.casefold(), set())
		if others and fee_type not in others and all(FEE_TYPES[o].kind != known.kind for o in others):
			raise SettlementError(
				f"Lazada transaction {_text(row.get('transaction_number')) or '?'}: fee_type {fee_type} is Lazada's"
				f" {known.name!r}, but the row names it {name!r} (fee_type {', '.join(sorted(others, key=int))}):"
				" which money it is cannot be told"
			)


def _withheld_kind(name: str) -> ChargeKind | None:
	if not _WITHHOLDING.search(name):
		return None
	if _VAT.search(name):
		return ChargeKind.WITHHELD_VAT
	if _PIT.search(name):
		return ChargeKind.WITHHELD_PIT
	return ChargeKind.WITHHELD_TAX


def finance_from_transactions(rows: list[dict], currency: str = "VND") -> FinancePeriod:
	"""QueryTransactionDetails rows (several orders, several pages) -> settlements per order_no and
	adjustments, in the order Lazada listed them; payouts are left to payouts_from_statements.

	A row listed twice (same transaction_number, same content: overlapping pages) counts once; two
	different rows under one transaction_number raise SettlementError."""
	by_order: dict[str, list[tuple[dict, FeeType]]] = {}
	unreadable: dict[str, str] = {}  # order -> why one of its rows could not be read
	adjustments = []
	for row in unique_transactions(rows):
		order_id = _text(row.get("order_no"))
		try:
			fee = fee_type_of(row)
		except SettlementError as exc:
			if not order_id:
				raise
			unreadable.setdefault(order_id, str(exc))
			by_order.setdefault(order_id, [])
			continue
		if order_id and fee.order_fee:
			by_order.setdefault(order_id, []).append((row, fee))
		else:
			adjustments.append(_adjustment(row, fee, currency))
	settlements = [
		_readable_settlement(order_id, entries, currency, unreadable.get(order_id), rows)
		for order_id, entries in by_order.items()
	]
	return FinancePeriod(settlements=settlements, adjustments=adjustments)


def _readable_settlement(order_id: str, entries, currency: str, problem: str | None, rows: list[dict]) -> OrderSettlement:
	"""The order's settlement; one whose rows cannot be read comes back unreadable, naming why,
	so it is booked for review and never holds up the other orders of the period."""
	if not problem:
		try:
			return _settlement(order_id, entries, currency)
		except SettlementError as exc:
			problem = str(exc)
	own = [row for row in rows if isinstance(row, dict) and _text(row.get("order_no")) == order_id]
	paid = sum((to_money(row.get("amount"), currency) for row in own if _is_number(row.get("amount"))), Decimal(0))
	return OrderSettlement.unreadable(order_id, paid, f"order {order_id}: {problem}", currency=currency, raw={"transactions": own})


def _is_number(value) -> bool:
	try:
		to_money(value)
		return True
	except Exception:
		return False


def order_settlement(order_id: str, rows: list[dict], currency: str = "VND") -> OrderSettlement | None:
	"""The settlement of one order from its QueryTransactionDetails rows (rows of other orders and
	adjustments are left out); None when Lazada has posted nothing for it."""
	period = finance_from_transactions(rows, currency)
	return next((s for s in period.settlements if s.order_id == str(order_id)), None)


def unique_transactions(rows: list[dict]) -> list[dict]:
	"""Rows once each, by transaction_number; SettlementError for a number carrying two different rows."""
	if not isinstance(rows, list):
		raise SettlementError("Lazada transactions must be a list")
	seen: dict[str, dict] = {}
	unique = []
	for index, row in enumerate(rows, 1):
		if not isinstance(row, dict):
			raise SettlementError(f"Lazada transaction {index} must be an object")
		number = _text(row.get("transaction_number"))
		if number and number in seen:
			if seen[number] != row:
				raise SettlementError(f"Lazada transaction {number} is listed twice with different figures")
			continue
		seen[number] = row
		unique.append(row)
	return unique


def _settlement(order_id: str, entries: list[tuple[dict, FeeType]], currency: str) -> OrderSettlement:
	revenue, payout = Decimal(0), Decimal(0)
	charges: dict[tuple[ChargeKind, str], Decimal] = {}
	for row, fee in entries:
		amount = _amount(row, currency)
		payout += amount
		if fee.kind is SALE:
			revenue += amount
		else:
			key = (fee.kind, fee.name)
			charges[key] = charges.get(key, Decimal(0)) - amount
	rows = [row for row, _ in entries]
	latest = max(rows, key=lambda row: _date(row) or date.min)
	settlement = OrderSettlement(
		order_id=order_id,
		revenue=revenue,
		charges=[Charge(kind, amount, label) for (kind, label), amount in charges.items() if amount],
		payout=payout,
		currency=currency,
		# a posted transaction is Lazada's own ledger entry, corrected only by further rows: final
		# as posted; paid_status says only whether its statement has been paid out yet
		final=True,
		settled_on=_date(latest),
		payout_id=_text(latest.get("statement")),
		# the rows it adds up: a later read holding more of the order's rows supersedes this one
		reference="+".join(_text(row.get("transaction_number")) or _row_id(row) for row in rows),
		raw={"transactions": rows},
	)
	settlement.check()
	return settlement


def _adjustment(row: dict, fee: FeeType, currency: str) -> Adjustment:
	kind = fee.kind if fee.kind is not SALE else ChargeKind.OTHER
	return Adjustment(
		adjustment_id=_text(row.get("transaction_number")) or _row_id(row),
		kind=kind,
		amount=-_amount(row, currency),
		label=fee.name,
		posted_on=_date(row),
		order_id=_text(row.get("order_no")),
		currency=currency,
		payout_id=_text(row.get("statement")),
		raw=row,
	)


def payouts_from_statements(rows: list[dict], currency: str = "VND") -> list[Payout]:
	"""GetPayoutStatus "data" -> one Payout per statement, each statement once."""
	if not isinstance(rows, list):
		raise SettlementError("Lazada payout statements must be a list")
	payouts: dict[str, Payout] = {}
	for row in rows:
		payout = payout_from_statement(row, currency)
		payouts[payout.payout_id] = payout
	return list(payouts.values())


def payout_from_statement(row: dict, currency: str = "VND") -> Payout:
	"""One GetPayoutStatus statement -> Payout: amount is its `payout` ("99303.00 VND": the amount
	then the currency), paid when `paid` is 1 (then paid_on is the statement's last update).

	SettlementError when the statement has no number, its payout is no amount or is negative, or
	it is in another currency than the shop's. Its subtotals are not booked, so not checked."""
	if not isinstance(row, dict):
		raise SettlementError("Lazada payout statement must be an object")
	number = _text(row.get("statement_number"))
	if not number:
		raise SettlementError("Lazada payout statement has no statement_number")
	amount, stated_currency = _payout_amount(row.get("payout"), currency, number)
	if stated_currency and stated_currency != currency.upper():
		raise SettlementError(f"Lazada statement {number} pays out in {stated_currency}, not the shop's {currency.upper()}")
	if amount < 0:
		raise SettlementError(f"Lazada statement {number} pays out a negative amount ({amount})")
	paid = _text(row.get("paid")).casefold() in PAID_WORDS
	stamp = _datetime(row.get("updated_at")) or _datetime(row.get("created_at"))
	return Payout(
		payout_id=number,
		amount=amount,
		paid_on=stamp.date() if paid and stamp else None,
		currency=currency.upper(),
		paid=paid,
		raw=row,
	)


def statement_created_at(row: dict) -> datetime | None:
	"""When Lazada created a GetPayoutStatus statement (its local time, no zone), if it says."""
	return _datetime(row.get("created_at")) if isinstance(row, dict) else None


def _payout_amount(value, currency: str, number: str) -> tuple[Decimal, str]:
	text = _text(value)
	match = re.fullmatch(r"(-?[\d.,]+)\s*([A-Za-z]{3})?", text)
	if not match:
		raise SettlementError(f"Lazada statement {number}: payout {text!r} is not an amount")
	stated = (match.group(2) or "").upper()
	return _money(match.group(1), stated or currency, f"statement {number} payout"), stated


def _amount(row: dict, currency: str) -> Decimal:
	return _money(row.get("amount"), currency, f"transaction {_text(row.get('transaction_number')) or '?'} amount")


def _money(value, currency: str, where: str) -> Decimal:
	if value is None or (isinstance(value, str) and not value.strip()):
		raise SettlementError(f"Lazada {where} is missing")
	try:
		return to_money(value, currency, f"Lazada {where}")
	except InvalidOrder as exc:
		raise SettlementError(str(exc)) from None


def _date(row: dict) -> date | None:
	text = _text(row.get("transaction_date"))
	for pattern in ("%d %b %Y", "%Y-%m-%d"):
		try:
			return datetime.strptime(text, pattern).date()
		except ValueError:
			continue
	return None


def _datetime(value) -> datetime | None:
	try:
		return datetime.fromisoformat(_text(value))
	except ValueError:
		return None


def _row_id(row: dict) -> str:
	"""A stable id for a row Lazada gave no transaction_number: the same row always gets the same."""
	return "LZ-" + hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _text(value) -> str:
	return "" if value is None else str(value).strip()
