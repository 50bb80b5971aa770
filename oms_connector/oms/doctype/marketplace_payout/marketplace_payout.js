frappe.ui.form.on("Marketplace Payout", {
	refresh(frm) {
		if (frm.doc.status === "Error") {
			frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.error || ""), "red");
			frm.add_custom_button(__("Retry Booking"), () =>
				frappe
					.call({ method: "oms_connector.api.marketplace.retry_settlement", args: { name: frm.doc.name }, freeze: true })
					.then(() => frm.reload_doc())
			);
		}
	},
});
