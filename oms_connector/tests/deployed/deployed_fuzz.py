"""A fuzzed batch through the HTTP webhook: hostile but plausible orders, each signed. Every one
must be answered 200, stored as it came, and end in a visible state (processed, Held or Error
with a reason); none may be lost or stuck waiting."""

from __future__ import annotations

import copy
import json
import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import frappe
import pytest

from oms_connector.tests import fixtures as fx
from oms_connector.tests.deployed import stack
from oms_connector.tests.deployed.client import post_order, stock_up, wait_for, web_channel

WEB = "OMS Deployed Web Fuzz"
BATCH = 80
HOSTILE = [
	10**40, -(10**30), "1e99999999", "NaN", "Infinity", True, False, None, [], {}, [1, 2], {"a": {"b": []}},
	"\ud800", "x" * 200_000, "2026-13-45T99:99:99", "9" * 5000, 1.5e308, -1, 0, "", "١٢٣", "<script>", 1e-320,
	17000000000000, "2026-12-01T17:30:00Z" * 1000,
]


def leaves(value, path=()):
	if isinstance(value, dict):
		for key, child in value.items():
			yield from leaves(child, (*path, key))
	elif isinstance(value, list):
		for index, child in enumerate(value):
			yield from leaves(child, (*path, index))
	yield path


def mutated(rng: random.Random, order_id: str) -> bytes:
	payload = fx.canonical_order(order_id)
	for _ in range(rng.randint(1, 3)):
		path = rng.choice([p for p in leaves(payload) if p and p != ("order_id",)])
		holder = payload
		for key in path[:-1]:
			holder = holder[key]
		holder[path[-1]] = copy.deepcopy(rng.choice(HOSTILE))
	return json.dumps(payload, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


def nested(depth: int) -> bytes:
	return b'{"order_id": "deep", "lines": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.fixture(scope="module")
def channel(app):
	stock_up()
	web_channel(WEB)
	return app


def test_fuzzed_batch_is_stored_and_settles(channel):
	rng = random.Random(20261202)
	run = uuid.uuid4().hex[:8].upper()
	bodies = [mutated(rng, f"DFUZ-{run}-{n}") for n in range(BATCH)]
	bodies += [nested(100_000), b"\xff\xfe not utf-8", b"[1, 2, 3]", b"null", b'{"order_id": ["a", "b"]}']

	def send(body: bytes) -> int:
		# text/plain: Frappe itself parses an application/json body before the app is reached
		return post_order(stack.session(), channel, WEB, body, content_type="text/plain").status_code

	with ThreadPoolExecutor(8) as pool:
		statuses = list(pool.map(send, bodies))
	assert statuses == [200] * len(bodies), statuses

	def settled():
		rows = frappe.get_all(
			"Channel Order", filters={"sales_channel": WEB}, fields=["name", "status", "error", "needs_processing"], limit=0
		)
		if len(rows) < len(bodies) or any(row.needs_processing for row in rows):
			return None
		return rows

	rows = wait_for("the fuzzed batch to settle", settled, timeout=240)
	stored = {text for text in frappe.get_all("Channel Order Event", filters={"channel_order": ("in", [r.name for r in rows])}, pluck="payload")}
	for body in bodies:
		assert body.decode("utf-8", errors="replace") in stored, body[:80]
	for row in rows:
		assert row.status in ("Ordered", "Held", "Error", "Shipped", "Completed", "Cancelled", "Returned", "Pending Payment"), row
		if row.status in ("Held", "Error"):
			assert row.error, row
