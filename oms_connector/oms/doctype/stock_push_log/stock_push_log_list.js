const OMS_PUSH_STATUS_COLOURS = {
	Success: "green",
	Partial: "orange",
	Failed: "red",
};

// Platforms whose stock oms_connector pushes (oms_connector.erp.stock_sync.SYNCED_PLATFORMS).
const OMS_STOCK_PLATFORMS = ["Shopee", "Lazada", "TikTok Shop"];

frappe.listview_settings["Stock Push Log"] = {
	add_fields: ["status", "sales_channel", "trigger"],
	get_indicator(doc) {
		if (!doc.status) return;
		return [__(doc.status), OMS_PUSH_STATUS_COLOURS[doc.status] || "gray", "status,=," + doc.status];
	},
	onload(listview) {
		// An empty log is normal until stock sync is on and some stock moves: say which it is.
		const standard_message = listview.get_no_result_message.bind(listview);
		listview.get_no_result_message = () => {
			const filters = listview.filter_area && listview.filter_area.get();
			if (filters && filters.length) return standard_message();
			return oms_empty_push_log_html(listview.oms_empty_reason || oms_default_empty_reason());
		};
		oms_find_empty_reason().then((reason) => {
			listview.oms_empty_reason = reason;
			if (listview.$no_result && !(listview.data && listview.data.length)) {
				listview.$no_result.html(
					`<div class="no-result text-muted flex justify-center align-center">${listview.get_no_result_message()}</div>`
				);
			}
		});
	},
};

function oms_default_empty_reason() {
	return __(
		"Either no channel has stock sync on, or no stock has changed since it was turned on. Pushes start after a stock change or at the hourly reconcile."
	);
}

async function oms_find_empty_reason() {
	try {
		if (frappe.model.can_read("Sales Channel")) {
			const syncing = await frappe.db.count("Sales Channel", {
				filters: { enabled: 1, sync_stock: 1, platform: ["in", OMS_STOCK_PLATFORMS] },
			});
			if (!syncing) {
				return __(
					"No channel has stock sync on. Tick Push Stock on an enabled Shopee, Lazada or TikTok Shop Sales Channel whose Channel Listings are linked to Items."
				);
			}
		}
		if (frappe.model.can_read("OMS Settings")) {
			const enabled = await frappe.db.get_single_value("OMS Settings", "stock_sync_enabled");
			if (!enabled) {
				return __(
					"Push Stock To Channels is off in OMS Settings, so stock changes are not pushed; only the hourly reconcile pushes stock."
				);
			}
		}
		return __(
			"Stock sync is on, but no stock has changed yet. Pushes start after a stock change or at the hourly reconcile."
		);
	} catch (e) {
		return oms_default_empty_reason();
	}
}

function oms_empty_push_log_html(reason) {
	return `<div class="msg-box no-border">
		<div><img src="/assets/frappe/images/ui-states/list-empty-state.svg" alt="" class="null-state"></div>
		<p><b>${__("No stock pushes yet")}</b></p>
		<p>${frappe.utils.escape_html(reason)}</p>
	</div>`;
}
