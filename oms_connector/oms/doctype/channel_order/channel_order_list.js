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
				.call({ method: "oms_connector.api.orders.retry_orders", args: { names }, freeze: true, freeze_message: __("Processing the orders...") })
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
	const channel_company = {};
	const dialog = new frappe.ui.Dialog({
		title: __("New Store/Phone Order"),
		size: "extra-large",
		fields: [
			{ fieldname: "sales_channel", fieldtype: "Link", options: "Sales Channel", label: __("Channel"), reqd: 1,
				get_query: () => ({ filters: { platform: "Store/Phone", enabled: 1 } }),
				onchange: () => {
					const channel = dialog.get_value("sales_channel");
					if (channel && !channel_company[channel]) {
						frappe.db.get_value("Sales Channel", channel, "company").then((r) => {
							channel_company[channel] = r.message && r.message.company;
						});
					}
					oms_manual_order_refresh(dialog);
				} },
			{ fieldname: "payment_method", fieldtype: "Select", label: __("Payment"), options: "Prepaid\nCOD", default: "COD" },
			{ fieldtype: "Column Break" },
			{ fieldname: "buyer_name", fieldtype: "Data", label: __("Customer Name"), reqd: 1 },
			{ fieldname: "phone", fieldtype: "Data", options: "Phone", label: __("Phone"), reqd: 1 },
			{ fieldtype: "Section Break", label: __("Delivery") },
			{ fieldname: "line1", fieldtype: "Data", label: __("Street") },
			{ fieldname: "ward", fieldtype: "Data", label: __("Ward") },
			{ fieldtype: "Column Break" },
			{ fieldname: "province", fieldtype: "Data", label: __("Province") },
			{ fieldname: "pickup_store", fieldtype: "Link", options: "Warehouse", label: __("Or pick up at store"),
				get_query: () => {
					const company = channel_company[dialog.get_value("sales_channel")];
					return { filters: { oms_pickup: 1, is_group: 0, ...(company ? { company } : {}) } };
				} },
			{ fieldtype: "Section Break", label: __("Items") },
			{ fieldname: "lines", fieldtype: "Table", in_place_edit: true, reqd: 1,
				fields: [
					{ fieldname: "item_code", fieldtype: "Link", options: "Item", label: __("Item"), in_list_view: 1, reqd: 1,
						get_query: () => ({ filters: { is_sales_item: 1, disabled: 0, has_variants: 0 } }),
						onchange: () => oms_manual_order_refresh(dialog) },
					{ fieldname: "qty", fieldtype: "Float", label: __("Qty"), in_list_view: 1, reqd: 1, default: 1,
						onchange: () => oms_manual_order_refresh(dialog) },
				],
				data: [] },
			{ fieldtype: "Section Break" },
			{ fieldname: "shipping_fee", fieldtype: "Currency", label: __("Shipping Fee"), onchange: () => oms_manual_order_refresh(dialog) },
			{ fieldtype: "Column Break" },
			{ fieldname: "discount", fieldtype: "Currency", label: __("Order Discount"), onchange: () => oms_manual_order_refresh(dialog) },
			{ fieldtype: "Section Break" },
			{ fieldname: "summary", fieldtype: "HTML" },
			{ fieldname: "stock_warning", fieldtype: "HTML" },
		],
		primary_action_label: __("Create Order"),
		primary_action(values) {
			const lines = oms_manual_order_lines(values);
			if (!lines.length) {
				frappe.msgprint(__("Add at least one item to the order"));
				return;
			}
			frappe
				.call({ method: "oms_connector.api.orders.stock_warnings", args: { sales_channel: values.sales_channel, lines }, freeze: true })
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
					oms_manual_order_create(dialog, values, lines);
				});
		},
	});
	dialog.show();
}

// Rows the table added on Tab (no item) are not order lines.
function oms_manual_order_lines(values) {
	return (values.lines || []).filter((l) => l.item_code).map((l) => ({ item_code: l.item_code, qty: l.qty || 1 }));
}

function oms_manual_order_create(dialog, values, lines) {
	const order = {
		status: "confirmed",
		payment_method: values.payment_method,
		buyer: { name: values.buyer_name, phone: values.phone },
		shipping_address: values.pickup_store ? null : {
			full_name: values.buyer_name, phone: values.phone, line1: values.line1,
			ward: values.ward, province: values.province,
		},
		pickup_store: values.pickup_store,
		shipping_fee: values.shipping_fee || 0,
		seller_voucher: values.discount || 0,
		lines: lines.map((l) => ({ sku: l.item_code, qty: l.qty })),
	};
	frappe
		.call({
			method: "oms_connector.api.orders.create_manual_order",
			args: { sales_channel: values.sales_channel, order },
			freeze: true,
			freeze_message: __("Creating the order..."),
		})
		.then((res) => {
			dialog.hide();
			frappe.set_route("Form", "Channel Order", res.message);
		});
}

// Prices from the channel's price list, and the total the buyer is told.
function oms_manual_order_refresh(dialog) {
	const values = dialog.get_values(true) || {};
	const lines = oms_manual_order_lines(values);
	const summary = dialog.fields_dict.summary.$wrapper;
	if (!values.sales_channel || !lines.length) {
		summary.html("");
		return;
	}
	dialog.stock_checked = false;
	dialog.set_primary_action(__("Create Order"), dialog.primary_action);
	dialog.fields_dict.stock_warning.$wrapper.html("");
	frappe
		.call("oms_connector.api.orders.quote_manual_order", {
			sales_channel: values.sales_channel, lines, shipping_fee: values.shipping_fee || 0, discount: values.discount || 0,
		})
		.then((r) => {
			const quote = r.message;
			const money = (v) => format_currency(v, quote.currency);
			const rows = quote.lines
				.map((l) => `<tr><td>${frappe.utils.escape_html(l.item_code)}</td><td class="text-right">${l.qty}</td>
					<td class="text-right">${l.has_price ? money(l.rate) : `<span class="text-danger">${__("No price")}</span>`}</td>
					<td class="text-right">${money(l.amount)}</td></tr>`)
				.join("");
			summary.html(`<table class="table table-sm table-bordered oms-order-summary">
				<thead><tr><th>${__("Item")}</th><th class="text-right">${__("Qty")}</th><th class="text-right">${__("Rate")}</th><th class="text-right">${__("Amount")}</th></tr></thead>
				<tbody>${rows}</tbody>
				<tfoot>
					<tr><td colspan="3">${__("Shipping Fee")}</td><td class="text-right">${money(values.shipping_fee || 0)}</td></tr>
					<tr><td colspan="3">${__("Order Discount")}</td><td class="text-right">−${money(values.discount || 0)}</td></tr>
					<tr><th colspan="3">${__("Total")}</th><th class="text-right oms-order-total">${money(quote.total)}</th></tr>
				</tfoot></table>`);
		});
}
