"""The ERPNext documents of a channel order, made with ERPNext's own mapping functions.

Every document carries `oms_channel_order`, so what exists is always read back from
ERPNext itself (`current_state`) instead of being remembered separately.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from zoneinfo import ZoneInfo

import frappe
from frappe.utils import (
	add_days,
	flt,
	get_system_timezone,
	getdate,
	now_datetime,
	nowdate,
)

from oms_connector.domain.lifecycle import Action, DocumentState
from oms_connector.domain.order import ChannelOrder, OrderStatus, PaymentMethod, currency_decimals
from oms_connector.erp import fieldnames

LINK_FIELD = fieldnames.CHANNEL_ORDER


class MissingPrice(Exception):
	"""Lines ERPNext must price found no price in the channel's price list on the order date."""

	def __init__(self, item_codes: list[str], price_list: str):
		super().__init__(
			frappe._("No price in price list {0} on the order date for: {1}").format(price_list, ", ".join(item_codes))
		)
		self.item_codes = item_codes


def local_datetime(value):
	"""Platform timestamps are often UTC; ERPNext dates are in the site's time zone."""
	if value is None:
		return now_datetime()
	if value.tzinfo is not None:
		value = value.astimezone(ZoneInfo(get_system_timezone())).replace(tzinfo=None)
	return value


# --- what exists -------------------------------------------------------------------------


def _docs(doctype: str, order_name: str, fields: list[str], **filters) -> list:
	return frappe.get_all(
		doctype, filters={LINK_FIELD: order_name, **filters}, fields=["name", *fields], order_by="creation asc"
	)


def load_documents(order_name: str) -> dict[str, list]:
	"""Every document made for a channel order, in four queries."""
	return {
		"Sales Order": _docs("Sales Order", order_name, ["docstatus", "per_delivered"]),
		"Delivery Note": _docs("Delivery Note", order_name, ["docstatus", "is_return", "per_billed"]),
		"Sales Invoice": _docs("Sales Invoice", order_name, ["docstatus", "is_return", "outstanding_amount"]),
		"Payment Entry": _docs("Payment Entry", order_name, ["docstatus"]),
	}


def current_state(documents: dict[str, list]) -> DocumentState:
	sales_orders = [so for so in documents["Sales Order"] if so.docstatus != 0]
	submitted = [so for so in sales_orders if so.docstatus == 1]
	deliveries = [dn for dn in documents["Delivery Note"] if dn.docstatus == 1]
	invoices = [si for si in documents["Sales Invoice"] if si.docstatus == 1]
	forward_deliveries = [dn for dn in deliveries if not dn.is_return]
	forward_invoices = [si for si in invoices if not si.is_return]
	# a return lowers ERPNext's delivered and billed percentages: what left and was billed still did
	returned = any(dn.is_return for dn in deliveries)
	return DocumentState(
		sales_order=bool(submitted),
		sales_order_cancelled=bool(sales_orders) and not submitted,
		delivered=bool(submitted)
		and (all(flt(so.per_delivered) >= 99.99 for so in submitted) or (returned and bool(forward_deliveries))),
		invoiced=bool(forward_invoices)
		and (returned or all(flt(dn.per_billed) >= 99.99 for dn in forward_deliveries)),
		paid=bool(forward_invoices) and all(flt(si.outstanding_amount) <= 0 for si in forward_invoices),
		return_delivery=any(dn.is_return for dn in deliveries),
		credit_note=any(si.is_return for si in invoices),
	)


def order_state(doc, order: ChannelOrder, documents: dict[str, list]) -> DocumentState:
	"""What exists, where a partial return counts as booked only once every unit the buyer sent
	back so far is on a return (a later event may report more units returned)."""
	state = current_state(documents)
	if not order.returned_lines:
		return state
	return dataclasses.replace(
		state,
		return_delivery=state.return_delivery and not returns_to_book(doc, order, "Delivery Note"),
		credit_note=state.credit_note and not returns_to_book(doc, order, "Sales Invoice"),
	)


def returns_to_book(doc, order: ChannelOrder, doctype: str) -> dict[str, float] | None:
	"""Per item, what the buyer reported returned that no submitted return `doctype` holds yet;
	None when the whole order came back (every return takes all that is left)."""
	if not order.returned_lines:
		return None
	sku_item = _sku_to_item(doc)
	reported: dict[str, float] = {}
	for sku, qty in order.returned_lines.items():
		if sku in sku_item:
			reported[sku_item[sku]] = reported.get(sku_item[sku], 0) + flt(qty)
	booked = _returned_so_far(doc.name, doctype)
	return {item: qty - booked.get(item, 0) for item, qty in reported.items() if qty - booked.get(item, 0) > 0}


