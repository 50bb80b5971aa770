// Channel Order form. The record is written by the intake only: staff act through the buttons.

frappe.provide("oms_connector.channel_order");

oms_connector.channel_order.MARKETPLACES = ["Shopee", "Lazada", "TikTok Shop"];
oms_connector.channel_order.DESK_TRACKED = ["Store/Phone", "File Import"];

frappe.ui.form.on("Channel Order", {
	refresh(frm) {
		const co = oms_connector.channel_order;
		if (!frm.is_new()) frm.disable_save();
		co.show_problem(frm);
		co.add_retry(frm);
		co.add_platform_actions(frm);
		co.add_desk_progress(frm);
		co.add_routing_actions(frm);
		co.add_cod_remittance(frm);
		co.add_returned_goods(frm);
		co.render_routing(frm);
		if (frm.doc.sales_order) {
			frm.add_custom_button(__("Sales Order"), () => frappe.set_route("Form", "Sales Order", frm.doc.sales_order), __("View"));
		}
	},
});

// A server call behind a button: the screen waits (freeze), then the form shows the outcome.
oms_connector.channel_order.act = function (frm, method, args, message) {
	return frappe
		.call({ method, args, freeze: true, freeze_message: message || __("Working...") })
		.then((r) => {
			frm.reload_doc();
			return r;
		});
};

oms_connector.channel_order.show_problem = function (frm) {
	if (!frm.doc.error) return;
	const color = frm.doc.status === "Held" ? "orange" : "red";
	frm.dashboard.set_headline_alert(frappe.utils.escape_html(frm.doc.error), color);
};

oms_connector.channel_order.add_retry = function (frm) {
	if (!["Held", "Error", "Received"].includes(frm.doc.status)) return;
	frm.add_custom_button(__("Retry"), () =>
		oms_connector.channel_order.act(frm, "oms_connector.api.orders.retry_orders", { names: [frm.doc.name] }, __("Processing the order..."))
	).addClass("btn-primary");
};

oms_connector.channel_order.add_platform_actions = function (frm) {
	if (frm.is_new() || !oms_connector.channel_order.MARKETPLACES.includes(frm.doc.platform)) return;
	const act = oms_connector.channel_order.act;
	const group = __("Platform");
	if (frm.doc.status === "Ordered") {
		frm.add_custom_button(__("Ship on Platform"), () =>
			act(frm, "oms_connector.api.marketplace.ship", { channel_order: frm.doc.name }, __("Arranging shipment...")).then((r) => {
				const info = r.message || {};
				if (info.tracking_number) frappe.show_alert({ message: __("Tracking number {0}", [info.tracking_number]), indicator: "green" });
				if (info.label_url) window.open(info.label_url);
			})
		, group);
	}
	if (["Ordered", "Pending Payment", "Held"].includes(frm.doc.status)) {
		frm.add_custom_button(__("Cancel on Platform"), () =>
			frappe.confirm(__("Cancel this order on {0}?", [frm.doc.platform]), () =>
				act(frm, "oms_connector.api.marketplace.cancel", { channel_order: frm.doc.name }, __("Cancelling..."))
			)
		, group);
	}
	if (["Shipped", "Completed", "Returned"].includes(frm.doc.status)) {
		frm.add_custom_button(__("Fetch Settlement"), () =>
			act(frm, "oms_connector.api.marketplace.fetch_settlement", { channel_order: frm.doc.name }, __("Reading the settlement..."))
				.then((r) => r.message && frappe.show_alert({ message: r.message.message, indicator: r.message.status ? "green" : "orange" }))
		, group);
	}
	if (frm.doc.marketplace_settlement) {
		frm.add_custom_button(__("Settlement"), () => frappe.set_route("Form", "Marketplace Settlement", frm.doc.marketplace_settlement), __("View"));
	}
};

// Store/phone and file orders have no platform to report progress: staff report it here.
oms_connector.channel_order.add_desk_progress = function (frm) {
	if (!oms_connector.channel_order.DESK_TRACKED.includes(frm.doc.platform)) return;
	const mark = (progress, tracking_number) =>
		oms_connector.channel_order.act(
			frm, "oms_connector.api.orders.mark_progress", { name: frm.doc.name, progress, tracking_number }, __("Updating documents...")
		);
	const group = __("Progress");
	if (frm.doc.status === "Ordered" && frm.doc.pickup_store) {
		frm.add_custom_button(__("Picked Up"), () =>
			frappe.confirm(__("The buyer collected the order at {0}?", [frm.doc.pickup_store]), () => mark("delivered"))
		, group);
	} else if (frm.doc.status === "Ordered") {
		frm.add_custom_button(__("Mark Shipped"), () =>
			frappe.prompt(
				{ fieldname: "tracking_number", fieldtype: "Data", label: __("Tracking Number") },
				(values) => mark("shipped", values.tracking_number),
				__("Order shipped"), __("Mark Shipped")
			)
		, group);
	}
	if (frm.doc.status === "Shipped") {
		frm.add_custom_button(__("Mark Delivered"), () =>
			frappe.confirm(__("The buyer received the order?"), () => mark("delivered"))
		, group);
	}
};

