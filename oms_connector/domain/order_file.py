"""Order files (.csv or .xlsx) typed by people: one row per order line, rows of one order share its id.

Reading is strict but kind: every bad row is reported with its row number and reason, and an
order with any bad row is left out whole, so a half-order is never imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .limits import (
	MAX_ORDER_FILE_BYTES,
	MAX_ORDER_FILE_COLUMNS,
	MAX_ORDER_FILE_ROWS,
	MAX_TEXT_LENGTH,
	MAX_XLSX_UNPACKED_BYTES,
	show,
)
from .normalize import parse_order, parse_qty
from .order import InvalidOrder

COLUMNS = [
	"order_id",
	"order_date",
	"customer_name",
	"phone",
	"email",
	"address_line1",
	"ward",
	"district",
	"province",
	"sku",
	"qty",
	"unit_price",
	"line_discount",
	"shipping_fee",
	"voucher",
	"payment_method",
	"pickup_store",
	"note",
]
REQUIRED = ("order_id", "sku", "qty")
LINE_COLUMNS = ("order_id", "sku", "qty", "unit_price", "line_discount")
# everything else describes the whole order: rows of one order must agree on it
ORDER_LEVEL = tuple(column for column in COLUMNS if column not in LINE_COLUMNS)
EXAMPLE_ROWS = [
	["HD-0001", "2026-11-20", "Nguyễn Văn An", "0912345678", "", "12 Lý Thường Kiệt", "Cửa Nam", "", "Hà Nội", "SKU-1", "2", "", "", "30000", "", "COD", "", ""],
	["HD-0001", "", "", "", "", "", "", "", "", "SKU-2", "1", "99000", "9000", "", "", "", "", ""],
]


@dataclass
class RowError:
	row: int  # 1-based, counting the header as row 1, as a spreadsheet shows it
	order_id: str
	reason: str


def template_csv() -> str:
	out = io.StringIO()
	writer = csv.writer(out)
	writer.writerow(COLUMNS)
	writer.writerows(EXAMPLE_ROWS)
	return out.getvalue()


def parse_order_file(content: bytes, filename: str, currency: str = "VND") -> tuple[list[dict], list[RowError]]:
	"""A whole .csv/.xlsx order file: (good canonical orders, bad rows). Raises only InvalidOrder,
	when the file as a whole cannot be read."""
	return orders_from_rows(read_rows(content, filename), currency)


def read_rows(content: bytes, filename: str) -> list[dict]:
	"""Rows of a .csv or .xlsx file as dicts keyed by the lower-cased header; raises only InvalidOrder.

	At most MAX_ORDER_FILE_BYTES bytes and MAX_ORDER_FILE_ROWS rows (blank ones included), of
	which the first MAX_ORDER_FILE_COLUMNS columns are read.
	"""
	if isinstance(content, str):
		content = content.encode("utf-8", "surrogatepass")
	if not isinstance(content, (bytes, bytearray)):
		raise InvalidOrder("an order file must be bytes")
	if len(content) > MAX_ORDER_FILE_BYTES:
		raise InvalidOrder(f"the file is larger than {MAX_ORDER_FILE_BYTES // 1_000_000} MB")
	name = str(filename or "").lower()
	if name.endswith(".xlsx"):
		table = _xlsx_table(bytes(content))
	elif name.endswith(".csv"):
		table = _csv_table(bytes(content))
	else:
		raise InvalidOrder("order files must be .csv or .xlsx")
	if not table:
		raise InvalidOrder("the file is empty")
	header = [_cell(cell).lower() for cell in table[0]]
	missing = [column for column in REQUIRED if column not in header]
	if missing:
		raise InvalidOrder("the header lacks column(s): " + ", ".join(missing))
	rows = []
	for values in table[1:]:
		cells = [_cell(v) for v in values[: len(header)]]
		if not any(cells):
			continue
		rows.append({header[i]: cell for i, cell in enumerate(cells) if header[i]})
	return rows


def _too_many_rows() -> InvalidOrder:
	return InvalidOrder(f"the file has more than {MAX_ORDER_FILE_ROWS} rows")


def _csv_table(content: bytes) -> list[list]:
	text = content.decode("utf-8-sig", errors="replace")
	# newline="": the csv module itself reads \r\n, \n and lone \r (old Mac) line endings.
	reader = csv.reader(io.StringIO(text, newline=""))
	table = []
	try:
		for row in reader:
			if len(table) > MAX_ORDER_FILE_ROWS:
				raise _too_many_rows()
			table.append(row[:MAX_ORDER_FILE_COLUMNS])
	except csv.Error as exc:  # e.g. a field longer than csv.field_size_limit() (128 kB)
		raise InvalidOrder(f"line {reader.line_num} of the file is not readable CSV: {exc}") from None
	return table


def _xlsx_table(content: bytes) -> list[list]:
	"""Every row of the first sheet, read inside the error handling: openpyxl reads lazily."""
	import zipfile

	from openpyxl import load_workbook

	try:
		with zipfile.ZipFile(io.BytesIO(content)) as archive:
			unpacked = sum(info.file_size for info in archive.infolist())
		if unpacked > MAX_XLSX_UNPACKED_BYTES:
			raise InvalidOrder(f"the .xlsx file unpacks to more than {MAX_XLSX_UNPACKED_BYTES // 1_000_000} MB")
		book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
		try:
			rows = book.active.iter_rows(
				values_only=True, max_col=MAX_ORDER_FILE_COLUMNS, max_row=MAX_ORDER_FILE_ROWS + 2
			)
			table = [list(row) for row in rows]
		finally:
			book.close()
	except InvalidOrder:
		raise
	except Exception as exc:  # zip, XML and openpyxl's own errors: the bytes are no workbook
		raise InvalidOrder(f"not a readable .xlsx file: {exc.__class__.__name__}: {str(exc)[:200]}") from None
	if len(table) > MAX_ORDER_FILE_ROWS + 1:
		raise _too_many_rows()
	return table


def _cell(value) -> str:
	"""A cell as text: dates in ISO form, whole floats without '.0'; never raises."""
	if value is None:
		return ""
	if isinstance(value, str):
		return value.strip()
	try:
		if hasattr(value, "isoformat"):
			return value.isoformat()
		if isinstance(value, float) and value.is_integer():
			return str(int(value))
		return str(value).strip()
	except Exception:
		return ""


def orders_from_rows(rows: list[dict], currency: str = "VND") -> tuple[list[dict], list[RowError]]:
	"""Group rows into canonical order payloads; returns (good orders, errors of the bad rows)."""
	groups: dict[str, list[tuple[int, dict]]] = {}
	errors: list[RowError] = []
	for number, row in enumerate(rows, start=2):
		order_id = str(row.get("order_id") or "").strip()
		if not order_id:
			errors.append(RowError(number, "", "order_id is empty"))
			continue
		groups.setdefault(order_id, []).append((number, row))

	orders = []
	for order_id, numbered in groups.items():
		bad = _check_rows(order_id, numbered)
		if not bad:
			payload = _payload(order_id, [row for _n, row in numbered], currency)
			try:
				parse_order(payload)
			except InvalidOrder as exc:
				bad = [RowError(numbered[0][0], order_id[:MAX_TEXT_LENGTH], str(exc))]
		if bad:
			errors.extend(bad)
		else:
			orders.append(payload)
	errors.sort(key=lambda error: error.row)
	return orders, errors


def _check_rows(order_id: str, numbered: list[tuple[int, dict]]) -> list[RowError]:
	errors = []
	first_values: dict[str, tuple[int, str]] = {}
	for number, row in numbered:
		if not row.get("sku"):
			errors.append(RowError(number, order_id, "sku is empty"))
		qty = row.get("qty", "")
		try:
			if parse_qty(qty, "qty") <= 0:
				errors.append(RowError(number, order_id, f"qty must be more than 0, not {show(qty)}"))
		except InvalidOrder:
			errors.append(RowError(number, order_id, f"qty {show(qty)} is not a number"))
		for column in ORDER_LEVEL:
			value = row.get(column, "")
			if not value:
				continue
			if column in first_values and first_values[column][1] != value:
				errors.append(
					RowError(
						number,
						order_id,
						f"{column} {show(value)} differs from {show(first_values[column][1])} on row {first_values[column][0]} of the same order",
					)
				)
			first_values.setdefault(column, (number, value))
	return errors


def _first(rows: list[dict], column: str) -> str:
	return next((row[column] for row in rows if row.get(column)), "")


def _payload(order_id: str, rows: list[dict], currency: str) -> dict:
	pickup = _first(rows, "pickup_store")
	payload = {
		"order_id": order_id,
		"status": "confirmed",
		"currency": currency,
		"created_at": _first(rows, "order_date") or None,
		"buyer": {"name": _first(rows, "customer_name"), "phone": _first(rows, "phone"), "email": _first(rows, "email")},
		"shipping_address": None
		if pickup
		else {
			"full_name": _first(rows, "customer_name"),
			"phone": _first(rows, "phone"),
			"line1": _first(rows, "address_line1"),
			"ward": _first(rows, "ward"),
			"district": _first(rows, "district"),
			"province": _first(rows, "province"),
		},
		"pickup_store": pickup or None,
		"lines": [
			{
				"sku": row["sku"],
				"qty": row["qty"],
				"unit_price": row.get("unit_price") or None,
				"seller_discount": row.get("line_discount") or 0,
			}
			for row in rows
		],
		"shipping_fee": _first(rows, "shipping_fee") or 0,
		"seller_voucher": _first(rows, "voucher") or 0,
		"payment_method": _first(rows, "payment_method") or "COD",
		"note": _first(rows, "note"),
	}
	return payload
