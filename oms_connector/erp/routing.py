"""Routing applier: asks the domain engine where each line ships from."""

from __future__ import annotations

from decimal import Decimal


def route_channel_order(doc, channel, order, item_codes) -> dict[str, list[tuple[str, Decimal]]]:
	warehouses = sorted(channel.warehouses, key=lambda row: (row.priority or 0, row.idx))
	first = warehouses[0].warehouse
	return {line.sku: [(first, line.qty)] for line in order.lines}
