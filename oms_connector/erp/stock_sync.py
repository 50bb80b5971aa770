"""Stock pushed to every channel within seconds of any ERPNext stock change.

1. Document hooks mark the (item, warehouse) pairs a transaction touched; after the commit
   the pairs go into a Redis hash (first-mark time per pair) and one job is queued.
2. The job waits out the debounce window from the first mark (so a burst becomes one push,
   and a steady stream can't postpone it), takes the whole hash atomically, recomputes the
   affected listings of every channel in one Bin query per batch, and pushes only listings whose
   value differs from what the channel last accepted.
3. Failed pushes stay marked (push_status Failed) and the scheduled reconciliation sends them
   again; every push run leaves a Stock Push Log.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from contextlib import contextmanager

import frappe
from frappe.utils import cint, flt, now_datetime

from oms_connector.connectors.base import ConnectorError, RetryableError, StockUpdate
from oms_connector.domain.stock import (
	BinQty,
	ChannelStockPolicy,
	ListingOverride,
	available_to_promise,
	bundle_atp,
)
from oms_connector.erp import jobs

PENDING_KEY = "oms_connector:stock_pending"
QUEUED_KEY = "oms_connector:stock_job_queued"
PUSH_LOCK_KEY = "oms_connector:stock_push_lock"
PUSH_LOCK_SECONDS = 300  # longer than one batch of 500 listings takes, retries included
SYNCED_PLATFORMS = ("Shopee", "Lazada", "TikTok Shop")
LISTING_BATCH = 500  # listings computed and pushed per round, so memory stays flat
BIN_FIELDS = (
	"item_code",
	"warehouse",
	"actual_qty",
	"reserved_qty",
	"reserved_stock",
	"reserved_qty_for_production",
	"reserved_qty_for_sub_contract",
	"reserved_qty_for_production_plan",
)


# --- marking -----------------------------------------------------------------------------


def mark_pairs(pairs) -> None:
	"""Remember pairs this transaction changed; they are queued only if it commits."""
	pairs = {(item, warehouse) for item, warehouse in pairs if item and warehouse}
	if not pairs:
		return
	pending = frappe.local.flags.get("oms_stock_pairs")
	if pending is None:
		pending = frappe.local.flags.oms_stock_pairs = set()
		frappe.db.after_commit.add(_flush_marks)
		frappe.db.after_rollback.add(_forget_marks)
	pending.update(pairs)


def _forget_marks() -> None:
	frappe.local.flags.pop("oms_stock_pairs", None)


def _flush_marks() -> None:
	"""After the commit of the user's own document: a failure here must not fail their request.
	The hourly reconciliation pushes whatever a lost mark left behind."""
	pairs = frappe.local.flags.pop("oms_stock_pairs", None)
	if not pairs or not frappe.db.get_single_value("OMS Settings", "stock_sync_enabled") or not _anyone_waiting():
		return  # no channel to tell and no order waiting for stock: no job to keep a worker busy
	try:
		queue_pairs(pairs)
	except Exception:
		frappe.logger("oms_connector").exception("stock changes could not be queued; the reconciliation will push them")


def queue_pairs(pairs) -> None:
	cache = frappe.cache()
	key = cache.make_key(PENDING_KEY)
	now = str(time.time())
	pipe = cache.pipeline()
	for item, warehouse in pairs:
		pipe.hsetnx(key, f"{item}\x1f{warehouse}", now)
	pipe.execute()
	# the flag expires so a job lost from the queue stalls pushes for seconds, not for good
	if jobs.claim_queue_slot(QUEUED_KEY, 30):
		# its own queue: a slow platform must not hold up the order intake on "short"
		jobs.enqueue_safely("oms_connector.erp.stock_sync.push_pending_changes", queue="default")


def _anyone_waiting() -> bool:
	"""A channel whose stock is pushed, or an order held for stock."""
	return bool(stock_channels()) or bool(
		frappe.db.exists("Channel Order Problem", {"problem": "Out of Stock", "parenttype": "Channel Order"})
	)


def on_stock_ledger_entry(doc, method=None) -> None:
	mark_pairs([(doc.item_code, doc.warehouse)])


def on_transaction(doc, method=None) -> None:
	"""Sales Orders, Stock Reservation Entries, Work Orders, Pick Lists: reserved quantities."""
	pairs = []
	if doc.get("item_code") and doc.get("warehouse"):
		pairs.append((doc.item_code, doc.warehouse))
	for field in ("items", "required_items", "locations"):
		for row in doc.get(field) or []:
			warehouse = row.get("warehouse") or row.get("source_warehouse") or doc.get("set_warehouse")
			pairs.append((row.get("item_code"), warehouse))
	if doc.get("production_item") and doc.get("fg_warehouse"):
		pairs.append((doc.production_item, doc.fg_warehouse))
	mark_pairs(pairs)


# --- the job -----------------------------------------------------------------------------


@jobs.as_job_user
def push_pending_changes() -> None:
	cache = frappe.cache()
	key = cache.make_key(PENDING_KEY)
	first = min((float(v) for v in (cache.hvals(key) or [])), default=None)
	if first is None:
		jobs.release_queue_slot(QUEUED_KEY)
		return
	debounce = flt(frappe.db.get_single_value("OMS Settings", "stock_sync_debounce_seconds"))
	wait = first + debounce - time.time()
	if wait > 0:
		time.sleep(min(wait, debounce))
	# marks made while this job waited join the batch below; those from now on queue another job
	jobs.release_queue_slot(QUEUED_KEY)
	pipe = cache.pipeline(transaction=True)
	pipe.hkeys(key)
	pipe.delete(key)
	raw_pairs, _deleted = pipe.execute()
	items = {raw.decode().split("\x1f")[0] if isinstance(raw, bytes) else raw.split("\x1f")[0] for raw in raw_pairs}
	sync_items(items, trigger="Stock Change")
	from oms_connector.erp import intake

	held = intake.held_for_stock(items_with_free_stock(items))
	if held:  # stock arrived: route them again
		intake.enqueue_processing(held)
		frappe.db.commit()


def items_with_free_stock(items: set[str]) -> set[str]:
	"""Items some warehouse could now give to a new order (a reservation alone frees nothing)."""
	if not items:
		return set()
	return set(
		frappe.db.sql_list(
			"""select distinct item_code from `tabBin` where item_code in %(items)s
			and actual_qty - reserved_qty - reserved_stock > 0""",
			{"items": tuple(items)},
		)
	)


def stock_channels(channel: str | None = None) -> list[str]:
	filters = {"enabled": 1, "sync_stock": 1, "platform": ("in", SYNCED_PLATFORMS)}
	if channel:
		filters["name"] = channel
	return frappe.get_all("Sales Channel", filters=filters, pluck="name")


def sync_items(items: set[str], trigger: str = "Stock Change", connector_for=None) -> None:
	"""Recompute and push every listing, on every channel, that sells one of these items."""
	if not items:
		return
	items = items | _bundles_containing(items)
	for channel in stock_channels():
		names = frappe.get_all(
			"Channel Listing",
			filters={"sales_channel": channel, "item_code": ("in", list(items))},
			pluck="name",
		)
		for start in range(0, len(names), LISTING_BATCH):
			push_listings(channel, names[start : start + LISTING_BATCH], trigger, connector_for=connector_for)


@jobs.as_job_user
def reconcile_channel(channel: str, trigger: str = "Reconciliation", connector_for=None, progress: bool = False) -> dict:
	"""Push every listing whose last accepted value differs from today's ATP (or never went out)."""
	names = frappe.get_all(
		"Channel Listing", filters={"sales_channel": channel, "item_code": ("is", "set")}, pluck="name", order_by="name"
	)
	totals = {"checked": 0, "pushed": 0, "failed": 0, "drifted": 0}
	for start in range(0, len(names), LISTING_BATCH):
		result = push_listings(channel, names[start : start + LISTING_BATCH], trigger, connector_for=connector_for)
		for key in totals:
			totals[key] += result[key]
		frappe.db.commit()
		if progress:
			frappe.publish_progress(
				min(100, (start + LISTING_BATCH) * 100 / max(len(names), 1)),
				title=frappe._("Pushing stock"),
				doctype="Sales Channel",
				docname=channel,
			)
	return totals


