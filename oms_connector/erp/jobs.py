"""Background work: who it runs as, and how it is queued without ever being dropped for good.

RQ runs a job as the user who enqueued it, and a webhook's user is Guest. ERPNext's mappers
(make_delivery_note, make_sales_invoice, get_payment_entry, make_sales_return) check the user's
rights, so every OMS job switches to JOB_USER first. Actions a person clicks check that person's
rights in `api/` before they queue anything.
"""

from __future__ import annotations

import functools

import frappe

# Administrator, as Frappe's own scheduler and well-kept integrations do: the OMS makes and
# cancels Sales Orders, Delivery Notes, invoices and payments across every company it serves.
JOB_USER = "Administrator"

# MariaDB errors that mean "try the same transaction again", not "this order is bad".
TRANSIENT_DB_ERRORS = (frappe.QueryDeadlockError, frappe.QueryTimeoutError)


def as_job_user(fn):
	"""Run fn as JOB_USER and put the caller's user back afterwards (tests call jobs in-process)."""

	@functools.wraps(fn)
	def wrapper(*args, **kwargs):
		previous = frappe.session.user if getattr(frappe.local, "session", None) else None
		if previous != JOB_USER:
			frappe.set_user(JOB_USER)
		try:
			return fn(*args, **kwargs)
		finally:
			if previous and previous != JOB_USER:
				frappe.set_user(previous)

	return wrapper


def enqueue_safely(method: str, **kwargs) -> bool:
	"""frappe.enqueue that never raises: the caller's own work has committed already, and the
	sweeper or the next scheduled run picks up what a failed enqueue left. Returns True if queued."""
	try:
		frappe.enqueue(method, **kwargs)
		return True
	except Exception:
		frappe.logger("oms_connector").exception(f"could not queue {method}; the scheduled sweep will pick it up")
		return False


def claim_queue_slot(key: str, seconds: int) -> bool:
	"""True for the first caller while no job of this kind is waiting in the queue.

	The job clears the key when it starts, so work stored after that queues a new job; the
	expiry means a job lost from the queue blocks new ones for `seconds` at most.
	"""
	cache = frappe.cache()
	try:
		return bool(cache.set(cache.make_key(key), 1, nx=True, ex=seconds))
	except Exception:
		frappe.logger("oms_connector").exception("Redis unavailable; queuing the job anyway")
		return True


def release_queue_slot(key: str) -> None:
	cache = frappe.cache()
	try:
		cache.delete(cache.make_key(key))
	except Exception:
		frappe.logger("oms_connector").exception("Redis unavailable while releasing a queue slot")
