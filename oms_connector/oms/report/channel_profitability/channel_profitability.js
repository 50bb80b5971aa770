// Channel Profitability: what each channel, order or item earns after the platform's charges
// and the cost of the goods; withheld taxes are shown but are prepaid tax, not cost.

frappe.query_reports["Channel Profitability"] = {
	filters: [
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
			default: frappe.defaults.get_user_default("Company"),
			reqd: 1,
		},
		{
			fieldname: "sales_channel",
			label: __("Sales Channel"),
			fieldtype: "Link",
			options: "Sales Channel",
			get_query: () => ({ filters: { company: frappe.query_report.get_filter_value("company") } }),
		},
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.month_start(),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.month_end(),
			reqd: 1,
		},
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Channel", label: __("Channel") },
				{ value: "Order", label: __("Order") },
				{ value: "Item", label: __("Item") },
			],
			default: "Channel",
			reqd: 1,
		},
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (data && data.is_total_row) {
			value = `<b>${value}</b>`;
		} else if (data && column.fieldname === "margin" && data.margin < 0) {
			value = `<span class="text-danger">${value}</span>`;
		}
		return value;
	},
};
