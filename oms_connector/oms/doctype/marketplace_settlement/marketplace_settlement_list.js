frappe.listview_settings["Marketplace Settlement"] = {
	add_fields: ["status", "needs_review"],
	get_indicator(doc) {
		const colours = { Booked: "green", Estimate: "blue", "Waiting for Invoice": "orange", Difference: "red", "Order Unknown": "red", Error: "red" };
		return [__(doc.status), colours[doc.status] || "gray", "status,=," + doc.status];
	},
};
