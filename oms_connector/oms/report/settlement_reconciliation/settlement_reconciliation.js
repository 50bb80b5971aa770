// Settlement Reconciliation: payouts against their settlements, settled money not paid out,
// orders invoiced and never settled, settlements to review, each channel's clearing balance.

frappe.query_reports["Settlement Reconciliation"] = {
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
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (!data) return value;
		if (column.fieldname === "section") {
			value = `<b>${value}</b>`;
		} else if (column.fieldname === "difference" && data.difference) {
			value = `<span class="text-danger">${value}</span>`;
		} else if (column.fieldname === "days_open" && data.days_open) {
			value = `<span class="text-warning">${value}</span>`;
		}
		return value;
	},
};
