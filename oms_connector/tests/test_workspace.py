"""The OMS workspace as the desk loads it: every block it shows exists, its number cards count
what their labels say and its charts draw the orders they should."""

from __future__ import annotations

import json
import uuid

import frappe
from frappe.desk.desktop import get_desktop_page
from frappe.desk.doctype.dashboard_chart.dashboard_chart import get as get_chart_data
from frappe.desk.doctype.number_card.number_card import get_result
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_to_date, now_datetime

from oms_connector.tests import fixtures as fx

CHANNEL = "OMS Test Workspace"
SALES_USER = "oms.workspace.sales@example.com"

NUMBER_CARDS = ("Orders Today", "Orders to Ship", "Orders Needing Attention", "Failed Stock Pushes (24h)")
CHARTS = ("Orders per Day", "Orders by Channel (30 Days)", "Orders by Status (30 Days)")
LINK_CARDS = {
	"Orders": {"Channel Order", "Channel Order Import"},
	"Channels": {"Sales Channel", "Channel Listing"},
	"Fulfilment": {"Fulfilment Rule", "Warehouse", "Delivery Note", "Carrier Account", "Pick List"},
	"Stock": {"Stock Push Log", "Stock Ledger", "Stock Balance"},
	"Accounting": {"Sales Invoice", "Payment Entry"},
	"Money": {"Channel Profitability", "Settlement Reconciliation", "Marketplace Settlement", "Marketplace Payout"},
	"Settings": {"OMS Settings"},
}

# The desk evaluates a card's dynamic filters in the browser (frappe.dashboard_utils.get_all_filters);
# these are the same values computed here. A card with any other expression fails the test.
DESK_EXPRESSIONS = {
	'moment(frappe.datetime.system_datetime()).subtract(1, "days").format(frappe.defaultDatetimeFormat)': lambda: (
		add_to_date(now_datetime(), days=-1).strftime("%Y-%m-%d %H:%M:%S")
	),
}


def workspace_json() -> dict:
	with open(frappe.get_app_path("oms_connector", "oms", "workspace", "oms", "oms.json")) as f:
		return json.load(f)


def desk_filters(card) -> list:
	"""The filters the desk sends with a number card: its filters plus its evaluated dynamic filters."""
	filters = json.loads(card.filters_json or "[]")
	for doctype, field, operator, expression in json.loads(card.dynamic_filters_json or "[]"):
		if expression not in DESK_EXPRESSIONS:
			raise AssertionError(f"{card.name}: no server-side equivalent of dynamic filter {expression!r}")
		filters.append([doctype, field, operator, DESK_EXPRESSIONS[expression]()])
	return filters


def card_number(name: str) -> float:
	card = frappe.get_doc("Number Card", name)
	return get_result(frappe.as_json(card.as_dict()), frappe.as_json(desk_filters(card)))


def chart_data(name: str) -> dict:
	data = get_chart_data(chart_name=name, refresh=1)
	return data or {"labels": [], "datasets": [{"values": []}]}


def by_label(data: dict) -> dict:
	return dict(zip(data["labels"], data["datasets"][0]["values"]))


