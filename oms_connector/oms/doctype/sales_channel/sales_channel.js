// Sales Channel form. Each group of actions lives in its own function below; add new
// groups (e.g. stock sync) as another function and call it from refresh.

frappe.provide("oms_connector.sales_channel");

oms_connector.sales_channel.MARKETPLACES = ["Shopee", "Lazada", "TikTok Shop"];

frappe.ui.form.on("Sales Channel", {
	refresh(frm) {
		oms_connector.sales_channel.add_stock_actions(frm);
		oms_connector.sales_channel.show_connection_status(frm);
		oms_connector.sales_channel.add_marketplace_actions(frm);
	},
});

oms_connector.sales_channel.is_marketplace = function (frm) {
	return oms_connector.sales_channel.MARKETPLACES.includes(frm.doc.platform);
};

// Connection state next to the title, and the reason in plain sight when the shop must be reconnected.
oms_connector.sales_channel.show_connection_status = function (frm) {
	if (frm.is_new() || !oms_connector.sales_channel.is_marketplace(frm)) return;
	const colors = { Connected: "green", "Needs Reconnection": "red", "Not Connected": "gray" };
	const status = frm.doc.connection_status || "Not Connected";
	frm.page.set_indicator(__(status), colors[status] || "gray");
	if (status === "Needs Reconnection") {
		const reason = frm.doc.last_error ? `: ${frappe.utils.escape_html(frm.doc.last_error)}` : "";
		frm.dashboard.set_headline_alert(
			`${__("This shop needs to be connected again (click Connect)")}${reason}`,
			"red"
		);
	} else if (frm.doc.last_error) {
		frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.last_error), "orange");
	}
};

// Connect (OAuth in a new tab), Sync Orders Now, Pull Products.
oms_connector.sales_channel.add_marketplace_actions = function (frm) {
	if (frm.is_new() || !oms_connector.sales_channel.is_marketplace(frm)) return;
	const group = __("Marketplace");
	const api = "oms_connector.api.marketplace.";

	frm.add_custom_button(
		frm.doc.connection_status === "Connected" ? __("Reconnect") : __("Connect"),
		() => {
			if (frm.is_dirty()) {
				frappe.msgprint(__("Save the channel first: the link uses its saved credentials."));
				return;
			}
			// Open the tab now, while the click still counts: a tab opened after the call returns is blocked as a popup.
			const tab = window.open("", "_blank");
			frappe
				.call({ method: api + "connect", args: { channel: frm.doc.name } })
				.then((r) => {
					if (tab) tab.location = r.message;
					else window.location = r.message;
					frm.reload_doc();
				})
				.catch(() => tab && tab.close());
		},
		group
	);

	if (frm.doc.connection_status !== "Connected") return;

	frm.add_custom_button(
		__("Sync Orders Now"),
		() => {
			frappe
				.call({ method: api + "sync_orders_now", args: { channel: frm.doc.name } })
				.then((r) => frappe.show_alert({ message: r.message, indicator: "green" }));
		},
		group
	);

	frm.add_custom_button(
		__("Pull Products"),
		() => {
			frappe
				.call({ method: api + "pull_products", args: { channel: frm.doc.name } })
				.then((r) => frappe.show_alert({ message: r.message, indicator: "green" }));
		},
		group
	);
};

oms_connector.sales_channel.add_stock_actions = function (frm) {
	if (frm.is_new() || !oms_connector.sales_channel.is_marketplace(frm) || !frm.doc.sync_stock) return;
	frm.add_custom_button(__("Sync Stock Now"), () =>
		frappe
			.call("oms_connector.api.stock.sync_stock_now", { channel: frm.doc.name })
			.then((r) => frappe.show_alert(r.message))
	, __("Stock"));
	frm.add_custom_button(__("Push Log"), () =>
		frappe.set_route("List", "Stock Push Log", { sales_channel: frm.doc.name })
	, __("Stock"));
	if (frm.doc.stock_push_failures) {
		frm.dashboard.add_comment(
			__("{0} listings failed to push in the last run; they are retried on the next run.", [frm.doc.stock_push_failures]),
			"orange", true
		);
	}
};
