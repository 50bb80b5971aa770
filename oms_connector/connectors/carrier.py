"""The one interface every carrier connector (GHN, GHTK, Viettel Post) implements.

No frappe: credentials come in a CarrierConfig, results go out as domain.shipping types. Errors
are the platform connectors' own (connectors.base): RetryableError / RateLimited for 429, 5xx
and timeouts, AuthError for a refused token, ConnectorError for a refusal with the carrier's reason.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import ClassVar

from ..domain.shipping import Address, BookedShipment, CarrierAddress, CarrierConfig, Parcel, Quote, TrackingEvent


class CarrierConnector(abc.ABC):
	carrier: ClassVar[str]  # "GHN", "GHTK", "Viettel Post"

	def __init__(self, config: CarrierConfig, http=None):
		from .base import request_timeout
		from .http import PlatformHTTP

		self.config = config
		self.http = http or PlatformHTTP(timeout=request_timeout(config.extra))

	@abc.abstractmethod
	def resolve_address(self, address: Address) -> CarrierAddress:
		"""The carrier's ids for the address, from its own master data (provinces, districts,
		wards); AddressProblem when none or several match."""

	@abc.abstractmethod
	def quote(self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel) -> list[Quote]:
		"""Every service the carrier offers for the parcel, with its fee and expected delivery."""

	@abc.abstractmethod
	def create(
		self, sender: CarrierAddress, receiver: CarrierAddress, parcel: Parcel, service_id: str, reference: str, note: str = ""
	) -> BookedShipment:
		"""Book the shipment; `reference` (our Delivery Note) is sent as the carrier's client order
		code so a retry after a timeout finds the first booking instead of making a second."""

	@abc.abstractmethod
	def find(self, reference: str) -> BookedShipment | None:
		"""The shipment booked under our reference, if any (used before retrying a create)."""

	@abc.abstractmethod
	def cancel(self, tracking_number: str) -> None: ...

	@abc.abstractmethod
	def label(self, tracking_numbers: list[str]) -> bytes:
		"""The labels as one PDF."""

	@abc.abstractmethod
	def track(self, tracking_number: str) -> list[TrackingEvent]:
		"""The shipment's status history as the carrier reports it (the polling fallback)."""

	@abc.abstractmethod
	def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str = "") -> bool:
		"""True when the status webhook comes from the carrier, checked the way it allows (a
		secret in the callback URL we registered, `url` being the request's, for carriers that sign nothing)."""

	@abc.abstractmethod
	def parse_webhook(self, body: bytes) -> list[TrackingEvent]: ...