def reconcile_all_channels() -> None:
	for channel in stock_channels():
		enqueue_reconcile(channel)


def check_drift_all_channels() -> None:
	for channel in stock_channels():
		enqueue_reconcile(channel, trigger="Drift Check")


def enqueue_reconcile(channel: str, trigger: str = "Reconciliation", progress: bool = False) -> bool:
	"""Queue a full push of the channel. One job per channel and trigger waits at a time, so the
	hourly reconciliation and the daily drift check never swallow each other. False when the
	same kind of run is waiting already (its result will be just as fresh)."""
	if not stock_channels(channel):
		return False
	job_id = f"oms-stock-{frappe.scrub(trigger)}-{channel}"
	if _job_waiting(job_id):
		return False
	frappe.enqueue(
		"oms_connector.erp.stock_sync.reconcile_channel",
		queue="long",
		job_id=job_id,
		enqueue_after_commit=True,
		channel=channel,
		trigger=trigger,
		progress=progress,
	)
	return True


def _job_waiting(job_id: str) -> bool:
	"""A job with this id is queued and not started: one started already may have read stale data."""
	from frappe.utils.background_jobs import get_job

	job = get_job(job_id)
	return bool(job) and job.get_status() == "queued"


@contextmanager
def channel_push_lock(channel_name: str):
	"""One push at a time per channel, across workers and machines, so a value sent later is
	always computed later."""
	lock = frappe.cache().lock(frappe.cache().make_key(f"{PUSH_LOCK_KEY}:{channel_name}"), timeout=PUSH_LOCK_SECONDS)
	if not lock.acquire(blocking=True, blocking_timeout=PUSH_LOCK_SECONDS):
		raise RetryableError(f"another stock push for {channel_name} did not finish in {PUSH_LOCK_SECONDS} s")
	try:
		yield
	finally:
		try:
			lock.release()
		except Exception:
			pass  # expired while we worked: the next holder has it already


