"""Test data for the Frappe tier, made from scratch so tests never depend on a hand-made site.

Everything is get-or-create: intake commits (the payload must survive), so records outlive
a test and the next run reuses them. Order ids carry a random suffix per test.
"""

from __future__ import annotations

import frappe
from frappe.utils import add_days, flt, nowdate

COMPANY = "OMS Test Company"
ABBR = "OTC"
PRICE_LIST = "OMS Test Selling"
ITEMS = {"OMS-TSHIRT": 150000, "OMS-CAP": 99000, "OMS-MUG": 50000}
WAREHOUSES = ("OMS Hanoi", "OMS Saigon")


def wh(name: str) -> str:
	return f"{name} - {ABBR}"


def ensure_company() -> str:
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
	_ensure_fiscal_year()
	return COMPANY


def _ensure_fiscal_year():
	from erpnext.accounts.utils import get_fiscal_year

	try:
		get_fiscal_year(nowdate(), company=COMPANY)
	except Exception:
		year = frappe.utils.getdate().year
		fy = frappe.get_doc(
			{
				"doctype": "Fiscal Year",
				"year": f"OMS {year}",
				"year_start_date": f"{year}-01-01",
				"year_end_date": f"{year}-12-31",
			}
		)
		fy.append("companies", {"company": COMPANY})
		fy.insert(ignore_permissions=True)


def ensure_account(account_name: str, root_type: str, account_type: str = "", parent_hint: str = "") -> str:
	name = f"{account_name} - {ABBR}"
	if not frappe.db.exists("Account", name):
		parent = (parent_hint and frappe.db.exists("Account", f"{parent_hint} - {ABBR}")) or frappe.db.get_value(
			"Account", {"company": COMPANY, "root_type": root_type, "is_group": 1}, "name", order_by="lft desc"
		)
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": account_name,
				"company": COMPANY,
				"parent_account": parent,
				"root_type": root_type,
				"account_type": account_type,
				"account_currency": "VND",
			}
		).insert(ignore_permissions=True)
	return name


def ensure_warehouse(name: str, **routing) -> str:
	full = wh(name)
	if not frappe.db.exists("Warehouse", full):
		frappe.get_doc(
			{
				"doctype": "Warehouse",
				"warehouse_name": name,
				"company": COMPANY,
				"parent_warehouse": f"All Warehouses - {ABBR}",
			}
		).insert(ignore_permissions=True)
	if routing:
		frappe.db.set_value("Warehouse", full, routing)
	return full


def ensure_item(code: str, price: float, stock_item: bool = True, barcode: str | None = None) -> str:
	if not frappe.db.exists("Item", code):
		item = frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": code,
				"item_name": code,
				"item_group": "All Item Groups",
				"stock_uom": "Nos",
				"is_stock_item": 1 if stock_item else 0,
				"valuation_rate": price / 2,
				"weight_per_unit": 0.5,
				"weight_uom": "Kg" if frappe.db.exists("UOM", "Kg") else None,
			}
		)
		if barcode:
			item.append("barcodes", {"barcode": barcode})
		item.insert(ignore_permissions=True)
	if not frappe.db.exists("Item Price", {"item_code": code, "price_list": PRICE_LIST}):
		frappe.get_doc(
			{"doctype": "Item Price", "item_code": code, "price_list": PRICE_LIST, "price_list_rate": price}
		).insert(ignore_permissions=True)
	return code


def add_stock(item_code: str, warehouse: str, qty: float, rate: float = 50000) -> None:
	entry = frappe.get_doc(
		{
			"doctype": "Stock Entry",
			"stock_entry_type": "Material Receipt",
			"company": COMPANY,
			"items": [{"item_code": item_code, "t_warehouse": warehouse, "qty": qty, "basic_rate": rate}],
		}
	)
	entry.insert(ignore_permissions=True)
	entry.submit()


def actual_qty(item_code: str, warehouse: str) -> float:
	return flt(frappe.db.get_value("Bin", {"item_code": item_code, "warehouse": warehouse}, "actual_qty"))


def free_qty(item_code: str, warehouse: str) -> float:
	"""What new orders can still take: on hand less what open Sales Orders reserve."""
	actual, reserved = frappe.db.get_value(
		"Bin", {"item_code": item_code, "warehouse": warehouse}, ["actual_qty", "reserved_qty"]
	) or (0, 0)
	return flt(actual) - flt(reserved)


