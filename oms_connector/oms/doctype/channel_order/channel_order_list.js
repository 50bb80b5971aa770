const OMS_STATUS_COLOURS = {
	Received: "blue",
	"Pending Payment": "yellow",
	Held: "orange",
	Error: "red",
	Ordered: "purple",
	Shipped: "cyan",
	Completed: "green",
	Cancelled: "gray",
	Returned: "gray",
};

frappe.listview_settings["Channel Order"] = {
	add_fields: ["status", "sales_channel", "grand_total", "currency"],
	has_indicator_for_draft: true,
	get_indicator(doc) {
		return [__(doc.status), OMS_STATUS_COLOURS[doc.status] || "gray", "status,=," + doc.status];
	},
	onload(listview) {
		listview.page.add_action_item(__("Retry"), () => {
			const names = listview.get_checked_items(true);
			if (!names.length) return;
			frappe
				.call("oms_connector.api.orders.retry_orders", { names })
				.then((r) => {
					const queued = r.message && r.message.queued;
					frappe.show_alert(
						queued ? __("{0} orders queued for retry", [queued]) : __("Retried")
					);
					listview.refresh();
				});
		});
		listview.page.add_inner_button(__("New Store/Phone Order"), () => oms_new_manual_order(listview));
	},
};

function oms_new_manual_order(listview) {
	const dialog = new frappe.ui.Dialog({
		title: __("New Store/Phone Order"),
		size: "large",
		fields: [
			{ fieldname: "sales_channel", fieldtype: "Link", options: "Sales Channel", label: __("Channel"), reqd: 1,
				get_query: () => ({ filters: { platform: "Store/Phone", enabled: 1 } }) },
			{ fieldname: "payment_method", fieldtype: "Select", label: __("Payment"), options: "Prepaid\nCOD", default: "COD" },
			{ fieldtype: "Column Break" },
			{ fieldname: "buyer_name", fieldtype: "Data", label: __("Customer Name"), reqd: 1 },
			{ fieldname: "phone", fieldtype: "Data", label: __("Phone"), reqd: 1 },
			{ fieldtype: "Section Break", label: __("Delivery") },
			{ fieldname: "line1", fieldtype: "Data", label: __("Street") },
			{ fieldname: "ward", fieldtype: "Data", label: __("Ward") },
			{ fieldtype: "Column Break" },
			{ fieldname: "province", fieldtype: "Data", label: __("Province") },
			{ fieldname: "pickup_store", fieldtype: "Link", options: "Warehouse", label: __("Or pick up at store") },
			{ fieldtype: "Section Break", label: __("Items") },
			{ fieldname: "lines", fieldtype: "Table", in_place_edit: true, reqd: 1,
				fields: [
					{ fieldname: "item_code", fieldtype: "Link", options: "Item", label: __("Item"), in_list_view: 1, reqd: 1 },
					{ fieldname: "qty", fieldtype: "Float", label: __("Qty"), in_list_view: 1, reqd: 1, default: 1 },
				],
				data: [] },
			{ fieldname: "stock_warning", fieldtype: "HTML" },
		],
		primary_action_label: __("Check Stock"),
		primary_action(values) {
			const lines = (values.lines || []).map((l) => ({ item_code: l.item_code, qty: l.qty }));
			frappe
				.call("oms_connector.api.orders.stock_warnings", { sales_channel: values.sales_channel, lines })
				.then((r) => {
					const warnings = r.message || [];
					if (warnings.length && !dialog.stock_checked) {
						dialog.fields_dict.stock_warning.$wrapper.html(
							`<div class="alert alert-warning">${warnings.map(frappe.utils.escape_html).join("<br>")}</div>`
						);
						dialog.stock_checked = true;
						dialog.set_primary_action(__("Create Anyway"), () => dialog.primary_action(dialog.get_values()));
						return;
					}
					const order = {
						status: "confirmed",
						payment_method: values.payment_method,
						buyer: { name: values.buyer_name, phone: values.phone },
						shipping_address: values.pickup_store ? null : {
							full_name: values.buyer_name, phone: values.phone, line1: values.line1,
							ward: values.ward, province: values.province,
						},
						pickup_store: values.pickup_store,
						lines: lines.map((l) => ({ sku: l.item_code, qty: l.qty })),
					};
					frappe
						.call("oms_connector.api.orders.create_manual_order", { sales_channel: values.sales_channel, order })
						.then((res) => {
							dialog.hide();
							frappe.set_route("Form", "Channel Order", res.message);
						});
				});
		},
	});
	dialog.show();
}
