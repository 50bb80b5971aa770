"""Run a function in worker threads, each with its own site connection, as separate workers would."""

from __future__ import annotations

import threading
import traceback

import frappe


def run_workers(target, args_per_worker: list[tuple], timeout: float = 600) -> list[str]:
	"""Start one thread per args tuple, all released at once; returns the tracebacks of failures."""
	site, sites_path = frappe.local.site, frappe.local.sites_path
	start = threading.Barrier(len(args_per_worker))
	errors: list[str] = []

	def worker(*args):
		frappe.init(site=site, sites_path=sites_path)
		frappe.connect()
		frappe.set_user("Administrator")
		try:
			start.wait()
			target(*args)
		except Exception:
			errors.append(traceback.format_exc())
		finally:
			frappe.db.rollback()
			frappe.destroy()

	threads = [threading.Thread(target=worker, args=args) for args in args_per_worker]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join(timeout)
	return errors
