"""Order files (.csv or .xlsx) typed by people: one row per order line, rows of one order share its id.

Reading is strict but kind: every bad row is reported with its row number and reason, and an
order with any bad row is left out whole, so a half-order is never imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .normalize import parse_order
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


def read_rows(content: bytes, filename: str) -> list[dict]:
	"""Rows of a .csv or .xlsx file as dicts keyed by the lower-cased header."""
	name = filename.lower()
	if name.endswith(".xlsx"):
		from openpyxl import load_workbook

		try:
			sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
		except Exception as exc:
			raise InvalidOrder(f"not a readable .xlsx file: {exc}") from None
		table = [["" if cell is None else cell for cell in row] for row in sheet.iter_rows(values_only=True)]
	elif name.endswith(".csv"):
		text = content.decode("utf-8-sig", errors="replace")
		table = list(csv.reader(io.StringIO(text)))
	else:
		raise InvalidOrder("order files must be .csv or .xlsx")
	if not table:
		raise InvalidOrder("the file is empty")
	header = [str(cell).strip().lower() for cell in table[0]]
	missing = [column for column in REQUIRED if column not in header]
	if missing:
		raise InvalidOrder("the header lacks column(s): " + ", ".join(missing))
	rows = []
	for values in table[1:]:
		if not any(str(v).strip() for v in values):
			continue
		rows.append({header[i]: _cell(v) for i, v in enumerate(values) if i < len(header) and header[i]})
	return rows


def _cell(value) -> str:
	if hasattr(value, "isoformat"):
		return value.isoformat()
	if isinstance(value, float) and value.is_integer():
		return str(int(value))
	return str(value).strip()


def orders_from_rows(rows: list[dict], currency: str = "VND") -> tuple[list[dict], list[RowError]]:
	"""Group rows into canonical order payloads; returns (good orders, errors of the bad rows)."""
	groups: dict[str, list[tuple[int, dict]]] = {}
	errors: list[RowError] = []
	for number, row in enumerate(rows, start=2):
		order_id = row.get("order_id", "").strip()
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
				bad = [RowError(numbered[0][0], order_id, str(exc))]
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
			if float(qty) <= 0:
				errors.append(RowError(number, order_id, f"qty must be more than 0, not {qty!r}"))
		except ValueError:
			errors.append(RowError(number, order_id, f"qty {qty!r} is not a number"))
		for column in ORDER_LEVEL:
			value = row.get(column, "")
			if not value:
				continue
			if column in first_values and first_values[column][1] != value:
				errors.append(
					RowError(
						number,
						order_id,
						f"{column} {value!r} differs from {first_values[column][1]!r} on row {first_values[column][0]} of the same order",
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
