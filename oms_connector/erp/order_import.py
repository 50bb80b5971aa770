"""Excel/CSV order files: preview the bad rows, then import the good orders in a background job."""

from __future__ import annotations

import json
from dataclasses import asdict

import frappe
from frappe.utils.file_manager import get_file

from oms_connector.domain.order import InvalidOrder
from oms_connector.domain.order_file import orders_from_rows, read_rows
from oms_connector.erp import intake, jobs


def _read(doc) -> tuple[list[dict], list[dict]]:
	filename, content = get_file(doc.import_file)
	if isinstance(content, str):
		content = content.encode()
	currency = frappe.db.get_value("Sales Channel", doc.sales_channel, "currency") or "VND"
	try:
		orders, errors = orders_from_rows(read_rows(content, filename), currency)
	except InvalidOrder as exc:
		return [], [{"row": 1, "order_id": "", "reason": str(exc)}]
	return orders, [asdict(error) for error in errors]


def preview(import_name: str) -> dict:
	doc = frappe.get_doc("Channel Order Import", import_name)
	orders, errors = _read(doc)
	doc.orders_in_file = len(orders)
	doc.bad_rows = len(errors)
	doc.row_errors = json.dumps(errors, ensure_ascii=False, indent=1)
	doc.status = "Previewed"
	doc.save()
	return {"orders": len(orders), "errors": errors}


def start_import(import_name: str) -> None:
	doc = frappe.get_doc("Channel Order Import", import_name)
	if doc.status != "Previewed":
		frappe.throw(frappe._("Preview the file before importing it"))
	doc.db_set("status", "Queued")
	frappe.enqueue(
		"oms_connector.erp.order_import.run_import",
		queue="long",
		job_id=f"oms-import-{import_name}",
		deduplicate=True,
		enqueue_after_commit=True,
		import_name=import_name,
	)


@jobs.as_job_user
def run_import(import_name: str) -> None:
	doc = frappe.get_doc("Channel Order Import", import_name)
	doc.db_set("status", "Importing")
	frappe.db.commit()
	orders, errors = _read(doc)
	log = []
	for done, payload in enumerate(orders, start=1):
		name = intake.receive_order(doc.sales_channel, payload, source="File Import", process=True)
		frappe.db.commit()
		log.append(
			{
				"order_id": payload["order_id"],
				"channel_order": name,
				"status": frappe.db.get_value("Channel Order", name, "status"),
			}
		)
		_publish_progress(import_name, done, len(orders))
	problems = [row for row in log if row["status"] in ("Held", "Error")]
	doc.reload()
	doc.imported = len(log) - len(problems)
	doc.held_or_failed = len(problems)
	doc.bad_rows = len(errors)
	doc.row_errors = json.dumps(errors, ensure_ascii=False, indent=1)
	doc.import_log = json.dumps(log, ensure_ascii=False, indent=1)
	doc.status = "Completed With Problems" if problems or errors else "Completed"
	doc.save(ignore_permissions=True)
	frappe.db.commit()
	# only now: a form that reloads on this must find the import finished
	_publish_progress(import_name, len(orders), len(orders), finished=True)


def _publish_progress(import_name: str, done: int, total: int, finished: bool = False) -> None:
	frappe.publish_realtime(
		"oms_import_progress",
		{"import_name": import_name, "done": done, "total": total, "finished": finished},
		doctype="Channel Order Import",
		docname=import_name,
	)
