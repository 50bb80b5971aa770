"""Install, uninstall and test-site setup."""

from __future__ import annotations

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from oms_connector.erp import fieldnames

LINKED_DOCTYPES = ("Sales Order", "Delivery Note", "Sales Invoice", "Payment Entry")


def get_custom_fields() -> dict[str, list[dict]]:
	link = {
		"fieldname": fieldnames.CHANNEL_ORDER,
		"label": "Channel Order",
		"fieldtype": "Link",
		"options": "Channel Order",
		"read_only": 1,
		"in_standard_filter": 1,
		"search_index": 1,
	}
	channel = {
		"fieldname": fieldnames.SALES_CHANNEL,
		"label": "Sales Channel",
		"fieldtype": "Link",
		"options": "Sales Channel",
		"read_only": 1,
		"in_standard_filter": 1,
		"fetch_from": "oms_channel_order.sales_channel",
	}
	money = {"fieldtype": "Currency", "options": "currency", "read_only": 1, "no_copy": 1}
	fields = {
		"Sales Order": [
			{**link, "insert_after": "po_date"},
			{**channel, "insert_after": fieldnames.CHANNEL_ORDER},
			{**money, "fieldname": fieldnames.BUYER_PAID, "label": "Buyer Paid", "insert_after": fieldnames.SALES_CHANNEL},
			{
				**money,
				"fieldname": fieldnames.PLATFORM_FUNDED,
				"label": "Platform Funds",
				"insert_after": fieldnames.BUYER_PAID,
				"description": "Discounts and vouchers the platform pays for: owed to the seller, part of the total.",
			},
		],
		"Delivery Note": [
			{**link, "insert_after": "po_no"},
			{**channel, "insert_after": fieldnames.CHANNEL_ORDER},
			{
				"fieldname": fieldnames.PACKAGE_ID,
				"label": "Channel Package ID",
				"fieldtype": "Data",
				"read_only": 1,
				"no_copy": 1,
				"insert_after": fieldnames.SALES_CHANNEL,
			},
			{
				"fieldname": fieldnames.TRACKING_NUMBER,
				"label": "Tracking Number",
				"fieldtype": "Data",
				"read_only": 1,
				"no_copy": 1,
				"in_standard_filter": 1,
				"insert_after": fieldnames.PACKAGE_ID,
			},
			{
				"fieldname": fieldnames.CARRIER_ACCOUNT,
				"label": "Carrier Account",
				"fieldtype": "Link",
				"options": "Carrier Account",
				"allow_on_submit": 1,
				"no_copy": 1,
				"insert_after": fieldnames.TRACKING_NUMBER,
			},
			{
				"fieldname": fieldnames.CARRIER_SERVICE,
				"label": "Carrier Service",
				"fieldtype": "Data",
				"allow_on_submit": 1,
				"no_copy": 1,
				"insert_after": fieldnames.CARRIER_ACCOUNT,
				"description": "Chosen from the quotes; change it by hand before booking if you prefer another.",
			},
			{**money, "fieldname": fieldnames.CARRIER_FEE, "label": "Carrier Fee", "insert_after": fieldnames.CARRIER_SERVICE},
			{"fieldname": fieldnames.CARRIER_CHOICE, "label": "Why This Carrier", "fieldtype": "Small Text", "read_only": 1, "no_copy": 1, "insert_after": fieldnames.CARRIER_FEE},
			{"fieldname": fieldnames.CARRIER_QUOTES, "label": "Carrier Quotes", "fieldtype": "Code", "options": "JSON", "read_only": 1, "no_copy": 1, "insert_after": fieldnames.CARRIER_CHOICE},
		],
		"Sales Invoice": [{**link, "insert_after": "po_date"}, {**channel, "insert_after": fieldnames.CHANNEL_ORDER}],
		"Payment Entry": [{**link, "insert_after": "reference_date"}],
		"Journal Entry": [{**link, "insert_after": "cheque_date"}],
		"Customer": [
			{
				"fieldname": fieldnames.BUYER_KEY,
				"label": "Channel Buyer Key",
				"fieldtype": "Data",
				"read_only": 1,
				"no_copy": 1,
				"search_index": 1,
				"insert_after": "customer_group",
				"description": "Sales channel and the platform's buyer id, for buyers whose phone and e-mail are masked.",
			}
		],
		"Warehouse": [
			{"fieldname": "oms_section", "label": "Order Routing", "fieldtype": "Section Break", "insert_after": "company", "collapsible": 1},
			{"fieldname": fieldnames.WAREHOUSE_LATITUDE, "label": "Latitude", "fieldtype": "Float", "precision": "6", "insert_after": "oms_section"},
			{"fieldname": fieldnames.WAREHOUSE_LONGITUDE, "label": "Longitude", "fieldtype": "Float", "precision": "6", "insert_after": fieldnames.WAREHOUSE_LATITUDE},
			{"fieldname": fieldnames.WAREHOUSE_PROVINCE, "label": "Province", "fieldtype": "Data", "insert_after": fieldnames.WAREHOUSE_LONGITUDE, "description": "Used for distance when no coordinates are set."},
			{"fieldname": fieldnames.WAREHOUSE_PRIORITY, "label": "Routing Priority", "fieldtype": "Int", "default": "10", "insert_after": fieldnames.WAREHOUSE_PROVINCE, "description": "Lower wins a tie."},
			{"fieldname": "oms_column", "fieldtype": "Column Break", "insert_after": fieldnames.WAREHOUSE_PRIORITY},
			{"fieldname": fieldnames.WAREHOUSE_IS_STORE, "label": "Is a Store", "fieldtype": "Check", "insert_after": "oms_column"},
			{"fieldname": fieldnames.WAREHOUSE_PICKUP, "label": "Offers Store Pickup", "fieldtype": "Check", "insert_after": fieldnames.WAREHOUSE_IS_STORE},
			# phrased as an exception so warehouses that existed before the app still ship
			{"fieldname": fieldnames.WAREHOUSE_PICKUP_ONLY, "label": "Pickup Only (Does Not Ship)", "fieldtype": "Check", "insert_after": fieldnames.WAREHOUSE_PICKUP},
			{"fieldname": fieldnames.WAREHOUSE_DAILY_CAPACITY, "label": "Daily Order Capacity", "fieldtype": "Int", "insert_after": fieldnames.WAREHOUSE_PICKUP_ONLY, "description": "0 = no limit."},
			{"fieldname": fieldnames.WAREHOUSE_HANDLING_COST, "label": "Handling Cost per Order", "fieldtype": "Currency", "insert_after": fieldnames.WAREHOUSE_DAILY_CAPACITY},
		],
	}
	return fields


