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
		if (frm.doc.sales_order) {
			frm.add_custom_button(__("Sales Order"), () =>
				frappe.set_route("Form", "Sales Order", frm.doc.sales_order)
			, __("View"));
		}
	},
});
