"""Routing applier: reads warehouses, stock, capacity and the matching Fulfilment Rule from
ERPNext, asks the domain engine for the cheapest plan, and returns it as Sales Order rows.

Stock is read under a lock on the Bin rows the order could draw from (always locked in the
same order, so two orders can't deadlock), and the lock is held until the Sales Order that
reserves the stock commits: two orders for the last unit take turns, and the second sees the
first one's reservation.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import frappe
from frappe.utils import flt, getdate, nowdate

from oms_connector.domain import geo
from oms_connector.domain.routing import (
	Candidate,
	CostModel,
	RouteLine,
	RoutingRequest,
	RoutingStatus,
	route,
)
from oms_connector.domain.stock import BinQty, allocate_with_lock_order
from oms_connector.erp import fieldnames

DEFAULT_RULE = "Default"


class OutOfStock(Exception):
	"""No plan can fill the order and the channel holds such orders. `shortages`: item code ->
	quantity no allowed warehouse can give (empty when no warehouse is allowed at all)."""

	def __init__(self, message: str, shortages: dict[str, float] | None = None):
		super().__init__(message)
		self.shortages = shortages or {}


# --- the rule ----------------------------------------------------------------------------


def ensure_default_rule() -> str:
	if not frappe.db.exists("Fulfilment Rule", DEFAULT_RULE):
		frappe.get_doc(
			{
				"doctype": "Fulfilment Rule",
				"rule_name": DEFAULT_RULE,
				"is_default": 1,
				"priority": 1000,
				"split_policy": "Split When Needed",
				"max_shipments": 2,
			}
		).insert(ignore_permissions=True)
	return DEFAULT_RULE


def _province_codes(text: str | None) -> set[str]:
	codes = set()
	for part in (text or "").replace("\n", ",").split(","):
		province = geo.find_province(part) if part.strip() else None
		if province:
			codes.add(province.code)
	return codes


def matching_rule(channel, customer_group: str | None, order_value: float, province_code: str | None):
	rules = frappe.get_all(
		"Fulfilment Rule",
		filters={"enabled": 1},
		fields=["name", "company", "sales_channel", "customer_group", "min_order_value", "max_order_value", "provinces", "is_default"],
		order_by="is_default asc, priority asc, name asc",
	)
	for rule in rules:
		if rule.is_default:
			return frappe.get_cached_doc("Fulfilment Rule", rule.name)
		if rule.company and rule.company != channel.company:
			continue
		if rule.sales_channel and rule.sales_channel != channel.name:
			continue
		if rule.customer_group and rule.customer_group not in _group_and_ancestors(customer_group):
			continue
		if flt(rule.min_order_value) and order_value < flt(rule.min_order_value):
			continue
		if flt(rule.max_order_value) and order_value > flt(rule.max_order_value):
			continue
		if rule.provinces and province_code not in _province_codes(rule.provinces):
			continue
		return frappe.get_cached_doc("Fulfilment Rule", rule.name)
	return frappe.get_cached_doc("Fulfilment Rule", ensure_default_rule())


def _group_and_ancestors(customer_group: str | None) -> list[str]:
	"""A rule for a parent group (e.g. All Customer Groups) covers every group under it."""
	from frappe.utils.nestedset import get_ancestors_of

	if not customer_group:
		return []
	return [customer_group, *get_ancestors_of("Customer Group", customer_group)]


def _allowed_warehouses(channel, rule, rejected: set[str]) -> list[str]:
	channel_warehouses = [row.warehouse for row in sorted(channel.warehouses, key=lambda r: (r.priority or 0, r.idx))]
	excluded = {row.warehouse for row in rule.warehouses if row.exclude} | rejected
	listed = [row.warehouse for row in rule.warehouses if not row.exclude]
	allowed = [wh for wh in channel_warehouses if (not listed or wh in listed) and wh not in excluded]
	return allowed


# --- ERPNext facts -----------------------------------------------------------------------


def lock_and_read_stock(item_codes: set[str], warehouses: list[str]) -> dict[tuple[str, str], int]:
	"""Lock the Bins in a fixed order and return what each can still promise."""
	if not item_codes or not warehouses:
		return {}
	pairs = allocate_with_lock_order((item, wh) for item in item_codes for wh in warehouses)
	rows = frappe.db.sql(
		"""select item_code, warehouse, actual_qty, reserved_qty, reserved_stock,
			reserved_qty_for_production, reserved_qty_for_sub_contract, reserved_qty_for_production_plan
		from `tabBin` where item_code in %(items)s and warehouse in %(warehouses)s
		order by item_code, warehouse for update""",
		{"items": tuple(item_codes), "warehouses": tuple(warehouses)},
		as_dict=True,
	)
	free = {}
	for row in rows:
		qty = BinQty.from_erpnext_bin(row).free_qty()
		free[(row.item_code, row.warehouse)] = max(int(qty), 0)
	return {pair: free.get(pair, 0) for pair in pairs}


def routed_orders_today(warehouses: list[str]) -> dict[str, int]:
	"""Channel orders already routed to each warehouse today (capacity counts orders)."""
	if not warehouses:
		return {}
	rows = frappe.db.sql(
		"""select soi.warehouse, count(distinct so.name) from `tabSales Order` so
		join `tabSales Order Item` soi on soi.parent = so.name
		where so.docstatus = 1 and ifnull(so.oms_channel_order, '') != ''
		and so.creation >= %(today)s and soi.warehouse in %(warehouses)s
		group by soi.warehouse""",
		{"today": getdate(nowdate()), "warehouses": tuple(warehouses)},
	)
	return dict(rows)


def build_candidates(warehouses: list[str], stock: dict, item_codes: set[str]) -> list[Candidate]:
	settings = {
		row.name: row
		for row in frappe.get_all(
			"Warehouse",
			filters={"name": ("in", warehouses)},
			fields=[
				"name",
				fieldnames.WAREHOUSE_LATITUDE,
				fieldnames.WAREHOUSE_LONGITUDE,
				fieldnames.WAREHOUSE_PROVINCE,
				fieldnames.WAREHOUSE_PRIORITY,
				fieldnames.WAREHOUSE_PICKUP_ONLY,
				fieldnames.WAREHOUSE_IS_STORE,
				fieldnames.WAREHOUSE_PICKUP,
				fieldnames.WAREHOUSE_DAILY_CAPACITY,
				fieldnames.WAREHOUSE_HANDLING_COST,
			],
		)
	}
	limited = [name for name, row in settings.items() if row.oms_daily_capacity]
	used_today = routed_orders_today(limited)  # only capacity-limited warehouses need counting
	candidates = []
	for index, name in enumerate(warehouses):
		row = settings[name]
		lat, lon = row.oms_latitude, row.oms_longitude
		if not (lat or lon) and row.oms_province:
			province = geo.find_province(row.oms_province)
			if province:
				lat, lon = province.lat, province.lon
		capacity = None
		if row.oms_daily_capacity:
			capacity = max(int(row.oms_daily_capacity) - int(used_today.get(name, 0)), 0)
		candidates.append(
			Candidate(
				warehouse=name,
				stock={item: stock.get((item, name), 0) for item in item_codes},
				lat=lat if (lat or lon) else None,
				lon=lon if (lat or lon) else None,
				capacity_left=capacity,
				handling_cost=flt(row.oms_handling_cost),
				priority=int(row.oms_routing_priority if row.oms_routing_priority is not None else index),
				is_store=bool(row.oms_is_store),
				pickup=bool(row.oms_pickup),
				can_ship=not row.oms_pickup_only,
			)
		)
	return candidates


def _weights(item_codes: set[str]) -> dict[str, float]:
	return {
		row.name: flt(row.weight_per_unit)
		for row in frappe.get_all("Item", filters={"name": ("in", list(item_codes))}, fields=["name", "weight_per_unit"])
	}


# --- routing one order -------------------------------------------------------------------
def _shortages(lines: list[RouteLine], decision) -> dict[str, float]:
	short: dict[str, float] = {}
	for line in lines:
		missing = decision.unallocated.get(line.line_id, 0)
		if missing:
			short[line.item_code] = short.get(line.item_code, 0) + missing
	return short



def route_channel_order(doc, channel, order, item_codes: dict[str, str]) -> dict[str, list[tuple[str, Decimal]]]:
	"""{sku: [(warehouse, qty), ...]} for the order's Sales Order; the decision is kept on `doc`."""
	destination = geo.locate_address(order.shipping_address)
	customer_group = frappe.db.get_value("Customer", doc.customer, "customer_group") if doc.customer else None
	rule = matching_rule(channel, customer_group, float(order.buyer_paid), destination.province_code if destination else None)
	rejected = {wh.strip() for wh in (doc.rejected_warehouses or "").split("\n") if wh.strip()}
	warehouses = _allowed_warehouses(channel, rule, rejected)
	if order.pickup_store and order.pickup_store not in warehouses and order.pickup_store not in rejected:
		warehouses.append(order.pickup_store)
	if not warehouses:
		raise OutOfStock(f"rule {rule.name} leaves no warehouse for channel {channel.name}")

	codes = set(item_codes.values())
	stock = lock_and_read_stock(codes, warehouses)
	weights = _weights(codes)
	lines = [
		RouteLine(
			line_id=str(index),
			item_code=item_codes[line.sku],
			qty=int(line.qty),
			weight_kg=float(line.weight_kg) or weights.get(item_codes[line.sku], 0.0),
		)
		for index, line in enumerate(order.lines)
	]
	request = RoutingRequest(
		lines=lines,
		destination=destination,
		candidates=build_candidates(warehouses, stock, codes),
		cost_model=CostModel(
			base_per_shipment=flt(rule.base_cost_per_shipment),
			per_km=flt(rule.cost_per_km),
			per_kg=flt(rule.cost_per_kg),
			split_penalty=flt(rule.split_penalty),
		),
		split_policy=rule.split_policy,
		max_shipments=rule.max_shipments or None,
		pickup_store=order.pickup_store,
		pickup_fallback=rule.pickup_fallback or "Transfer",
		allow_partial=bool(rule.allow_partial),
	)
	decision = route(request)
	backordered = decision.status == RoutingStatus.BACKORDER
	if decision.pickup_store and decision.pickup_store != order.pickup_store:
		doc.pickup_store = decision.pickup_store  # the nearest store that has it all
	doc.fulfilment_rule = rule.name
	doc.routing_decision = json.dumps(_as_json(decision), ensure_ascii=False, indent=1, default=str)
	doc.routing_summary = "\n".join(decision.reasons)[:2000]
	if backordered and channel.out_of_stock_policy != "Backorder":
		raise OutOfStock("Out of stock: " + "; ".join(decision.reasons), _shortages(lines, decision))

	plan: dict[str, list[tuple[str, Decimal]]] = {}
	fallback = (decision.shipments or warehouses)[0]
	for index, line in enumerate(order.lines):
		rows = [(a.warehouse, Decimal(a.qty)) for a in decision.allocations if a.line_id == str(index)]
		short = line.qty - sum((qty for _wh, qty in rows), Decimal(0))
		if short > 0:  # backordered part waits in the best warehouse of the plan
			rows.append((fallback, short))
		plan[line.sku] = _merge(rows)
	if decision.transfer_needs:
		_request_transfers(doc, channel, decision)
	return plan


def _merge(rows: list[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
	merged: dict[str, Decimal] = {}
	for warehouse, qty in rows:
		merged[warehouse] = merged.get(warehouse, Decimal(0)) + qty
	return list(merged.items())


def _request_transfers(doc, channel, decision) -> None:
	"""A pickup store short of stock gets a Material Request to move it in."""
	request = frappe.get_doc(
		{
			"doctype": "Material Request",
			"material_request_type": "Material Transfer",
			"company": channel.company,
			"schedule_date": nowdate(),
			"items": [
				{
					"item_code": need.item_code,
					"qty": need.qty,
					"from_warehouse": need.from_warehouse,
					"warehouse": need.to_warehouse,
					"schedule_date": nowdate(),
				}
				for need in decision.transfer_needs
			],
		}
	)
	request.insert(ignore_permissions=True)
	request.add_comment("Comment", f"Stock for store pickup of Channel Order {doc.name}")


def _as_json(decision) -> dict:
	return dataclasses.asdict(decision)
