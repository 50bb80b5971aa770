"""The one interface every platform connector implements, and the types it speaks.

No frappe here: credentials and tokens come in as arguments, results go out as plain
dataclasses, so each connector is tested against a local server that signs like the platform.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from ..domain.order import ChannelOrder
from ..domain.settlement import FinancePeriod, OrderSettlement


class ConnectorError(Exception):
	"""A platform call failed; `retryable` says whether trying again later can help."""

	retryable = False

	def __init__(self, message: str, code: str = "", status: int | None = None):
		super().__init__(message)
		self.code = code
		self.status = status


class RetryableError(ConnectorError):
	retryable = True


class RateLimited(RetryableError):
	def __init__(self, message: str, code: str = "", status: int | None = None, retry_after: float | None = None):
		super().__init__(message, code, status)
		self.retry_after = retry_after


class AuthError(ConnectorError):
	"""The token is expired, revoked or refused: the channel needs a token refresh or reconnection."""


@dataclass
class ChannelConfig:
	"""Everything a connector needs to know about one shop."""

	base_url: str
	app_key: str  # partner_id / app_key
	app_secret: str
	shop_id: str = ""  # shop id / seller id / shop cipher, per platform
	access_token: str = ""
	refresh_token: str = ""
	auth_base_url: str = ""  # where the seller authorizes, if not base_url
	extra: dict = field(default_factory=dict)


@dataclass
class TokenSet:
	access_token: str
	refresh_token: str
	access_expires_at: datetime | None = None
	refresh_expires_at: datetime | None = None
	shop_id: str = ""
	extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StockUpdate:
	listing_id: str  # product / item id
	variant_id: str  # model / sku id ("" for single-variant products)
	sku: str
	qty: int
	warehouse_id: str = ""  # platform warehouse, where the platform has several


@dataclass
class PushResult:
	update: StockUpdate
	ok: bool
	message: str = ""
	retryable: bool = False


@dataclass
class WebhookEvent:
	kind: str  # "order_status", "tracking", "other"
	order_id: str = ""
	status: str = ""  # platform status word
	data: dict = field(default_factory=dict)


@dataclass
class ListingInfo:
	listing_id: str
	variant_id: str
	sku: str
	title: str = ""


@dataclass
class ShipmentInfo:
	order_id: str
	package_id: str = ""
	tracking_number: str = ""
	carrier: str = ""
	label_url: str = ""


DEFAULT_TIMEOUT = 30.0  # seconds one platform request may take before it is retried


def request_timeout(settings: dict) -> float:
	"""The channel's "timeout_seconds" platform setting, kept within 1-120 s."""
	try:
		value = float(settings.get("timeout_seconds") or DEFAULT_TIMEOUT)
	except (TypeError, ValueError):
		return DEFAULT_TIMEOUT
	return min(max(value, 1.0), 120.0) if value == value else DEFAULT_TIMEOUT


class MarketplaceConnector(abc.ABC):
	platform: ClassVar[str]
	stock_batch_limit: ClassVar[int]

	def __init__(self, config: ChannelConfig, http=None):
		from .http import PlatformHTTP

		self.config = config
		self.http = http or PlatformHTTP(timeout=request_timeout(config.extra))

	# --- authorization -------------------------------------------------------------------
	@abc.abstractmethod
	def authorization_url(self, redirect_uri: str, state: str = "") -> str: ...

	@abc.abstractmethod
	def exchange_code(self, code: str, **params) -> TokenSet: ...

	@abc.abstractmethod
	def refresh_tokens(self) -> TokenSet: ...

	# --- orders in -----------------------------------------------------------------------
	@abc.abstractmethod
	def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> bool: ...

	@abc.abstractmethod
	def parse_webhook(self, body: bytes) -> list[WebhookEvent]: ...

	@abc.abstractmethod
	def list_updated_orders(self, since: datetime, until: datetime) -> Iterator[str]: ...

	@abc.abstractmethod
	def get_order_details(self, order_ids: list[str]) -> list[dict]: ...

	@abc.abstractmethod
	def map_order(self, raw: dict) -> ChannelOrder: ...

	# --- fulfilment back -----------------------------------------------------------------
	@abc.abstractmethod
	def ship_order(self, order_id: str, **params) -> ShipmentInfo: ...

	@abc.abstractmethod
	def cancel_order(self, order_id: str, reason: str = "") -> None: ...

	# --- stock, money, products ----------------------------------------------------------
	@abc.abstractmethod
	def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]: ...

	def read_stock(self, listings: list[StockUpdate]) -> dict[StockUpdate, int]:
		"""What the platform currently shows for these listings (qty field of the input is ignored);
		listings the platform doesn't report are left out. Platforms that can't report return {}."""
		return {}

	@abc.abstractmethod
	def get_order_settlement(self, order_id: str) -> OrderSettlement | None:
		"""The order's settlement as the platform states it now; None while it has none."""

	@abc.abstractmethod
	def fetch_finance(self, since: datetime, until: datetime) -> FinancePeriod:
		"""Every order settlement, adjustment without an order and payout the platform's
		finance API reports for the period (settlements of orders the app never saw included)."""

	@abc.abstractmethod
	def list_products(self) -> Iterator[ListingInfo]: ...