def _returned_so_far(order_name: str, doctype: str) -> dict[str, float]:
	rows = frappe.db.sql(
		f"""select item.item_code, sum(-item.qty) from `tab{doctype} Item` item
		join `tab{doctype}` parent on parent.name = item.parent
		where parent.`{LINK_FIELD}` = %s and parent.docstatus = 1 and parent.is_return = 1
		group by item.item_code""",
		order_name,
	)
	return {item: flt(qty) for item, qty in rows}


def main_sales_order(documents: dict[str, list]) -> str | None:
	names = [so.name for so in documents["Sales Order"] if so.docstatus != 0]
	return names[0] if names else None


PURPOSES = {
	("Sales Order", 0): "Sales Order",
	("Delivery Note", 0): "Delivery",
	("Delivery Note", 1): "Return Delivery",
	("Sales Invoice", 0): "Invoice",
	("Sales Invoice", 1): "Credit Note",
	("Payment Entry", 0): "Payment",
}
DOCSTATUS_LABELS = {0: "Draft", 1: "Submitted", 2: "Cancelled"}


def document_rows(documents: dict[str, list]) -> list[dict]:
	return [
		{
			"document_type": doctype,
			"document_name": doc.name,
			"purpose": PURPOSES[(doctype, int(doc.get("is_return") or 0))],
			"docstatus_label": DOCSTATUS_LABELS[doc.docstatus],
		}
		for doctype, docs in documents.items()
		for doc in docs
	]


# --- the Sales Order ---------------------------------------------------------------------


def withdraw_sales_order_for_rerouting(doc) -> None:
	"""Cancel the order's unshipped Sales Order so routing can make its amendment."""
	for so in _submitted_sales_orders(doc.name):
		if frappe.db.exists("Delivery Note Item", {"against_sales_order": so.name, "docstatus": 1}):
			frappe.throw(frappe._("Sales Order {0} has shipped; it can no longer be re-routed").format(so.name))
		sales_order = frappe.get_doc("Sales Order", so.name)
		sales_order.flags.ignore_permissions = True
		sales_order.cancel()
		# unlinked, so the lifecycle sees no Sales Order yet; the amendment keeps the trail
		frappe.db.set_value("Sales Order", so.name, LINK_FIELD, None, update_modified=False)
		doc.flags.amended_from = so.name
	doc.sales_order = None


def platform_funds_discounts(channel) -> bool:
	"""A channel that settles through a clearing account (every marketplace) is paid what its
	platform funds of a discount; on the shop's own channels every discount is the shop's."""
	return bool(channel.get("clearing_account"))


def _split_line_discount(line, currency: str, platform_funded: bool) -> tuple[Decimal, Decimal]:
	"""(discount per unit, what is left for the order-level discount) for one line.

	Where the platform funds its part of a discount only the seller's own lowers the sale.
	A discount that divides evenly over its units goes on the item row; the rest would need
	fractions of the smallest coin, so it is booked as order-level discount.
	"""
	discount = line.seller_discount + (0 if platform_funded else line.platform_discount)
	if not discount:
		return Decimal(0), Decimal(0)
	quantum = Decimal(1).scaleb(-currency_decimals(currency))
	per_unit = (discount / line.qty).quantize(quantum, rounding="ROUND_DOWN")
	return per_unit, discount - per_unit * line.qty


