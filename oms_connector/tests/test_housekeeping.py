"""What the deployed app needs besides its main paths: logs cleared, job identities that never
swallow one another, and a user's own document that never fails because a job could not be
queued."""

from __future__ import annotations

from unittest.mock import patch

import frappe
from frappe.core.doctype.log_settings.log_settings import run_log_clean_up
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, now_datetime
from frappe.utils.background_jobs import get_job

from oms_connector.api import stock as stock_api
from oms_connector.erp import stock_sync
from oms_connector.tests import fixtures as fx
from oms_connector.sandbox import FakeLazada

CHANNEL = "OMS Test Housekeeping"
LAZADA = "OMS Test Housekeeping Lazada"


class TestLogClearing(FrappeTestCase):
	def test_old_stock_push_logs_are_cleared_and_recent_ones_kept(self):
		channel = fx.ensure_channel(CHANNEL)

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


class TestJobsAsDeployed(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.fake = FakeLazada().start()
		fx.ensure_lazada_channel(LAZADA, cls.fake, sync_stock=1)
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.fake.stop()
		super().tearDownClass()

	def tearDown(self):
		for trigger in ("Reconciliation", "Drift Check", "Manual"):
			job = get_job(f"oms-stock-{frappe.scrub(trigger)}-{LAZADA}")
			if job:
				job.delete()  # no worker runs in this tier

	def queue_now(self, trigger: str, **kwargs) -> bool:
		queued = stock_sync.enqueue_reconcile(LAZADA, trigger=trigger, **kwargs)
		frappe.db.commit()  # enqueue_after_commit
		return queued

	def test_reconciliation_and_drift_check_never_swallow_each_other(self):
		self.assertTrue(self.queue_now("Reconciliation"))
		self.assertTrue(self.queue_now("Drift Check"))
		self.assertFalse(self.queue_now("Reconciliation"))  # the same run waiting already
		for trigger in ("Reconciliation", "Drift Check"):
			self.assertEqual(get_job(f"oms-stock-{frappe.scrub(trigger)}-{LAZADA}").get_status(), "queued")

	def test_sync_stock_now_says_when_a_push_it_asked_for_is_waiting(self):
		first = stock_api.sync_stock_now(LAZADA)
		frappe.db.commit()
		self.assertIn("started", first)
		self.assertIn("already waiting", stock_api.sync_stock_now(LAZADA))

	def test_a_failed_enqueue_never_fails_the_users_stock_entry(self):
		frappe.db.set_single_value("OMS Settings", "stock_sync_enabled", 1)
		basics = fx.ensure_basics()
		frappe.db.commit()
		down = ConnectionError("Redis is down")
		cache = frappe.cache()
		before = fx.actual_qty("OMS-CAP", basics["warehouses"][0])
		fx.add_stock("OMS-CAP", basics["warehouses"][0], 3)
		self.assertTrue(frappe.local.flags.get("oms_stock_pairs"))  # marked, queued after the commit
		with patch("frappe.enqueue", side_effect=down), patch.object(cache, "set", side_effect=down), patch.object(
			cache, "pipeline", side_effect=down
		):
			frappe.db.commit()  # runs the after-commit hook that queues the push: it must not raise
		frappe.db.rollback()
		self.assertEqual(fx.actual_qty("OMS-CAP", basics["warehouses"][0]), before + 3)


class TestChannelNameLength(FrappeTestCase):
	def test_a_channel_name_too_long_for_its_order_names_is_refused(self):
		name = "OMS " + "x" * 36  # 40 characters: "<name>:<100-character id>" would pass 140
		with self.assertRaises(frappe.ValidationError):
			fx.ensure_channel(name)
		self.assertFalse(frappe.db.exists("Sales Channel", name))