# --- computing and pushing ---------------------------------------------------------------


def _bundles_containing(items: set[str]) -> set[str]:
	return set(
		frappe.get_all(
			"Product Bundle Item", filters={"item_code": ("in", list(items)), "parenttype": "Product Bundle"}, pluck="parent"
		)
	)


def _bundle_components(bundle_items: list[str]) -> dict[str, list[tuple[str, float]]]:
	if not bundle_items:
		return {}
	components = defaultdict(list)
	for row in frappe.get_all(
		"Product Bundle Item",
		filters={"parent": ("in", bundle_items), "parenttype": "Product Bundle"},
		fields=["parent", "item_code", "qty"],
	):
		components[row.parent].append((row.item_code, flt(row.qty) or 1))
	return components


def read_bins(item_codes: set[str], warehouses: list[str]) -> dict:
	"""Every Bin the batch needs, in one query."""
	if not item_codes or not warehouses:
		return {}
	rows = frappe.get_all(
		"Bin",
		filters={"item_code": ("in", list(item_codes)), "warehouse": ("in", warehouses)},
		fields=list(BIN_FIELDS),
	)
	return {(row.item_code, row.warehouse): BinQty.from_erpnext_bin(row) for row in rows}


def compute_listing_qty(channel, listings: list) -> dict[str, int]:
	"""listing name -> the quantity the channel should show."""
	warehouses = [row.warehouse for row in channel.warehouses]
	policy = ChannelStockPolicy(
		warehouses=warehouses,
		buffer=flt(channel.stock_buffer),
		share_percent=flt(channel.stock_share_percent) if channel.stock_share_percent is not None else 100,
	)
	bundles = _bundle_components(
		list(frappe.get_all("Product Bundle", filters={"new_item_code": ("in", [l.item_code for l in listings])}, pluck="name"))
	)
	item_codes = {listing.item_code for listing in listings} | {
		component for parts in bundles.values() for component, _qty in parts
	}
	bins = read_bins(item_codes, warehouses)
	quantities = {}
	for listing in listings:
		override = ListingOverride(
			mode="None" if listing.stock_mode in (None, "", "Computed") else listing.stock_mode,
			value=flt(listing.stock_value),
		)
		if listing.item_code in bundles:
			quantities[listing.name] = bundle_atp(bundles[listing.item_code], bins, policy, override)
		else:
			quantities[listing.name] = available_to_promise(listing.item_code, bins, policy, override)
	return quantities


def push_listings(channel_name: str, listing_names: list[str], trigger: str, connector_for=None) -> dict:
	with channel_push_lock(channel_name):
		return _push_listings_locked(channel_name, listing_names, trigger, connector_for)