def set_stock(item_code: str, warehouse: str, qty: float) -> None:
	"""Top the warehouse up so at least `qty` is free for new orders (earlier runs' orders stay open)."""
	free = free_qty(item_code, warehouse)
	if free < qty:
		add_stock(item_code, warehouse, qty - free)


def ensure_basics() -> dict:
	ensure_company()
	if not frappe.db.exists("Price List", PRICE_LIST):
		frappe.get_doc(
			{"doctype": "Price List", "price_list_name": PRICE_LIST, "currency": "VND", "selling": 1, "enabled": 1}
		).insert(ignore_permissions=True)
	for code, price in ITEMS.items():
		ensure_item(code, price, barcode=f"893{abs(hash(code)) % 10**10:010d}" if code == "OMS-MUG" else None)
	warehouses = [ensure_warehouse(name) for name in WAREHOUSES]
	shipping = ensure_account("OMS Shipping Income", "Income", parent_hint="Direct Income")
	vat = ensure_account("OMS Output VAT", "Liability", "Tax", parent_hint="Duties and Taxes")
	template = f"OMS VAT 10% - {ABBR}"
	if not frappe.db.exists("Sales Taxes and Charges Template", template):
		frappe.get_doc(
			{
				"doctype": "Sales Taxes and Charges Template",
				"title": "OMS VAT 10%",
				"company": COMPANY,
				"taxes": [
					{
						"charge_type": "On Net Total",
						"account_head": vat,
						"description": "VAT 10%",
						"rate": 10,
						"included_in_print_rate": 1,
					}
				],
			}
		).insert(ignore_permissions=True)
	cash = frappe.db.get_value("Account", {"company": COMPANY, "account_type": "Cash", "is_group": 0}, "name")
	return {"warehouses": warehouses, "shipping": shipping, "vat": vat, "template": template, "cash": cash}


def ensure_channel(name: str, platform: str = "Custom API", **values) -> str:
	basics = ensure_basics()
	doc = frappe.get_doc("Sales Channel", name) if frappe.db.exists("Sales Channel", name) else frappe.new_doc("Sales Channel")
	doc.update(
		{
			"channel_name": name,
			"platform": platform,
			"enabled": 1,
			"company": COMPANY,
			"currency": "VND",
			"selling_price_list": PRICE_LIST,
			"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}, "name") or "All Customer Groups",
			"territory": frappe.db.get_value("Territory", {"is_group": 0}, "name") or "All Territories",
			"shipping_fee_account": basics["shipping"],
			"taxes_and_charges": basics["template"],
			"invoice_policy": "On Delivery",
			"prepaid_payment_account": basics["cash"],
			"stock_share_percent": 100,
		}
	)
	doc.update(values)
	if not doc.warehouses:
		doc.append("warehouses", {"warehouse": basics["warehouses"][0], "priority": 1})
		doc.append("warehouses", {"warehouse": basics["warehouses"][1], "priority": 2})
	doc.save(ignore_permissions=True)
	return doc.name


def ensure_lazada_channel(name: str, fake, **values) -> str:
	"""A connected Lazada channel whose API is the local stand-in `fake`, with fresh tokens."""
	access, refresh = fake.issue_tokens()
	return ensure_channel(
		name,
		platform="Lazada",
		api_base_url=fake.api_url,
		auth_base_url=fake.url,
		app_key=fake.app_key,
		app_secret=fake.app_secret,
		shop_id=fake.seller_id,
		access_token=access,
		refresh_token=refresh,
		access_token_expires_at=add_days(nowdate(), 30),
		refresh_token_expires_at=add_days(nowdate(), 60),
		connection_status="Connected",
		**values,
	)


def canonical_order(order_id: str, status: str = "confirmed", **overrides) -> dict:
	payload = {
		"order_id": order_id,
		"status": status,
		"currency": "VND",
		"buyer": {"name": "Trần Thị Bình", "phone": "******89", "email": "", "id": f"buyer-{order_id}"},
		"shipping_address": {
			"full_name": "Trần Thị Bình",
			"phone": "******89",
			"line1": "45 Nguyễn Huệ",
			"ward": "Phường Sài Gòn",
			"province": "TP HCM",
		},
		"lines": [
			{"sku": "OMS-TSHIRT", "qty": 2, "unit_price": 150000, "seller_discount": 20000},
			{"sku": "OMS-CAP", "qty": 1, "unit_price": 99000, "platform_discount": 9000},
		],
		"shipping_fee": 30000,
		"seller_voucher": 10000,
		"payment_method": "Prepaid",
	}
	payload.update(overrides)
	return payload
