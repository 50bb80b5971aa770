import json
from decimal import Decimal

import pytest

from oms_connector.domain.normalize import order_to_dict, parse_order, parse_status
from oms_connector.domain.order import (
	InvalidOrder,
	OrderStatus,
	PaymentMethod,
	is_masked,
	normalize_email,
	normalize_phone,
	to_money,
)


def canonical(**overrides):
	payload = {
		"order_id": "WEB-1001",
		"status": "confirmed",
		"currency": "VND",
		"buyer": {"name": "Nguyễn Văn An", "phone": "+84 912 345 678", "email": "An@Example.com", "id": "u1"},
		"shipping_address": {
			"full_name": "Nguyễn Văn An",
			"phone": "0912345678",
			"line1": "12 Lý Thường Kiệt",
			"ward": "Phường Cửa Nam",
			"province": "Hà Nội",
		},
		"lines": [
			{"sku": "TSHIRT-M", "qty": 2, "unit_price": "150.000", "seller_discount": 20000},
			{"sku": "CAP", "qty": 1, "unit_price": 99000, "platform_discount": "9000"},
		],
		"shipping_fee": 30000,
		"seller_voucher": 10000,
		"platform_voucher": 5000,
		"payment_method": "COD",
		"created_at": "2026-11-20T10:00:00+07:00",
	}
	payload.update(overrides)
	return payload


def test_money_reads_vietnamese_thousands_and_rounds_to_currency():
	assert to_money("150.000", "VND") == Decimal(150000)
	assert to_money("1,250,000", "VND") == Decimal(1250000)
	assert to_money("99.5", "VND") == Decimal(100)  # VND has no minor unit
	assert to_money("12,50", "USD") == Decimal("12.50")
	assert to_money(None) == 0
	with pytest.raises(InvalidOrder):
		to_money("abc")
	with pytest.raises(InvalidOrder):
		to_money("NaN")


def test_masked_buyer_data_identifies_nobody():
	assert is_masked("******89")
	assert normalize_phone("******89") is None
	assert normalize_email("n***@gmail.com") is None
	assert normalize_phone("+84 912-345-678") == "0912345678"
	assert normalize_phone("84912345678") == "0912345678"
	assert normalize_phone("912345678") == "0912345678"
	assert normalize_email(" An@Example.COM ") == "an@example.com"


def test_parse_canonical_order_and_totals():
	order = parse_order(json.dumps(canonical()))
	assert order.status == OrderStatus.CONFIRMED
	assert order.payment_method == PaymentMethod.COD
	assert order.items_total == Decimal(399000)
	assert order.line_discounts == Decimal(29000)
	assert order.order_discount == Decimal(15000)
	# 399,000 - 29,000 - 15,000 + 30,000
	assert order.buyer_paid == Decimal(385000)
	assert order.buyer.identity_phone == "0912345678"
	assert order.missing_data() == []


def test_round_trip_through_canonical_dict():
	order = parse_order(canonical())
	again = parse_order(order_to_dict(order))
	assert again == order


def test_platform_total_must_reconcile():
	with pytest.raises(InvalidOrder, match="differs"):
		parse_order(canonical(total=999))
	assert parse_order(canonical(total=385000)).platform_total == Decimal(385000)


@pytest.mark.parametrize(
	"payload, reason",
	[
		("{not json", "not valid JSON"),
		("[1, 2]", "must be a JSON object"),
		(canonical(lines=[]), "no lines"),
		(canonical(lines="x"), "lines must be a list"),
		(canonical(order_id=""), "order id is missing"),
		(canonical(lines=[{"sku": "", "qty": 1, "unit_price": 1}]), "has no SKU"),
		(canonical(lines=[{"sku": "A", "qty": 0, "unit_price": 1}]), "quantity 0"),
		(canonical(lines=[{"sku": "A", "qty": "two", "unit_price": 1}]), "not a number"),
		(canonical(lines=[{"sku": "A", "qty": 1, "unit_price": 10, "seller_discount": 20}]), "below zero"),
		(canonical(status="teleported"), "unknown order status"),
		(canonical(created_at="not a date"), "not a date"),
	],
)
def test_malformed_payloads_say_why(payload, reason):
	with pytest.raises(InvalidOrder, match=reason):
		parse_order(payload if isinstance(payload, str) else json.dumps(payload))


def test_missing_address_is_held_not_invalid():
	order = parse_order(canonical(shipping_address=None))
	assert "shipping address" in order.missing_data()[0]
	pickup = parse_order(canonical(shipping_address=None, pickup_store="Store HN - OTC"))
	assert pickup.missing_data() == []


def test_lines_without_price_are_priced_by_erpnext():
	order = parse_order(canonical(lines=[{"sku": "A", "qty": 3}]))
	assert order.lines[0].priced_by_erp
	assert order_to_dict(order)["lines"][0]["unit_price"] is None


@pytest.mark.parametrize(
	"word, status",
	[
		("READY_TO_SHIP", OrderStatus.CONFIRMED),
		("in transit", OrderStatus.SHIPPED),
		("Canceled", OrderStatus.CANCELLED),
		("completed", OrderStatus.COMPLETED),
		("unpaid", OrderStatus.UNPAID),
		("Returned", OrderStatus.RETURNED),
	],
)
def test_status_words(word, status):
	assert parse_status(word) == status
