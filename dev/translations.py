#!/usr/bin/env python3
"""Every translatable string of the app, and which of them the translation file lacks.

Plain Python 3 (no frappe), so it runs anywhere and tier-1 tests can import it.

    python3 dev/translations.py              # summary: how many strings, how many translated
    python3 dev/translations.py --missing    # CSV rows "source," for strings vi.csv lacks (exit 1 if any)
    python3 dev/translations.py --unused     # vi.csv rows no longer used by the app (informational)
    python3 dev/translations.py --list       # every string and where it comes from
    python3 dev/translations.py --sort       # rewrite vi.csv sorted, quoted by the csv module

--missing prints ready-to-paste CSV on stdout (put the Vietnamese after the comma) and, on stderr,
where each missing string comes from. Paste the rows into oms_connector/translations/vi.csv, fill
in the translations, then run --sort to put them in order.

What counts as translatable (what Frappe v15 passes through _() / __() in the desk):
- DocType JSON: the doctype name and description, each field's label and description, the
  options of Select fields (one per line), HTML field content, connection groups, action labels.
- Workspace JSON: label, title, header/paragraph text, card and link labels and descriptions,
  shortcut labels and count formats ("{} Held"), number card / chart / quick list labels.
- Report, Number Card, Dashboard Chart, Page JSON: their names/labels/titles.
- JavaScript: the literal first argument of __("..."), __('...'), __(`...`).
- Python: the literal first argument of _("...") / frappe._("...") / _lt("...") (implicit
  concatenation "a" "b" and "a" + "b" are joined), and the label / description / Select options
  of field dicts ({"fieldtype": ..., "label": "..."}: custom fields, report columns, dialogs).
- HTML/Jinja templates and Vue files: _("...") and __("...").
- Fixtures (JSON lists): the app's own Role names and Custom Field labels/descriptions/options.
  Roles named in doctype permissions are Frappe's or ERPNext's unless the app's fixtures make them.

The translation file is Frappe's format: CSV, UTF-8, no header, rows `source,translated_text`
(optional third column: context). Frappe reads a literal backslash-n in the file as a newline.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_DIR = REPO_ROOT / "oms_connector"
DEFAULT_LANG = "vi"

# folders that never hold user-facing strings
SKIP_DIRS = {"tests", "node_modules", "__pycache__", "dist", ".git", "translations", "locale"}

# Select fields whose options are codes, not words (same list as Frappe's extractor)
EXCLUDE_SELECT_OPTIONS = {"naming_series", "number_format", "float_precision", "currency_precision"}

PLACEHOLDER_RE = re.compile(r"\{\d*\}")


@dataclass(frozen=True)
class Location:
	path: str  # relative to the repository root
	line: int  # 0 when unknown (JSON)
	kind: str  # doctype, workspace, report, js, py, html, ...
	what: str = ""  # e.g. "label of field status"

	def __str__(self) -> str:
		where = f"{self.path}:{self.line}" if self.line else self.path
		return f"{where} ({self.kind}{': ' + self.what if self.what else ''})"


@dataclass
class Extraction:
	messages: dict[str, list[Location]] = field(default_factory=dict)
	# things that look like translatable strings but cannot be (f-strings in _(), ${} in __(`...`))
	warnings: list[str] = field(default_factory=list)

	def add(self, message, location: Location) -> None:
		if not isinstance(message, str):
			return
		if not message.strip():
			return
		self.messages.setdefault(message, []).append(location)

	def warn(self, text: str) -> None:
		self.warnings.append(text)


# --- walking the app -----------------------------------------------------------------------


def _files(app_dir: Path, suffix: str):
	for path in sorted(app_dir.rglob(f"*{suffix}")):
		rel = path.relative_to(app_dir)
		if any(part in SKIP_DIRS for part in rel.parts[:-1]):
			continue
		if suffix == ".js" and path.name.endswith((".min.js", ".bundle.js.map")):
			continue
		yield path


def _rel(path: Path, root: Path) -> str:
	try:
		return path.resolve().relative_to(root.resolve()).as_posix()
	except ValueError:
		return path.as_posix()


def extract(app_dir: Path | str | None = None) -> Extraction:
	"""Every translatable string under app_dir (default: this repository's app)."""
	app_dir = Path(app_dir) if app_dir else APP_DIR
	root = app_dir.parent
	out = Extraction()
	for path in _files(app_dir, ".json"):
		_extract_json(path, _rel(path, root), out)
	for path in _files(app_dir, ".js"):
		_extract_js(path.read_text(encoding="utf-8"), _rel(path, root), "js", out)
	for path in _files(app_dir, ".py"):
		_extract_py(path, _rel(path, root), out)
	for path in [*_files(app_dir, ".html"), *_files(app_dir, ".vue")]:
		text = path.read_text(encoding="utf-8")
		_extract_js(text, _rel(path, root), "html", out)
		_extract_jinja(text, _rel(path, root), out)
	return out


def extract_messages(app_dir: Path | str | None = None) -> set[str]:
	return set(extract(app_dir).messages)


# --- JSON ----------------------------------------------------------------------------------


def _extract_json(path: Path, rel: str, out: Extraction) -> None:
	try:
		data = json.loads(path.read_text(encoding="utf-8"))
	except ValueError as exc:
		out.warn(f"{rel}: not valid JSON ({exc}); skipped")
		return
	if isinstance(data, list):  # fixtures: the app's own roles and custom fields
		for doc in data:
			if isinstance(doc, dict):
				_extract_fixture(doc, rel, out)
		return
	if not isinstance(data, dict):
		return
	doctype = data.get("doctype")
	handler = {
		"DocType": _extract_doctype,
		"Workspace": _extract_workspace,
		"Report": _extract_named("report_name", "name"),
		"Number Card": _extract_named("label", "name"),
		"Dashboard Chart": _extract_named("chart_name", "name"),
		"Page": _extract_named("title"),
	}.get(doctype)
	if handler:
		handler(data, rel, out)


def _extract_fixture(doc: dict, rel: str, out: Extraction) -> None:
	doctype = doc.get("doctype")
	if doctype == "Role":
		out.add(doc.get("role_name") or doc.get("name"), Location(rel, 0, "fixture", "role"))
	elif doctype == "Custom Field":
		_extract_fields([doc], rel, "fixture", out)


def _select_options(options: str) -> list[str]:
	lines = [o for o in (options or "").split("\n") if o.strip() and not o.strip().isdigit()]
	if lines and "icon" in lines[0]:
		return []
	return lines


def _extract_fields(fields, rel: str, kind: str, out: Extraction) -> None:
	for f in fields or []:
		if not isinstance(f, dict):
			continue
		fieldtype = f.get("fieldtype")
		name = f.get("fieldname") or f.get("label") or "?"
		out.add(f.get("label"), Location(rel, 0, kind, f"label of {fieldtype} {name}"))
		out.add(f.get("description"), Location(rel, 0, kind, f"description of {name}"))
		options = f.get("options")
		if isinstance(options, str) and f.get("fieldname") not in EXCLUDE_SELECT_OPTIONS:
			if fieldtype == "Select":
				for option in _select_options(options):
					out.add(option, Location(rel, 0, kind, f"option of Select {name}"))
			elif fieldtype == "HTML":
				out.add(options, Location(rel, 0, kind, f"content of HTML {name}"))


def _extract_doctype(data: dict, rel: str, out: Extraction) -> None:
	out.add(data.get("name"), Location(rel, 0, "doctype", "doctype name"))
	out.add(data.get("description"), Location(rel, 0, "doctype", "doctype description"))
	_extract_fields(data.get("fields"), rel, "doctype", out)
	for link in data.get("links") or []:
		out.add(link.get("group"), Location(rel, 0, "doctype", "connections group"))
	for action in data.get("actions") or []:
		out.add(action.get("label"), Location(rel, 0, "doctype", "action label"))
		out.add(action.get("group"), Location(rel, 0, "doctype", "action group"))
	for state in data.get("states") or []:
		out.add(state.get("title"), Location(rel, 0, "doctype", "state"))


_TAG_RE = re.compile(r"<[^>]+>")
_JS_ESCAPE_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#x60;", "=": "&#x3D;"}


def _header_key(text: str) -> str:
	"""The key Frappe's workspace header block looks up (blocks/header.js): it tries the whole HTML,
	then the element's innerText passed through frappe.utils.escape_html, so "Reports &amp; Masters"
	is looked up as "Reports &amp; Masters" (the translation is inserted as HTML)."""
	import html as html_mod

	inner = html_mod.unescape(_TAG_RE.sub("", text)).strip()
	return "".join(_JS_ESCAPE_HTML.get(ch, ch) for ch in inner)


def _extract_workspace(data: dict, rel: str, out: Extraction) -> None:
	out.add(data.get("label"), Location(rel, 0, "workspace", "workspace label"))
	out.add(data.get("title"), Location(rel, 0, "workspace", "workspace title"))
	for key, what in (("charts", "chart"), ("number_cards", "number card"), ("quick_lists", "quick list"), ("custom_blocks", "custom block")):
		for row in data.get(key) or []:
			out.add(row.get("label"), Location(rel, 0, "workspace", f"{what} label"))
	for link in data.get("links") or []:
		out.add(link.get("label"), Location(rel, 0, "workspace", f"{link.get('type', 'link')} label"))
		out.add(link.get("description"), Location(rel, 0, "workspace", "link description"))
	for shortcut in data.get("shortcuts") or []:
		out.add(shortcut.get("label"), Location(rel, 0, "workspace", "shortcut label"))
		out.add(shortcut.get("format"), Location(rel, 0, "workspace", "shortcut count format"))
	try:
		content = json.loads(data.get("content") or "[]")
	except ValueError:
		out.warn(f"{rel}: workspace content is not valid JSON")
		content = []
	for block in content if isinstance(content, list) else []:
		if not isinstance(block, dict):
			continue
		text = (block.get("data") or {}).get("text")
		if text and block.get("type") == "header":
			out.add(_header_key(text), Location(rel, 0, "workspace", "header text"))
		elif text and block.get("type") == "paragraph":  # blocks/paragraph.js translates the whole HTML
			out.add(text, Location(rel, 0, "workspace", "paragraph text"))


def _extract_named(*keys: str):
	def handler(data: dict, rel: str, out: Extraction) -> None:
		kind = data["doctype"].lower()
		seen = set()
		for key in keys:
			value = data.get(key)
			if value and value not in seen:
				seen.add(value)
				out.add(value, Location(rel, 0, kind, key))

	return handler


# --- JavaScript ----------------------------------------------------------------------------

_JS_CALL_RE = re.compile(
	r"""(?<![\w$.])__\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)""",
	re.S,
)
_JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _js_unescape(body: str) -> str:
	def repl(m: re.Match) -> str:
		s = m.group(1)
		if s[0] == "u":
			return chr(int(s[2:-1] if s[1] == "{" else s[1:], 16))
		if s[0] == "x":
			return chr(int(s[1:], 16))
		if s == "\n":  # line continuation
			return ""
		return _JS_ESCAPES.get(s, s)

	return re.sub(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", repl, body, flags=re.S)


def _line_of(text: str, index: int) -> int:
	return text.count("\n", 0, index) + 1


def _extract_js(text: str, rel: str, kind: str, out: Extraction) -> None:
	for m in _JS_CALL_RE.finditer(text):
		literal = m.group(1)
		line = _line_of(text, m.start())
		body = literal[1:-1]
		if literal[0] == "`" and "${" in body:
			out.warn(f"{rel}:{line}: __(`...${{}}...`) cannot be translated; use __(\"... {{0}}\", [value])")
			continue
		out.add(_js_unescape(body), Location(rel, line, kind))


# --- Python --------------------------------------------------------------------------------

_PY_TRANSLATE_FUNCS = {"_", "_lt"}


def _py_literals(node) -> list[str]:
	"""The literal strings an argument can be: "a", "a" "b", "a" + "b", x or "a", "a" if c else "b"."""
	value = _py_literal(node)
	if value is not None:
		return [value]
	if isinstance(node, ast.BoolOp):
		return [v for operand in node.values for v in _py_literals(operand)]
	if isinstance(node, ast.IfExp):
		return _py_literals(node.body) + _py_literals(node.orelse)
	return []


def _py_literal(node) -> str | None:
	if isinstance(node, ast.Constant) and isinstance(node.value, str):
		return node.value
	if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
		left, right = _py_literal(node.left), _py_literal(node.right)
		if left is not None and right is not None:
			return left + right
	return None


def _is_translate_call(node: ast.Call) -> bool:
	func = node.func
	if isinstance(func, ast.Name):
		return func.id in _PY_TRANSLATE_FUNCS
	# frappe._("...")
	return isinstance(func, ast.Attribute) and func.attr in _PY_TRANSLATE_FUNCS and isinstance(func.value, ast.Name) and func.value.id == "frappe"


def _extract_py(path: Path, rel: str, out: Extraction) -> None:
	source = path.read_text(encoding="utf-8")
	try:
		tree = ast.parse(source, filename=rel)
	except SyntaxError as exc:
		out.warn(f"{rel}:{exc.lineno}: does not parse ({exc.msg}); its strings were not read")
		return
	for node in ast.walk(tree):
		if isinstance(node, ast.Call) and _is_translate_call(node) and node.args:
			arg = node.args[0]
			for value in _py_literals(arg):
				out.add(value, Location(rel, node.lineno, "py"))
			if isinstance(arg, ast.JoinedStr):
				out.warn(f'{rel}:{node.lineno}: _(f"...") cannot be translated; use _("... {{0}}").format(value)')
		elif isinstance(node, ast.Dict):
			_extract_py_field_dict(node, rel, out)


def _extract_py_field_dict(node: ast.Dict, rel: str, out: Extraction) -> None:
	"""{"fieldtype": ..., "label": "..."}: custom fields, report columns, dialog fields."""
	items = {}
	for key, value in zip(node.keys, node.values):
		k = _py_literal(key) if key is not None else None
		if k:
			items[k] = value
	if "fieldtype" not in items:
		return
	fieldtype = _py_literal(items["fieldtype"])
	fieldname = _py_literal(items["fieldname"]) if "fieldname" in items else None
	name = fieldname or (_py_literal(items["label"]) if "label" in items else None) or "?"
	for key in ("label", "description"):
		if key in items:
			value = _py_literal(items[key])
			if value is not None:
				out.add(value, Location(rel, items[key].lineno, "py", f"{key} of field {name}"))
	if fieldtype == "Select" and "options" in items and fieldname not in EXCLUDE_SELECT_OPTIONS:
		options = _py_literal(items["options"])
		for option in _select_options(options or ""):
			out.add(option, Location(rel, items["options"].lineno, "py", f"option of Select {name}"))


# --- Jinja ---------------------------------------------------------------------------------

_JINJA_CALL_RE = re.compile(r"""(?<![\w.])_\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")


def _extract_jinja(text: str, rel: str, out: Extraction) -> None:
	for m in _JINJA_CALL_RE.finditer(text):
		out.add(_js_unescape(m.group(1)[1:-1]), Location(rel, _line_of(text, m.start()), "html"))


# --- the translation file ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
	line: int
	source: str
	translation: str
	context: str = ""


def translation_path(lang: str = DEFAULT_LANG, app_dir: Path | str | None = None) -> Path:
	return (Path(app_dir) if app_dir else APP_DIR) / "translations" / f"{lang}.csv"


def read_rows(path: Path | str) -> list[Row]:
	"""The file's rows as Frappe v15 reads them (frappe.translate.get_translation_dict_from_file).

	Raises ValueError for a row Frappe would reject (not 2 or 3 columns)."""
	rows = []
	with open(path, encoding="utf-8", newline="") as f:
		reader = csv.reader(f)
		for record in reader:
			if not record:
				continue
			if len(record) not in (2, 3):
				raise ValueError(f"{path}:{reader.line_num}: {len(record)} columns, Frappe needs 2 or 3: {record!r}")
			source = record[0].replace("\\n", "\n")
			translation = record[1].replace("\\n", "\n").replace("\ufeff", "").replace("\u200b", "").strip()
			context = record[2] if len(record) == 3 else ""
			rows.append(Row(reader.line_num, source, translation, context))
	return rows


def read_translations(path: Path | str) -> dict[str, str]:
	"""source -> translation, for rows without a context (those are what _() / __() look up first)."""
	return {row.source: row.translation for row in read_rows(path) if not row.context}


def _csv_text(rows: list[list[str]]) -> str:
	buf = io.StringIO()
	writer = csv.writer(buf, lineterminator="\n")
	for row in rows:
		writer.writerow([cell.replace("\n", "\\n") for cell in row])
	return buf.getvalue()


def sort_key(source: str):
	return (source.casefold(), source)


def placeholders(text: str) -> list[str]:
	return sorted(PLACEHOLDER_RE.findall(text))


def missing(extraction: Extraction, translations: dict[str, str]) -> list[str]:
	return sorted((m for m in extraction.messages if not translations.get(m)), key=sort_key)


# --- command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	group = parser.add_mutually_exclusive_group()
	group.add_argument("--missing", action="store_true", help="CSV rows for strings with no translation; exit 1 if any")
	group.add_argument("--unused", action="store_true", help="translation rows whose source the app no longer uses")
	group.add_argument("--list", action="store_true", help="every translatable string and where it comes from")
	group.add_argument("--sort", action="store_true", help="rewrite the translation file sorted, with csv quoting")
	parser.add_argument("--lang", default=DEFAULT_LANG, help="language code (default: vi)")
	parser.add_argument("--app-dir", default=str(APP_DIR), help=argparse.SUPPRESS)
	args = parser.parse_args(argv)

	app_dir = Path(args.app_dir)
	path = translation_path(args.lang, app_dir)
	shown = _rel(path, REPO_ROOT)
	extraction = extract(app_dir)
	for warning in extraction.warnings:
		print(f"warning: {warning}", file=sys.stderr)
	rows = read_rows(path) if path.exists() else []
	translations = {r.source: r.translation for r in rows if not r.context}

	if args.sort:
		keys = [(r.source, r.context) for r in rows]
		dupes = sorted({k[0] for k in keys if keys.count(k) > 1})
		if dupes:
			print(f"{shown}: duplicate sources, fix by hand first: {dupes}", file=sys.stderr)
			return 1
		ordered = sorted(rows, key=lambda r: (sort_key(r.source), r.context))
		path.write_text(
			_csv_text([[r.source, r.translation] + ([r.context] if r.context else []) for r in ordered]),
			encoding="utf-8",
		)
		print(f"{shown}: {len(ordered)} rows, sorted")
		return 0

	if args.list:
		for message in sorted(extraction.messages, key=sort_key):
			print(_csv_text([[message, translations.get(message, "")]]), end="")
			for loc in extraction.messages[message]:
				print(f"    # {loc}")
		return 0

	if args.unused:
		unused = [r for r in rows if r.source not in extraction.messages]
		print(f"# {len(unused)} rows of {shown} are not used by the app any more (safe to delete)", file=sys.stderr)
		print(_csv_text([[r.source, r.translation] + ([r.context] if r.context else []) for r in unused]), end="")
		return 0

	lacking = missing(extraction, translations)
	if args.missing:
		if not lacking:
			print(f"# every one of the {len(extraction.messages)} strings has a translation in {shown}", file=sys.stderr)
			return 0
		print(
			f"# {len(lacking)} strings have no translation in {shown}. Paste the rows below into it, put the\n"
			f"# translation after each comma (keep {{0}}, {{1}}, {{}} as they are), then run\n"
			f"# `python3 dev/translations.py --sort`. Where each string comes from:",
			file=sys.stderr,
		)
		for message in lacking:
			print(f"#   {message!r}: " + "; ".join(str(loc) for loc in extraction.messages[message]), file=sys.stderr)
		print(_csv_text([[m, ""] for m in lacking]), end="")
		return 1

	print(f"{len(extraction.messages)} translatable strings; {len(extraction.messages) - len(lacking)} translated in {shown}, {len(lacking)} missing")
	if lacking:
		print("run with --missing for the rows to add")
	return 1 if lacking else 0


if __name__ == "__main__":
	try:
		sys.exit(main())
	except BrokenPipeError:  # piped into head
		sys.stderr.close()
		sys.exit(0)
