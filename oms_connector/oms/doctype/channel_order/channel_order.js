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
			if (["Ordered", "Pending Payment", "Held"].includes(frm.doc.status)) {
				frm.add_custom_button(__("Cancel on Platform"), () =>
					frappe.confirm(__("Cancel this order on {0}?", [frm.doc.platform]), () =>
						frappe
							.call("oms_connector.api.marketplace.cancel", { channel_order: frm.doc.name })
							.then(() => frm.reload_doc())
					)
				, __("Platform"));
			}
			frm.add_custom_button(__("Fetch Settlement"), () =>
				frappe
					.call("oms_connector.api.marketplace.fetch_settlement", { channel_order: frm.doc.name })
					.then(() => frm.reload_doc())
			, __("Platform"));
		}
		if (frm.doc.status === "Ordered") {
			frm.add_custom_button(__("Re-route"), () =>
				frappe
					.call("oms_connector.api.orders.reroute_order", { name: frm.doc.name })
					.then(() => frm.reload_doc())
			, __("Routing"));
			frm.add_custom_button(__("Warehouse Rejects"), () => {
				frappe.prompt(
					{ fieldname: "warehouse", fieldtype: "Link", options: "Warehouse", label: __("Warehouse"), reqd: 1 },
					(values) =>
						frappe
							.call("oms_connector.api.orders.reroute_order", {
								name: frm.doc.name,
								reject_warehouse: values.warehouse,
							})
							.then(() => frm.reload_doc()),
					__("Which warehouse cannot fulfil this order?")
				);
			}, __("Routing"));
		}
		if (frm.doc.payment_method === "COD" && ["Completed", "Shipped"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Record COD Remittance"), () => {
				frappe.prompt(
					[
						{ fieldname: "account", fieldtype: "Link", options: "Account", label: __("Received Into"), reqd: 1,
							get_query: () => ({ filters: { account_type: ["in", ["Bank", "Cash"]], is_group: 0, company: frm.doc.company } }) },
						{ fieldname: "reference", fieldtype: "Data", label: __("Remittance Reference") },
					],
					(values) =>
						frappe
							.call("oms_connector.api.orders.record_cod_remittance", { name: frm.doc.name, ...values })
							.then((r) => {
								frappe.show_alert(__("{0} Payment Entries made", [(r.message || []).length]));
								frm.reload_doc();
							}),
					__("COD money received")
				);
			});
		}
		if (frm.doc.sales_order) {
			frm.add_custom_button(__("Sales Order"), () =>
				frappe.set_route("Form", "Sales Order", frm.doc.sales_order)
			, __("View"));
		}
	},
});
