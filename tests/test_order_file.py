import csv
import io

import pytest
from openpyxl import Workbook

from oms_connector.domain.normalize import parse_order
from oms_connector.domain.order import InvalidOrder
from oms_connector.domain.order_file import COLUMNS, orders_from_rows, read_rows, template_csv


def to_csv(rows):
	out = io.StringIO()
	writer = csv.writer(out)
	writer.writerow(COLUMNS)
	for row in rows:
		writer.writerow([row.get(column, "") for column in COLUMNS])
	return out.getvalue().encode()


GOOD = [
	{"order_id": "A1", "customer_name": "An", "phone": "0912345678", "address_line1": "1 Hàng Bài", "province": "Hà Nội", "sku": "S1", "qty": "2", "shipping_fee": "30000"},
	{"order_id": "A1", "sku": "S2", "qty": "1", "unit_price": "99.000", "line_discount": "9000"},
	{"order_id": "B2", "customer_name": "Bình", "phone": "0987654321", "pickup_store": "Store HN", "sku": "S1", "qty": "1"},
]


def test_template_parses_as_one_good_order():
	orders, errors = orders_from_rows(read_rows(template_csv().encode(), "t.csv"))
	assert errors == []
	assert [o["order_id"] for o in orders] == ["HD-0001"]


def test_rows_group_into_orders_with_price_list_pricing_for_blank_prices():
	orders, errors = orders_from_rows(read_rows(to_csv(GOOD), "orders.csv"))
	assert errors == []
	first = parse_order(orders[0])
	assert [line.sku for line in first.lines] == ["S1", "S2"]
	assert first.lines[0].priced_by_erp and not first.lines[1].priced_by_erp
	assert first.lines[1].unit_price == 99000
	assert first.shipping_fee == 30000
	assert parse_order(orders[1]).pickup_store == "Store HN"


def test_bad_rows_are_listed_and_their_whole_order_left_out():
	rows = GOOD + [
		{"order_id": "", "sku": "S1", "qty": "1"},
		{"order_id": "C3", "sku": "", "qty": "1", "address_line1": "x", "province": "Huế"},
		{"order_id": "C3", "sku": "S2", "qty": "zero"},
		{"order_id": "D4", "sku": "S1", "qty": "1", "province": "Huế", "address_line1": "2 Lê Lợi", "shipping_fee": "10000"},
		{"order_id": "D4", "sku": "S2", "qty": "1", "shipping_fee": "20000"},
		{"order_id": "E5", "sku": "S1", "qty": "-1", "province": "Huế", "address_line1": "x"},
		{"order_id": "F6", "sku": "S1", "qty": "1", "unit_price": "10", "line_discount": "50", "province": "Huế", "address_line1": "x"},
	]
	orders, errors = orders_from_rows(read_rows(to_csv(rows), "orders.csv"))
	assert sorted(o["order_id"] for o in orders) == ["A1", "B2"]
	by_row = {(e.row, e.order_id): e.reason for e in errors}
	assert by_row[(5, "")] == "order_id is empty"
	assert "sku is empty" in by_row[(6, "C3")]
	assert "not a number" in by_row[(7, "C3")]
	assert "differs from '10000' on row 8" in by_row[(9, "D4")]
	assert "more than 0" in by_row[(10, "E5")]
	assert "below zero" in by_row[(11, "F6")]


def test_xlsx_is_read_like_csv(tmp_path):
	book = Workbook()
	sheet = book.active
	sheet.append(COLUMNS)
	for row in GOOD:
		sheet.append([float(row[c]) if c in ("qty",) and row.get(c) else row.get(c, "") for c in COLUMNS])
	buffer = io.BytesIO()
	book.save(buffer)
	orders, errors = orders_from_rows(read_rows(buffer.getvalue(), "orders.XLSX"))
	assert errors == []
	assert len(orders) == 2
	assert orders[0]["lines"][0]["qty"] == "2"


@pytest.mark.parametrize(
	"content, name, reason",
	[
		(b"a,b\n1,2\n", "x.csv", "lacks column"),
		(b"", "x.csv", "empty"),
		(b"garbage", "x.xlsx", "not a readable"),
		(b"x", "x.pdf", ".csv or .xlsx"),
	],
)
def test_unreadable_files_say_why(content, name, reason):
	with pytest.raises(InvalidOrder, match=reason):
		read_rows(content, name)