oms_connector.channel_order.add_routing_actions = function (frm) {
	if (frm.doc.status !== "Ordered") return;
	const act = oms_connector.channel_order.act;
	frm.add_custom_button(__("Re-route"), () =>
		act(frm, "oms_connector.api.orders.reroute_order", { name: frm.doc.name }, __("Routing again..."))
	, __("Routing"));
	frm.add_custom_button(__("Warehouse Rejects"), () => {
		frappe.prompt(
			{
				fieldname: "warehouse", fieldtype: "Link", options: "Warehouse", label: __("Warehouse"), reqd: 1,
				get_query: () => ({ filters: { company: frm.doc.company, is_group: 0 } }),
			},
			(values) => act(frm, "oms_connector.api.orders.reroute_order", { name: frm.doc.name, reject_warehouse: values.warehouse }, __("Routing again...")),
			__("Which warehouse cannot fulfil this order?")
		);
	}, __("Routing"));
};

oms_connector.channel_order.add_cod_remittance = function (frm) {
	if (frm.doc.payment_method !== "COD" || !["Completed", "Shipped"].includes(frm.doc.status)) return;
	frm.add_custom_button(__("Record COD Remittance"), () => {
		frappe.prompt(
			[
				{ fieldname: "account", fieldtype: "Link", options: "Account", label: __("Received Into"), reqd: 1,
					get_query: () => ({ filters: { account_type: ["in", ["Bank", "Cash"]], is_group: 0, company: frm.doc.company } }) },
				{ fieldname: "reference", fieldtype: "Data", label: __("Remittance Reference") },
			],
			(values) =>
				oms_connector.channel_order
					.act(frm, "oms_connector.api.orders.record_cod_remittance", { name: frm.doc.name, ...values }, __("Recording payment..."))
					.then((r) => frappe.show_alert({ message: __("{0} Payment Entries made", [(r.message || []).length]), indicator: "green" })),
			__("COD money received")
		);
	});
};

// Goods received into the channel's returns warehouse wait for someone to look at them.
oms_connector.channel_order.add_returned_goods = function (frm) {
	if (frm.doc.status !== "Returned" || frm.doc.return_stock_entry) return;
	const decide = (decision, label) =>
		frappe.confirm(__("{0}: the returned goods of this order?", [label]), () =>
			oms_connector.channel_order.act(
				frm, "oms_connector.api.orders.decide_returned_goods", { name: frm.doc.name, decision }, __("Moving stock...")
			)
		);
	const group = __("Returned Goods");
	frm.add_custom_button(__("Back to Stock"), () => decide("Restock", __("Back to Stock")), group);
	frm.add_custom_button(__("Write Off"), () => decide("Write Off", __("Write Off")), group);
};

// The routing decision as staff read it: why, what goes where, what it costs, what else was possible.
oms_connector.channel_order.render_routing = function (frm) {
	const field = frm.get_field("routing_html");
	if (!field) return;
	let decision = null;
	try {
		decision = frm.doc.routing_decision ? JSON.parse(frm.doc.routing_decision) : null;
	} catch (e) {
		decision = null;
	}
	if (!decision) {
		field.$wrapper.html("");
		return;
	}
	const esc = (v) => frappe.utils.escape_html(v == null ? "" : String(v));
	const money = (v) => format_currency(v || 0, frm.doc.currency || "VND");
	const table = (headers, rows) =>
		rows.length
			? `<table class="table table-sm table-bordered"><thead><tr>${headers.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows
					.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
					.join("")}</tbody></table>`
			: "";
	const kinds = { shipment: __("Ships to the buyer"), pickup: __("Store pickup"), transfer: __("Transfer to the store") };
	const outcomes = {
		Allocated: __("Allocated"), "Partially Allocated": __("Partially Allocated"),
		Backorder: __("Backorder"), "Transfer Needed": __("Transfer Needed"),
	};
	let html = `<p><b>${__("Decision")}:</b> ${esc(outcomes[decision.status] || decision.status)}</p>`;
	if ((decision.reasons || []).length) html += `<ul>${decision.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>`;
	html += table(
		[__("Warehouse"), __("Item"), __("Qty")],
		(decision.allocations || []).map((a) => [esc(a.warehouse), esc(a.item_code), esc(a.qty)])
	);
	const costs = (decision.cost && decision.cost.by_warehouse) || [];
	html += table(
		[__("Warehouse"), __("Kind"), __("Distance (km)"), __("Weight (kg)"), __("Shipping"), __("Handling")],
		costs.map((c) => [
			esc(c.warehouse), esc(kinds[c.kind] || c.kind), c.distance_km == null ? "–" : esc(Math.round(c.distance_km)),
			esc(c.weight_kg), money(c.shipping), money(c.handling),
		])
	);
	if (decision.cost) html += `<p><b>${__("Estimated cost")}:</b> ${money(decision.cost.total)}</p>`;
	html += table(
		[__("Alternative"), __("Warehouses"), __("Cost"), __("Shipments"), __("Why not")],
		(decision.alternatives || []).map((a) => [esc(a.rank), esc((a.warehouses || []).join(", ")), money(a.cost), esc(a.shipments), esc(a.summary)])
	);
	field.$wrapper.html(`<div class="oms-routing">${html}</div>`);
};