def _push_listings_locked(channel_name: str, listing_names: list[str], trigger: str, connector_for=None) -> dict:
	channel = frappe.get_cached_doc("Sales Channel", channel_name)
	listings = frappe.get_all(
		"Channel Listing",
		filters={"name": ("in", listing_names)},
		fields=["name", "listing_id", "variant_id", "sku", "item_code", "stock_mode", "stock_value", "last_pushed_qty", "push_status"],
	)
	quantities = compute_listing_qty(channel, listings)
	# reading stock back costs a call per product on some platforms: daily and on demand only
	check_drift = trigger in ("Drift Check", "Manual")
	due = [
		listing
		for listing in listings
		if listing.push_status != "Synced" or cint(listing.last_pushed_qty) != quantities[listing.name]
	]
	result = {"checked": len(listings), "pushed": 0, "failed": 0, "drifted": 0}
	if not due and not check_drift:
		return result
	updates = {
		listing.name: StockUpdate(
			listing_id=listing.listing_id or "",
			variant_id=listing.variant_id or "",
			sku=listing.sku or "",
			qty=quantities[listing.name],
		)
		for listing in listings
	}
	started = time.perf_counter()
	log = {"sales_channel": channel_name, "trigger": trigger, "started_at": now_datetime()}
	sent, answers, drift, error = _send(channel_name, listings, due, updates, check_drift, connector_for)
	result["drifted"] = len(drift)
	if not sent and not drift:
		return result
	details = _record_answers(sent, answers, error, result)
	_write_log(channel_name, log, result, started, drift, error, details)
	return result


def _send(channel_name, listings, due, updates, check_drift, connector_for):
	"""Push what is due (and, reading back, what drifted). Returns (sent {listing: update},
	{update: answer}, drift rows, error text); a failed call leaves every due listing unanswered."""
	answers, drift = {}, []
	try:
		connector = (connector_for or _connector_for)(channel_name)
		if check_drift:
			drift = _drift(connector, updates)
			drifted = {row["listing"] for row in drift}
			due = [listing for listing in listings if listing in due or listing.name in drifted]  # put right
		sent = {listing.name: updates[listing.name] for listing in due}
		if sent:
			for push in connector.push_stock(list(sent.values())):
				answers[push.update] = push
		return sent, answers, drift, ""
	except ConnectorError as exc:
		error = f"{exc.__class__.__name__}: {exc}"
	except Exception as exc:
		frappe.log_error(title=f"OMS: stock push to {channel_name} failed")
		error = f"{exc.__class__.__name__}: {exc}"
	return {listing.name: updates[listing.name] for listing in due}, answers, drift, error


def _record_answers(sent: dict, answers: dict, error: str, result: dict) -> list[dict]:
	"""Mark each listing Synced (with what the platform accepted) or Failed (with why)."""
	now = now_datetime()
	details = []
	for name, update in sent.items():
		push = answers.get(update)
		ok = bool(push and push.ok)
		message = (push.message if push else error) or ""
		values = {"push_status": "Synced" if ok else "Failed", "push_error": "" if ok else message[:1000]}
		if ok:
			values.update({"last_pushed_qty": update.qty, "last_pushed_at": now})
			result["pushed"] += 1
		else:
			result["failed"] += 1
		frappe.db.set_value("Channel Listing", name, values, update_modified=False)
		details.append({"listing": name, "sku": update.sku, "qty": update.qty, "ok": ok, "answer": message[:300]})
	return details


def _write_log(channel_name, log, result, started, drift, error, details) -> None:
	log.update(
		{
			"status": "Success" if not result["failed"] else ("Partial" if result["pushed"] else "Failed"),
			"duration_ms": int((time.perf_counter() - started) * 1000),
			"listings_checked": result["checked"],
			"listings_pushed": result["pushed"],
			"listings_failed": result["failed"],
			"listings_drifted": result["drifted"],
			"drift": json.dumps(drift[:1000], ensure_ascii=False) if drift else None,
			"error": error[:1000],
			"details": json.dumps(details[:1000], ensure_ascii=False),
		}
	)
	frappe.get_doc({"doctype": "Stock Push Log", **log}).insert(ignore_permissions=True)
	frappe.db.set_value(
		"Sales Channel",
		channel_name,
		{"last_stock_sync": now_datetime(), "stock_push_failures": result["failed"]},
		update_modified=False,
	)


def _drift(connector, updates: dict[str, StockUpdate]) -> list[dict]:
	"""Listings the platform shows differently from ERPNext's available-to-promise, as it reports them."""
	try:
		shown = connector.read_stock(list(updates.values()))
	except ConnectorError:
		return []  # a platform that can't be read now still gets its pushes
	return [
		{"listing": name, "sku": update.sku, "platform": shown[update], "erpnext": update.qty}
		for name, update in updates.items()
		if update in shown and int(shown[update]) != update.qty
	]


def _connector_for(channel_name: str):
	from oms_connector.erp import marketplace

	marketplace.ensure_fresh_token(channel_name)
	return marketplace.get_connector(frappe.get_doc("Sales Channel", channel_name))