def create_sales_order(doc, channel, order: ChannelOrder, customer, address, item_codes, warehouses) -> str:
	transaction_date = getdate(local_datetime(order.created_at))
	delivery_days = frappe.db.get_single_value("OMS Settings", "default_delivery_days") or 3
	delivery_date = add_days(max(transaction_date, getdate(nowdate())), delivery_days)
	platform_priced = not any(line.priced_by_erp for line in order.lines)
	funded = platform_funds_discounts(channel)

	so = frappe.new_doc("Sales Order")
	if channel.sales_order_naming_series:
		so.naming_series = channel.sales_order_naming_series
	so.update(
		{
			"company": channel.company,
			"customer": customer,
			"order_type": "Sales",
			"currency": channel.currency,
			"selling_price_list": channel.selling_price_list,
			"ignore_pricing_rule": 1 if platform_priced else 0,
			"po_no": order.external_order_id[:140],
			"po_date": transaction_date,
			"transaction_date": transaction_date,
			"delivery_date": delivery_date,
			"customer_address": address,
			"shipping_address_name": address,
			"disable_rounded_total": 1,
			"apply_discount_on": "Grand Total",
			LINK_FIELD: doc.name,
			fieldnames.SALES_CHANNEL: channel.name,
			fieldnames.BUYER_PAID: float(order.buyer_paid),
			fieldnames.PLATFORM_FUNDED: float(order.platform_funded) if funded else 0,
		}
	)
	if channel.cost_center:
		so.cost_center = channel.cost_center
	if doc.flags.get("amended_from"):
		so.amended_from = doc.flags.amended_from
	if frappe.db.get_single_value("Stock Settings", "enable_stock_reservation"):
		so.reserve_stock = 1  # ERPNext makes Stock Reservation Entries for the routed rows

	order_level_discount = order.seller_voucher + (0 if funded else order.platform_voucher)
	for line in order.lines:
		for warehouse, qty in warehouses[line.sku]:
			row = {
				"item_code": item_codes[line.sku],
				"qty": float(qty),
				"warehouse": warehouse,
				"delivery_date": delivery_date,
				"description": line.title or None,
			}
			if not line.priced_by_erp:
				per_unit, _rest = _split_line_discount(line, order.currency, funded)
				row.update(
					{
						"price_list_rate": float(line.unit_price),
						"rate": float(line.unit_price - per_unit),
						"discount_amount": float(per_unit),
					}
				)
			so.append("items", row)
		if not line.priced_by_erp:
			order_level_discount += _split_line_discount(line, order.currency, funded)[1]

	_add_taxes_and_shipping(so, channel, order, platform_priced)
	if order_level_discount:
		so.discount_amount = float(order_level_discount)
	so.insert(ignore_permissions=True)
	_refuse_unpriced_lines(so, order, item_codes, channel.selling_price_list)
	if platform_priced:
		_match_sale(so, order, funded)
	so.submit()
	if not platform_priced:
		doc.grand_total = so.grand_total
	return so.name


def _refuse_unpriced_lines(so, order: ChannelOrder, item_codes, price_list: str) -> None:
	"""A line left to ERPNext's price list that found no price would be sold at 0."""
	erp_priced = {item_codes[line.sku] for line in order.lines if line.priced_by_erp}
	unpriced = sorted({row.item_code for row in so.items if row.item_code in erp_priced and not flt(row.price_list_rate)})
	if unpriced:
		raise MissingPrice(unpriced, price_list)


def _add_taxes_and_shipping(so, channel, order: ChannelOrder, platform_priced: bool) -> None:
	if channel.taxes_and_charges:
		so.taxes_and_charges = channel.taxes_and_charges
		template = frappe.get_cached_doc("Sales Taxes and Charges Template", channel.taxes_and_charges)
		for tax in template.taxes:
			row = {
				key: tax.get(key)
				for key in (
					"charge_type",
					"account_head",
					"description",
					"rate",
					"cost_center",
					"included_in_print_rate",
					"row_id",
					"tax_amount",
				)
			}
			if platform_priced and row["charge_type"] == "On Net Total":
				row["included_in_print_rate"] = 1  # what the buyer paid already holds the VAT
			so.append("taxes", row)
	if not order.shipping_fee:
		return
	if channel.shipping_fee_item:
		so.append(
			"items",
			{
				"item_code": channel.shipping_fee_item,
				"qty": 1,
				"rate": float(order.shipping_fee),
				"price_list_rate": float(order.shipping_fee),
				"delivery_date": so.delivery_date,
			},
		)
	else:
		so.append(
			"taxes",
			{
				"charge_type": "Actual",
				"account_head": channel.shipping_fee_account,
				"description": "Shipping fee",
				"tax_amount": float(order.shipping_fee),
				"cost_center": channel.cost_center
				or frappe.get_cached_value("Company", channel.company, "cost_center"),
			},
		)


def _match_sale(so, order: ChannelOrder, platform_funded: bool) -> None:
	"""The Sales Order must total the sale: what the buyer paid, plus what the platform funds
	where it pays the seller for it. ERPNext's rounding of an inclusive tax spread over a
	discount can leave a coin or two, which the order-level discount absorbs."""
	target = flt(order.seller_revenue if platform_funded else order.buyer_paid)
	difference = flt(so.grand_total - target, so.precision("grand_total"))
	if difference:
		so.discount_amount = flt(so.discount_amount) + difference
		so.save(ignore_permissions=True)
	if flt(so.grand_total - target, so.precision("grand_total")):
		frappe.throw(
			frappe._(
				"Sales Order total {0} does not equal the sale ({1}: the buyer paid {2}, the platform funds {3}); "
				"check the channel's tax template and shipping settings"
			).format(so.grand_total, target, order.buyer_paid, order.platform_funded if platform_funded else 0)
		)


