import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from oms_connector.domain.lifecycle import (
	Action,
	DocumentState,
	InvoicePolicy,
	desk_status,
	merge_status,
	plan_actions,
)
from oms_connector.domain.order import OrderStatus as S
from oms_connector.domain.order import PaymentMethod as P

NONE = DocumentState()
ORDERED = DocumentState(sales_order=True)
SHIPPED = DocumentState(sales_order=True, delivered=True)
INVOICED = DocumentState(sales_order=True, delivered=True, invoiced=True)
PAID = DocumentState(sales_order=True, delivered=True, invoiced=True, paid=True)


def apply(actions, docs: DocumentState) -> DocumentState:
	"""What ERPNext looks like after the actions ran (the model the ERP layer implements)."""
	state = docs.__dict__.copy()
	for action in actions:
		if action == Action.CREATE_SALES_ORDER:
			state["sales_order"] = True
		elif action == Action.MAKE_DELIVERY_NOTE:
			state["delivered"] = True
		elif action == Action.MAKE_SALES_INVOICE:
			state["invoiced"] = True
		elif action == Action.MAKE_PAYMENT_ENTRY:
			state["paid"] = True
		elif action == Action.CANCEL_SALES_ORDER:
			state["sales_order"] = False
			state["sales_order_cancelled"] = True
		elif action == Action.MAKE_RETURN_DELIVERY:
			state["return_delivery"] = True
		elif action == Action.MAKE_CREDIT_NOTE:
			state["credit_note"] = True
	return DocumentState(**state)


def test_forward_statuses_only_move_forward():
	assert merge_status(S.COMPLETED, S.SHIPPED) == S.COMPLETED
	assert merge_status(S.CONFIRMED, S.SHIPPED) == S.SHIPPED
	assert merge_status(None, S.UNPAID) == S.UNPAID
	assert merge_status(S.SHIPPED, S.CANCELLED) == S.CANCELLED
	assert merge_status(S.CANCELLED, S.COMPLETED) == S.CANCELLED
	assert merge_status(S.CANCELLED, S.RETURNED) == S.RETURNED
	assert merge_status(S.RETURNED, S.CANCELLED) == S.RETURNED


def test_new_confirmed_order_makes_a_sales_order_only():
	assert plan_actions(S.CONFIRMED, NONE, InvoicePolicy.ON_DELIVERY, P.PREPAID) == [Action.CREATE_SALES_ORDER]


def test_unpaid_orders_wait_unless_channel_reserves_them():
	assert plan_actions(S.UNPAID, NONE, InvoicePolicy.ON_DELIVERY, P.PREPAID) == []
	assert plan_actions(S.UNPAID, NONE, InvoicePolicy.ON_DELIVERY, P.PREPAID, reserve_unpaid=True) == [
		Action.CREATE_SALES_ORDER
	]


def test_completed_before_shipped_still_delivers_first_then_invoices_and_pays():
	assert plan_actions(S.COMPLETED, NONE, InvoicePolicy.ON_DELIVERY, P.PREPAID) == [
		Action.CREATE_SALES_ORDER,
		Action.MAKE_DELIVERY_NOTE,
		Action.MAKE_SALES_INVOICE,
		Action.MAKE_PAYMENT_ENTRY,
	]


def test_cod_stays_receivable():
	assert plan_actions(S.COMPLETED, SHIPPED, InvoicePolicy.ON_DELIVERY, P.COD) == [Action.MAKE_SALES_INVOICE]


def test_invoice_policies():
	assert plan_actions(S.SHIPPED, ORDERED, InvoicePolicy.ON_SHIPMENT, P.COD) == [
		Action.MAKE_DELIVERY_NOTE,
		Action.MAKE_SALES_INVOICE,
	]
	assert plan_actions(S.SHIPPED, ORDERED, InvoicePolicy.ON_DELIVERY, P.COD) == [Action.MAKE_DELIVERY_NOTE]
	assert plan_actions(S.COMPLETED, ORDERED, InvoicePolicy.NEVER, P.PREPAID) == [Action.MAKE_DELIVERY_NOTE]


