frappe.ui.form.on("Channel Order", {
	refresh(frm) {
		if (["Held", "Error", "Received"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Retry"), () => {
				frappe
					.call("oms_connector.api.orders.retry_orders", { names: [frm.doc.name] })
					.then(() => frm.reload_doc());
			}).addClass("btn-primary");
		}
		if (frm.doc.error) {
			frm.dashboard.set_headline_alert(
				`<div class="text-danger">${frappe.utils.escape_html(frm.doc.error)}</div>`
			);
		}
		if (["Shopee", "Lazada", "TikTok Shop"].includes(frm.doc.platform) && !frm.is_new()) {
			frm.add_custom_button(__("Ship on Platform"), () =>
				frappe
					.call("oms_connector.api.marketplace.ship", { channel_order: frm.doc.name })
					.then((r) => {
						const info = r.message || {};
						if (info.tracking_number) frappe.show_alert(__("Tracking number {0}", [info.tracking_number]));
						if (info.label_url) window.open(info.label_url);
						frm.reload_doc();
					})
			, __("Platform"));
			frm.add_custom_button(__("Fetch Settlement"), () =>
				frappe
					.call("oms_connector.api.marketplace.fetch_settlement", { channel_order: frm.doc.name })
					.then(() => frm.reload_doc())
			, __("Platform"));
		}
		if (frm.doc.sales_order) {
			frm.add_custom_button(__("Sales Order"), () =>
				frappe.set_route("Form", "Sales Order", frm.doc.sales_order)
			, __("View"));
		}
	},
});
