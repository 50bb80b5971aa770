"""Two workers delivering the same order at the same moment make one Channel Order and one Sales Order."""

from __future__ import annotations

import json

import frappe
from frappe.tests.utils import FrappeTestCase

from oms_connector.erp import intake
from oms_connector.tests import fixtures as fx
from oms_connector.tests.concurrency import run_workers

CHANNEL = "OMS Test Web"
DELIVERIES_PER_WORKER = 25


def deliver(payloads: list[str]):
	for raw in payloads:
		intake.receive_order(CHANNEL, raw, source="Worker")
		frappe.db.commit()


class TestExactlyOnce(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		fx.ensure_channel(CHANNEL)
		for item in ("OMS-TSHIRT", "OMS-CAP"):
			fx.set_stock(item, fx.wh("OMS Hanoi"), 500)
		frappe.db.commit()

	def test_two_workers_fifty_deliveries_one_sales_order(self):
		order_id = f"RACE-{frappe.generate_hash(length=8).upper()}"
		confirmed = json.dumps(fx.canonical_order(order_id))
		shipped = json.dumps(fx.canonical_order(order_id, "shipped"))
		# worker A mostly re-delivers "confirmed", worker B interleaves "shipped": any order of arrival
		worker_a = [confirmed] * DELIVERIES_PER_WORKER
		worker_b = [confirmed if i % 2 else shipped for i in range(DELIVERIES_PER_WORKER)]
		errors = run_workers(deliver, [(worker_a,), (worker_b,)])
		self.assertEqual(errors, [])
		frappe.db.rollback()  # a fresh snapshot: the workers committed on their own connections

		name = intake.channel_order_name(CHANNEL, order_id)
		self.assertEqual(frappe.db.count("Channel Order", {"external_order_id": order_id}), 1)
		self.assertEqual(frappe.db.count("Sales Order", {"oms_channel_order": name, "docstatus": 1}), 1)
		self.assertEqual(frappe.db.count("Sales Order", {"oms_channel_order": name}), 1)
		self.assertEqual(frappe.db.count("Delivery Note", {"oms_channel_order": name, "docstatus": 1}), 1)
		self.assertEqual(frappe.db.count("Channel Order Event", {"channel_order": name}), 2)
		self.assertEqual(frappe.db.get_value("Channel Order", name, "status"), "Shipped")
