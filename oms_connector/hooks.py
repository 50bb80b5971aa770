app_name = "oms_connector"
app_title = "OMS Connector"
app_publisher = "oms_connector developers"
app_description = "Omnichannel order management for ERPNext: marketplaces, web stores, stores and phone orders"
app_email = "dev@oms-connector.example"
app_license = "MIT"
required_apps = ["erpnext"]

after_install = "oms_connector.setup.install.after_install"
after_migrate = "oms_connector.setup.install.after_migrate"
before_uninstall = "oms_connector.setup.install.before_uninstall"
before_tests = "oms_connector.setup.install.before_tests"

_RESERVING = {
	"on_change": "oms_connector.erp.stock_sync.on_transaction",
	"on_cancel": "oms_connector.erp.stock_sync.on_transaction",
}
# Anything that moves actual or reserved stock marks its (item, warehouse) pairs for a push.
doc_events = {
	"Stock Ledger Entry": {
		"on_submit": "oms_connector.erp.stock_sync.on_stock_ledger_entry",
		"on_cancel": "oms_connector.erp.stock_sync.on_stock_ledger_entry",
	},
	"Bin": {"on_change": "oms_connector.erp.stock_sync.on_transaction"},
	"Sales Order": _RESERVING,
	"Stock Reservation Entry": _RESERVING,
	"Work Order": _RESERVING,
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
	"hourly_long": ["oms_connector.erp.stock_sync.reconcile_all_channels"],
	# read each platform's stock back, list the drift and put it right
	"daily_long": ["oms_connector.erp.stock_sync.check_drift_all_channels"],
}