# --- later steps ------------------------------------------------------------------------


def _submitted_sales_orders(order_name: str) -> list:
	return _docs("Sales Order", order_name, ["per_delivered"], docstatus=1)


def _sku_to_item(doc) -> dict[str, str]:
	return {row.sku: row.item_code for row in doc.items if row.item_code}


def make_delivery_notes(doc, channel, order: ChannelOrder) -> None:
	"""A Delivery Note per package that shipped with its own lines, and one for whatever else left."""
	from erpnext.selling.doctype.sales_order.sales_order import make_delivery_note

	shipped_packages = set(
		frappe.get_all(
			"Delivery Note", filters={LINK_FIELD: doc.name, "docstatus": 1, "is_return": 0}, pluck=fieldnames.PACKAGE_ID
		)
	)
	sku_item = _sku_to_item(doc)
	explicit = [s for s in order.shipments if s.lines]
	ship_all = not explicit or order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.RETURNED)
	plans = [
		(s, {sku_item[sku]: qty for sku, qty in s.lines.items() if sku in sku_item})
		for s in explicit
		if s.package_id not in shipped_packages
	]
	if ship_all:
		tracking = ", ".join(s.tracking_number for s in order.shipments if s.tracking_number and not s.lines)
		plans.append((None, None))
	else:
		tracking = ""
	goods = set(sku_item.values())
	for shipment, limits in plans:
		for so in _submitted_sales_orders(doc.name):
			if flt(so.per_delivered) >= 99.99:
				continue
			dn = make_delivery_note(so.name)
			if limits is not None:
				_limit_rows(dn, limits, goods)
			if not dn.get("items"):
				continue
			dn.set_posting_time = 1
			dn.posting_date = nowdate()
			dn.set(LINK_FIELD, doc.name)
			dn.oms_package_id = shipment.package_id if shipment else None
			dn.oms_tracking_number = (shipment.tracking_number if shipment else tracking) or None
			dn.lr_no = dn.oms_tracking_number
			dn.insert(ignore_permissions=True)
			dn.submit()


def _limit_rows(dn, limits: dict[str, Decimal], goods: set[str]) -> None:
	"""Keep the package's goods; rows that are no order line (the shipping fee item) go whole
	with the first package, as a platform's package lists only the goods."""
	remaining = {item: flt(qty) for item, qty in limits.items()}
	kept = []
	for row in dn.items:
		if row.item_code not in goods:
			kept.append(row)
			continue
		take = min(flt(row.qty), remaining.get(row.item_code, 0))
		if take > 0:
			row.qty = take
			remaining[row.item_code] -= take
			kept.append(row)
	if not any(row.item_code in goods for row in kept):
		kept = []  # none of this package's goods are on this Sales Order
	dn.set("items", kept)
	if kept:
		dn.run_method("calculate_taxes_and_totals")


def make_sales_invoices(doc, channel, order: ChannelOrder) -> None:
	from erpnext.stock.doctype.delivery_note.delivery_note import make_sales_invoice

	for dn in _docs("Delivery Note", doc.name, ["per_billed"], docstatus=1, is_return=0):
		if flt(dn.per_billed) >= 99.99:
			continue
		si = make_sales_invoice(dn.name)
		si.set(LINK_FIELD, doc.name)
		si.set_posting_time = 1
		si.posting_date = nowdate()
		si.due_date = nowdate()
		si.insert(ignore_permissions=True)
		si.submit()


def receiving_account(channel, order: ChannelOrder) -> str | None:
	"""Where the order's invoices are paid when invoiced: a marketplace's clearing account (the
	marketplace collects every payment, COD included, and owes it to the shop), else the
	prepaid account for prepaid orders; None leaves the invoice open (COD remittance)."""
	if channel.get("clearing_account"):
		return channel.clearing_account
	if order.payment_method == PaymentMethod.PREPAID:
		return channel.prepaid_payment_account or None
	return None


def make_payment_entries(doc, channel, order: ChannelOrder, account: str | None = None, reference: str | None = None) -> list[str]:
	"""Pay every open invoice of the order: into the receiving account when invoiced, COD orders
	of own channels when the carrier remits (into the account given)."""
	made = []
	for si in _docs("Sales Invoice", doc.name, ["outstanding_amount"], docstatus=1, is_return=0):
		if flt(si.outstanding_amount) <= 0:
			continue
		made.append(_pay(doc, channel, si.name, account or receiving_account(channel, order), reference or order.external_order_id))
	return made


