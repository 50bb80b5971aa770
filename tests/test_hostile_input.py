"""Hostile but plausible input never escapes a parser as anything but InvalidOrder, and is never lost.

Properties, per entry point (canonical JSON, each marketplace mapper through
erp.platforms.map_payload and directly, the order file in .csv and .xlsx, the order-id peek):
- only InvalidOrder escapes;
- peek_order_id never raises and, whenever the payload maps, returns exactly the mapped
  order's external_order_id (so a redelivery lands on the same Channel Order);
- what maps fits ERPNext: ids, texts, amounts and quantities within domain.limits.
Then one regression test per case that used to crash or slip through.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import re
import time
import zipfile
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from oms_connector.connectors.lazada.mapper import order_from_lazada
from oms_connector.connectors.shopee.mapper import order_from_shopee
from oms_connector.connectors.tiktok.mapper import order_from_tiktok
from oms_connector.domain import limits
from oms_connector.domain.normalize import (
	parse_datetime,
	parse_order,
	parse_qty,
	parse_timestamp,
)
from oms_connector.domain.order import ChannelOrder, InvalidOrder, to_money
from oms_connector.domain.order_file import COLUMNS, parse_order_file, read_rows
from oms_connector.erp.platforms import map_payload, peek_order_id
from tests.connectors import test_lazada, test_shopee, test_tiktok
from tests.test_order import canonical
from tests.test_order_file import GOOD as GOOD_ROWS

pytestmark = pytest.mark.filterwarnings("ignore")  # dateutil and openpyxl warn about odd input

CANONICAL = "Web Store"  # any platform without a marketplace mapper speaks the canonical JSON
PLATFORMS = ("Shopee", "Lazada", "TikTok Shop", CANONICAL)
UNREADABLE = re.compile(r"UNREADABLE-[0-9a-f]{16}")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def examples(n: int):
	"""n examples; HOSTILE_INPUT_SCALE=10 in the environment runs ten times as many (a deeper search)."""
	return settings(
		max_examples=int(n * float(os.environ.get("HOSTILE_INPUT_SCALE", "1"))),
		deadline=None,
		suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
	)


# --- valid payloads the connectors' own tests use -----------------------------------------------
def valid_payloads(platform: str) -> list[dict]:
	if platform == "Shopee":
		return [test_shopee.cod_detail(), test_shopee.prepaid_detail()]
	if platform == "Lazada":
		prepaid, items = test_lazada.prepaid_order()
		return [
			{"order": test_lazada.cod_order(), "items": test_lazada.cod_items()},
			{"order": prepaid, "items": items},
		]
	if platform == "TikTok Shop":
		return [test_tiktok.cod_order(), test_tiktok.prepaid_order()]
	return [canonical(), canonical(shipments=[{"package_id": "P1", "lines": {"CAP": 1}}], returned_lines={"CAP": 1})]


VALID = {platform: valid_payloads(platform) for platform in PLATFORMS}  # mutate() copies them
ESCROW = test_shopee.escrow_example()


def test_the_valid_payloads_map_and_peek_agrees():
	for platform in PLATFORMS:
		for payload in valid_payloads(platform):
			raw = json.dumps(payload)
			assert peek_order_id(platform, raw) == map_payload(platform, raw).external_order_id


# --- hostile values ---------------------------------------------------------------------------
def nested(depth: int):
	value: object = "x"
	for _ in range(depth):
		value = [value]
	return value


def any_text(max_size: int):
	"""Text of any code points, lone surrogates and control characters well represented.

	Drawn as bytes (one cheap draw for hypothesis) read as UTF-16 code units or as Latin-1."""
	units = st.binary(max_size=2 * max_size).map(lambda raw: raw[: len(raw) // 2 * 2].decode("utf-16-le", "surrogatepass"))
	return st.one_of(units, st.binary(max_size=max_size).map(lambda raw: raw.decode("latin-1")))


HOSTILE = [
	None, True, False, 0, -1, 1, 2, 2**63, 10**12 - 1, 10**12, -(10**12), 10**30, 10**99, 1.5, -0.0, 1e308, 1e-320,
	float("nan"), float("inf"), float("-inf"),
	"", " ", "null", "0", "-1", "2", "abc", "NaN", "nan", "Infinity", "-Infinity", "sNaN", "1e99999999",
	"-1e99999999", "1e-99999999", "9" * 29, "999999999999.995", "1" * 4000, "1,234.50", "120.000", "12,50",
	"0x10", "1_000", "١٢٣",
	"\ud800", "a\udfffb", "\x00", "\r\n", "\u202eevil", "🙂" * 50, "x" * 150, "y" * 5000, "z" * 200_000,
	"2024-02-30", "9999-12-31T23:59:59+23:59", "0001-01-01", "2024-05-01T09:14:05+07:00", "1" * 100,
	"2024-05-01 10:00 +9999", "20/11/2026",
	1_700_000_000, 1_700_000_000_000, 1_700_000_000_000_000, -1_700_000_000, "1700000000", "1700000000000",
	[], {}, [1], ["a", "b"], {"a": 1}, [[[]]], {"": {}}, [{}], [[1, 2]], [{"sku": "X", "qty": 1}], nested(40),
	"UNPAID", "COMPLETED", "delivered", "returned", "canceled", "RETURN_AND_REFUND", "RETURN_OR_REFUND_REQUEST_COMPLETE",
]


def leaves():
	return st.one_of(
		st.integers(),
		st.floats(allow_nan=True, allow_infinity=True),
		any_text(10),
		st.decimals(allow_nan=False, allow_infinity=False).map(str),
	)


def json_values(max_leaves: int = 5):
	return st.recursive(
		st.one_of(st.sampled_from(HOSTILE), leaves()),
		lambda children: st.one_of(
			st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
		),
		max_leaves=max_leaves,
	)


def copy_json(value):
	return pickle.loads(pickle.dumps(value))  # a deep copy, several times faster than copy.deepcopy


def node_paths(value) -> list[tuple]:
	"""The path (keys from the root) of every node below a JSON value, depth first."""
	found, stack = [], [((), value)]
	while stack:
		prefix, container = stack.pop()
		keys = container.keys() if isinstance(container, dict) else range(len(container))
		for key in keys:
			path = prefix + (key,)
			found.append(path)
			if isinstance(container[key], (dict, list)):
				stack.append((path, container[key]))
	return found


_PATHS: dict[int, list[tuple]] = {}  # of the valid payloads, which never change


# A hostile edit is coded in 3 bytes (cheap for hypothesis to draw and to shrink): 2 pick the
# node of the payload, 1 what it becomes: one of HOSTILE, the example's generated value, or deleted.
EDITS = st.tuples(
	st.binary(min_size=3, max_size=9),
	st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), any_text(6)),
)


def mutate(original, edits: tuple[bytes, object]):
	code, generated = edits
	payload = copy_json(original)
	candidates = _PATHS.setdefault(id(original), node_paths(original))
	for offset in range(0, len(code) - 2, 3):
		if offset:
			candidates = node_paths(payload)
		if not candidates:
			break
		*parents, key = candidates[(code[offset] * 256 + code[offset + 1]) % len(candidates)]
		container = payload
		for parent in parents:
			container = container[parent]
		choice = code[offset + 2] % (len(HOSTILE) + 2)
		if choice == len(HOSTILE):
			del container[key]
		else:
			container[key] = copy_json(generated if choice > len(HOSTILE) else HOSTILE[choice])
	return payload


def dumps(payload, ensure_ascii: bool = True) -> str:
	return json.dumps(payload, ensure_ascii=ensure_ascii)


# --- the properties -----------------------------------------------------------------------------
def assert_fits_erpnext(order: ChannelOrder) -> None:
	assert 0 < len(order.external_order_id) <= limits.MAX_ORDER_ID_LENGTH
	assert not CONTROL.search(order.external_order_id)
	assert len(f"{'c' * 39}:{order.external_order_id}") <= 140  # the Channel Order name
	assert re.fullmatch("[A-Z]{3}", order.currency)
	for line in order.lines:
		assert 0 < line.qty < limits.MAX_QTY and len(line.sku) <= limits.MAX_SKU_LENGTH
		assert abs(line.gross) < limits.MAX_AMOUNT and len(line.title) <= limits.MAX_TEXT_LENGTH
	for quantities in [s.lines for s in order.shipments] + [order.returned_lines]:
		assert all(qty > 0 for qty in quantities.values())
	assert abs(order.buyer_paid) < limits.MAX_AMOUNT
	address = order.shipping_address
	texts = [order.buyer.name, order.buyer.phone or "", order.buyer.email or ""]
	texts += [address.full_name, address.line1, address.province, address.country] if address else []
	for text in texts:
		assert len(text) <= limits.MAX_TEXT_LENGTH and not re.search("[\ud800-\udfff]", text)
	assert len(order.note) <= limits.MAX_NOTE_LENGTH
	for date in (order.created_at, order.updated_at):
		assert date is None or 2000 <= date.year < 2100


def check_stored_payload(platform: str, raw: str) -> None:
	"""What the intake does with a payload: peek (never raises), store, then map (InvalidOrder only)."""
	order_id = peek_order_id(platform, raw)
	assert isinstance(order_id, str) and order_id
	assert len(order_id) <= limits.MAX_ORDER_ID_LENGTH and not CONTROL.search(order_id)
	try:
		order = map_payload(platform, raw)
	except InvalidOrder as exc:
		# map_payload's safety net (turning a mapper's crash into InvalidOrder) must never be needed
		assert "payload could not be read" not in str(exc)
		assert len(str(exc)) < 5000
		return
	assert order_id == order.external_order_id
	assert_fits_erpnext(order)


def only_invalid_order(call, *args) -> None:
	try:
		call(*args)
	except InvalidOrder:
		pass


# One example = one set of edits, applied to a valid payload of every platform: each example
# is one hostile input per entry point (map_payload with its mapper, and peek_order_id): 1200 each.
@examples(1200)
@given(edits=EDITS, variant=st.integers(0, 1), ensure_ascii=st.booleans())
def test_mutated_payloads_map_or_say_why_and_peek_agrees(edits, variant, ensure_ascii):
	for platform in PLATFORMS:
		payload = mutate(VALID[platform][variant], edits)
		check_stored_payload(platform, dumps(payload, ensure_ascii=ensure_ascii))
	if variant:  # with the escrow detail too, which only the connector passes
		only_invalid_order(order_from_shopee, mutate(VALID["Shopee"][1], edits), mutate(ESCROW, edits))


# Tokens JSON is made of, and of ids: a byte string picks a sequence of them (valid JSON sometimes).
JSON_TOKENS = [
	"{", "}", "[", "]", ",", ":", '"order_sn"', '"id"', '"order_id"', '"order_number"', '"order"', '"items"',
	'"lines"', '"sku"', '"qty"', '"A1"', "1", "-1", "1e999", "NaN", "Infinity", "null", "true", '""', '"\\ud800"',
	'"\\u0000"', '"x"', " ", "\n", '"', "\\", "12345678901234567890", "9" * 70, "0.5", '"' + "7" * 101 + '"',
]


def json_soup(code: bytes) -> str:
	return "".join(JSON_TOKENS[byte % len(JSON_TOKENS)] for byte in code)


def splice(base: str, code: bytes) -> str:
	"""`base` cut at a point the first 2 bytes pick, the rest of the bytes put in there."""
	if len(code) < 2:
		return base[: len(code)]
	cut = (code[0] * 256 + code[1]) % (len(base) + 1)
	return base[:cut] + code[2:].decode("latin-1") + base[cut + len(code) - 2 :]


@examples(1500)
@given(text=st.one_of(
	any_text(40),  # anything, lone surrogates and control characters too
	st.binary(max_size=200).map(lambda raw: raw.decode("utf-8", errors="replace")),  # what the webhook decodes
	st.binary(max_size=60).map(json_soup),
	st.tuples(st.sampled_from(PLATFORMS), st.binary(max_size=8)).map(lambda t: splice(dumps(VALID[t[0]][0]), t[1])),
))
def test_peek_never_raises_and_agrees_with_the_mapper(text):
	for platform in PLATFORMS:
		check_stored_payload(platform, text)


@examples(300)
@given(value=json_values())
def test_mappers_called_with_any_json_value_say_why(value):
	only_invalid_order(order_from_shopee, value)
	only_invalid_order(order_from_shopee, {"order_sn": "1", "order_status": "UNPAID", "item_list": []}, value)
	only_invalid_order(order_from_tiktok, value)
	only_invalid_order(order_from_lazada, value, value)
	only_invalid_order(order_from_lazada, test_lazada.cod_order(), [value])
	only_invalid_order(parse_order, value)
	for platform in PLATFORMS:
		check_stored_payload(platform, dumps(value))


# --- order files ----------------------------------------------------------------------------------
def csv_bytes(rows: list[list[str]], newline: str = "\r\n") -> bytes:
	out = io.StringIO()
	csv.writer(out, lineterminator=newline).writerows(rows)
	return out.getvalue().encode("utf-8", "surrogatepass")


GOOD_CSV = csv_bytes([COLUMNS, *[[row.get(c, "") for c in COLUMNS] for row in GOOD_ROWS]])
CSV_TOKENS = [
	"A1", "B2", "S1", "S2", "1", "2", "0", "-1", "nan", "1e99999999", "99.000", "30000", "", " ", "Hà Nội",
	"COD", "2026-11-20", "31/02/2026", "1" * 100, "x" * 150, "\ud800", "\x00", "\ufeff", ",", ",", ",", ",",
	"\r\n", "\n", "\r", '"', '""', '","', "\\",
]
HEADER = ",".join(COLUMNS) + "\n"


def csv_soup(code: bytes) -> bytes:
	body = "".join(CSV_TOKENS[byte % len(CSV_TOKENS)] for byte in code)
	return (HEADER + body).encode("utf-8", "surrogatepass")


@examples(1200)
@given(content=st.one_of(
	st.binary(max_size=300),
	st.binary(max_size=120).map(csv_soup),  # the right header, rows of odd cells and line endings
	st.binary(max_size=8).map(lambda code: splice(GOOD_CSV.decode(), code).encode("utf-8", "surrogatepass")),
	st.sampled_from(["\r", "\n", "\r\n"]).map(lambda newline: GOOD_CSV.replace(b"\r\n", newline.encode())),
))
def test_csv_order_files_only_say_why(content):
	try:
		orders, _errors = parse_order_file(content, "orders.csv")
	except InvalidOrder:
		return
	for payload in orders:
		assert_fits_erpnext(parse_order(payload))
		check_stored_payload("File Import", json.dumps(payload))


def good_xlsx() -> bytes:
	book = Workbook()
	sheet = book.active
	sheet.append(COLUMNS)
	for row in GOOD_ROWS:
		sheet.append([row.get(column, "") for column in COLUMNS])
	buffer = io.BytesIO()
	book.save(buffer)
	return buffer.getvalue()


GOOD_XLSX = good_xlsx()


def corrupt(content: bytes, code: bytes) -> bytes:
	"""Each 3 bytes of `code`: 2 pick a position, 1 the byte written there."""
	data = bytearray(content)
	for offset in range(0, len(code) - 2, 3):
		data[(code[offset] * 256 + code[offset + 1]) * 7 % len(data)] = code[offset + 2]
	return bytes(data)


@examples(500)
@given(content=st.one_of(
	st.integers(0, len(GOOD_XLSX)).map(lambda cut: GOOD_XLSX[:cut]),  # truncated
	st.binary(min_size=3, max_size=24).map(lambda code: corrupt(GOOD_XLSX, code)),  # bytes overwritten
	st.binary(max_size=200),
))
def test_xlsx_order_files_only_say_why(content):
	try:
		orders, _errors = parse_order_file(content, "orders.xlsx")
	except InvalidOrder:
		return
	for payload in orders:
		assert_fits_erpnext(parse_order(payload))


# --- regressions: each case that used to crash or slip through -------------------------------------
def raises_invalid(call, *args, match: str | None = None):
	with pytest.raises(InvalidOrder, match=match):
		call(*args)


@pytest.mark.parametrize("value", ["1" * 29, 10**30, "9" * 13, 10**12, "1e99999999", Decimal("1e400")])
def test_money_past_what_erpnext_holds_is_refused(value):
	raises_invalid(to_money, value, "VND", match="too large")


def test_money_just_below_the_limit_is_kept():
	assert to_money("999999999999") == Decimal(999999999999)
	assert to_money(str(10**12 - 1) + ".4") == Decimal(10**12 - 1)
	raises_invalid(to_money, str(10**12 - 1) + ".5", match="too large")  # rounds up to 13 digits


@pytest.mark.parametrize("value", [True, False, [], {}, float("nan"), float("inf"), "NaN", "sNaN", "-Infinity"])
def test_booleans_and_nan_are_not_money(value):
	raises_invalid(to_money, value, match="not a money amount")


def test_price_true_names_the_field():
	raises_invalid(parse_order, canonical(lines=[{"sku": "A", "qty": 1, "unit_price": True}]), match="line 1 unit_price")


@pytest.mark.parametrize("qty", ["1e99999999", 10**13, True, "NaN", float("inf"), [1], {"a": 1}, "1" * 65])
def test_hostile_quantities_are_refused(qty):
	raises_invalid(parse_order, canonical(lines=[{"sku": "A", "qty": qty, "unit_price": 1}]))


def test_tiny_quantities_are_rounded_to_what_erpnext_keeps():
	assert parse_qty("1e-99999999", "q") == 0
	assert parse_qty("2", "q") == Decimal(2) and str(parse_qty("2", "q")) == "2"
	raises_invalid(parse_order, canonical(lines=[{"sku": "A", "qty": "1e-99999999", "unit_price": 1}]), match="quantity 0")


@pytest.mark.parametrize("value", [1_700_000_000_000, "1700000000000"])
def test_millisecond_timestamps_are_named(value):
	raises_invalid(parse_timestamp, value, "create_time", match="milliseconds")
	payload = test_tiktok.cod_order()
	payload["create_time"] = value
	raises_invalid(map_payload, "TikTok Shop", dumps(payload), match="create_time.*milliseconds")
	detail = test_shopee.cod_detail()
	detail["create_time"] = value
	raises_invalid(map_payload, "Shopee", dumps(detail), match="create_time.*milliseconds")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**30, -1, True, "soon", [1]])
def test_timestamps_outside_reason_are_refused(value):
	raises_invalid(parse_timestamp, value, "create_time")
	raises_invalid(map_payload, CANONICAL, dumps(canonical(created_at=value)), match="created_at")


def test_nan_timestamp_in_json_text():
	raw = dumps(canonical()).replace('"created_at": "2026-11-20T10:00:00+07:00"', '"created_at": NaN')
	raises_invalid(map_payload, CANONICAL, raw, match="created_at")


def test_a_megabyte_date_string_is_refused_at_once():
	started = time.perf_counter()
	raises_invalid(parse_datetime, "1" * 1_000_000, "created_at", match="not a date")
	raises_invalid(parse_order, canonical(created_at="2024-05-01 " * 100_000), match="created_at")
	assert time.perf_counter() - started < 0.5
	assert parse_datetime("20/11/2026 10:00", "d").month == 11  # day first, as before
	raises_invalid(parse_datetime, "0001-01-01T00:00:00", "d", match="between 2000 and 2099")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_deeply_nested_json_is_refused_without_recursion(platform):
	for raw in ("[" * 100_000, '{"a":' * 100_000, dumps({"order_sn": "X", "id": "X", "order_id": "X", "deep": nested(70)})):
		assert UNREADABLE.fullmatch(peek_order_id(platform, raw))
		raises_invalid(map_payload, platform, raw, match="nested deeper than 64")
	assert map_payload(platform, dumps({**valid_payloads(platform)[0], "extra": nested(50)}))


def test_json_integers_of_a_million_digits_are_not_parsed_as_int():
	raw = dumps(canonical()).replace('"shipping_fee": 30000', '"shipping_fee": ' + "9" * 1_000_000)
	started = time.perf_counter()
	raises_invalid(map_payload, CANONICAL, raw, match="shipping_fee.*too large")
	assert time.perf_counter() - started < 1


def test_lone_surrogates_never_reach_the_database():
	raw = dumps(test_shopee.cod_detail(order_sn="\ud800BAD"))
	assert UNREADABLE.fullmatch(peek_order_id("Shopee", raw))  # no database stores that id
	raises_invalid(map_payload, "Shopee", raw, match="broken Unicode")
	raw = dumps(canonical(note="a\udfffb", buyer={"name": "\ud83d"}), ensure_ascii=False)  # raw surrogates in the text
	assert peek_order_id(CANONICAL, raw) == "WEB-1001"
	order = map_payload(CANONICAL, raw)
	assert order.note == "a\ufffdb" and order.buyer.name == "\ufffd"
	assert UNREADABLE.fullmatch(peek_order_id("Shopee", "\ud800"))


@pytest.mark.parametrize(
	"field, value, match",
	[
		("shipments", [1], r"shipments\[0\] must be an object"),
		("shipments", {"a": 1}, "shipments must be a list"),
		("shipments", 7, "shipments must be a list"),
		("shipments", [{"lines": [1, 2]}], r"shipments\[0\].lines must be an object"),
		("shipments", [{"lines": {"CAP": 0}}], "shipment 1 has quantity 0 of 'CAP'"),
		("shipments", [{"lines": {"CAP": -1}}], "shipment 1 has quantity -1"),
		("shipments", [{"lines": {"CAP": "lots"}}], "not a number"),
		("returned_lines", [1], "returned_lines must be an object"),
		("returned_lines", 5, "returned_lines must be an object"),
		("returned_lines", {"CAP": 0}, "returned_lines has quantity 0"),
		("returned_lines", {"CAP": "-2"}, "returned_lines has quantity -2"),
	],
)
def test_shipments_and_returns_must_be_objects_with_positive_quantities(field, value, match):
	raises_invalid(parse_order, canonical(**{field: value}), match=match)


def test_marketplace_shipments_and_returns_of_the_wrong_shape():
	detail = test_shopee.cod_detail()
	detail["package_list"] = {"a": 1}
	raises_invalid(order_from_shopee, detail, match="package_list must be a list")
	detail["package_list"] = [7]
	raises_invalid(order_from_shopee, detail, match="package 1 must be an object")
	detail = test_shopee.cod_detail()
	detail["package_list"][0]["item_list"][0]["model_quantity"] = 0
	raises_invalid(order_from_shopee, detail, match="shipment 1 has quantity 0")
	order = test_tiktok.cod_order(status="DELIVERED")
	for returns in (5, {"a": 1}, [{"return_type": "RETURN_AND_REFUND", "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE", "return_line_items": 3}]):
		order["oms_returns"] = returns
		raises_invalid(order_from_tiktok, order, match="oms_returns")
	order = test_tiktok.cod_order()
	order["payment"] = ["not", "an", "object"]
	raises_invalid(order_from_tiktok, order, match="payment must be an object")
	order = test_tiktok.cod_order()
	order["recipient_address"] = [1]
	raises_invalid(order_from_tiktok, order, match="recipient_address must be an object")


def test_csv_with_old_mac_line_endings_is_read():
	assert parse_order_file(GOOD_CSV.replace(b"\r\n", b"\r"), "orders.csv") == parse_order_file(GOOD_CSV, "orders.csv")
	content = b"order_id,sku,qty,address_line1,province\rA1,S1,2,1 Hang Bai,Ha Noi\rA1,S2,1,,\r"
	orders, errors = parse_order_file(content, "orders.csv")
	assert errors == [] and [line["sku"] for line in orders[0]["lines"]] == ["S1", "S2"]


def test_csv_with_a_200_kb_field_says_which_line():
	content = b"order_id,sku,qty,note\nA1,S1,1,ok\nA2,S1,1," + b"x" * 200_000 + b"\n"
	raises_invalid(parse_order_file, content, "orders.csv", match="line 3 .*field larger than field limit")


def test_csv_with_nul_bytes_and_broken_utf8():
	orders, errors = parse_order_file(b"order_id,sku,qty\nA\x001,S\xff1,1\n", "orders.csv")
	assert orders == [] and "control characters" in errors[0].reason  # an id with NUL is no id
	orders, errors = parse_order_file(b"order_id,sku,qty,province,address_line1\nA1,S\xff1,1,x,y\n", "orders.csv")
	assert errors == [] and orders[0]["lines"][0]["sku"] == "S\ufffd1"


def test_broken_xlsx_read_lazily_is_invalid_not_a_crash():
	# The workbook opens (read-only mode reads sheets lazily), but the sheet's XML is broken.
	source = zipfile.ZipFile(io.BytesIO(GOOD_XLSX))
	out = io.BytesIO()
	with zipfile.ZipFile(out, "w") as target:
		for info in source.infolist():
			data = source.read(info)
			if info.filename.startswith("xl/worksheets/"):
				data = data[: len(data) // 2]
			target.writestr(info, data)
	raises_invalid(parse_order_file, out.getvalue(), "orders.xlsx", match="not a readable .xlsx")


def test_xlsx_that_unpacks_to_gigabytes_is_refused_unread():
	out = io.BytesIO()
	with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
		target.writestr("xl/sharedStrings.xml", b"\0" * (limits.MAX_XLSX_UNPACKED_BYTES + 1))
	raises_invalid(read_rows, out.getvalue(), "orders.xlsx", match="unpacks to more than")


def test_order_files_past_the_row_limit_are_refused():
	content = b"order_id,sku,qty\n" + b"A,S,1\n" * (limits.MAX_ORDER_FILE_ROWS + 1)
	raises_invalid(read_rows, content, "orders.csv", match="more than 50000 rows")


def test_lazada_order_number_is_the_id_the_order_is_stored_under():
	order = test_lazada.cod_order()
	del order["order_id"]
	order["order_number"] = "LZ-300"
	items = test_lazada.cod_items()
	for item in items:
		item.pop("order_id")
	raw = dumps({"order": order, "items": items})
	assert peek_order_id("Lazada", raw) == map_payload("Lazada", raw).external_order_id == "LZ-300"
	order["order_id"] = "null"  # Lazada's empty field
	raw = dumps({"order": order, "items": items})
	assert peek_order_id("Lazada", raw) == map_payload("Lazada", raw).external_order_id == "LZ-300"


@pytest.mark.parametrize("order_id", [["A1"], {"id": "A1"}, True, 12.0, float("nan"), "x" * 101, " ", "", None, "a\nb"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_ids_that_are_no_ids_are_stored_under_the_bytes_hash(platform, order_id):
	payload = valid_payloads(platform)[0]
	if platform == "Lazada":
		payload["order"]["order_id"] = payload["order"]["order_number"] = order_id
	else:
		payload[{"Shopee": "order_sn", "TikTok Shop": "id", CANONICAL: "order_id"}[platform]] = order_id
	raw = dumps(payload)
	assert UNREADABLE.fullmatch(peek_order_id(platform, raw))
	assert peek_order_id(platform, raw) == peek_order_id(platform, raw)  # stable across redeliveries
	raises_invalid(map_payload, platform, raw)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_ids_up_to_the_limit_are_kept_stripped(platform):
	for order_id, expected in ((" " + "7" * 100 + " ", "7" * 100), (12345, "12345")):
		payload = valid_payloads(platform)[0]
		if platform == "Lazada":
			payload["order"]["order_id"] = payload["order"]["order_number"] = order_id
			for item in payload["items"]:
				item["order_id"] = order_id
		else:
			payload[{"Shopee": "order_sn", "TikTok Shop": "id", CANONICAL: "order_id"}[platform]] = order_id
		raw = dumps(payload)
		assert peek_order_id(platform, raw) == map_payload(platform, raw).external_order_id == expected


def test_unreadable_id_is_the_hash_of_the_bytes_as_before():
	import hashlib

	assert peek_order_id("Shopee", "not json") == "UNREADABLE-" + hashlib.sha1(b"not json").hexdigest()[:16]


def test_long_text_fields_are_cut_to_what_erpnext_holds():
	order = parse_order(canonical(buyer={"name": "N" * 500}, note="z" * 10_000, lines=[{"sku": "A", "qty": 1, "title": "t" * 300}]))
	assert len(order.buyer.name) == limits.MAX_TEXT_LENGTH and len(order.note) == limits.MAX_NOTE_LENGTH
	assert len(order.lines[0].title) == limits.MAX_TEXT_LENGTH
	raises_invalid(parse_order, canonical(lines=[{"sku": "S" * 141, "qty": 1}]), match="SKU longer than 140")


def test_line_amounts_and_totals_past_the_limit_are_refused():
	raises_invalid(parse_order, canonical(lines=[{"sku": "A", "qty": 10**6, "unit_price": 10**7}]), match="too large")
	many = [{"sku": f"S{i}", "qty": 1, "unit_price": 1} for i in range(limits.MAX_ORDER_LINES + 1)]
	raises_invalid(parse_order, canonical(lines=many, shipping_fee=0, seller_voucher=0, platform_voucher=0), match="more than 1000")


def test_currency_must_be_a_code():
	raises_invalid(parse_order, canonical(currency="V" * 1000), match="not a currency code")
	assert parse_order(canonical(currency="vnd")).currency == "VND"
	assert parse_order(canonical(currency=None)).currency == "VND"


def test_coordinates_must_be_degrees():
	address = canonical()["shipping_address"]
	for latitude in (True, "NaN", 91, "1e999"):
		raises_invalid(parse_order, canonical(shipping_address={**address, "latitude": latitude}), match="latitude")
	detail = test_shopee.cod_detail()
	detail["recipient_address"]["geolocation"] = {"latitude": 10.5}
	assert order_from_shopee(detail).shipping_address.longitude is None
	detail["recipient_address"]["geolocation"] = {"latitude": "x", "longitude": 1}
	raises_invalid(order_from_shopee, detail, match="geolocation.latitude")
