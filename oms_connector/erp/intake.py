"""Order intake: store the payload first, then bring the order's ERPNext documents up to date.

Exactly once rests on the database, not on look-ups: the Channel Order's name is
"<channel>:<order id>" (its primary key) and every payload is an event row whose name is
a hash of its bytes, so a second insert of either fails with a duplicate-key error that we
treat as "already here". Processing locks the Channel Order row, so two workers holding the
same order take turns and the second finds the documents the first made.
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager

import frappe
from frappe.utils import now_datetime

from oms_connector.domain.lifecycle import (
	Action,
	InvoicePolicy,
	desk_status,
	merge_status,
	plan_actions,
)
from oms_connector.domain.normalize import order_to_dict
from oms_connector.domain.order import ChannelOrder, InvalidOrder, PaymentMethod
from oms_connector.erp import documents, items, jobs, parties, platforms, routing
from oms_connector.erp.timezones import to_system_time

EVENT_DOCTYPE = "Channel Order Event"
NEEDS_PROCESSING = "needs_processing"  # Channel Order: the drain has work to do on it
PROBLEMS = "problems"  # Channel Order: what holds it (Channel Order Problem rows)
DRAIN_JOB = "oms_connector.erp.intake.drain_orders"
DRAIN_SLOT = "oms_connector:drain_queued"
DRAIN_SLOT_SECONDS = 60  # a drain lost from the queue holds up new ones this long at most
DRAIN_SECONDS = 240  # one drain job's time budget (the short queue times a job out at 300 s)
DRAIN_BATCH = 20
TRANSIENT_RETRIES = 5
DEFERRED = "Deferred"
PUSH_SOURCE = "Push"  # a marketplace push kept as it came: names the order, is not the order
DESK_SOURCE = "Desk"
# set while the intake makes an order's documents: their submit hooks need not queue it again
MAKING_DOCUMENTS = "oms_making_documents"
# store/phone and file orders have no platform to report progress: staff report it in the desk
DESK_TRACKED_PLATFORMS = ("Store/Phone", "File Import")
DESK_PROGRESS = {
	"shipped": ("Ordered",),
	"delivered": ("Ordered", "Shipped"),  # from Ordered: handed over at the store (picked up)
}


class HoldOrder(Exception):
	"""The order is readable but cannot be fulfilled until someone fixes data (the message says
	what). `problems`: the same as Channel Order Problem rows, which re-queuing looks up."""

	def __init__(self, message: str, problems: list[dict] | None = None):
		super().__init__(message)
		self.problems = problems or []


def channel_order_name(sales_channel: str, external_order_id: str) -> str:
	return f"{sales_channel}:{external_order_id}"


def receive_order(
	sales_channel: str, payload, source: str = "Webhook", process: bool | str = True, channel: dict | None = None
) -> str:
	"""Store one order payload for a channel, commit, then process it.

	`payload` is the platform's order payload (str, bytes or dict). `process` is True to
	process now, "enqueue" to leave it to the background drain, False to only store.
	`channel`: the channel's platform and company when the caller has read them already.
	Returns the Channel Order name. Commits whatever the caller had pending first.
	"""
	if isinstance(payload, bytes):
		payload = payload.decode("utf-8", errors="replace")
	raw_text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, sort_keys=True)
	# a lone surrogate (only an in-process str or dict can hold one) can't be stored in utf8mb4
	raw_text = raw_text.encode("utf-8", errors="replace").decode("utf-8")
	channel = channel or frappe.db.get_value("Sales Channel", sales_channel, ["platform", "company"], as_dict=True)
	if not channel:
		frappe.throw(frappe._("Sales Channel {0} does not exist").format(sales_channel), frappe.DoesNotExistError)
	external_id = platforms.peek_order_id(channel["platform"], raw_text)
	frappe.db.commit()
	name = with_transient_retry(
		lambda: store_payload(sales_channel, external_id, raw_text, source, channel=channel)
	)
	frappe.db.commit()  # the payload is safe before anything can go wrong with it
	if process == "enqueue":
		request_drain()
	elif process:
		process_order(name)
	return name


def store_payload(
	sales_channel: str, external_id: str, raw_text: str, source: str, channel: dict | None = None, queue: bool = True
) -> str:
	"""Insert the Channel Order (if new) and the payload as its event; with `queue`, a new
	payload marks the order for processing. Raw inserts: this runs inside every webhook request."""
	name = channel_order_name(sales_channel, external_id)
	now = now_datetime()
	created = False
	if not frappe.db.exists("Channel Order", name):
		channel = channel or frappe.db.get_value("Sales Channel", sales_channel, ["platform", "company"], as_dict=True)
		created = _insert_channel_order(name, sales_channel, external_id, raw_text, channel, now, queue)
	if _store_event(name, raw_text, source, now) and queue and not created:
		mark_for_processing([name])
	return name


def _insert_channel_order(name, sales_channel, external_id, raw_text, channel: dict, now, queue: bool) -> bool:
	doc = frappe.get_doc(
		{
			"doctype": "Channel Order",
			"name": name,
			"sales_channel": sales_channel,
			"platform": channel["platform"],
			"external_order_id": external_id,
			"raw_payload": raw_text,
			"status": "Received",
			"company": channel["company"],
			NEEDS_PROCESSING: int(queue),
			"owner": frappe.session.user,
			"modified_by": frappe.session.user,
			"creation": now,
			"modified": now,
		}
	)
	if _insert_once(doc):
		return True
	# Another request stored it a moment ago. Roll back the whole transaction (nothing else is in
	# it): the duplicate-key check left a shared lock on that row, and holding it while marking
	# the row would deadlock with the other request doing the same.
	frappe.db.rollback()
	return False


def _store_event(order_name: str, raw_text: str, source: str, received_at) -> bool:
	"""Add the payload to the order's events unless these exact bytes are there already."""
	event_name = hashlib.sha1(f"{order_name}\n{raw_text}".encode()).hexdigest()[:20]
	frappe.db.savepoint("oms_event")
	event = frappe.get_doc(
		{
			"doctype": EVENT_DOCTYPE,
			"name": event_name,
			"channel_order": order_name,
			"received_at": received_at,
			"source": source,
			"payload": raw_text,
			"owner": frappe.session.user,
			"creation": received_at,
			"modified": received_at,
		}
	)
	if _insert_once(event):
		return True
	frappe.db.rollback(save_point="oms_event")
	return False


