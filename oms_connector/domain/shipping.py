"""Parcels, carrier quotes, booked shipments and tracking: what every carrier connector speaks.

Plain dataclasses, no frappe. Weights in grams, sizes in centimetres, money Decimal in VND.
Carriers know addresses by their own ids (province / district / ward, after the 2025 merger
of provinces some carriers still use the old ones): a connector resolves our address to its
ids from its own master data and refuses an address it cannot place unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum


class ShipmentStatus(str, Enum):
	"""Every carrier's status codes map onto these; an unknown code is UNKNOWN, kept as given."""

	CREATED = "Created"  # booked, waiting for pickup
	PICKED_UP = "Picked Up"
	IN_TRANSIT = "In Transit"
	OUT_FOR_DELIVERY = "Out for Delivery"
	DELIVERED = "Delivered"
	DELIVERY_FAILED = "Delivery Failed"  # an attempt failed; the carrier tries again or returns
	RETURNING = "Returning"
	RETURNED = "Returned"  # back at the sender
	CANCELLED = "Cancelled"
	LOST = "Lost or Damaged"
	UNKNOWN = "Unknown"


class AddressProblem(ValueError):
	"""The carrier's master data places the address nowhere, or in more than one place: the
	shipment is held with this message until someone fixes the address."""


@dataclass
class Address:
	name: str
	phone: str
	line1: str  # street and number
	ward: str = ""
	district: str = ""  # empty for post-merger two-level addresses
	province: str = ""


@dataclass
class CarrierAddress:
	"""An address as one carrier knows it: its own ids, plus the text it prints."""

	address: Address
	province_id: str = ""
	district_id: str = ""
	ward_id: str = ""


@dataclass
class ParcelItem:
	name: str
	qty: int
	sku: str = ""
	weight_g: int = 0
	value: Decimal = Decimal(0)


@dataclass
class Parcel:
	weight_g: int
	length_cm: int = 10
	width_cm: int = 10
	height_cm: int = 10
	value: Decimal = Decimal(0)  # declared value, for insurance
	cod_amount: Decimal = Decimal(0)  # what the carrier collects from the buyer
	items: list[ParcelItem] = field(default_factory=list)
	insured: bool = False

	def volumetric_weight_g(self, divisor: int = 6000) -> int:
		"""Carriers bill the larger of actual and volumetric weight (L×W×H / divisor, in kg)."""
		return int(self.length_cm * self.width_cm * self.height_cm * 1000 / divisor)


@dataclass
class Quote:
	carrier: str
	service_id: str
	service_name: str
	fee: Decimal  # total the seller pays the carrier (shipping, COD and insurance fees)
	expected_delivery: datetime | None = None
	fee_breakdown: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class BookedShipment:
	carrier: str
	tracking_number: str  # the carrier's order code, printed on the label
	fee: Decimal
	service_id: str = ""
	expected_delivery: datetime | None = None
	carrier_reference: str = ""  # a second id some carriers give (GHTK's label id)
	raw: dict = field(default_factory=dict)


@dataclass
class TrackingEvent:
	tracking_number: str
	status: ShipmentStatus
	carrier_status: str  # the carrier's own code or word, kept whatever it is
	at: datetime | None = None
	reason: str = ""  # why a delivery failed or a parcel returns, in the carrier's words
	cod_collected: Decimal | None = None
	raw: dict = field(default_factory=dict)


@dataclass
class CarrierConfig:
	"""One carrier account: credentials and its pickup (shop) as the carrier knows it."""

	base_url: str
	token: str  # API token (GHN "Token", GHTK "Token", Viettel Post's login token)
	shop_id: str = ""  # GHN ShopId, Viettel Post customer / group address id
	username: str = ""  # Viettel Post logs in with these to get a token
	password: str = ""
	webhook_secret: str = ""
	extra: dict = field(default_factory=dict)
