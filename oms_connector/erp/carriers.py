"""A Delivery Note's parcel to the best carrier: quotes from every enabled Carrier Account, the
operator's rule, the choice and why on the note, then the booking with tracking number and label.

The booking's reference is the Delivery Note's name, so a retry after a timeout finds the first
booking at the carrier instead of making a second one.
"""

from __future__ import annotations

import json
from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import cint, flt

from oms_connector.connectors.carrier import CarrierConnector
from oms_connector.connectors.ghn.client import GHNConnector
from oms_connector.connectors.ghtk.client import GHTKConnector
from oms_connector.connectors.rate_shopping import gather_quotes
from oms_connector.connectors.viettelpost.client import ViettelPostConnector
from oms_connector.domain.rate_shopping import Rule, choose
from oms_connector.domain.shipping import Address, AddressProblem, CarrierConfig, Parcel, ParcelItem, Quote
from oms_connector.erp import fieldnames

CONNECTORS: dict[str, type[CarrierConnector]] = {"GHN": GHNConnector, "GHTK": GHTKConnector, "Viettel Post": ViettelPostConnector}
DEFAULT_ITEM_WEIGHT_G = 500  # an item with no weight set still weighs something to a carrier
GRAMS = {"g": 1, "gram": 1, "kg": 1000, "kilogram": 1000}


def connector_for(account) -> CarrierConnector:
	if isinstance(account, str):
		account = frappe.get_doc("Carrier Account", account)
	config = CarrierConfig(
		base_url=account.api_base_url or "",
		token=account.get_password("token", raise_exception=False) or "",
		shop_id=account.shop_id or "",
		username=account.username or "",
		password=account.get_password("password", raise_exception=False) or "",
		webhook_secret=account.get_password("webhook_secret", raise_exception=False) or "",
	)
	return CONNECTORS[account.carrier](config)


def quote_delivery_note(delivery_note: str) -> dict:
	"""Ask every enabled Carrier Account of the note's company (and warehouse) for the parcel's
	services, choose by the accounts' rule and write quotes, choice and reason onto the note."""
	dn = frappe.get_doc("Delivery Note", delivery_note)
	accounts = _accounts_for(dn)
	if not accounts:
		frappe.throw(_("No enabled Carrier Account ships from {0} for {1}").format(_source_warehouse(dn), dn.company))
	receiver = receiver_address(dn)
	parcel = parcel_of(dn)
	refused = {account.carrier: why for account in accounts if (why := _refuses(account, parcel))}
	carriers = [(connector_for(a), pickup_address(a)) for a in accounts if a.carrier not in refused]
	quotes, problems = gather_quotes(carriers, receiver, parcel) if carriers else ([], {})
	problems.update(refused)
	by_carrier = {account.carrier: account for account in accounts}
	choice = choose(quotes, Rule(accounts[0].choice_rule or Rule.CHEAPEST.value), None, problems)
	values = {
		fieldnames.CARRIER_QUOTES: json.dumps([_quote_row(q) for q in choice.quotes] + [{"carrier": c, "problem": p} for c, p in problems.items()], ensure_ascii=False),
		fieldnames.CARRIER_CHOICE: choice.reason,
		fieldnames.CARRIER_ACCOUNT: by_carrier[choice.quote.carrier].name if choice.quote else None,
		fieldnames.CARRIER_SERVICE: choice.quote.service_id if choice.quote else None,
		fieldnames.CARRIER_FEE: float(choice.quote.fee) if choice.quote else 0,
	}
	frappe.db.set_value("Delivery Note", dn.name, values)
	return {"reason": choice.reason, "quotes": len(choice.quotes), "problems": problems}


def book_delivery_note(delivery_note: str) -> dict:
	"""Book the chosen (or hand-picked) service for the note's parcel; tracking number onto the
	note and its Channel Order, the label attached to the note."""
	dn = frappe.get_doc("Delivery Note", delivery_note)
	if dn.get(fieldnames.TRACKING_NUMBER):
		return {"tracking_number": dn.get(fieldnames.TRACKING_NUMBER), "booked": False}
	account_name, service = dn.get(fieldnames.CARRIER_ACCOUNT), dn.get(fieldnames.CARRIER_SERVICE)
	if not account_name or not service:
		frappe.throw(_("Choose a carrier service first (Carrier → Get Quotes)"))
	account = frappe.get_doc("Carrier Account", account_name)
	connector = connector_for(account)
	sender, receiver = connector.resolve_address(pickup_address(account)), connector.resolve_address(receiver_address(dn))
	booked = connector.create(sender, receiver, parcel_of(dn, account), service, dn.name, note=dn.get("instructions") or "")
	frappe.db.set_value(
		"Delivery Note",
		dn.name,
		{fieldnames.TRACKING_NUMBER: booked.tracking_number, "lr_no": booked.tracking_number, fieldnames.CARRIER_FEE: float(booked.fee)},
	)
	if dn.get(fieldnames.CHANNEL_ORDER):
		frappe.db.set_value("Channel Order", dn.get(fieldnames.CHANNEL_ORDER), "tracking_number", booked.tracking_number)
	_attach_label(dn.name, connector, booked.tracking_number)
	return {"tracking_number": booked.tracking_number, "booked": True}


