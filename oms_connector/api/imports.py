"""Order file import actions."""

from __future__ import annotations

import frappe

from oms_connector.domain.order_file import template_csv
from oms_connector.erp import order_import


@frappe.whitelist()
def download_template() -> None:
	frappe.has_permission("Channel Order Import", "read", throw=True)
	frappe.response["filename"] = "oms_order_template.csv"
	frappe.response["filecontent"] = template_csv()
	frappe.response["type"] = "download"


@frappe.whitelist()
def preview(import_name: str) -> dict:
	frappe.has_permission("Channel Order Import", "write", doc=import_name, throw=True)
	return order_import.preview(import_name)


@frappe.whitelist()
def start_import(import_name: str) -> None:
	frappe.has_permission("Channel Order Import", "write", doc=import_name, throw=True)
	frappe.has_permission("Channel Order", "create", throw=True)
	order_import.start_import(import_name)
