"""The demo site: a Vietnamese shop selling on Shopee, Lazada, TikTok Shop, its own web store and
in its Đà Nẵng store, with the marketplace channels connected to the sandbox's stand-ins.

    bench --site oms-demo.localhost execute oms_connector.demo.setup.make_demo

Everything is get-or-create: a second run makes nothing twice and puts back what is missing.
A channel that exists is left as it is, so one switched to a real shop stays switched. The
records are made through ERPNext (setup wizard, Stock Reconciliation, Item Price), as a person
would make them; what they hold comes from oms_connector.sandbox.demo_shop, which the sandbox
process reads too.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import frappe
from frappe.utils import getdate, nowdate

from oms_connector.connectors.base import TokenSet
from oms_connector.erp import fieldnames, marketplace
from oms_connector.sandbox import demo_shop
from oms_connector.sandbox.demo_shop import ABBR, COMPANY, PRICE_LIST, SHIPPING_ITEM, DemoChannel

VAT_TEMPLATE_TITLE = "OMS Demo VAT 10%"


def make_demo() -> dict:
	"""Make (or complete) the demo records and commit; returns what the demo holds."""
	endpoints = site_endpoints()
	ensure_company()
	accounts = ensure_accounts()
	ensure_price_list()
	warehouses = [ensure_warehouse(warehouse) for warehouse in demo_shop.WAREHOUSES]
	ensure_items()
	ensure_opening_stock(warehouses)
	for key, channel in demo_shop.MARKETPLACES.items():
		ensure_marketplace_channel(key, channel, endpoints, accounts, warehouses)
	ensure_channel(demo_shop.WEB_STORE, accounts, warehouses[:2], webhook_secret=demo_shop.WEB_STORE.app_secret)
	ensure_channel(demo_shop.STORE_PHONE, accounts, warehouses[2:], invoice_policy="On Shipment", prepaid_payment_account=accounts["cash"])
	frappe.db.commit()
	return demo_summary()  # bench execute prints it


def site_endpoints() -> demo_shop.Endpoints:
	"""Where the sandbox's stand-ins listen: the port in the site config, as the sandbox reads it."""
	return demo_shop.Endpoints(
		site=frappe.local.site,
		web_port=int(frappe.conf.get("webserver_port") or 8000),
		sandbox_port=int(frappe.conf.get(demo_shop.SANDBOX_PORT_KEY) or demo_shop.DEFAULT_SANDBOX_PORT),
	)


# --- company, accounts, price list -------------------------------------------------------------------
def ensure_company() -> None:
	"""ERPNext's setup wizard on a fresh site; on a site set up before, just the company."""
	if not frappe.is_setup_complete():
		from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

		year = getdate().year
		setup_complete(
			{
				"language": "English",
				"country": "Vietnam",
				"timezone": "Asia/Ho_Chi_Minh",
				"currency": "VND",
				"full_name": "OMS Demo",
				"company_name": COMPANY,
				"company_abbr": ABBR,
				"chart_of_accounts": "Standard",
				"fy_start_date": f"{year}-01-01",
				"fy_end_date": f"{year}-12-31",
				"company_tagline": "Omnichannel demo",
			}
		)
		frappe.db.commit()
	if not frappe.db.exists("Company", COMPANY):
		frappe.get_doc(
			{
				"doctype": "Company",
				"company_name": COMPANY,
				"abbr": ABBR,
				"country": "Vietnam",
				"default_currency": "VND",
				"chart_of_accounts": "Standard",
				"create_chart_of_accounts_based_on": "Standard Template",
			}
		).insert(ignore_permissions=True)


def ensure_accounts() -> dict:
	vat = ensure_account("OMS Demo Output VAT", "Duties and Taxes", "Tax")
	return {
		"vat": vat,
		"clearing": ensure_account("Marketplace Clearing", "Bank Accounts", "Bank"),
		"bank": ensure_payout_bank(),
		"cash": frappe.db.get_value("Account", {"company": COMPANY, "account_type": "Cash", "is_group": 0}, "name"),
		"taxes": ensure_vat_template(vat),
	}


def ensure_payout_bank() -> str:
	"""The bank account marketplace payouts reach, with its Bank Account for bank reconciliation."""
	account = ensure_account("Demo Bank Vietcombank", "Bank Accounts", "Bank")
	if not frappe.db.exists("Bank", "Vietcombank"):
		frappe.get_doc({"doctype": "Bank", "bank_name": "Vietcombank"}).insert(ignore_permissions=True)
	if not frappe.db.exists("Bank Account", {"account": account}):
		frappe.get_doc(
			{"doctype": "Bank Account", "account_name": "Demo payouts", "bank": "Vietcombank", "account": account, "company": COMPANY, "is_company_account": 1}
		).insert(ignore_permissions=True)
	return account


