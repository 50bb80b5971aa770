"""How big, deep and long anything read from outside may be, and why.

Every payload reader (canonical JSON, marketplace mappers, order files, the order-id peek)
checks against these before doing work whose cost or result depends on the input's size, so
hostile but plausible input ends as a clear `InvalidOrder` instead of a crash or a slow path.
Pure constants and pure helpers: no frappe, no InvalidOrder (order.py imports this module).
"""

from __future__ import annotations

import re
import reprlib
from datetime import datetime, timezone

# --- ids and text --------------------------------------------------------------------------
# A Channel Order is named "<sales channel>:<order id>" in Frappe's varchar(140) name column,
# so the order id leaves 40 characters for the channel's name (39) and the colon. A longer id
# is not an id: the payload is stored under the hash of its bytes (erp.platforms.peek_order_id).
MAX_ORDER_ID_LENGTH = 100
# Frappe's Data fields (names, phones, address parts, titles, SKUs, tracking numbers) are
# varchar(140): longer text is cut there, and a longer SKU cannot be an Item code at all.
MAX_TEXT_LENGTH = 140
MAX_SKU_LENGTH = 140
# Free text (the buyer's note) lands in Text columns; a longer note is cut.
MAX_NOTE_LENGTH = 2000

# --- numbers -------------------------------------------------------------------------------
# ERPNext stores Currency and Float as decimal(21,9): 12 digits before the point. Money,
# quantities, and every line amount and order total must stay below this, in absolute value.
MAX_INTEGER_DIGITS = 12
MAX_AMOUNT = 10**MAX_INTEGER_DIGITS
MAX_QTY = 10**MAX_INTEGER_DIGITS
QTY_DECIMALS = 9  # decimal(21,9): quantities are rounded to 9 places
# A number written as text longer than this is refused before it is parsed.
MAX_NUMBER_TEXT = 64
# A JSON integer longer than this is read as a Decimal (never int('...' * 10**6), which is
# quadratic), so no field can hold a number with more digits than MAX_INTEGER_DIGITS anyway.
MAX_JSON_INT_DIGITS = 64

# --- dates ---------------------------------------------------------------------------------
# A date string longer than this is refused before dateutil sees it (dateutil takes seconds
# on megabyte strings); real dates, ISO or "20/11/2026 10:00 +07:00", are far shorter.
MAX_DATE_TEXT = 64
# Orders happen in this century. Unix timestamps (seconds) and parsed dates outside are
# refused; a timestamp 1000 times too large is named as milliseconds in the error (none of
# the platforms documents milliseconds for its order times, so it is not silently divided).
MIN_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_DATE = datetime(2100, 1, 1, tzinfo=timezone.utc)
MIN_TIMESTAMP = int(MIN_DATE.timestamp())  # 946684800
MAX_TIMESTAMP = int(MAX_DATE.timestamp())  # 4102444800

# --- payloads and files --------------------------------------------------------------------
# An order payload is a few kB, a 1000-line order some hundreds; 2 M characters is generous.
MAX_PAYLOAD_CHARS = 2_000_000
# JSON nested deeper than this is refused before json.loads (which recurses) sees it. Real
# order payloads are nested 4 to 6 deep.
MAX_JSON_DEPTH = 64
MAX_ORDER_LINES = 1000
# Order files typed by people.
MAX_ORDER_FILE_BYTES = 10_000_000
MAX_ORDER_FILE_ROWS = 50_000  # data rows, header not counted
MAX_ORDER_FILE_COLUMNS = 100
MAX_XLSX_UNPACKED_BYTES = 100_000_000  # what the .xlsx zip may expand to (zip bombs)

# --- error messages ------------------------------------------------------------------------
# An error message quotes at most this much of a bad value (a 1 MB value would make a 1 MB message).
_shown = reprlib.Repr()
_shown.maxstring = _shown.maxother = _shown.maxlong = 60
_shown.maxlevel = 2
_shown.maxlist = _shown.maxdict = _shown.maxtuple = 4

_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")


def show(value) -> str:
	"""A short repr of `value` for an error message, whatever its size or depth."""
	try:
		return _shown.repr(value)
	except Exception:  # a hostile __repr__ of a non-JSON value: say what it is instead
		return f"<{type(value).__name__}>"


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
	"""True when the JSON text nests arrays/objects deeper than `limit`; linear, no recursion.

	Brackets inside string literals do not count. For text that is not JSON the answer only
	has to be safe, not exact: json.loads refuses such text anyway.
	"""
	if text.count("[") + text.count("{") <= limit:
		return False  # the usual case, decided in C
	brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
	depth = 0
	for char in brackets:
		if char in "[{":
			depth += 1
			if depth > limit:
				return True
		else:
			depth -= 1
	return False