def test_no_payment_entry_without_a_payment_account():
	assert plan_actions(S.COMPLETED, SHIPPED, InvoicePolicy.ON_DELIVERY, P.PREPAID, auto_payment=False) == [
		Action.MAKE_SALES_INVOICE
	]


def test_cancel_before_shipment_cancels_the_sales_order():
	assert plan_actions(S.CANCELLED, ORDERED, InvoicePolicy.ON_DELIVERY, P.PREPAID) == [Action.CANCEL_SALES_ORDER]
	assert plan_actions(S.CANCELLED, NONE, InvoicePolicy.ON_DELIVERY, P.PREPAID) == []


def test_cancel_after_shipment_becomes_a_return():
	assert plan_actions(S.CANCELLED, SHIPPED, InvoicePolicy.ON_DELIVERY, P.PREPAID) == [Action.MAKE_RETURN_DELIVERY]
	assert plan_actions(S.CANCELLED, PAID, InvoicePolicy.ON_DELIVERY, P.PREPAID) == [
		Action.MAKE_RETURN_DELIVERY,
		Action.MAKE_CREDIT_NOTE,
	]


def test_return_of_an_order_whose_shipment_was_missed():
	assert plan_actions(S.RETURNED, ORDERED, InvoicePolicy.ON_DELIVERY, P.PREPAID) == [
		Action.MAKE_DELIVERY_NOTE,
		Action.MAKE_RETURN_DELIVERY,
	]


def test_cancelled_sales_order_is_final():
	gone = DocumentState(sales_order_cancelled=True)
	for status in S:
		assert plan_actions(status, gone, InvoicePolicy.ON_DELIVERY, P.PREPAID) == []
	assert desk_status(S.CANCELLED, gone, InvoicePolicy.ON_DELIVERY) == "Cancelled"


def test_desk_status():
	assert desk_status(S.UNPAID, NONE, InvoicePolicy.ON_DELIVERY) == "Pending Payment"
	assert desk_status(S.CONFIRMED, ORDERED, InvoicePolicy.ON_DELIVERY) == "Ordered"
	assert desk_status(S.SHIPPED, SHIPPED, InvoicePolicy.ON_DELIVERY) == "Shipped"
	assert desk_status(S.COMPLETED, PAID, InvoicePolicy.ON_DELIVERY) == "Completed"
	returned = DocumentState(sales_order=True, delivered=True, return_delivery=True)
	assert desk_status(S.RETURNED, returned, InvoicePolicy.ON_DELIVERY) == "Returned"


statuses = st.sampled_from(list(S))


@settings(max_examples=400, deadline=None)
@given(
	events=st.lists(statuses, min_size=1, max_size=8),
	policy=st.sampled_from(list(InvoicePolicy)),
	method=st.sampled_from(list(P)),
)
def test_any_arrival_order_and_redelivery_converges(events, policy, method):
	"""Processing after every event, in any order, with repeats, ends where processing the
	merged status once ends; and running the plan again changes nothing."""
	docs, status = NONE, None
	for event in events:
		status = merge_status(status, event)
		docs = apply(plan_actions(status, docs, policy, method), docs)
		# re-delivery of the same event is a no-op
		assert plan_actions(status, docs, policy, method) == []
	# invariants of what was made
	if docs.delivered or docs.invoiced:
		assert docs.sales_order or docs.sales_order_cancelled
	if docs.invoiced:
		assert docs.delivered
	if docs.credit_note:
		assert docs.invoiced and docs.return_delivery
	if docs.paid:
		assert method == P.PREPAID and docs.invoiced


def test_every_status_pair_merges_to_a_status():
	for a, b in itertools.product([None, *S], S):
		assert merge_status(a, b) in S
