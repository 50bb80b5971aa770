"""Choosing a carrier service for a parcel from every enabled carrier's quotes, and saying why.

Rules, as the operator picks them per Carrier Account set-up: the cheapest; the fastest; or the
cheapest that arrives by the date promised to the buyer (the fastest when none does, flagged).
Ties go to the earlier delivery, then the lower fee, then the carrier's name, so the same quotes
always give the same choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from .shipping import Quote


class Rule(str, Enum):
	CHEAPEST = "Cheapest"
	FASTEST = "Fastest"
	CHEAPEST_ON_TIME = "Cheapest on Time"


@dataclass
class Choice:
	quote: Quote | None
	reason: str
	quotes: list[Quote] = field(default_factory=list)  # every quote considered, best first
	late: bool = False  # no service arrives by the promised date
	problems: dict[str, str] = field(default_factory=dict)  # carrier -> why it gave no quote


def choose(quotes: list[Quote], rule: Rule, promised_by: datetime | None = None, problems: dict[str, str] | None = None) -> Choice:
	problems = dict(problems or {})
	if not quotes:
		why = "; ".join(f"{carrier}: {problem}" for carrier, problem in sorted(problems.items()))
		return Choice(None, f"No carrier quoted this parcel ({why})" if why else "No carrier quoted this parcel", [], problems=problems)
	if rule == Rule.FASTEST:
		ranked = sorted(quotes, key=_fastest_key)
		return Choice(ranked[0], _reason(ranked[0], "the earliest delivery"), ranked, problems=problems)
	ranked = sorted(quotes, key=_cheapest_key)
	if rule == Rule.CHEAPEST or promised_by is None:
		return Choice(ranked[0], _reason(ranked[0], "the lowest fee"), ranked, problems=problems)
	on_time = [q for q in ranked if q.expected_delivery is not None and q.expected_delivery <= promised_by]
	if on_time:
		return Choice(on_time[0], _reason(on_time[0], f"the lowest fee arriving by {promised_by:%d/%m %H:%M}"), ranked, problems=problems)
	fastest = min(quotes, key=_fastest_key)
	return Choice(fastest, _reason(fastest, f"no service arrives by {promised_by:%d/%m %H:%M}: the earliest delivery"), ranked, late=True, problems=problems)


def _reason(quote: Quote, because: str) -> str:
	when = f", delivery by {quote.expected_delivery:%d/%m %H:%M}" if quote.expected_delivery else ""
	fee = f"{quote.fee:,.0f}".replace(",", ".")  # VND as Vietnamese write it: 32.000
	return f"{quote.carrier} {quote.service_name}: {fee} VND, {because}{when}"


def _cheapest_key(quote: Quote):
	return (quote.fee, quote.expected_delivery or datetime.max, quote.carrier, quote.service_id)


def _fastest_key(quote: Quote):
	return (quote.expected_delivery or datetime.max, quote.fee, quote.carrier, quote.service_id)