def make_order(status: str, days_ago: float = 0) -> str:
	return (
		frappe.get_doc(
			{
				"doctype": "Channel Order",
				"sales_channel": CHANNEL,
				"platform": "Custom API",
				"external_order_id": f"WS-{uuid.uuid4().hex[:10]}",
				"status": status,
				"order_date": add_to_date(now_datetime(), days=-days_ago),
				"company": fx.COMPANY,
				"currency": "VND",
				"grand_total": 100000,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def make_push_log(status: str, hours_ago: float = 0) -> str:
	doc = frappe.get_doc(
		{"doctype": "Stock Push Log", "sales_channel": CHANNEL, "trigger": "Stock Change", "status": status, "started_at": now_datetime()}
	).insert(ignore_permissions=True)
	if hours_ago:
		frappe.db.set_value(
			"Stock Push Log", doc.name, "creation", add_to_date(now_datetime(), hours=-hours_ago), update_modified=False
		)
	return doc.name


class TestWorkspace(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		fx.ensure_channel(CHANNEL)
		frappe.db.commit()
		cls.page = workspace_json()
		cls.content = json.loads(cls.page["content"])

	def tearDown(self):
		frappe.set_user("Administrator")

	def blocks(self, kind: str, key: str) -> list[str]:
		return [block["data"][key] for block in self.content if block["type"] == kind]

	def desktop_page(self) -> dict:
		page = get_desktop_page(json.dumps(self.page))
		self.assertTrue(page, "the desk could not load the OMS workspace")
		return json.loads(frappe.as_json(page))  # what the browser receives

	def test_the_desk_loads_every_block_of_the_workspace(self):
		# migrate synced this version of the JSON
		self.assertEqual(frappe.db.get_value("Workspace", "OMS", "content"), self.page["content"])
		page = self.desktop_page()

		# The desk draws a block only if an item of its section has the block's name as its label
		# (frappe/public/js/frappe/views/workspace/blocks/block.js); anything else is left out silently.
		def drawn(kind: str, key: str, section: str) -> list[dict]:
			items = {item["label"]: item for item in page[section]["items"]}
			names = self.blocks(kind, key)
			self.assertEqual(set(names) - set(items), set(), f"{kind} blocks the desk would leave out")
			return [items[name] for name in names]

		self.assertEqual([row["number_card_name"] for row in drawn("number_card", "number_card_name", "number_cards")], list(NUMBER_CARDS))
		self.assertEqual([row["chart_name"] for row in drawn("chart", "chart_name", "charts")], list(CHARTS))

		shortcuts = {row["label"]: row for row in drawn("shortcut", "shortcut_name", "shortcuts")}
		self.assertEqual(shortcuts["New Store/Phone Order"]["link_to"], "Channel Order")
		self.assertEqual(shortcuts["New Store/Phone Order"]["doc_view"], "List")
		self.assertEqual(json.loads(shortcuts["Orders Held"]["stats_filter"]), {"status": "Held"})
		self.assertEqual(json.loads(shortcuts["Orders to Ship"]["stats_filter"]), {"status": "Ordered"})
		self.assertEqual(shortcuts["Import Order File"]["link_to"], "Channel Order Import")
		self.assertEqual(shortcuts["Sales Channels"]["link_to"], "Sales Channel")

		link_cards = {card["label"]: card for card in drawn("card", "card_name", "cards")}
		self.assertEqual(list(link_cards), list(LINK_CARDS))
		for label, targets in LINK_CARDS.items():
			links = {link["link_to"]: link for link in link_cards[label]["links"]}
			self.assertLessEqual(targets, set(links), label)
			for target, link in links.items():
				kind = link["link_type"]
				self.assertTrue(frappe.db.exists(kind, target), f"{label}: {kind} {target} does not exist")
				if kind == "Report":
					self.assertEqual(link["is_query_report"], 1, target)

	def test_cards_and_charts_are_standard_records_of_the_module(self):
		for name in NUMBER_CARDS:
			card = frappe.get_doc("Number Card", name)
			self.assertEqual((card.is_standard, card.module, card.type, card.function), (1, "OMS", "Document Type", "Count"), name)
			card.validate()  # Frappe's own checks (standard records are imported without them)
		for name in CHARTS:
			chart = frappe.get_doc("Dashboard Chart", name)
			self.assertEqual((chart.is_standard, chart.module, chart.document_type), (1, "OMS", "Channel Order"), name)
			chart.check_required_field()
			chart.check_document_type()
			chart.validate_custom_options()

	def test_number_cards_count_what_they_say(self):
		before = {name: card_number(name) for name in NUMBER_CARDS}

		make_order("Ordered")  # today, to ship
		make_order("Held")  # today, needs attention
		make_order("Shipped")  # today
		make_order("Received", days_ago=1)  # yesterday: not today
		make_order("Error", days_ago=3)  # needs attention
		make_order("Ordered", days_ago=3)  # to ship
		make_order("Completed", days_ago=3)
		make_order("Pending Payment", days_ago=3)
		make_push_log("Failed")
		make_push_log("Failed", hours_ago=23)
		make_push_log("Failed", hours_ago=25)  # older than a day
		make_push_log("Partial")
		make_push_log("Success")

		expected = {"Orders Today": 3, "Orders to Ship": 2, "Orders Needing Attention": 2, "Failed Stock Pushes (24h)": 2}
		after = {name: card_number(name) for name in NUMBER_CARDS}
		self.assertEqual({name: after[name] - before[name] for name in NUMBER_CARDS}, expected)

	def test_charts_draw_the_orders_of_the_last_30_days(self):
		before = {name: chart_data(name) for name in CHARTS}

		for status in ("Ordered", "Held", "Shipped"):
			make_order(status)  # today
		make_order("Completed", days_ago=10)
		make_order("Ordered", days_ago=10)
		make_order("Completed", days_ago=45)  # outside the window

		after = {name: chart_data(name) for name in CHARTS}

		per_day_before, per_day = before["Orders per Day"], after["Orders per Day"]
		values_before, values = per_day_before["datasets"][0]["values"], per_day["datasets"][0]["values"]
		self.assertGreaterEqual(len(values), 28)  # a bar per day of the last month
		self.assertEqual(len(values), len(values_before))
		self.assertEqual(values[-1] - values_before[-1], 3)  # today's bar
		self.assertEqual(sum(values) - sum(values_before), 5)

		channels_before, channels = by_label(before["Orders by Channel (30 Days)"]), by_label(after["Orders by Channel (30 Days)"])
		self.assertEqual(channels.get(CHANNEL, 0) - channels_before.get(CHANNEL, 0), 5)

		statuses_before, statuses = by_label(before["Orders by Status (30 Days)"]), by_label(after["Orders by Status (30 Days)"])
		deltas = {status: statuses.get(status, 0) - statuses_before.get(status, 0) for status in statuses}
		self.assertEqual({status: delta for status, delta in deltas.items() if delta}, {"Ordered": 2, "Held": 1, "Shipped": 1, "Completed": 1})

	def test_a_sales_user_sees_the_cards_and_charts(self):
		if not frappe.db.exists("User", SALES_USER):
			frappe.get_doc(
				{
					"doctype": "User",
					"email": SALES_USER,
					"first_name": "Workspace Sales",
					"send_welcome_email": 0,
					"roles": [{"role": "Sales User"}],
				}
			).insert(ignore_permissions=True)
		make_order("Ordered")
		make_push_log("Failed")
		as_admin = {name: card_number(name) for name in NUMBER_CARDS}

		frappe.set_user(SALES_USER)
		page = self.desktop_page()
		labels = {section: {item["label"] for item in page[section]["items"]} for section in ("number_cards", "charts")}
		self.assertLessEqual(set(self.blocks("number_card", "number_card_name")), labels["number_cards"])
		self.assertLessEqual(set(self.blocks("chart", "chart_name")), labels["charts"])
		self.assertEqual([row["number_card_name"] for row in page["number_cards"]["items"]], list(NUMBER_CARDS))
		self.assertEqual([row["chart_name"] for row in page["charts"]["items"]], list(CHARTS))
		orders = {link["link_to"] for card in page["cards"]["items"] for link in card["links"]}
		self.assertLessEqual({"Channel Order", "Channel Order Import", "Stock Push Log"}, orders)
		self.assertEqual({name: card_number(name) for name in NUMBER_CARDS}, as_admin)
		for name in CHARTS:
			self.assertTrue(chart_data(name)["labels"], name)