def _insert_once(doc) -> bool:
	"""db_insert, False if a row with this name exists (without db_insert's red "Duplicate Name"
	message, which would reach the caller of a replayed webhook)."""
	messages = len(frappe.local.message_log)
	try:
		doc.db_insert()
		return True
	except frappe.DuplicateEntryError:
		del frappe.local.message_log[messages:]
		return False


def mark_for_processing(names: list[str]) -> None:
	"""Put orders in the processing queue (the drain picks them up). Waits for an order being
	processed right now to commit, so what it stored is seen by the next pass."""
	for start in range(0, len(names), 500):
		frappe.db.sql(
			f"update `tabChannel Order` set `{NEEDS_PROCESSING}`=1 where name in %(names)s",
			{"names": tuple(names[start : start + 500])},
		)


def enqueue_processing(name: str | list[str]) -> None:
	"""Process these orders in the background, after the current transaction commits."""
	mark_for_processing([name] if isinstance(name, str) else list(name))
	frappe.db.after_commit.add(request_drain)


# --- the background drain ----------------------------------------------------------------
def request_drain(force: bool = False) -> None:
	"""Make sure a drain job is waiting in the queue (at most one waits; more may be running).
	`force`: queue one even if the slot says one waits (the sweeper: that one may be lost)."""
	if jobs.claim_queue_slot(DRAIN_SLOT, DRAIN_SLOT_SECONDS) or force:
		jobs.enqueue_safely(DRAIN_JOB, queue="short", timeout=DRAIN_SECONDS + 120)


