"""GHN order status codes (api.ghn.vn "Order status" list) onto domain ShipmentStatus.

Every documented code is here; an unknown code maps to UNKNOWN and the caller keeps the code
as GHN gave it (TrackingEvent.carrier_status).
"""

from __future__ import annotations

from ...domain.shipping import ShipmentStatus

S = ShipmentStatus
STATUS_MAP: dict[str, ShipmentStatus] = {
	"ready_to_pick": S.CREATED,  # Chờ lấy hàng: booked, waiting for pickup
	"picking": S.CREATED,  # Đang lấy hàng: a courier is on the way, not picked yet
	"money_collect_picking": S.CREATED,  # collecting money from the sender while picking
	"cancel": S.CANCELLED,
	"picked": S.PICKED_UP,
	"storing": S.IN_TRANSIT,  # at a GHN hub
	"transporting": S.IN_TRANSIT,
	"sorting": S.IN_TRANSIT,
	"delivering": S.OUT_FOR_DELIVERY,
	"money_collect_delivering": S.OUT_FOR_DELIVERY,  # collecting COD from the buyer
	"delivered": S.DELIVERED,
	"delivery_fail": S.DELIVERY_FAILED,
	# waiting to return: the attempts failed, the shop can still ask for another delivery
	"waiting_to_return": S.DELIVERY_FAILED,
	"return": S.RETURNING,
	"return_transporting": S.RETURNING,
	"return_sorting": S.RETURNING,
	"returning": S.RETURNING,
	"return_fail": S.RETURNING,  # a return attempt failed; GHN tries again
	"returned": S.RETURNED,
	# "exception": out of the normal flow, held by GHN for handling. The domain has no
	# on-hold state; DELIVERY_FAILED is the one that asks for a person's attention.
	"exception": S.DELIVERY_FAILED,
	"damage": S.LOST,
	"lost": S.LOST,
}


def map_status(code: str | None) -> ShipmentStatus:
	return STATUS_MAP.get(str(code or "").strip().lower(), ShipmentStatus.UNKNOWN)
