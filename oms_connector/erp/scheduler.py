"""Scheduled jobs."""

from __future__ import annotations

import frappe

from oms_connector.erp import intake, jobs, marketplace


@jobs.as_job_user
def retry_failed_orders() -> None:
	"""Orders in Error are retried until OMS Settings' limit; Held ones wait for a fix."""
	limit = frappe.db.get_single_value("OMS Settings", "max_attempts") or 5
	names = frappe.get_all(
		"Channel Order",
		filters={"status": "Error", "attempts": ("<", limit), intake.NEEDS_PROCESSING: 0},
		pluck="name",
		limit=500,
	)
	if names:
		intake.enqueue_processing(names)


def enqueue_held_orders_for_channel(sales_channel: str) -> None:
	"""A listing was mapped: give the channel's orders held for an unknown SKU another go."""
	names = intake.held_for_unknown_sku(sales_channel)
	if names:
		intake.enqueue_processing(names)


@jobs.as_job_user
def sweep_waiting_work() -> None:
	"""Every minute: queue a drain or a fetch for work still marked, whatever happened to the job
	that should have done it (a worker killed mid-job, a job deleted from the queue, Redis
	restarted with the queue lost). One extra job a minute at most: drains share the work."""
	if frappe.db.exists("Channel Order", {intake.NEEDS_PROCESSING: 1}):
		intake.request_drain(force=True)
	if frappe.db.exists("Channel Order", {marketplace.NEEDS_FETCH: 1}):
		marketplace.request_fetch(force=True)