@jobs.as_job_user
def drain_orders() -> int:
	"""Process every order marked for processing, each in its own transaction, until none is
	left or the time budget is spent (then the drain is queued again). Orders another drain
	holds are skipped (SKIP LOCKED), so drains on several workers and machines share the work."""
	jobs.release_queue_slot(DRAIN_SLOT)  # marks from now on queue another drain
	deadline = time.monotonic() + DRAIN_SECONDS
	processed, deferred = 0, set()
	with _read_committed():
		while time.monotonic() < deadline:
			names = [n for n in _waiting_orders(DRAIN_BATCH + len(deferred)) if n not in deferred]
			claimed = 0
			for name in names:
				status = _process_if_free(name)
				if status is None:
					continue  # another drain has it
				claimed += 1
				if status == DEFERRED:
					deferred.add(name)
				else:
					processed += 1
			if not claimed:
				return processed
	request_drain()  # out of time with orders still waiting
	return processed


def _waiting_orders(limit: int) -> list[str]:
	return frappe.db.sql_list(
		f"select name from `tabChannel Order` where `{NEEDS_PROCESSING}`=1 order by modified asc limit %s", limit
	)


def _process_if_free(name: str) -> str | None:
	"""Process the order unless another worker holds it (None). DEFERRED: the database kept
	deadlocking; the order stays marked for the next drain."""
	for _attempt in range(TRANSIENT_RETRIES):
		try:
			row = frappe.db.sql(
				f"select name from `tabChannel Order` where name=%s and `{NEEDS_PROCESSING}`=1 for update skip locked",
				name,
			)
			if not row:
				frappe.db.rollback()
				return None
			status = _process_locked(name, reroute=False)
			frappe.db.commit()
			return status
		except jobs.TRANSIENT_DB_ERRORS:
			frappe.db.rollback()
		except Exception as exc:
			return _record_crash(name, exc)
	frappe.logger("oms_connector").warning(f"{name}: deadlocks on every try; left for the next drain")
	return DEFERRED


def _record_crash(name: str, exc: Exception) -> str:
	"""Even recording the failure failed (say, a value too long for its column): put the order in
	Error with the reason by plain SQL, so it is visible and not picked up again and again."""
	frappe.db.rollback()
	frappe.log_error(title=f"OMS: recording the outcome of {name} failed", reference_doctype="Channel Order", reference_name=name)
	frappe.db.sql(
		f"""update `tabChannel Order` set status='Error', error=%s, attempts=ifnull(attempts, 0) + 1,
		last_attempt_at=%s, `{NEEDS_PROCESSING}`=0 where name=%s""",
		(f"{exc.__class__.__name__}: {frappe.utils.strip_html(str(exc))}"[:1000], now_datetime(), name),
	)
	frappe.db.commit()
	return "Error"


def with_transient_retry(fn):
	"""Run fn in a transaction again when MariaDB picked it as a deadlock victim or timed a lock out."""
	for attempt in range(TRANSIENT_RETRIES):
		try:
			return fn()
		except jobs.TRANSIENT_DB_ERRORS:
			frappe.db.rollback()
			if attempt == TRANSIENT_RETRIES - 1:
				raise
			time.sleep(0.05 * (attempt + 1))


@contextmanager
def _read_committed():
	# Read committed: once an order holds the stock locks it must see what the order before it
	# committed (ERPNext recomputes reserved qty with plain SELECTs, which under repeatable read
	# would see the snapshot taken before the lock wait and lose the other order's reservation).
	# SET SESSION applies from the next transaction on, and commit() begins the next one at once:
	# so set first, then commit.
	frappe.db.sql("set session transaction isolation level read committed")
	frappe.db.commit()
	try:
		yield
	finally:
		frappe.db.sql("set session transaction isolation level repeatable read")


def current_order(doc, platform: str) -> ChannelOrder:
	"""The order as all its events tell it: the newest readable payload, the furthest status."""
	payloads = frappe.get_all(
		EVENT_DOCTYPE,
		filters={"channel_order": doc.name, "source": ("!=", PUSH_SOURCE)},
		pluck="payload",
		order_by="received_at asc, creation asc",
	) or [doc.raw_payload]
	latest, status, problems, shipments = None, None, [], {}
	for raw_text in payloads:
		try:
			order = platforms.map_payload(platform, raw_text)
		except InvalidOrder as exc:
			problems.append(str(exc))
			continue
		status = merge_status(status, order.status)
		for shipment in order.shipments:
			shipments[shipment.package_id or shipment.tracking_number or str(len(shipments))] = shipment
		latest = order
	if latest is None:
		raise InvalidOrder(problems[-1] if problems else "no payload")
	latest.status = status
	latest.shipments = list(shipments.values())
	return latest


