frappe.ui.form.on("Channel Order Import", {
	setup(frm) {
		frappe.realtime.on("oms_import_progress", (data) => {
			if (data.import_name !== frm.doc.name) return;
			frm.dashboard.show_progress(__("Importing"), (data.done / data.total) * 100, __("{0} of {1} orders", [data.done, data.total]));
			if (data.finished) frm.reload_doc();
		});
	},
	refresh(frm) {
		frm.add_custom_button(__("Download Template"), () => {
			window.open("/api/method/oms_connector.api.imports.download_template");
		});
		if (!frm.is_new() && frm.doc.import_file && ["Draft", "Previewed"].includes(frm.doc.status)) {
			// frappe.call, not frm.call: frm.call runs a method of the document's own controller
			frm.add_custom_button(__("Preview"), () =>
				frappe
					.call({ method: "oms_connector.api.imports.preview", args: { import_name: frm.doc.name }, freeze: true, freeze_message: __("Reading the file...") })
					.then(() => frm.reload_doc())
			);
		}
		if (frm.doc.status === "Previewed" && frm.doc.orders_in_file) {
			frm.add_custom_button(__("Start Import"), () =>
				frappe
					.call({ method: "oms_connector.api.imports.start_import", args: { import_name: frm.doc.name }, freeze: true })
					.then(() => frm.reload_doc())
			).addClass("btn-primary");
		}
		render_preview(frm);
	},
});

function render_preview(frm) {
	const errors = JSON.parse(frm.doc.row_errors || "[]");
	const log = JSON.parse(frm.doc.import_log || "[]");
	let html = "";
	if (frm.doc.status !== "Draft") {
		html += `<p>${__("{0} orders ready, {1} bad rows", [frm.doc.orders_in_file || 0, errors.length])}</p>`;
	}
	if (errors.length) {
		html += `<table class="table table-bordered table-sm"><thead><tr><th>${__("Row")}</th><th>${__("Order")}</th><th>${__("Problem")}</th></tr></thead><tbody>`;
		for (const e of errors) {
			html += `<tr><td>${e.row}</td><td>${frappe.utils.escape_html(e.order_id || "")}</td><td class="text-danger">${frappe.utils.escape_html(e.reason)}</td></tr>`;
		}
		html += "</tbody></table>";
	}
	if (log.length) {
		html += `<table class="table table-bordered table-sm"><thead><tr><th>${__("Order")}</th><th>${__("Status")}</th><th>${__("Channel Order")}</th></tr></thead><tbody>`;
		for (const row of log) {
			html += `<tr><td>${frappe.utils.escape_html(row.order_id)}</td><td>${row.status}</td><td><a href="/app/channel-order/${encodeURIComponent(row.channel_order)}">${frappe.utils.escape_html(row.channel_order)}</a></td></tr>`;
		}
		html += "</tbody></table>";
	}
	frm.get_field("preview_html").$wrapper.html(html);
}
