"""The order lifecycle: which ERPNext steps an order still needs, whatever order events came in.

Events can arrive twice or out of order (a "completed" before its "shipped", a webhook after
the poll). So instead of applying events one by one, the intake keeps the furthest status the
channel has reported (`merge_status`) and asks `plan_actions` what is missing between the
documents that exist and that status. Running the plan twice does nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .order import OrderStatus, PaymentMethod

FORWARD_RANK = {
	OrderStatus.UNPAID: 0,
	OrderStatus.CONFIRMED: 1,
	OrderStatus.SHIPPED: 2,
	OrderStatus.DELIVERED: 3,
	OrderStatus.COMPLETED: 4,
}


class InvoicePolicy(str, Enum):
	ON_SHIPMENT = "On Shipment"
	ON_DELIVERY = "On Delivery"
	NEVER = "Never"


class Action(str, Enum):
	CREATE_SALES_ORDER = "create_sales_order"
	MAKE_DELIVERY_NOTE = "make_delivery_note"
	MAKE_SALES_INVOICE = "make_sales_invoice"
	MAKE_PAYMENT_ENTRY = "make_payment_entry"
	CANCEL_SALES_ORDER = "cancel_sales_order"
	MAKE_RETURN_DELIVERY = "make_return_delivery"
	MAKE_CREDIT_NOTE = "make_credit_note"


@dataclass(frozen=True)
class DocumentState:
	"""Which documents the order already has (submitted ones only)."""

	sales_order: bool = False
	sales_order_cancelled: bool = False
	delivered: bool = False
	invoiced: bool = False
	paid: bool = False
	return_delivery: bool = False
	credit_note: bool = False


def merge_status(current: OrderStatus | None, incoming: OrderStatus) -> OrderStatus:
	"""The status the order is in after `incoming` was reported on top of `current`.

	Forward statuses only move forward; cancelled and returned end the order, except that a
	cancelled order whose goods had already left may still be reported returned.
	"""
	if current is None:
		return incoming
	if current == OrderStatus.RETURNED:
		return current
	if current == OrderStatus.CANCELLED:
		return OrderStatus.RETURNED if incoming == OrderStatus.RETURNED else current
	if incoming in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
		return incoming
	return incoming if FORWARD_RANK[incoming] > FORWARD_RANK[current] else current


def _invoice_due(status: OrderStatus, policy: InvoicePolicy) -> bool:
	rank = FORWARD_RANK.get(status, -1)
	if policy == InvoicePolicy.ON_SHIPMENT:
		return rank >= FORWARD_RANK[OrderStatus.SHIPPED]
	if policy == InvoicePolicy.ON_DELIVERY:
		return rank >= FORWARD_RANK[OrderStatus.DELIVERED]
	return False


def plan_actions(
	status: OrderStatus,
	docs: DocumentState,
	invoice_policy: InvoicePolicy,
	payment_method: PaymentMethod,
	reserve_unpaid: bool = False,
	auto_payment: bool = True,
) -> list[Action]:
	"""The ERPNext steps still missing for an order in `status` that has `docs`, in order."""
	if docs.sales_order_cancelled:
		return []
	if status == OrderStatus.CANCELLED:
		if not docs.sales_order:
			return []
		if not docs.delivered:
			return [Action.CANCEL_SALES_ORDER]
		status = OrderStatus.RETURNED  # the goods already left: take them back

	actions: list[Action] = []
	if status == OrderStatus.RETURNED:
		if not docs.sales_order:
			return []  # never fulfilled from ERPNext, so nothing to take back
		if not docs.delivered:
			actions.append(Action.MAKE_DELIVERY_NOTE)  # it did ship, the event was missed
		if not docs.return_delivery:
			actions.append(Action.MAKE_RETURN_DELIVERY)
		if docs.invoiced and not docs.credit_note:
			actions.append(Action.MAKE_CREDIT_NOTE)
		return actions

	if status == OrderStatus.UNPAID and not reserve_unpaid:
		return []
	if not docs.sales_order:
		actions.append(Action.CREATE_SALES_ORDER)
	if FORWARD_RANK[status] >= FORWARD_RANK[OrderStatus.SHIPPED] and not docs.delivered:
		actions.append(Action.MAKE_DELIVERY_NOTE)
	invoiced = docs.invoiced
	if not invoiced and _invoice_due(status, invoice_policy):
		actions.append(Action.MAKE_SALES_INVOICE)
		invoiced = True
	if invoiced and not docs.paid and auto_payment and payment_method == PaymentMethod.PREPAID:
		actions.append(Action.MAKE_PAYMENT_ENTRY)
	return actions


def desk_status(status: OrderStatus, docs: DocumentState, invoice_policy: InvoicePolicy) -> str:
	"""The Channel Order status an operations person sees, once the plan has run."""
	if docs.sales_order_cancelled:
		return "Cancelled"
	if status in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
		if docs.return_delivery:
			return "Returned"
		return "Cancelled"
	if not docs.sales_order:
		return "Pending Payment" if status == OrderStatus.UNPAID else "Received"
	if docs.delivered:
		if FORWARD_RANK[status] >= FORWARD_RANK[OrderStatus.DELIVERED]:
			return "Completed"
		return "Shipped"
	return "Ordered"
