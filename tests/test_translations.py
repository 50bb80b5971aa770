"""Every string the app shows has a Vietnamese translation (oms_connector/translations/vi.csv).

A failure here lists what to add: run `python3 dev/translations.py --missing` for rows ready to
paste into vi.csv (then `python3 dev/translations.py --sort`).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "dev" / "translations.py"
VI_CSV = REPO / "oms_connector" / "translations" / "vi.csv"


def _load_extractor():
	spec = importlib.util.spec_from_file_location("oms_dev_translations", SCRIPT)
	module = importlib.util.module_from_spec(spec)
	sys.modules[spec.name] = module  # dataclasses look the module up while the class is made
	spec.loader.exec_module(module)
	return module


T = _load_extractor()


@pytest.fixture(scope="module")
def extraction():
	return T.extract()


@pytest.fixture(scope="module")
def rows():
	return T.read_rows(VI_CSV)


# --- (a) the file itself -------------------------------------------------------------------


def test_file_is_utf8_csv_with_two_or_three_columns():
	text = VI_CSV.read_bytes().decode("utf-8")  # raises if not UTF-8
	assert not text.startswith("\ufeff"), "vi.csv must not start with a byte-order mark"
	records = [r for r in csv.reader(text.splitlines()) if r]
	assert records, "vi.csv is empty"
	bad = [r for r in records if len(r) not in (2, 3)]
	assert not bad, f"rows Frappe cannot read (needs source,translation[,context]): {bad}"
	assert records[0][:2] != ["source", "translated_text"], "vi.csv has no header row in Frappe's format"


def test_every_row_has_a_translation(rows):
	empty = [r.source for r in rows if not r.translation]
	assert not empty, f"rows with an empty translation in {VI_CSV.name}: {empty}"
	blank_sources = [r.line for r in rows if not r.source.strip()]
	assert not blank_sources, f"rows with an empty source at lines {blank_sources}"


def test_no_duplicate_sources(rows):
	seen: dict[tuple[str, str], int] = {}
	dupes = []
	for r in rows:
		key = (r.source, r.context)
		if key in seen:
			dupes.append(f"{r.source!r} (lines {seen[key]} and {r.line})")
		seen[key] = r.line
	assert not dupes, "the same source appears twice in vi.csv:\n" + "\n".join(dupes)


def test_sources_and_translations_have_no_stray_whitespace(rows):
	# Frappe looks the stripped message up, so a padded source never matches
	padded = [r.source for r in rows if r.source != r.source.strip()]
	assert not padded, f"sources with leading/trailing spaces: {padded}"


# --- (b) nothing the app shows is left in English ------------------------------------------


def test_every_string_of_the_app_is_translated(extraction, rows):
	translations = {r.source: r.translation for r in rows if not r.context}
	missing = T.missing(extraction, translations)
	if missing:
		lines = [
			f"  {m!r}  <- " + "; ".join(str(loc) for loc in extraction.messages[m][:3])
			for m in missing
		]
		pytest.fail(
			f"{len(missing)} strings have no Vietnamese translation in oms_connector/translations/vi.csv.\n"
			"Run `python3 dev/translations.py --missing` for the rows to paste, translate them, "
			"then `python3 dev/translations.py --sort`.\n" + "\n".join(lines),
			pytrace=False,
		)


# --- (c) placeholders survive translation --------------------------------------------------


def test_placeholders_are_kept(rows):
	wrong = [
		f"{r.source!r} -> {r.translation!r}"
		for r in rows
		if T.placeholders(r.source) != T.placeholders(r.translation)
	]
	assert not wrong, "translations must keep {0}, {1}, {} exactly, each as often as the source:\n" + "\n".join(wrong)


def test_the_short_labels_frappe_mistranslates_are_ours(rows):
	"""Frappe's own vi dictionary has e.g. Phone -> 'Chuyển tệp'; our file must override them."""
	translations = {r.source: r.translation for r in rows if not r.context}
	expected = {
		"Phone": "Điện thoại",
		"Sales Channel": "Kênh bán hàng",
		"Channel Order": "Đơn hàng kênh",
		"Held": "Tạm giữ",
		"Retry": "Thử lại",
		"Warehouse": "Kho",
		"Shipped": "Đã gửi hàng",
		"Store/Phone": "Cửa hàng/Điện thoại",
		"Prepaid": "Trả trước",
		"COD": "COD (thu hộ)",
	}
	wrong = {k: translations.get(k) for k, v in expected.items() if translations.get(k) != v}
	assert not wrong, f"expected translations changed: {wrong}"


# --- (d) the extractor really finds strings -------------------------------------------------


