"""Customers, contacts and addresses for channel buyers.

Buyers are merged across channels only on an unmasked phone or e-mail: marketplaces mask
them (`******89`), and two buyers whose numbers both end in 89 are not one customer.
Without one, the platform's stable buyer id keeps a repeat buyer on one customer per channel.
"""

from __future__ import annotations

import frappe

from oms_connector.domain.order import ChannelOrder, is_masked, normalize_phone
from oms_connector.erp import fieldnames


def ensure_customer(channel, order: ChannelOrder) -> tuple[str, str | None]:
	"""Find or create the order's Customer and its shipping Address. Returns (customer, address)."""
	address = order.shipping_address
	phone = order.buyer.identity_phone or (normalize_phone(address.phone) if address else None)
	email = order.buyer.identity_email
	buyer_key = f"{channel.name}:{order.buyer.platform_buyer_id}" if order.buyer.platform_buyer_id else None

	customer = _find_by_contact(phone, email) or (
		buyer_key and frappe.db.get_value("Customer", {fieldnames.BUYER_KEY: buyer_key}, "name")
	)
	if not customer:
		customer = _create_customer(channel, order, buyer_key)
	if phone or email:
		_ensure_contact(customer, order, phone, email)
	address_name = _ensure_address(customer, order) if address and address.is_complete else None
	return customer, address_name


def _find_by_contact(phone: str | None, email: str | None) -> str | None:
	for table, column, value in (("Contact Phone", "phone", phone), ("Contact Email", "email_id", email)):
		if not value:
			continue
		found = frappe.db.sql(
			f"""select dl.link_name from `tab{table}` c
			join `tabDynamic Link` dl on dl.parent = c.parent and dl.parenttype = 'Contact'
			where c.{column} = %s and dl.link_doctype = 'Customer'
			order by c.creation limit 1""",
			value,
		)
		if found:
			return found[0][0]
	return None


def _display_name(order: ChannelOrder) -> str:
	for candidate in (order.buyer.name, order.shipping_address.full_name if order.shipping_address else ""):
		if candidate and not is_masked(candidate):
			return candidate.strip()
	return f"Buyer {order.external_order_id}"


def _create_customer(channel, order: ChannelOrder, buyer_key: str | None) -> str:
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": _display_name(order),
			"customer_type": "Individual",
			"customer_group": channel.customer_group,
			"territory": channel.territory,
			"default_currency": channel.currency,
			"default_price_list": channel.selling_price_list,
			fieldnames.BUYER_KEY: buyer_key,
		}
	)
	customer.flags.ignore_mandatory = True
	# Customers may be named after the buyer ("Name - 2", "Name - 3"...), numbered from what this
	# transaction can see: two workers creating the same name at once collide, so the one that
	# lost takes a name no one else can be taking.
	frappe.db.savepoint("oms_customer")
	try:
		customer.insert(ignore_permissions=True)
	except frappe.DuplicateEntryError:
		frappe.db.rollback(save_point="oms_customer")
		customer.set("__islocal", 1)
		customer.flags.name_set = False
		unique = f"{customer.customer_name} - {frappe.generate_hash(length=6).upper()}"
		customer.insert(ignore_permissions=True, set_name=unique)
	return customer.name


def _ensure_contact(customer: str, order: ChannelOrder, phone: str | None, email: str | None) -> None:
	if _find_by_contact(phone, email) == customer:
		return
	name = _display_name(order)
	contact = frappe.get_doc({"doctype": "Contact", "first_name": name[:140]})
	if phone:
		contact.append("phone_nos", {"phone": phone, "is_primary_phone": 1, "is_primary_mobile_no": 1})
	if email:
		contact.append("email_ids", {"email_id": email, "is_primary": 1})
	contact.append("links", {"link_doctype": "Customer", "link_name": customer})
	contact.insert(ignore_permissions=True)


def _ensure_address(customer: str, order: ChannelOrder) -> str:
	address = order.shipping_address
	line2 = ", ".join(part for part in (address.line2, address.ward, address.district) if part)
	existing = frappe.db.sql(
		"""select a.name from `tabAddress` a
		join `tabDynamic Link` dl on dl.parent = a.name and dl.parenttype = 'Address'
		where dl.link_doctype = 'Customer' and dl.link_name = %s
		and a.address_line1 = %s and ifnull(a.address_line2, '') = %s and ifnull(a.state, '') = %s
		limit 1""",
		(customer, address.line1[:140], line2[:140], address.province[:140]),
	)
	if existing:
		return existing[0][0]
	doc = frappe.get_doc(
		{
			"doctype": "Address",
			"address_title": (address.full_name if not is_masked(address.full_name) else "") or customer,
			"address_type": "Shipping",
			"address_line1": address.line1[:140],
			"address_line2": line2[:140],
			"city": (address.district or address.province)[:140],
			"state": address.province[:140],
			"country": _country(address.country),
			"pincode": address.postal_code,
			"phone": address.phone,
			"is_shipping_address": 1,
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		}
	)
	doc.insert(ignore_permissions=True)
	return doc.name


def _country(name: str) -> str:
	if name and frappe.db.exists("Country", name):
		return name
	for alias in ("Vietnam", "Viet Nam"):
		if frappe.db.exists("Country", alias):
			return alias
	return frappe.db.get_default("country")