def process_order(name: str, reroute: bool = False) -> str:
	"""Bring one Channel Order's ERPNext documents up to what the channel reported, now, waiting
	for the order's lock if a worker holds it. Returns its status.

	`reroute` replaces an unshipped Sales Order with a freshly routed one (an amendment); if that
	fails, the old one stays, as everything this attempt did is rolled back.
	"""
	with _read_committed():
		return with_transient_retry(lambda: _lock_and_process(name, reroute))


def _lock_and_process(name: str, reroute: bool) -> str:
	frappe.db.sql("select name from `tabChannel Order` where name=%s for update", name)
	return _process_locked(name, reroute)


def _process_locked(name: str, reroute: bool) -> str:
	with _making_documents():
		return _process_order_documents(name, reroute)


@contextmanager
def _making_documents():
	"""While the intake makes documents. ERPNext adds an Item Price for every rate missing from
	the price list when Stock Settings ask it to; a platform's price or a shipping fee is not the
	seller's list price, so that is off here (for this process only: the cached settings)."""
	settings = frappe.get_cached_doc("Stock Settings")
	auto_insert = settings.auto_insert_price_list_rate_if_missing
	settings.auto_insert_price_list_rate_if_missing = 0
	frappe.flags[MAKING_DOCUMENTS] = True
	try:
		yield
	finally:
		frappe.flags[MAKING_DOCUMENTS] = False
		settings.auto_insert_price_list_rate_if_missing = auto_insert


def _process_order_documents(name: str, reroute: bool) -> str:
	doc = frappe.get_doc("Channel Order", name)
	channel = frappe.get_doc("Sales Channel", doc.sales_channel)
	frappe.db.savepoint("oms_process")
	order = None
	try:
		order = current_order(doc, channel.platform)
		_copy_order_fields(doc, order)
		if reroute:
			documents.withdraw_sales_order_for_rerouting(doc)
		_apply_plan(doc, channel, order)
		doc.error = ""
		doc.set(PROBLEMS, [])
	except HoldOrder as exc:
		return _record_failure(name, "Held", str(exc), order, exc.problems)
	except InvalidOrder as exc:
		return _record_failure(name, "Error", f"Invalid payload: {exc}")
	except jobs.TRANSIENT_DB_ERRORS:
		raise  # the whole transaction is gone; the caller tries again without counting an attempt
	except Exception as exc:
		frappe.log_error(title=f"OMS: processing {name} failed", reference_doctype="Channel Order", reference_name=name)
		message = frappe.utils.strip_html(str(exc)) or exc.__class__.__name__
		return _record_failure(name, "Error", f"{exc.__class__.__name__}: {message}", order)
	_finish_attempt(doc)
	return doc.status


def _record_failure(
	name: str, status: str, reason: str, order: ChannelOrder | None = None, problems: list[dict] | None = None
) -> str:
	"""Undo this attempt's documents, keep the payload and what could be read of it, say why."""
	frappe.db.rollback(save_point="oms_process")
	frappe.message_log = []  # messages of the failed attempt belong to the rolled-back work
	doc = frappe.get_doc("Channel Order", name)
	if order is not None:
		_copy_order_fields(doc, order)
	doc.status = status
	doc.error = reason
	doc.set(PROBLEMS, problems or [])
	_finish_attempt(doc)
	return status


def _finish_attempt(doc) -> None:
	doc.attempts = (doc.attempts or 0) + 1
	doc.last_attempt_at = now_datetime()
	doc.set(NEEDS_PROCESSING, 0)
	doc.flags.ignore_links = True
	doc.save(ignore_permissions=True)


