"""Scheduled jobs."""

from __future__ import annotations

import frappe

from oms_connector.erp import intake


def retry_failed_orders() -> None:
	"""Orders in Error are retried until OMS Settings' limit; Held ones wait for a fix."""
	limit = frappe.db.get_single_value("OMS Settings", "max_attempts") or 5
	for name in frappe.get_all(
		"Channel Order", filters={"status": "Error", "attempts": ("<", limit)}, pluck="name", limit=500
	):
		intake.enqueue_processing(name)


def enqueue_held_orders_for_channel(sales_channel: str) -> None:
	"""A mapping was fixed: give that channel's held orders another go."""
	for name in frappe.get_all(
		"Channel Order", filters={"status": "Held", "sales_channel": sales_channel}, pluck="name", limit=1000
	):
		intake.enqueue_processing(name)