def ensure_account(account_name: str, parent: str, account_type: str) -> str:
	name = f"{account_name} - {ABBR}"
	if not frappe.db.exists("Account", name):
		parent_account = f"{parent} - {ABBR}"
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": account_name,
				"company": COMPANY,
				"parent_account": parent_account,
				"root_type": frappe.db.get_value("Account", parent_account, "root_type"),
				"account_type": account_type,
				"account_currency": "VND",
			}
		).insert(ignore_permissions=True)
	return name


def ensure_vat_template(vat_account: str) -> str:
	"""Marketplace prices include VAT: one On Net Total row, included in the price."""
	name = frappe.db.get_value("Sales Taxes and Charges Template", {"title": VAT_TEMPLATE_TITLE, "company": COMPANY})
	if name:
		return name
	template = frappe.get_doc(
		{
			"doctype": "Sales Taxes and Charges Template",
			"title": VAT_TEMPLATE_TITLE,
			"company": COMPANY,
			"taxes": [
				{"charge_type": "On Net Total", "account_head": vat_account, "description": "VAT 10%", "rate": 10, "included_in_print_rate": 1}
			],
		}
	).insert(ignore_permissions=True)
	return template.name


def ensure_price_list() -> None:
	if not frappe.db.exists("Price List", PRICE_LIST):
		frappe.get_doc(
			{"doctype": "Price List", "price_list_name": PRICE_LIST, "currency": "VND", "selling": 1, "enabled": 1}
		).insert(ignore_permissions=True)


# --- warehouses, items, stock ----------------------------------------------------------------------------
def ensure_warehouse(warehouse: demo_shop.DemoWarehouse) -> str:
	"""A warehouse with what routing reads: where it is, its priority, whether it is a pickup store."""
	name = demo_shop.warehouse_name(warehouse)
	routing = {
		fieldnames.WAREHOUSE_PROVINCE: warehouse.province,
		fieldnames.WAREHOUSE_LATITUDE: warehouse.latitude,
		fieldnames.WAREHOUSE_LONGITUDE: warehouse.longitude,
		fieldnames.WAREHOUSE_PRIORITY: warehouse.priority,
		fieldnames.WAREHOUSE_IS_STORE: int(warehouse.is_store),
		fieldnames.WAREHOUSE_PICKUP: int(warehouse.pickup),
	}
	if frappe.db.exists("Warehouse", name):
		frappe.db.set_value("Warehouse", name, routing)
	else:
		frappe.get_doc(
			{
				"doctype": "Warehouse",
				"warehouse_name": warehouse.name,
				"company": COMPANY,
				"parent_warehouse": f"All Warehouses - {ABBR}",
				**routing,
			}
		).insert(ignore_permissions=True)
	return name


def ensure_items() -> None:
	group = ensure_item_group()
	for item in demo_shop.ITEMS:
		ensure_item(item.code, item.name, group, is_stock_item=1, weight_kg=item.weight_kg, valuation_rate=cost_of(item))
		if not frappe.db.exists("Item Price", {"item_code": item.code, "price_list": PRICE_LIST}):
			frappe.get_doc(
				{"doctype": "Item Price", "item_code": item.code, "price_list": PRICE_LIST, "price_list_rate": item.price}
			).insert(ignore_permissions=True)
	services = "Services" if frappe.db.exists("Item Group", "Services") else group
	ensure_item(SHIPPING_ITEM, "Phí vận chuyển (Shipping fee)", services, is_stock_item=0)


def ensure_item_group() -> str:
	if not frappe.db.exists("Item Group", demo_shop.ITEM_GROUP):
		frappe.get_doc(
			{"doctype": "Item Group", "item_group_name": demo_shop.ITEM_GROUP, "parent_item_group": "All Item Groups"}
		).insert(ignore_permissions=True)
	return demo_shop.ITEM_GROUP


def ensure_item(code: str, name: str, group: str, is_stock_item: int, weight_kg: float = 0, valuation_rate: float = 0) -> None:
	if frappe.db.exists("Item", code):
		return
	frappe.get_doc(
		{
			"doctype": "Item",
			"item_code": code,
			"item_name": name,
			"item_group": group,
			"stock_uom": "Nos",
			"is_stock_item": is_stock_item,
			"include_item_in_manufacturing": 0,
			"valuation_rate": valuation_rate,
			"weight_per_unit": weight_kg,
			"weight_uom": "Kg" if weight_kg and frappe.db.exists("UOM", "Kg") else None,
		}
	).insert(ignore_permissions=True)


def cost_of(item: demo_shop.DemoItem) -> int:
	"""What the shop paid for one: 55% of the price."""
	return round(item.price * 0.55, -3)


