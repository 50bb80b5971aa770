"""Choosing a carrier for a parcel (domain/rate_shopping.py), and asking every carrier at once
(connectors/rate_shopping.py) against the GHN and GHTK stand-ins."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from oms_connector.connectors.rate_shopping import gather_quotes, shop_rates
from oms_connector.domain.rate_shopping import Rule, choose
from oms_connector.domain.shipping import Address, Quote
from oms_connector.sandbox.ghn_server import FakeGHN
from oms_connector.sandbox.ghtk_server import FakeGHTK
from tests.connectors import test_ghn, test_ghtk

D = Decimal
NOW = datetime(2026, 12, 2, 9, 0)


def quote(carrier: str, fee: int, hours: int | None, service: str = "std") -> Quote:
	return Quote(carrier, service, service.title(), D(fee), NOW + timedelta(hours=hours) if hours is not None else None)


QUOTES = [quote("GHN", 32000, 48), quote("GHTK", 28000, 72), quote("Viettel Post", 41000, 24, "fast")]


def test_cheapest_fastest_and_cheapest_on_time():
	assert choose(QUOTES, Rule.CHEAPEST).quote.carrier == "GHTK"
	assert choose(QUOTES, Rule.FASTEST).quote.carrier == "Viettel Post"
	on_time = choose(QUOTES, Rule.CHEAPEST_ON_TIME, promised_by=NOW + timedelta(hours=50))
	assert (on_time.quote.carrier, on_time.late) == ("GHN", False)
	assert "32.000 VND, the lowest fee arriving by 04/12 11:00" in on_time.reason
	assert [q.carrier for q in on_time.quotes] == ["GHTK", "GHN", "Viettel Post"]  # every quote, shown with the choice


def test_nothing_on_time_takes_the_fastest_and_says_it_is_late():
	late = choose(QUOTES, Rule.CHEAPEST_ON_TIME, promised_by=NOW + timedelta(hours=12))
	assert (late.quote.carrier, late.late) == ("Viettel Post", True)
	assert "no service arrives by" in late.reason


def test_ties_and_unknown_delivery_times_are_decided_the_same_way_every_time():
	tied = [quote("GHTK", 30000, None), quote("GHN", 30000, 48), quote("Viettel Post", 30000, 48)]
	assert choose(tied, Rule.CHEAPEST).quote.carrier == "GHN"  # same fee: earlier delivery, then name
	assert choose(list(reversed(tied)), Rule.CHEAPEST).quote.carrier == "GHN"


def test_no_quote_says_why():
	nothing = choose([], Rule.CHEAPEST, problems={"GHN": "ward not found", "GHTK": "503"})
	assert nothing.quote is None and nothing.reason == "No carrier quoted this parcel (GHN: ward not found; GHTK: 503)"


RECEIVER = Address(name="Nguyễn Văn A", phone="0987654321", line1="123 Nguyễn Chí Thanh", ward="Phường Bến Nghé", district="Quận 1", province="TP. Hồ Chí Minh")


@pytest.fixture
def stand_ins():
	with FakeGHN() as ghn, FakeGHTK(test_ghtk.TOKEN) as ghtk:
		yield ghn, ghtk


def carriers(ghn, ghtk):
	return [(test_ghn.make_connector(ghn), test_ghn.SENDER), (test_ghtk.make_connector(ghtk), test_ghtk.SHOP)]


def test_every_carrier_quotes_and_the_cheapest_is_chosen(stand_ins):
	ghn, ghtk = stand_ins
	quotes, problems = gather_quotes(carriers(ghn, ghtk), RECEIVER, test_ghtk.parcel())
	assert problems == {}
	assert {q.carrier for q in quotes} == {"GHN", "GHTK"}
	choice = shop_rates(carriers(ghn, ghtk), RECEIVER, test_ghtk.parcel(), Rule.CHEAPEST)
	assert choice.quote.fee == min(q.fee for q in quotes)


def test_a_failing_carrier_is_named_and_holds_up_no_other(stand_ins):
	ghn, ghtk = stand_ins
	ghtk.fail("/services/shipment/fee", "503", times=20)
	choice = shop_rates(carriers(ghn, ghtk), RECEIVER, test_ghtk.parcel(), Rule.CHEAPEST)
	assert choice.quote.carrier == "GHN"
	assert set(choice.problems) == {"GHTK"}
