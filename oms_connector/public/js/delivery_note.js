// Delivery Note: quotes from every carrier, the choice and why, then the booking with its label.
frappe.ui.form.on("Delivery Note", {
	refresh(frm) {
		if (frm.doc.docstatus === 2 || frm.doc.is_return || frm.is_new()) return;
		const group = __("Carrier");
		const call = (method, message) =>
			frappe
				.call({ method: "oms_connector.api.orders." + method, args: { delivery_note: frm.doc.name }, freeze: true, freeze_message: message })
				.then((r) => {
					frm.reload_doc();
					return r;
				});
		if (!frm.doc.oms_tracking_number) {
			frm.add_custom_button(__("Get Quotes"), () =>
				call("quote_carriers", __("Asking the carriers...")).then((r) => r.message && frappe.show_alert({ message: r.message.reason, indicator: "green" }))
			, group);
			if (frm.doc.oms_carrier_account && frm.doc.oms_carrier_service) {
				frm.add_custom_button(__("Book Shipment"), () => call("book_carrier", __("Booking the shipment...")), group);
			}
		}
		if (frm.doc.oms_carrier_choice) {
			frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.oms_carrier_choice), "blue");
		}
	},
});
