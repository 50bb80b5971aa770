app_name = "oms_connector"
app_title = "OMS Connector"
app_publisher = "oms_connector developers"
app_description = "Omnichannel order management for ERPNext: marketplaces, web stores, stores and phone orders"
app_email = "dev@oms-connector.example"
app_license = "MIT"
required_apps = ["erpnext"]

# the carrier buttons on ERPNext's Delivery Note
doctype_js = {"Delivery Note": "public/js/delivery_note.js"}

after_install = "oms_connector.setup.install.after_install"
after_migrate = "oms_connector.setup.install.after_migrate"
before_uninstall = "oms_connector.setup.install.before_uninstall"
before_tests = "oms_connector.setup.install.before_tests"

_RESERVING = {
	"on_change": "oms_connector.erp.stock_sync.on_transaction",
	"on_cancel": "oms_connector.erp.stock_sync.on_transaction",
}
_LINK = "oms_connector.erp.document_hooks.link_channel_order"
_FOLLOW = "oms_connector.erp.document_hooks.follow_document"
# A document staff make by hand from a channel order's documents joins that order.
_FOLLOWED = {"validate": _LINK, "on_submit": _FOLLOW, "on_cancel": _FOLLOW}
# Anything that moves actual or reserved stock marks its (item, warehouse) pairs for a push.
doc_events = {
	"Stock Ledger Entry": {
		"on_submit": "oms_connector.erp.stock_sync.on_stock_ledger_entry",
		"on_cancel": "oms_connector.erp.stock_sync.on_stock_ledger_entry",
	},
	"Bin": {"on_change": "oms_connector.erp.stock_sync.on_transaction"},
	"Sales Order": {**_RESERVING, "on_cancel": [_RESERVING["on_cancel"], _FOLLOW]},
	"Stock Reservation Entry": _RESERVING,
	"Work Order": _RESERVING,
	"Delivery Note": _FOLLOWED,
	"Sales Invoice": _FOLLOWED,
	"Payment Entry": _FOLLOWED,
	# a price added for an item re-queues the orders held for the lack of it
	"Item Price": {"on_update": "oms_connector.erp.intake.retry_held_for_price"},
	# a bank deposit that is a marketplace payout is reconciled with it at once
	"Bank Transaction": {"on_submit": "oms_connector.erp.bank_matching.match_bank_transaction"},
}

# Log Settings clears these after the given days (changeable there). Channel Order Events are
# the raw payloads the ledgers rest on: never cleared.
default_log_clearing_doctypes = {"Stock Push Log": 30}

scheduler_events = {
	"cron": {
		# queue a drain/fetch for orders still marked (a lost or killed job): nothing waits forever
		"* * * * *": ["oms_connector.erp.scheduler.sweep_waiting_work"],
		# retry orders that failed for a reason that may have passed (locks, platform hiccups)
		"*/15 * * * *": ["oms_connector.erp.scheduler.retry_failed_orders"],
		# pull orders changed since the last poll: the safety net behind webhooks
		"*/5 * * * *": ["oms_connector.erp.marketplace.poll_all_channels"],
		# refresh access tokens with less than an hour left
		"*/30 * * * *": ["oms_connector.erp.marketplace.refresh_expiring_tokens"],
	},
	# re-push every listing whose last accepted value differs from today's stock
	"hourly_long": [
		"oms_connector.erp.stock_sync.reconcile_all_channels",
		# read and book each marketplace's settlements, adjustments and payouts
		"oms_connector.erp.finance_sync.fetch_all_channels",
	],
	# read each platform's stock back, list the drift and put it right
	"daily_long": ["oms_connector.erp.stock_sync.check_drift_all_channels"],
}

# The app's own roles (permissions are on each doctype): OMS Manager sets channels and rules up,
# OMS User works the orders, Warehouse User ships them. Pair them with ERPNext's Sales User /
# Stock User for the ERPNext documents they open.
OMS_ROLES = ["OMS Manager", "OMS User", "Warehouse User"]
fixtures = [{"dt": "Role", "filters": [["name", "in", OMS_ROLES]]}]
