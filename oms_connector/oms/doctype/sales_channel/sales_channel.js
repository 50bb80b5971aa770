// Sales Channel form. Each group of actions lives in its own function below; add new
// groups (e.g. stock sync) as another function and call it from refresh.

frappe.provide("oms_connector.sales_channel");

oms_connector.sales_channel.MARKETPLACES = ["Shopee", "Lazada", "TikTok Shop"];

frappe.ui.form.on("Sales Channel", {
	setup(frm) {
		oms_connector.sales_channel.set_queries(frm);
	},
	refresh(frm) {
		oms_connector.sales_channel.add_stock_actions(frm);
		oms_connector.sales_channel.show_connection_status(frm);
		oms_connector.sales_channel.add_marketplace_actions(frm);
		oms_connector.sales_channel.show_webhook_address(frm);
	},
	platform(frm) {
		oms_connector.sales_channel.show_webhook_address(frm);
	},
});

// Link fields offer only what the channel can use: its company's ledgers and warehouses.
oms_connector.sales_channel.set_queries = function (frm) {
	const of_company = (extra) => () => ({ filters: { company: frm.doc.company, ...extra } });
	frm.set_query("warehouse", "warehouses", of_company({ is_group: 0 }));
	frm.set_query("prepaid_payment_account", of_company({ is_group: 0, account_type: ["in", ["Bank", "Cash"]] }));
	frm.set_query("shipping_fee_account", of_company({ is_group: 0, root_type: "Income" }));
	frm.set_query("cost_center", of_company({ is_group: 0 }));
	frm.set_query("taxes_and_charges", of_company({}));
	frm.set_query("shipping_fee_item", () => ({ filters: { is_stock_item: 0, disabled: 0 } }));
	frm.set_query("territory", () => ({ filters: { is_group: 0 } }));
	frm.set_query("customer_group", () => ({ filters: { is_group: 0 } }));
	frm.set_query("selling_price_list", () => ({ filters: { selling: 1, enabled: 1 } }));
};

// Where the platform (or the sender) must send this channel's orders, and its signing key.
oms_connector.sales_channel.show_webhook_address = function (frm) {
	const field = frm.get_field("webhook_info");
	if (!field) return;
	if (frm.is_new()) {
		field.$wrapper.html(`<p class="text-muted">${__("Save the channel to see its webhook address.")}</p>`);
		return;
	}
	frappe
		.call("oms_connector.api.channels.connection_addresses", { channel: frm.doc.name })
		.then((r) => {
			const info = r.message || {};
			const row = (label, value) =>
				value ? `<tr><th>${label}</th><td><code class="oms-copy">${frappe.utils.escape_html(value)}</code></td></tr>` : "";
			field.$wrapper.html(
				`<table class="table table-sm table-bordered oms-webhook-info"><tbody>
					${row(__("Webhook URL"), info.webhook_url)}
					${row(__("Signature Header"), info.signature_header)}
					${row(__("Redirect URL (OAuth)"), info.redirect_url)}
				</tbody></table>`
			);
			if (info.signature_header && !info.has_secret) {
				field.$wrapper.append(`<p class="text-warning">${__("No webhook secret yet: every webhook is refused until you generate one.")}</p>`);
			}
		});
	if (frm.doc.platform === "Custom API") {
		frm.add_custom_button(__("Generate Secret"), () => {
			const generate = () =>
				frappe
					.call({
						method: "oms_connector.api.channels.generate_webhook_secret",
						args: { channel: frm.doc.name },
						freeze: true,
					})
					.then((r) => {
						frappe.msgprint({
							title: __("New Webhook Secret"),
							message: `<p>${__("Copy it to the sender now; it is not shown again.")}</p><pre class="oms-secret">${frappe.utils.escape_html(r.message)}</pre>`,
							indicator: "green",
						});
						frm.reload_doc();
					});
			if (frm.is_dirty()) frappe.msgprint(__("Save the channel first."));
			else if (frm.doc.webhook_secret) frappe.confirm(__("Replace the current secret? Webhooks signed with it will be refused."), generate);
			else generate();
		}, __("Webhook"));
	}
};

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
				.call({ method: api + "connect", args: { channel: frm.doc.name }, freeze: true })
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
				.call({ method: api + "sync_orders_now", args: { channel: frm.doc.name }, freeze: true })
				.then((r) => frappe.show_alert({ message: r.message, indicator: "green" }));
		},
		group
	);

	frm.add_custom_button(
		__("Pull Products"),
		() => {
			frappe
				.call({ method: api + "pull_products", args: { channel: frm.doc.name }, freeze: true })
				.then((r) => frappe.show_alert({ message: r.message, indicator: "green" }));
		},
		group
	);

	if (frm.doc.clearing_account) {
		frm.add_custom_button(
			__("Fetch Settlements Now"),
			() => {
				frappe
					.call({ method: api + "fetch_finance_now", args: { channel: frm.doc.name }, freeze: true })
					.then((r) => frappe.show_alert({ message: r.message, indicator: "green" }));
			},
			group
		);
		frm.add_custom_button(
			__("Settlements"),
			() => frappe.set_route("List", "Marketplace Settlement", { sales_channel: frm.doc.name }),
			__("View")
		);
		frm.add_custom_button(
			__("Payouts"),
			() => frappe.set_route("List", "Marketplace Payout", { sales_channel: frm.doc.name }),
			__("View")
		);
	}
};

oms_connector.sales_channel.add_stock_actions = function (frm) {
	if (frm.is_new() || !oms_connector.sales_channel.is_marketplace(frm) || !frm.doc.sync_stock) return;
	frm.add_custom_button(__("Sync Stock Now"), () =>
		frappe
			.call({ method: "oms_connector.api.stock.sync_stock_now", args: { channel: frm.doc.name }, freeze: true })
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