def _copy_order_fields(doc, order: ChannelOrder) -> None:
	doc.channel_status = order.status.value
	doc.payment_method = order.payment_method.value
	doc.order_date = to_system_time(order.created_at) if order.created_at else doc.order_date or now_datetime()
	doc.currency = order.currency
	doc.buyer_name = order.buyer.name or (order.shipping_address.full_name if order.shipping_address else "")
	doc.buyer_phone = order.buyer.phone or (order.shipping_address.phone if order.shipping_address else "")
	doc.title = f"{doc.buyer_name or doc.external_order_id} · {doc.sales_channel}"[:140]
	doc.shipping_province = order.shipping_address.province if order.shipping_address else ""
	doc.shipping_fee = float(order.shipping_fee)
	doc.discount_total = float(order.line_discounts + order.order_discount)
	doc.grand_total = float(order.buyer_paid)
	doc.platform_funded = float(order.platform_funded)
	doc.pickup_store = order.pickup_store
	doc.tracking_number = ", ".join(s.tracking_number for s in order.shipments if s.tracking_number)
	doc.normalized_order = json.dumps(order_to_dict(order), ensure_ascii=False, indent=1)
	if not doc.sales_order:
		doc.set(
			"items",
			[
				{
					"sku": line.sku,
					"qty": float(line.qty),
					"unit_price": float(line.unit_price),
					"seller_discount": float(line.seller_discount),
					"platform_discount": float(line.platform_discount),
					"title": line.title,
					"currency": order.currency,
				}
				for line in order.lines
			],
		)


def _apply_plan(doc, channel, order: ChannelOrder) -> None:
	policy = InvoicePolicy(channel.invoice_policy)
	state = documents.order_state(doc, order, documents.load_documents(doc.name))
	# a marketplace collects every payment itself, COD included: its invoices are paid on issue
	collected_by_platform = bool(channel.get("clearing_account"))
	actions = plan_actions(
		order.status,
		state,
		policy,
		PaymentMethod.PREPAID if collected_by_platform else order.payment_method,
		reserve_unpaid=bool(channel.reserve_unpaid_orders),
		auto_payment=bool(documents.receiving_account(channel, order)),
	)
	for action in actions:
		if action == Action.CREATE_SALES_ORDER:
			_create_sales_order(doc, channel, order)
		else:
			documents.ACTIONS[action](doc, channel, order)
	made = documents.load_documents(doc.name)
	doc.status = desk_status(order.status, documents.order_state(doc, order, made), policy)
	doc.sales_order = documents.main_sales_order(made)
	rows = documents.document_rows(made)
	if [(row.document_type, row.document_name, row.docstatus_label) for row in doc.documents] != [
		(row["document_type"], row["document_name"], row["docstatus_label"]) for row in rows
	]:
		doc.set("documents", rows)
	if collected_by_platform:
		from oms_connector.erp.settlements import book_waiting_for_order

		book_waiting_for_order(doc.name)  # a settlement that came before the order or its invoice


def _create_sales_order(doc, channel, order: ChannelOrder) -> None:
	item_codes = _check_fulfillable(channel, order)
	for row in doc.items:
		row.item_code = item_codes.get(row.sku)
	customer, address = parties.ensure_customer(channel, order)
	doc.customer = customer
	doc.shipping_address = address
	try:
		warehouses = routing.route_channel_order(doc, channel, order, item_codes)
	except routing.OutOfStock as exc:
		problems = [
			{"problem": "Out of Stock", "item_code": item, "qty_short": qty} for item, qty in exc.shortages.items()
		] or [{"problem": "No Warehouse", "detail": str(exc)[:500]}]
		raise HoldOrder(str(exc), problems) from None
	for row, line in zip(doc.items, order.lines):
		row.warehouse = ", ".join(warehouse for warehouse, _qty in warehouses.get(line.sku, []))[:140]
	try:
		documents.create_sales_order(doc, channel, order, customer, address, item_codes, warehouses)
	except documents.MissingPrice as exc:
		problems = [{"problem": "No Price", "item_code": item} for item in exc.item_codes]
		raise HoldOrder(str(exc), problems) from None


def _check_fulfillable(channel, order: ChannelOrder) -> dict[str, str]:
	"""{sku: item code}, or HoldOrder naming everything missing at once."""
	reasons = order.missing_data()
	problems = [{"problem": "No Address", "detail": reason} for reason in reasons]
	item_codes, unknown = items.resolve_items(channel.name, order.lines)
	if unknown:
		reasons.append("unknown SKU(s) with no Channel Listing, Item code or barcode: " + ", ".join(unknown))
		problems += [{"problem": "Unknown SKU", "sku": sku} for sku in unknown]
	if order.shipping_fee and not (channel.shipping_fee_item or channel.shipping_fee_account):
		reasons.append(f"Sales Channel {channel.name} has no shipping fee item or account for the shipping fee")
		problems.append({"problem": "No Shipping Item"})
	if reasons:
		raise HoldOrder("; ".join(reasons), problems)
	return item_codes


