"""Which ERPNext Item an order line means."""

from __future__ import annotations

import frappe


def resolve_items(sales_channel: str, lines) -> tuple[dict[str, str], list[str]]:
	"""Map each line's SKU to an Item: its Channel Listing (by variant id, then SKU), else an
	Item whose code or barcode is the SKU. Returns ({sku: item_code}, [unknown skus])."""
	skus = sorted({line.sku for line in lines})
	variant_ids = sorted(
		{line.listing_id for line in lines if line.listing_id}
		| {line.external_line_id.rpartition(":")[2] for line in lines if line.external_line_id}
	)
	listings = frappe.get_all(
		"Channel Listing",
		filters={"sales_channel": sales_channel, "item_code": ("is", "set")},
		or_filters={"sku": ("in", skus), "variant_id": ("in", variant_ids or [""])},
		fields=["sku", "variant_id", "item_code"],
	)
	by_variant = {row.variant_id: row.item_code for row in listings if row.variant_id}
	by_sku = {row.sku: row.item_code for row in listings if row.sku}

	resolved: dict[str, str] = {}
	for line in lines:
		# a platform variant id is the sharpest key; Shopee lines carry "item_id:model_id"
		candidates = [line.listing_id, line.external_line_id.rpartition(":")[2] if line.external_line_id else ""]
		item_code = next((by_variant[key] for key in candidates if key and key in by_variant), None)
		resolved[line.sku] = item_code or by_sku.get(line.sku)

	missing = [sku for sku in skus if not resolved.get(sku)]
	if missing:
		for row in frappe.get_all("Item", filters={"name": ("in", missing), "disabled": 0}, pluck="name"):
			resolved[row] = row
		still = [sku for sku in missing if not resolved.get(sku)]
		if still:
			for row in frappe.get_all(
				"Item Barcode", filters={"barcode": ("in", still)}, fields=["barcode", "parent"]
			):
				resolved[row.barcode] = row.parent
	unknown = [sku for sku in skus if not resolved.get(sku)]
	return {sku: code for sku, code in resolved.items() if code}, unknown
