"""Asking every carrier for its quotes at once: one slow or failing carrier delays and blocks
no other, and its failure is kept as the reason it gave no quote."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait

from ..domain.rate_shopping import Choice, Rule, choose
from ..domain.shipping import Address, AddressProblem, Parcel, Quote
from .base import ConnectorError
from .carrier import CarrierConnector

QUOTE_TIMEOUT = 20.0  # seconds the whole round may take; a carrier still answering is left out


def gather_quotes(
	carriers: list[tuple[CarrierConnector, Address]], receiver: Address, parcel: Parcel, pool: ThreadPoolExecutor | None = None
) -> tuple[list[Quote], dict[str, str]]:
	"""Quotes of every carrier (each with its own pickup address) for the parcel, asked in
	parallel; returns (quotes, carrier -> why it gave none)."""
	own_pool = pool is None
	pool = pool or ThreadPoolExecutor(max_workers=max(len(carriers), 1))
	try:
		futures = {pool.submit(_quotes_of, carrier, sender, receiver, parcel): carrier.carrier for carrier, sender in carriers}
		done, pending = wait(futures, timeout=QUOTE_TIMEOUT)
		quotes: list[Quote] = []
		problems = {futures[future]: f"no answer within {QUOTE_TIMEOUT:.0f} s" for future in pending}
		for future in done:
			found, problem = future.result()
			quotes.extend(found)
			if problem:
				problems[futures[future]] = problem
		return quotes, problems
	finally:
		if own_pool:
			pool.shutdown(wait=False, cancel_futures=True)


def shop_rates(
	carriers: list[tuple[CarrierConnector, Address]],
	receiver: Address,
	parcel: Parcel,
	rule: Rule,
	promised_by=None,
	pool: ThreadPoolExecutor | None = None,
) -> Choice:
	quotes, problems = gather_quotes(carriers, receiver, parcel, pool)
	return choose(quotes, rule, promised_by, problems)


def _quotes_of(carrier: CarrierConnector, sender: Address, receiver: Address, parcel: Parcel) -> tuple[list[Quote], str]:
	try:
		return carrier.quote(carrier.resolve_address(sender), carrier.resolve_address(receiver), parcel), ""
	except (AddressProblem, ConnectorError) as exc:
		return [], str(exc)
