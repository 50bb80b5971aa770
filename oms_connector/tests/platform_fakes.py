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


def load_fake(name: str):
	module_name = f"oms_fakes_{name}"
	if module_name not in sys.modules:
		spec = importlib.util.spec_from_file_location(module_name, REPO_ROOT / "tests" / "fakes" / f"{name}.py")
		module = importlib.util.module_from_spec(spec)
		sys.modules[module_name] = module  # dataclasses look their module up here
		spec.loader.exec_module(module)
	return sys.modules[module_name]


FakeLazada = load_fake("lazada_server").FakeLazada
FakeShopee = load_fake("shopee_server").FakeShopee
FakeTikTokShop = load_fake("tiktok_server").FakeTikTokShop
