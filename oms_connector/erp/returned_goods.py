"""What happens to goods a buyer sent back, once someone has looked at them.

A channel whose *Returned Goods Go To* is an inspection warehouse receives its returns there,
out of what the channels can sell. The operator then decides, per order: back to stock (a
Material Transfer to the warehouse each line shipped from) or written off (a Material Issue,
booked by ERPNext to the company's stock adjustment account). One decision per order.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import flt

from oms_connector.erp import fieldnames

RESTOCK = "Restock"
WRITE_OFF = "Write Off"
DECISIONS = {RESTOCK: "Restocked", WRITE_OFF: "Written Off"}


def decide(channel_order_name: str, decision: str) -> str:
	"""Move or write off the order's returned goods held in its channel's returns warehouse;
	returns the Stock Entry."""
	if decision not in DECISIONS:
		frappe.throw(_("Choose {0} or {1}").format(_("Restock"), _("Write Off")))
	order = frappe.db.get_value(
		"Channel Order", channel_order_name, ["name", "sales_channel", "company", "return_stock_entry"], as_dict=True, for_update=True
	)
	if order.return_stock_entry and frappe.db.get_value("Stock Entry", order.return_stock_entry, "docstatus") == 1:
		frappe.throw(_("The returned goods of {0} were dealt with already: {1}").format(order.name, order.return_stock_entry))
	held_in = frappe.db.get_value("Sales Channel", order.sales_channel, "returns_warehouse")
	rows = _held_rows(order.name, held_in)
	if not held_in or not rows:
		frappe.throw(_("Order {0} has no returned goods waiting in a returns warehouse").format(order.name))
	entry = _stock_entry(order, decision, held_in, rows)
	frappe.db.set_value(
		"Channel Order", order.name, {"return_stock_entry": entry, "return_decision": DECISIONS[decision]}
	)
	return entry


def _held_rows(order_name: str, warehouse: str | None) -> list:
	"""The order's returned lines received into `warehouse`, each with where it had shipped from."""
	if not warehouse:
		return []
	return frappe.db.sql(
		"""select ret.item_code, -ret.qty as qty, ret.uom, ret.conversion_factor, shipped.warehouse as shipped_from
		from `tabDelivery Note Item` ret
		join `tabDelivery Note` dn on dn.name = ret.parent
		left join `tabDelivery Note Item` shipped on shipped.name = ret.dn_detail
		where dn.`{link}` = %s and dn.docstatus = 1 and dn.is_return = 1 and ret.warehouse = %s""".format(
			link=fieldnames.CHANNEL_ORDER
		),
		(order_name, warehouse),
		as_dict=True,
	)


def _stock_entry(order, decision: str, held_in: str, rows: list) -> str:
	entry = frappe.new_doc("Stock Entry")
	entry.company = order.company
	entry.stock_entry_type = "Material Transfer" if decision == RESTOCK else "Material Issue"
	entry.remarks = _("Returned goods of {0}: {1}").format(order.name, _("Restocked") if decision == RESTOCK else _("Written Off"))
	for row in rows:
		line = {"item_code": row.item_code, "qty": flt(row.qty), "s_warehouse": held_in, "uom": row.uom, "conversion_factor": row.conversion_factor or 1}
		if decision == RESTOCK:
			if not row.shipped_from:
				frappe.throw(_("Cannot tell which warehouse {0} shipped from").format(row.item_code))
			line["t_warehouse"] = row.shipped_from
		entry.append("items", line)
	entry.insert(ignore_permissions=True)
	entry.submit()
	return entry.name