def ensure_opening_stock(warehouses: list[str]) -> None:
	"""One Opening Stock reconciliation, once: later runs must not top up what the demo sold."""
	if frappe.db.exists("Stock Reconciliation", {"company": COMPANY, "purpose": "Opening Stock", "docstatus": 1}):
		return
	from erpnext.stock.doctype.stock_reconciliation.stock_reconciliation import get_difference_account

	entry = frappe.get_doc(
		{
			"doctype": "Stock Reconciliation",
			"company": COMPANY,
			"purpose": "Opening Stock",
			"posting_date": nowdate(),
			"expense_account": get_difference_account("Opening Stock", COMPANY),
			"items": [
				{"item_code": item.code, "warehouse": name, "qty": warehouse.opening_qty, "valuation_rate": cost_of(item)}
				for warehouse, name in zip(demo_shop.WAREHOUSES, warehouses)
				for item in demo_shop.ITEMS
			],
		}
	)
	entry.insert(ignore_permissions=True)
	entry.submit()


# --- channels ------------------------------------------------------------------------------------------
def ensure_channel(channel: DemoChannel, accounts: dict, warehouses: list[str], **values) -> bool:
	"""Make the Sales Channel if it is missing (True); an existing one is kept as it is (False)."""
	if frappe.db.exists("Sales Channel", channel.name):
		return False
	doc = frappe.new_doc("Sales Channel")
	doc.update(
		{
			"channel_name": channel.name,
			"platform": channel.platform,
			"enabled": 1,
			"company": COMPANY,
			"currency": "VND",
			"selling_price_list": PRICE_LIST,
			"customer_group": _leaf("Customer Group", "Individual"),
			"territory": _leaf("Territory", "Vietnam"),
			"shipping_fee_item": SHIPPING_ITEM,
			"taxes_and_charges": accounts["taxes"],
			"invoice_policy": "On Delivery",
			"prepaid_payment_account": accounts["clearing"],
			"stock_share_percent": 100,
			**values,
		}
	)
	by_name = {demo_shop.warehouse_name(w): w for w in demo_shop.WAREHOUSES}
	for name in warehouses:
		doc.append("warehouses", {"warehouse": name, "priority": by_name[name].priority})
	doc.insert(ignore_permissions=True)
	return True


def ensure_marketplace_channel(key: str, channel: DemoChannel, endpoints, accounts: dict, warehouses: list[str]) -> None:
	"""A marketplace channel on its stand-in, connected with the tokens the stand-in accepts."""
	url = endpoints.stand_in_url(key)
	settings = dict(channel.settings)
	if key == "shopee":
		settings["push_url"] = endpoints.registered_push_url(channel.name)  # what the stand-in signs
	made = ensure_channel(
		channel,
		accounts,
		warehouses,
		api_base_url=url + "/rest" if key == "lazada" else url,
		auth_base_url=url if key != "shopee" else "",
		app_key=channel.app_key,
		app_secret=channel.app_secret,
		shop_id=channel.shop_id,
		platform_settings=json.dumps(settings, indent=1),
		sync_stock=1,
		payout_bank_account=accounts["bank"],
	)
	if made:
		now = datetime.now(timezone.utc)
		tokens = TokenSet(
			channel.access_token,
			channel.refresh_token,
			access_expires_at=now + timedelta(seconds=demo_shop.TOKEN_LIFETIME),
			refresh_expires_at=now + timedelta(seconds=2 * demo_shop.TOKEN_LIFETIME),
		)
		marketplace.store_tokens(channel.name, tokens)
	if on_stand_in(channel.name, url):
		ensure_listings(key, channel.name)


def on_stand_in(channel_name: str, url: str) -> bool:
	"""Whether the channel still talks to the sandbox (not switched to a real shop)."""
	return (frappe.db.get_value("Sales Channel", channel_name, "api_base_url") or "").startswith(url)


def ensure_listings(key: str, channel_name: str) -> None:
	"""Each platform SKU mapped to its Item, as Pull Products would map them."""
	for item in demo_shop.ITEMS:
		listing = item.on(key)
		if frappe.db.exists("Channel Listing", {"sales_channel": channel_name, "sku": listing.sku}):
			continue
		frappe.get_doc(
			{
				"doctype": "Channel Listing",
				"sales_channel": channel_name,
				"listing_id": listing.listing_id,
				"variant_id": listing.variant_id,
				"sku": listing.sku,
				"item_code": item.code,
				"title": item.name,
			}
		).insert(ignore_permissions=True)


def _leaf(doctype: str, preferred: str) -> str:
	if frappe.db.exists(doctype, {"name": preferred, "is_group": 0}):
		return preferred
	return frappe.db.get_value(doctype, {"is_group": 0}, "name")


def demo_summary() -> dict:
	channels = frappe.get_all("Sales Channel", filters={"company": COMPANY}, fields=["name", "platform", "connection_status"])
	return {
		"company": COMPANY,
		"warehouses": frappe.get_all("Warehouse", filters={"company": COMPANY, "is_group": 0}, pluck="name"),
		"items": len(demo_shop.ITEMS),
		"channels": {row.name: f"{row.platform}, {row.connection_status}" for row in channels},
		"listings": frappe.db.count("Channel Listing", {"sales_channel": ("in", [row.name for row in channels])}),
	}
