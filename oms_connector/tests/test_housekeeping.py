"""Logs the deployed app would pile up are cleared by Frappe's Log Settings."""

from __future__ import annotations

import frappe
from frappe.core.doctype.log_settings.log_settings import run_log_clean_up
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, now_datetime

from oms_connector.tests import fixtures as fx


class TestLogClearing(FrappeTestCase):
	def test_old_stock_push_logs_are_cleared_and_recent_ones_kept(self):
		channel = fx.ensure_channel("OMS Test Housekeeping")

		def log(age_days: int) -> str:
			doc = frappe.get_doc(
				{"doctype": "Stock Push Log", "sales_channel": channel, "trigger": "Manual", "status": "Success", "started_at": now_datetime()}
			).insert(ignore_permissions=True)
			frappe.db.set_value("Stock Push Log", doc.name, "creation", add_days(now_datetime(), -age_days), update_modified=False)
			return doc.name

		old, recent = log(40), log(2)
		run_log_clean_up()
		self.assertFalse(frappe.db.exists("Stock Push Log", old))
		self.assertTrue(frappe.db.exists("Stock Push Log", recent))
		days = frappe.db.get_value("Logs To Clear", {"parent": "Log Settings", "ref_doctype": "Stock Push Log"}, "days")
		self.assertEqual(days, 30)