def parcel_of(dn, account=None) -> Parcel:
	"""The note's goods as a parcel: weights from the items (their weight per unit), the order's
	COD when the buyer pays on delivery, the goods' value to insure above the account's limit."""
	items, weight = [], 0
	for row in dn.items:
		if not frappe.get_cached_value("Item", row.item_code, "is_stock_item"):
			continue  # the shipping fee line is no parcel
		unit_g = _grams(row.weight_per_unit, row.weight_uom) or DEFAULT_ITEM_WEIGHT_G
		qty = cint(row.qty) or 1
		weight += unit_g * qty
		items.append(ParcelItem(name=(row.item_name or row.item_code)[:100], qty=qty, sku=row.item_code, weight_g=unit_g, value=Decimal(str(flt(row.amount)))))
	value = sum((item.value for item in items), Decimal(0))
	cod = Decimal(str(flt(dn.grand_total))) if _is_cod(dn) else Decimal(0)
	insure_above = flt(account.insure_above) if account else 0
	return Parcel(weight_g=max(weight, 1), value=value, cod_amount=cod, items=items, insured=bool(insure_above and value > insure_above))


def pickup_address(account) -> Address:
	return Address(
		name=account.pickup_name, phone=account.pickup_phone, line1=account.pickup_line1,
		ward=account.pickup_ward or "", district=account.pickup_district or "", province=account.pickup_province,
	)


def receiver_address(dn) -> Address:
	"""The buyer's address as the order gave it (ward, district, province apart), else the
	note's shipping Address; an address a carrier can't place is held with its reason."""
	order_name = dn.get(fieldnames.CHANNEL_ORDER)
	normalized = frappe.db.get_value("Channel Order", order_name, "normalized_order") if order_name else None
	given = (json.loads(normalized).get("shipping_address") or {}) if normalized else {}
	if given.get("line1"):
		return Address(
			name=given.get("full_name") or dn.customer_name, phone=given.get("phone") or "", line1=given["line1"],
			ward=given.get("ward") or "", district=given.get("district") or "", province=given.get("province") or "",
		)
	if not dn.shipping_address_name:
		raise AddressProblem(_("Delivery Note {0} has no shipping address").format(dn.name))
	address = frappe.get_doc("Address", dn.shipping_address_name)
	return Address(name=dn.customer_name, phone=address.phone or "", line1=address.address_line1, district=address.city or "", province=address.state or "")


def _accounts_for(dn) -> list:
	warehouse = _source_warehouse(dn)
	accounts = frappe.get_all(
		"Carrier Account", filters={"enabled": 1, "company": dn.company}, fields=["name", "warehouse"], order_by="account_name asc"
	)
	return [frappe.get_doc("Carrier Account", row.name) for row in accounts if not row.warehouse or row.warehouse == warehouse]


def _refuses(account, parcel: Parcel) -> str:
	"""Why the account's rules keep it from this parcel ("" when they don't)."""
	if parcel.cod_amount and not account.allow_cod:
		return _("does not collect COD on this account")
	if parcel.cod_amount and flt(account.max_cod_amount) and parcel.cod_amount > Decimal(str(flt(account.max_cod_amount))):
		return _("collects at most {0} COD per parcel on this account").format(account.max_cod_amount)
	return ""


def _source_warehouse(dn) -> str:
	return next((row.warehouse for row in dn.items if row.warehouse), "")


def _is_cod(dn) -> bool:
	order_name = dn.get(fieldnames.CHANNEL_ORDER)
	return bool(order_name) and frappe.db.get_value("Channel Order", order_name, "payment_method") == "COD"


def _grams(weight, uom) -> int:
	factor = GRAMS.get((uom or "").strip().lower())
	return int(flt(weight) * factor) if factor and flt(weight) > 0 else 0


def _quote_row(quote: Quote) -> dict:
	return {
		"carrier": quote.carrier,
		"service_id": quote.service_id,
		"service": quote.service_name,
		"fee": float(quote.fee),
		"expected_delivery": quote.expected_delivery.isoformat() if quote.expected_delivery else None,
	}


def _attach_label(delivery_note: str, connector: CarrierConnector, tracking_number: str) -> None:
	pdf = connector.label([tracking_number])
	frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"label-{tracking_number}.pdf",
			"attached_to_doctype": "Delivery Note",
			"attached_to_name": delivery_note,
			"content": pdf,
			"is_private": 1,
		}
	).insert(ignore_permissions=True)