def make_custom_fields() -> None:
	create_custom_fields(get_custom_fields(), ignore_validate=True, update=True)


def after_install() -> None:
	make_custom_fields()
	ensure_default_rule()
	show_amounts_in_their_currency_format()


def show_amounts_in_their_currency_format() -> None:
	"""The site's one number format ("#.###,##" on a Vietnamese site) shows VND with two decimals
	the đồng does not have; each currency's own format ("#.###" for VND) shows it as written.
	Left alone where a fixed currency precision was chosen."""
	if frappe.db.get_single_value("System Settings", "currency_precision") in (None, ""):
		frappe.db.set_single_value("System Settings", "use_number_format_from_currency", 1)
		frappe.db.set_default("use_number_format_from_currency", 1)  # what the desk reads (sysdefaults)
		frappe.clear_cache()


def after_migrate() -> None:
	make_custom_fields()
	ensure_default_rule()


def ensure_default_rule() -> None:
	from oms_connector.erp.routing import ensure_default_rule

	ensure_default_rule()


def before_uninstall() -> None:
	"""Take our fields off ERPNext's doctypes; ERPNext's own data stays."""
	for doctype, fields in get_custom_fields().items():
		names = [field["fieldname"] for field in fields]
		for name in frappe.get_all("Custom Field", filters={"dt": doctype, "fieldname": ("in", names)}, pluck="name"):
			frappe.delete_doc("Custom Field", name, ignore_permissions=True, force=True)
		frappe.clear_cache(doctype=doctype)


TEST_COMPANY = "OMS Test Company"


def before_tests() -> None:
	"""Finish ERPNext's setup on a fresh site (a Vietnamese company in VND), as tests expect."""
	frappe.clear_cache()
	if not frappe.db.get_single_value("System Settings", "setup_complete"):
		from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

		year = frappe.utils.getdate().year
		setup_complete(
			{
				"currency": "VND",
				"full_name": "OMS Test",
				"company_name": TEST_COMPANY,
				"timezone": "Asia/Ho_Chi_Minh",
				"company_abbr": "OTC",
				"domains": ["Distribution"],
				"country": "Vietnam",
				"fy_start_date": f"{year}-01-01",
				"fy_end_date": f"{year}-12-31",
				"language": "english",
				"company_tagline": "Testing",
				"email": "oms.test@example.com",
				"password": "test",
				"chart_of_accounts": "Standard",
			}
		)
	make_custom_fields()
	ensure_default_rule()
	frappe.db.commit()
