"""The sandbox process of the demo: the three marketplace stand-ins on fixed ports with the demo
catalogue, and demo traffic sent to the site's webhooks.

    python -m oms_connector.sandbox.run --site oms-demo.localhost [--sites-path sites]

Run from the bench (dev/setup puts it in the bench's Procfile, so `bench start` runs it). Ports
come from the site config (`oms_sandbox_port`: Shopee there, Lazada and TikTok Shop on the next
two; the site's web port is the bench's `webserver_port`), so the demo site's channels and this
process agree. Everything listens on and talks to 127.0.0.1 only. What the stand-ins hold
(tokens, orders, stock) is kept in a state file, so a restart picks up where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from . import demo_shop
from .demo_shop import Endpoints
from .lazada_server import FakeLazada
from .shopee_server import FakeShopee
from .tiktok_server import FakeTikTokShop
from .traffic import DemoTraffic, LazadaFront, MarketplaceFront, Push, ShopeeFront, TikTokFront, Timing, WebStoreFront

STOREFRONTS = ("shopee", "lazada", "tiktok", "web")
MAX_ATTEMPTS = 30  # a push the site keeps failing is dropped after this many tries, as platforms do
REPORT_EVERY = 60.0  # seconds between summaries of what the site asked of the stand-ins
# request paths that say "the site read an order" or "the site pushed stock", per stand-in
ORDER_READS = ("/api/v2/order/get_order_detail", "/order/get", "/orders/items/get", "/order/202309/orders")
STOCK_WRITES = ("/api/v2/product/update_stock", "/product/stock/sellable/update", "/inventory/update")


def log(message: str) -> None:
	print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


# --- configuration ------------------------------------------------------------------------------
def read_endpoints(sites_path: Path, site: str, sandbox_port: int | None = None, web_port: int | None = None) -> Endpoints:
	"""Ports from the site's and the bench's config files (arguments win)."""
	common = _json(sites_path / "common_site_config.json")
	site_config = _json(sites_path / site / "site_config.json")
	return Endpoints(
		site=site,
		web_port=int(web_port or site_config.get("webserver_port") or common.get("webserver_port") or 8000),
		sandbox_port=int(sandbox_port or site_config.get(demo_shop.SANDBOX_PORT_KEY) or demo_shop.DEFAULT_SANDBOX_PORT),
	)


def _json(path: Path) -> dict:
	return json.loads(path.read_text()) if path.exists() else {}


# --- the stand-ins --------------------------------------------------------------------------------
def build_fronts(endpoints: Endpoints) -> list:
	"""The storefronts with their stand-ins (not started yet): catalogue listed, demo tokens taken."""
	shopee, lazada = demo_shop.SHOPEE, demo_shop.LAZADA
	marketplaces: list[MarketplaceFront] = [
		ShopeeFront(
			FakeShopee(partner_id=int(shopee.app_key), partner_key=shopee.app_secret, shop_id=int(shopee.shop_id)),
			endpoints.registered_push_url(shopee.name),
		),
		LazadaFront(FakeLazada(app_key=lazada.app_key, app_secret=lazada.app_secret, seller_id=lazada.shop_id)),
		TikTokFront(_tiktok_fake()),
	]
	for front in marketplaces:
		front.list_catalogue()
		front.accept_demo_tokens()
	web = WebStoreFront(lambda item: min(front.stock_of(item) for front in marketplaces))
	return [*marketplaces, web]


def _tiktok_fake() -> FakeTikTokShop:
	channel = demo_shop.TIKTOK
	fake = FakeTikTokShop(app_key=channel.app_key, app_secret=channel.app_secret)
	fake.shop_id, fake.shop_cipher = channel.shop_id, channel.settings["shop_cipher"]
	fake.shops = [{**fake.shops[0], "id": fake.shop_id, "cipher": fake.shop_cipher, "name": "OMS Demo TikTok Shop"}]
	fake.access_tokens.clear()  # only the demo's tokens, not the test defaults
	fake.refresh_tokens.clear()
	return fake


def request_paths(fake) -> list[str]:
	"""The paths of the requests the stand-in got since the last call; its log is emptied."""
	with fake._lock:
		if isinstance(fake, FakeTikTokShop):
			paths = [request.path for request in fake.requests]
			fake.requests.clear()
		else:
			paths = [call["path"] for call in fake.calls]
			fake.calls.clear()
	return paths


# --- talking to the site ----------------------------------------------------------------------------
class SitePoster:
	"""Posts pushes to the site on 127.0.0.1, choosing the site by its Host header."""

	def __init__(self, endpoints: Endpoints):
		self.endpoints = endpoints  # its site_url is on 127.0.0.1 by construction
		self.http = requests.Session()
		self.http.trust_env = False  # no proxy from the environment: straight to 127.0.0.1
		self.http.headers["Host"] = endpoints.site

	def site_is_up(self) -> bool:
		try:
			return self.http.get(f"{self.endpoints.site_url}/api/method/frappe.ping", timeout=5).ok
		except requests.RequestException:
			return False

	def send(self, push: Push) -> str:
		"""'sent', 'retry' (the site is down or failing) or 'refused' (4xx: retrying cannot help)."""
		push.attempts += 1
		try:
			response = self.http.post(
				f"{self.endpoints.site_url}{push.path}",
				params={"channel": push.channel},
				data=push.body,
				headers=push.headers,
				timeout=30,
			)
		except requests.RequestException as exc:
			log(f"push {push.what}: {exc.__class__.__name__}, will retry")
			return "retry"
		if response.ok:
			return "sent"
		log(f"push {push.what}: HTTP {response.status_code} {response.text[:200]}")
		return "refused" if 400 <= response.status_code < 500 else "retry"


# --- the process --------------------------------------------------------------------------------------
class Sandbox:
	def __init__(self, endpoints: Endpoints, state_path: Path, interval: float, timing: Timing, storefronts: list[str], seed: int | None):
		self.endpoints, self.state_path, self.interval = endpoints, state_path, interval
		self.fronts = build_fronts(endpoints)
		self.with_traffic = bool(storefronts)
		# buyers order only on these; the stand-ins all serve regardless (a site may still read them)
		self.traffic = DemoTraffic(self.fronts, random.Random(seed), timing, selling=tuple(storefronts))
		self.poster = SitePoster(endpoints)
		self.pending: list[Push] = []
		self.stats: Counter = Counter()
		self.seen_stock: dict[tuple[str, str], int] = {}
		self.stopping = threading.Event()
		self.site_up, self.said_up = False, None  # said_up: what the log last said

	def run(self) -> None:
		self._load_state()
		for front in self.marketplaces:
			front.fake.start(self.endpoints.port_of(front.key))
			log(f"{front.label} stand-in on {self.endpoints.stand_in_url(front.key)} for channel {front.channel.name!r}")
		self._remember_stock(report=False)
		try:
			self._loop()
		finally:
			self._save_state()
			for front in self.marketplaces:
				front.fake.stop()
			log("sandbox stopped")

	@property
	def marketplaces(self) -> list[MarketplaceFront]:
		return [front for front in self.fronts if isinstance(front, MarketplaceFront)]

	def _loop(self) -> None:
		last_report = time.monotonic()
		while not self.stopping.is_set():
			if self.with_traffic:
				self._traffic_tick()
			self._remember_stock(report=True)
			if time.monotonic() - last_report >= REPORT_EVERY:
				self._report()
				last_report = time.monotonic()
			self._save_state()
			self.stopping.wait(self.interval)

	def _traffic_tick(self) -> None:
		"""Send what waits, then (when nothing does) the next tick's pushes. The site is pinged
		only while it is not known to be up, so a down site costs one request a tick."""
		if not self.site_up:
			self.site_up = self.poster.site_is_up()
			if self.site_up != self.said_up:
				state = "up, sending demo traffic" if self.site_up else "not answering"
				log(f"site {self.endpoints.site} at {self.endpoints.site_url}: {state}")
				self.said_up = self.site_up
			if not self.site_up:
				return
		self._send_pending()
		if not self.pending:  # while the site is failing, buyers wait too
			self.pending = self.traffic.tick(time.time())
			self._send_pending()

	def _send_pending(self) -> None:
		waiting = []
		for push in self.pending:
			outcome = self.poster.send(push)
			self.stats[f"pushes {outcome}"] += 1
			if outcome == "sent":
				log(f"pushed {push.what}")
			elif outcome == "retry" and push.attempts < MAX_ATTEMPTS:
				waiting.append(push)
				self.site_up = False
		self.pending = waiting

	def _remember_stock(self, report: bool) -> None:
		"""Log each change of what a stand-in shows: those are the site's stock pushes arriving."""
		for front in self.marketplaces:
			for item in demo_shop.ITEMS:
				key, qty = (front.key, item.code), front.stock_of(item)
				if report and self.seen_stock.get(key) != qty:
					log(f"stock on {front.label}: {item.on(front.key).sku} {self.seen_stock.get(key)} -> {qty}")
				self.seen_stock[key] = qty

	def _report(self) -> None:
		for front in self.marketplaces:
			paths = request_paths(front.fake)
			reads = sum(1 for path in paths if path.endswith(ORDER_READS))
			writes = sum(1 for path in paths if path.endswith(STOCK_WRITES))
			self.stats[f"{front.key} order reads"] += reads
			self.stats[f"{front.key} stock updates"] += writes
		log("so far: " + ", ".join(f"{name} {count}" for name, count in sorted(self.stats.items())))

	def _load_state(self) -> None:
		if self.state_path.exists():
			state = json.loads(self.state_path.read_text())
			self.traffic.import_state(state.get("traffic") or {})
			self.stats.update(state.get("stats") or {})
			log(f"state from {self.state_path}: {len(self.traffic.orders)} demo orders in progress")

	def _save_state(self) -> None:
		"""Written whole to a temporary file, then renamed: a crash never leaves half a file."""
		state = {"traffic": self.traffic.export_state(), "stats": dict(self.stats)}
		self.state_path.parent.mkdir(parents=True, exist_ok=True)
		temporary = self.state_path.with_suffix(".tmp")
		temporary.write_text(json.dumps(state, ensure_ascii=False))
		os.replace(temporary, self.state_path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
	parser = argparse.ArgumentParser(prog="python -m oms_connector.sandbox.run", description=__doc__.split("\n\n")[0])
	parser.add_argument("--site", default=demo_shop.DEFAULT_SITE, help="the demo site (default %(default)s)")
	parser.add_argument("--sites-path", default=".", help="the bench's sites folder (default: the current folder)")
	parser.add_argument("--port", type=int, help="Shopee's port, Lazada and TikTok Shop on the next two (default: the site config's oms_sandbox_port, else 8701)")
	parser.add_argument("--web-port", type=int, help="the site's web port (default: the bench's webserver_port)")
	parser.add_argument("--interval", type=float, default=8.0, help="seconds between new orders (default %(default)s)")
	parser.add_argument("--ship-after", type=float, default=60.0, help="seconds from order to shipment (default %(default)s)")
	parser.add_argument("--complete-after", type=float, default=120.0, help="seconds from shipment to completion (default %(default)s)")
	parser.add_argument(
		"--storefronts",
		default=",".join(STOREFRONTS),
		help="where buyers order, comma-separated (default %(default)s); empty: serve the stand-ins only, send nothing",
	)
	parser.add_argument("--state", help="state file (default: <site>/private/oms_sandbox_state.json)")
	parser.add_argument("--seed", type=int, help="random seed for repeatable traffic")
	return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
	args = parse_args(argv)
	sites_path = Path(args.sites_path).resolve()
	if not (sites_path / args.site).is_dir():
		sys.exit(f"no site {args.site!r} in {sites_path} (give --sites-path, the bench's sites folder)")
	endpoints = read_endpoints(sites_path, args.site, args.port, args.web_port)
	state = Path(args.state) if args.state else sites_path / args.site / "private" / "oms_sandbox_state.json"
	timing = Timing(ship_after=args.ship_after, complete_after=args.complete_after)
	storefronts = [name.strip() for name in args.storefronts.split(",") if name.strip()]
	unknown = set(storefronts) - set(STOREFRONTS)
	if unknown:
		sys.exit(f"unknown storefronts {sorted(unknown)}: choose from {', '.join(STOREFRONTS)}")
	sandbox = Sandbox(endpoints, state, args.interval, timing, storefronts, seed=args.seed)
	for signum in (signal.SIGTERM, signal.SIGINT):
		signal.signal(signum, lambda *_: sandbox.stopping.set())
	sandbox.run()


if __name__ == "__main__":
	main()
