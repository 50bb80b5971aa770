// A settlement is booked by the app; the accountant reviews it and retries one that waited.
const OMS_RETRYABLE_SETTLEMENT = ["Waiting for Invoice", "Order Unknown", "Error"];

frappe.ui.form.on("Marketplace Settlement", {
	refresh(frm) {
		if (OMS_RETRYABLE_SETTLEMENT.includes(frm.doc.status)) {
			frm.add_custom_button(__("Retry Booking"), () =>
				frappe
					.call({
						method: "oms_connector.api.marketplace.retry_settlement",
						args: { name: frm.doc.name },
						freeze: true,
						freeze_message: __("Booking..."),
					})
					.then(() => frm.reload_doc())
			);
		}
		const colours = { Booked: "green", Estimate: "blue", "Waiting for Invoice": "orange", Difference: "red", "Order Unknown": "red", Error: "red" };
		if (frm.doc.error) frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.error), colours[frm.doc.status] || "orange");
	},
});