def test_extractor_finds_known_strings_of_every_kind(extraction):
	messages = extraction.messages
	for known in ("Sales Channel", "Channel Order", "Retry", "New Store/Phone Order", "Held", "Store/Phone", "Orders"):
		assert known in messages, f"the extractor no longer finds {known!r}"
	kinds = {loc.kind for locs in messages.values() for loc in locs}
	assert {"doctype", "workspace", "js", "py"} <= kinds, kinds
	assert len(messages) > 200, len(messages)


def test_extractor_on_a_small_app(tmp_path):
	app = tmp_path / "app"
	dt = app / "mod" / "doctype" / "thing"
	dt.mkdir(parents=True)
	(dt / "thing.json").write_text(
		json.dumps(
			{
				"doctype": "DocType",
				"name": "Thing",
				"fields": [
					{"fieldname": "status", "fieldtype": "Select", "label": "State", "options": "\nOpen\nClosed"},
					{"fieldname": "naming_series", "fieldtype": "Select", "options": "TH-.###"},
					{"fieldname": "sb", "fieldtype": "Section Break", "label": "Money", "description": "All the money."},
					{"fieldname": "n", "fieldtype": "Int"},
				],
				"links": [{"group": "Related", "link_doctype": "Other"}],
			}
		),
		encoding="utf-8",
	)
	(dt / "thing.js").write_text(
		'frm.add_custom_button(__("Do It"), f, __(\'Group\'));\n'
		"x(__(`Plain template`));\n"
		'y(__("Say \\"hi\\" to {0}", [name]));\n'
		"z(__(`Bad ${name}`));\n"
		"w(__(doc.status));\n"
		"frappe.__(\"not ours\");\n",
		encoding="utf-8",
	)
	(dt / "thing.py").write_text(
		"import frappe\nfrom frappe import _\n"
		'frappe.throw(_("Thing {0} is broken").format(1))\n'
		'frappe.msgprint(frappe._("Joined " "up"))\n'
		'f = {"fieldname": "x", "fieldtype": "Data", "label": "Custom Label", "description": "Custom help"}\n'
		'bad = _(f"no {1}")\n'
		'col = {"label": _("Column"), "fieldtype": "Data"}\n'
		'kind = _(account_type or "no type")\n',
		encoding="utf-8",
	)
	(app / "fixtures").mkdir()
	(app / "fixtures" / "role.json").write_text(
		json.dumps([{"doctype": "Role", "name": "Thing Keeper", "role_name": "Thing Keeper"}]),
		encoding="utf-8",
	)
	ws = app / "mod" / "workspace" / "w"
	ws.mkdir(parents=True)
	(ws / "w.json").write_text(
		json.dumps(
			{
				"doctype": "Workspace",
				"label": "Work",
				"title": "Work",
				"links": [{"type": "Card Break", "label": "Card"}],
				"shortcuts": [{"label": "Short", "format": "{} Open"}],
				"content": json.dumps(
					[
						{"type": "header", "data": {"text": '<span class="h4"><b>Head</b></span>'}},
						# header.js looks up the element's text passed through escape_html
						{"type": "header", "data": {"text": '<span class="h4"><b>Reports &amp; Masters</b></span>'}},
						{"type": "paragraph", "data": {"text": "Some <b>words</b>"}},
						{"type": "spacer", "data": {"col": 12}},
					]
				),
			}
		),
		encoding="utf-8",
	)
	tests_dir = app / "tests"
	tests_dir.mkdir()
	(tests_dir / "test_x.py").write_text('from frappe import _\n_("only in a test")\n', encoding="utf-8")

	ex = T.extract(app)
	expected = {
		"Thing", "State", "Open", "Closed", "Money", "All the money.", "Related",
		"Do It", "Group", "Plain template", 'Say "hi" to {0}',
		"Thing {0} is broken", "Joined up", "Custom Label", "Custom help", "Column", "no type", "Thing Keeper",
		"Work", "Card", "Short", "{} Open", "Head", "Reports &amp; Masters", "Some <b>words</b>",
	}  # fmt: skip
	assert set(ex.messages) == expected
	assert any("Bad ${" in w or "${}" in w for w in ex.warnings), ex.warnings
	assert any('_(f"' in w for w in ex.warnings), ex.warnings


def test_missing_command_prints_pasteable_rows(tmp_path, capsys):
	app = tmp_path / "app"
	(app / "translations").mkdir(parents=True)
	(app / "a.js").write_text('__("Hello, world"); __("Known");', encoding="utf-8")
	(app / "translations" / "vi.csv").write_text("Known,Đã biết\n", encoding="utf-8")
	assert T.main(["--missing", "--app-dir", str(app)]) == 1
	out = capsys.readouterr().out
	assert list(csv.reader(out.splitlines())) == [["Hello, world", ""]]
	(app / "translations" / "vi.csv").write_text('Known,Đã biết\n"Hello, world","Xin chào, thế giới"\n', encoding="utf-8")
	assert T.main(["--missing", "--app-dir", str(app)]) == 0
	assert T.main(["--unused", "--app-dir", str(app)]) == 0
