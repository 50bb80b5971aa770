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

# Where each ERPNext document came from is shown by its Channel Order link field.
doctype_list_js = {}

scheduler_events = {
	"cron": {
		# retry orders that failed for a reason that may have passed (locks, platform hiccups)
		"*/15 * * * *": ["oms_connector.erp.scheduler.retry_failed_orders"],
	},
}
