// "Completed With Problems" must not look like "Completed": some orders were held or failed.
const OMS_IMPORT_STATUS_COLOURS = {
	Draft: "gray",
	Previewed: "gray",
	Queued: "blue",
	Importing: "blue",
	Completed: "green",
	"Completed With Problems": "orange",
	Failed: "red",
};

frappe.listview_settings["Channel Order Import"] = {
	add_fields: ["status", "sales_channel", "imported", "held_or_failed"],
	get_indicator(doc) {
		const status = doc.status || "Draft";
		return [__(status), OMS_IMPORT_STATUS_COLOURS[status] || "gray", "status,=," + status];
	},
};