def held_for_stock(item_codes) -> list[str]:
	"""Orders held for lack of one of these items, oldest first."""
	return _held_with({"problem": "Out of Stock", "item_code": ("in", sorted(item_codes) or [""])})


def held_for_price(item_code: str) -> list[str]:
	"""Orders held because this item had no price in their channel's price list."""
	return _held_with({"problem": "No Price", "item_code": item_code})


def retry_held_for_price(doc, method=None) -> None:
	"""Item Price saved: orders held for the lack of it go round again."""
	if doc.selling and (names := held_for_price(doc.item_code)):
		enqueue_processing(names)


def held_for_unknown_sku(sales_channel: str) -> list[str]:
	"""The channel's orders held for a SKU that had no Item (a listing may map it now)."""
	return _held_with({"problem": "Unknown SKU"}, {"sales_channel": sales_channel})


def _held_with(problem_filters: dict, order_filters: dict | None = None) -> list[str]:
	problem = frappe.qb.DocType("Channel Order Problem")
	order = frappe.qb.DocType("Channel Order")
	query = (
		frappe.qb.from_(problem)
		.join(order)
		.on(order.name == problem.parent)
		.select(order.name)
		.distinct()
		.where((order.status == "Held") & (problem.parenttype == "Channel Order"))
		.orderby(order.creation)
		.limit(1000)
	)
	for field, value in problem_filters.items():
		if isinstance(value, tuple):
			query = query.where(problem[field].isin(value[1]))
		else:
			query = query.where(problem[field] == value)
	for field, value in (order_filters or {}).items():
		query = query.where(order[field] == value)
	return [row[0] for row in query.run()]


def record_remittance(name: str, account: str, reference: str | None = None) -> list[str]:
	"""COD money arrived (from the carrier or the platform): pay the order's open invoices."""
	frappe.db.sql("select name from `tabChannel Order` where name=%s for update", name)
	doc = frappe.get_doc("Channel Order", name)
	channel = frappe.get_doc("Sales Channel", doc.sales_channel)
	order = current_order(doc, channel.platform)
	with _making_documents():
		made = documents.make_payment_entries(doc, channel, order, account=account, reference=reference)
	doc.set("documents", documents.document_rows(documents.load_documents(name)))
	doc.flags.ignore_links = True
	doc.save(ignore_permissions=True)
	return made


def retry_order(name: str) -> str:
	"""Process a Held or Error order again (after its mapping or data was fixed)."""
	return process_order(name)



def record_desk_progress(name: str, progress: str, tracking_number: str | None = None) -> str:
	"""Staff report that a store/phone or file order was shipped or delivered (picked up): kept
	as the order's next event, as a platform would send it, then processed. Returns the status."""
	doc = frappe.get_doc("Channel Order", name)
	if doc.platform not in DESK_TRACKED_PLATFORMS:
		frappe.throw(frappe._("{0} reports this order's progress itself").format(doc.platform))
	if doc.status not in DESK_PROGRESS.get(progress, ()):
		frappe.throw(frappe._("An order in status {0} cannot be marked {1}").format(frappe._(doc.status), frappe._(progress)))
	payload = json.loads(_latest_payload(name) or doc.raw_payload)
	payload["status"] = progress
	payload["updated_at"] = now_datetime().isoformat()
	if tracking_number:
		payload["shipments"] = [{"tracking_number": tracking_number}]
	receive_order(doc.sales_channel, payload, source=DESK_SOURCE, process=True)
	return frappe.db.get_value("Channel Order", name, "status")


def _latest_payload(name: str) -> str | None:
	payloads = frappe.get_all(
		EVENT_DOCTYPE,
		filters={"channel_order": name, "source": ("!=", PUSH_SOURCE)},
		pluck="payload",
		order_by="received_at desc, creation desc",
		limit=1,
	)
	return payloads[0] if payloads else None
