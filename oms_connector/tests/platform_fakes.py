"""The tier-1 fake platform servers (tests/fakes/), for the Frappe tier.

Loaded by path: the bench's site-packages holds an unrelated `tests` package that would
shadow the repository's tests/ (which has no __init__.py).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import oms_connector

REPO_ROOT = Path(oms_connector.__file__).resolve().parent.parent


PACKAGE = "oms_fakes"


def load_fake(name: str):
	"""tests/fakes/<name>.py as module oms_fakes.<name> (its relative imports resolve)."""
	if PACKAGE not in sys.modules:
		folder = REPO_ROOT / "tests" / "fakes"
		spec = importlib.util.spec_from_file_location(
			PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)]
		)
		package = importlib.util.module_from_spec(spec)
		sys.modules[PACKAGE] = package
		spec.loader.exec_module(package)
	return importlib.import_module(f"{PACKAGE}.{name}")


FakeLazada = load_fake("lazada_server").FakeLazada
FakeShopee = load_fake("shopee_server").FakeShopee
FakeTikTokShop = load_fake("tiktok_server").FakeTikTokShop