def _pay(doc, channel, invoice: str, account: str, reference: str) -> str:
	"""ERPNext's Payment Entry for what the invoice (or credit note) leaves owed, submitted."""
	from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

	pe = get_payment_entry("Sales Invoice", invoice, bank_account=account)
	pe.reference_no = reference[:140]
	pe.reference_date = nowdate()
	pe.posting_date = nowdate()
	if channel.mode_of_payment:
		pe.mode_of_payment = channel.mode_of_payment
	pe.set(LINK_FIELD, doc.name)
	pe.insert(ignore_permissions=True)
	pe.submit()
	return pe.name


def cancel_sales_orders(doc, channel, order: ChannelOrder) -> None:
	for so in _submitted_sales_orders(doc.name):
		sales_order = frappe.get_doc("Sales Order", so.name)
		sales_order.flags.ignore_permissions = True
		sales_order.cancel()


def make_return_deliveries(doc, channel, order: ChannelOrder) -> None:
	from erpnext.stock.doctype.delivery_note.delivery_note import make_sales_return

	# one pool across packages: a line shipped in two packages comes back once
	pending = returns_to_book(doc, order, "Delivery Note")
	for dn in _docs("Delivery Note", doc.name, ["per_returned"], docstatus=1, is_return=0):
		if flt(dn.per_returned) >= 99.99 or pending == {}:
			continue
		ret = make_sales_return(dn.name)
		if pending is not None:
			_limit_return_rows(ret, pending)
		if not ret.get("items"):
			continue
		if channel.get("returns_warehouse"):
			for row in ret.items:
				row.warehouse = channel.returns_warehouse  # the channel's restock decision
		ret.set(LINK_FIELD, doc.name)
		ret.oms_package_id = None
		ret.set_posting_time = 1
		ret.posting_date = nowdate()
		ret.insert(ignore_permissions=True)
		ret.submit()


def _limit_return_rows(ret, pending: dict[str, float]) -> None:
	"""Return documents carry negative quantities; keep only what the buyer sent back and no
	return holds yet, taking it out of `pending` (shared by the order's returns)."""
	kept = []
	before = sum(abs(flt(row.qty)) * flt(row.rate) for row in ret.items)
	for row in ret.items:
		take = min(abs(flt(row.qty)), pending.get(row.item_code, 0))
		if take > 0:
			row.qty = -take
			pending[row.item_code] -= take
			if pending[row.item_code] <= 0:
				del pending[row.item_code]
			kept.append(row)
	ret.set("items", kept)
	if kept and flt(ret.get("discount_amount")) and before:
		# the order-level discount comes back in proportion to what is returned, not whole
		after = sum(abs(flt(row.qty)) * flt(row.rate) for row in kept)
		ret.discount_amount = flt(flt(ret.discount_amount) * after / before, currency_decimals(ret.currency))
	if kept:
		ret.run_method("calculate_taxes_and_totals")


def make_credit_notes(doc, channel, order: ChannelOrder) -> None:
	from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

	pending = returns_to_book(doc, order, "Sales Invoice")
	for si in _docs("Sales Invoice", doc.name, [], docstatus=1, is_return=0):
		if pending == {} or (
			pending is None and frappe.db.exists("Sales Invoice", {"return_against": si.name, "docstatus": 1})
		):
			continue
		credit = make_sales_return(si.name)
		if pending is not None:
			_limit_return_rows(credit, pending)
		if not credit.get("items"):
			continue
		credit.set(LINK_FIELD, doc.name)
		credit.set_posting_time = 1
		credit.posting_date = nowdate()
		credit.insert(ignore_permissions=True)
		credit.submit()
		_refund(doc, channel, order, credit.name)


def _refund(doc, channel, order: ChannelOrder, credit_note: str) -> None:
	"""A paid invoice's credit note is refunded from the account it was paid into (a marketplace
	refunds the buyer out of what it owes the shop): a Payment Entry (Pay) against the credit
	note, as ERPNext makes it for a return invoice that is owed."""
	account = receiving_account(channel, order)
	if not account:
		return
	if flt(frappe.db.get_value("Sales Invoice", credit_note, "outstanding_amount")) >= 0:
		return  # the invoice was not paid yet: the credit note just lowers what is owed
	_pay(doc, channel, credit_note, account, f"{order.external_order_id} refund")


ACTIONS = {
	Action.MAKE_DELIVERY_NOTE: make_delivery_notes,
	Action.MAKE_SALES_INVOICE: make_sales_invoices,
	Action.MAKE_PAYMENT_ENTRY: make_payment_entries,
	Action.CANCEL_SALES_ORDER: cancel_sales_orders,
	Action.MAKE_RETURN_DELIVERY: make_return_deliveries,
	Action.MAKE_CREDIT_NOTE: make_credit_notes,
}
