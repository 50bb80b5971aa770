"""The demo sandbox: the orders its traffic puts on the stand-ins are read by the app's own
connectors and mappers exactly as the site's workers read them, its pushes pass the app's own
signature checks, stock the app pushes is what buyers then see, and a restart keeps it all."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from decimal import Decimal

import pytest
import requests

from oms_connector.connectors.base import ChannelConfig, StockUpdate
from oms_connector.connectors.http import PlatformHTTP
from oms_connector.connectors.lazada import LazadaConnector
from oms_connector.connectors.shopee import ShopeeConnector
from oms_connector.connectors.tiktok import TikTokConnector
from oms_connector.domain import geo
from oms_connector.domain.normalize import parse_order
from oms_connector.domain.order import OrderStatus, PaymentMethod
from oms_connector.sandbox import demo_shop
from oms_connector.sandbox.run import build_fronts, read_endpoints, request_paths
from oms_connector.sandbox.traffic import (
	CANCELLED,
	COMPLETED,
	PLACED,
	SHIPPED,
	Basket,
	DemoTraffic,
	Line,
	Timing,
	pick_basket,
)

T = 1_764_650_000  # a moment in December 2025, unix seconds
ENDPOINTS = demo_shop.Endpoints(site="oms-demo.localhost", web_port=8123, sandbox_port=8701)
ITEM_BY_CODE = {item.code: item for item in demo_shop.ITEMS}
CONNECTORS = {"shopee": ShopeeConnector, "lazada": LazadaConnector, "tiktok": TikTokConnector}


@pytest.fixture
def fronts():
	"""The sandbox's storefronts with their stand-ins on free ports (the real process uses fixed ones)."""
	built = build_fronts(ENDPOINTS)
	for front in built[:3]:
		front.fake.start()
	yield {front.key: front for front in built}
	for front in built[:3]:
		front.fake.stop()


def connector_for(front):
	"""The app's connector configured as the demo setup configures the channel."""
	channel, fake = front.channel, front.fake
	base = fake.api_url if front.key == "lazada" else fake.base_url
	config = ChannelConfig(
		base_url=base,
		auth_base_url=fake.base_url,
		app_key=channel.app_key,
		app_secret=channel.app_secret,
		shop_id=channel.shop_id,
		access_token=channel.access_token,
		refresh_token=channel.refresh_token,
		extra={"currency": "VND", **channel.settings},
	)
	session = requests.Session()
	session.trust_env = False
	return CONNECTORS[front.key](config, http=PlatformHTTP(session=session, attempts=1, timeout=5, sleep=lambda s: None))


def basket(*lines: tuple[str, int, int], cod: bool = False, shipping_fee: int = 22000) -> Basket:
	return Basket(
		tuple(Line(ITEM_BY_CODE[code], qty, discount) for code, qty, discount in lines),
		demo_shop.BUYERS[1],
		cod=cod,
		shipping_fee=shipping_fee,
	)


def read_back(front, order_id: str):
	"""What the site's worker does after a push: read the order from the platform, then map it."""
	connector = connector_for(front)
	(raw,) = connector.get_order_details([order_id])
	order = connector.map_order(raw)
	order.validate()
	return order


def verified_order_ids(front, push) -> list[str]:
	connector = connector_for(front)
	assert connector.verify_webhook(push.headers, push.body, ENDPOINTS.registered_push_url(push.channel))
	return [event.order_id for event in connector.parse_webhook(push.body) if event.kind == "order_status"]


@pytest.mark.parametrize("platform", ["shopee", "lazada", "tiktok"])
def test_a_demo_order_is_pushed_read_and_mapped_as_the_site_does(fronts, platform):
	front = fronts[platform]
	order_id = front.new_order_id(random.Random(7), T)
	front.place(order_id, basket(("DEMO-AOTHUN-M", 2, 16000), ("DEMO-COC", 1, 0)), now=T)
	push = front.push(order_id, PLACED, now=T)

	assert push.channel == demo_shop.MARKETPLACES[platform].name
	assert verified_order_ids(front, push) == [order_id]
	order = read_back(front, order_id)
	assert order.external_order_id == order_id
	assert order.status == OrderStatus.CONFIRMED
	assert {line.sku: line.qty for line in order.lines} == {
		ITEM_BY_CODE["DEMO-AOTHUN-M"].on(platform).sku: 2,
		ITEM_BY_CODE["DEMO-COC"].on(platform).sku: 1,
	}
	assert sum(line.net for line in order.lines) == Decimal(2 * (159000 - 16000) + 65000)
	assert order.shipping_address.province == "TP. Hồ Chí Minh"


@pytest.mark.parametrize("platform", ["shopee", "lazada", "tiktok"])
@pytest.mark.parametrize("stages, status", [((SHIPPED,), OrderStatus.SHIPPED), ((SHIPPED, COMPLETED), OrderStatus.COMPLETED), ((CANCELLED,), OrderStatus.CANCELLED)])
def test_later_stages_read_back_as_the_lifecycle_expects(fronts, platform, stages, status):
	front = fronts[platform]
	order_id = front.new_order_id(random.Random(11), T)
	front.place(order_id, basket(("DEMO-NON", 1, 0), cod=True), now=T)
	for number, stage in enumerate(stages, 1):
		front.move(order_id, stage, now=T + 60 * number)
	assert verified_order_ids(front, front.push(order_id, stages[-1], now=T + 200)) == [order_id]
	order = read_back(front, order_id)
	assert order.status == status
	assert order.payment_method == PaymentMethod.COD
	if SHIPPED in stages and platform != "shopee":  # Shopee's detail carries no tracking number
		assert order.shipments and order.shipments[0].tracking_number


def test_web_store_orders_are_signed_canonical_json_through_their_lifecycle(fronts):
	web = fronts["web"]
	web.place("WEB-12345678", basket(("DEMO-BINH", 1, 23000), ("DEMO-SO", 3, 0), shipping_fee=30000), now=T)
	seen = []
	for stage in (PLACED, SHIPPED, COMPLETED):
		if stage != PLACED:
			web.move("WEB-12345678", stage, now=T + 100)
		push = web.push("WEB-12345678", stage, now=T + 100)
		expected = hmac.new(demo_shop.WEB_STORE.app_secret.encode(), push.body, hashlib.sha256).hexdigest()
		assert push.headers["X-OMS-Signature"] == expected
		assert push.path == demo_shop.ORDER_WEBHOOK
		order = parse_order(push.body)  # validates, the stated total included
		seen.append(order.status)
	assert seen == [OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.COMPLETED]
	assert order.platform_total == Decimal(229000 - 23000 + 3 * 55000 + 30000)
	assert order.shipments[0].lines == {"DEMO-BINH": Decimal(1), "DEMO-SO": Decimal(3)}
	assert order.buyer.phone == demo_shop.BUYERS[1].phone  # unmasked: repeat buyers merge


@pytest.mark.parametrize("platform", ["shopee", "lazada", "tiktok"])
def test_stock_the_app_pushes_is_what_buyers_see(fronts, platform):
	front = fronts[platform]
	cap, mug = ITEM_BY_CODE["DEMO-NON"], ITEM_BY_CODE["DEMO-COC"]
	assert front.stock_of(cap) == demo_shop.OPENING_QTY
	updates = [StockUpdate(i.on(platform).listing_id, i.on(platform).variant_id, i.on(platform).sku, qty) for i, qty in ((cap, 0), (mug, 7))]
	results = connector_for(front).push_stock(updates)
	assert all(result.ok for result in results), results
	assert (front.stock_of(cap), front.stock_of(mug)) == (0, 7)
	assert any(path.endswith(("update_stock", "sellable/update", "inventory/update")) for path in request_paths(front.fake))
	rng = random.Random(3)
	for _ in range(50):
		chosen = pick_basket(rng, front.stock_of)
		assert cap not in [line.item for line in chosen.lines]
		assert all(line.qty <= front.stock_of(line.item) for line in chosen.lines)


def test_nothing_in_stock_means_no_order():
	assert pick_basket(random.Random(1), lambda item: 0) is None


def test_traffic_places_in_turn_then_ships_and_completes(fronts):
	traffic = DemoTraffic(list(fronts.values()), random.Random(5), Timing(ship_after=60, complete_after=60, cancel_share=0))
	first = traffic.tick(now=T)
	assert [push.channel for push in first] == [demo_shop.SHOPEE.name]
	later = [traffic.tick(now=T + n) for n in (1, 2, 3)]
	assert [pushes[0].channel for pushes in later] == [demo_shop.LAZADA.name, demo_shop.TIKTOK.name, demo_shop.WEB_STORE.name]
	shipping = traffic.tick(now=T + 60.5)  # the first order ships, a fifth is placed
	assert [push.what.split()[-1] for push in shipping] == [SHIPPED, PLACED]
	completing = traffic.tick(now=T + 125)
	assert [push.what.split()[-1] for push in completing].count(COMPLETED) == 1
	shopee_order = next(order for order in traffic.orders.values() if order.front == "shopee")
	assert read_back(fronts["shopee"], shopee_order.order_id).status == OrderStatus.COMPLETED


def test_a_completed_order_is_settled_and_the_balance_paid_out(fronts):
	"""The demo's money: a completed order's escrow reaches the Shopee wallet (Lazada and TikTok
	post their transactions), and every payout_every seconds the balances go to the bank."""
	timing = Timing(ship_after=1, complete_after=1, cancel_share=0, payout_every=100)
	traffic = DemoTraffic(list(fronts.values()), random.Random(5), timing, selling=("shopee",))
	traffic.tick(now=T)
	traffic.tick(now=T + 2)
	traffic.tick(now=T + 4)
	(done,) = [order for order in traffic.orders.values() if order.stage == COMPLETED and order.front == "shopee"]
	wallet = fronts["shopee"].fake.wallet
	assert [(row["transaction_type"], row["order_sn"]) for row in wallet if row.get("order_sn")][:1] == [("ESCROW_VERIFIED_ADD", done.order_id)]
	assert not [row for row in wallet if row["transaction_type"] == "WITHDRAWAL_COMPLETED"]
	traffic.tick(now=T + 101)
	assert [row["transaction_type"] for row in wallet][-1] == "WITHDRAWAL_COMPLETED"


def test_finished_orders_are_forgotten_after_a_while(fronts):
	traffic = DemoTraffic([fronts["lazada"]], random.Random(2), Timing(ship_after=1, complete_after=1, cancel_share=0, keep_for=10))
	traffic.tick(now=T)
	traffic.tick(now=T + 2)
	traffic.tick(now=T + 4)
	(done,) = [order for order in traffic.orders.values() if order.stage == COMPLETED]
	traffic.tick(now=T + 20)
	assert f"lazada:{done.order_id}" not in traffic.orders
	assert done.order_id not in fronts["lazada"].fake.orders


def test_a_restarted_sandbox_keeps_orders_tokens_and_stock(fronts):
	traffic = DemoTraffic(list(fronts.values()), random.Random(9), Timing(cancel_share=0))
	for now in range(4):
		traffic.tick(now=T + now)
	tiktok = fronts["tiktok"]
	refreshed = connector_for(tiktok).refresh_tokens()  # the site refreshed before the restart
	connector_for(fronts["lazada"]).push_stock([StockUpdate(*_lazada_ids("DEMO-O"), 3)])
	state = json.loads(json.dumps(traffic.export_state()))

	again = build_fronts(ENDPOINTS)
	for front in again[:3]:
		front.fake.start()
	try:
		restarted = DemoTraffic(again, random.Random(9))
		restarted.import_state(state)
		by_key = {front.key: front for front in again}
		assert restarted.orders.keys() == traffic.orders.keys()
		for order in restarted.orders.values():
			if order.front != "web":
				assert read_back(by_key[order.front], order.order_id).external_order_id == order.order_id
		assert by_key["lazada"].stock_of(ITEM_BY_CODE["DEMO-O"]) == 3
		assert refreshed.access_token in by_key["tiktok"].fake.access_tokens
	finally:
		for front in again[:3]:
			front.fake.stop()


def _lazada_ids(code: str) -> tuple[str, str, str]:
	listing = ITEM_BY_CODE[code].on("lazada")
	return listing.listing_id, listing.variant_id, listing.sku


def test_the_demo_only_talks_to_this_machine():
	urls = [ENDPOINTS.site_url, *(ENDPOINTS.stand_in_url(p) for p in demo_shop.PLATFORMS)]
	assert all(url.startswith("http://127.0.0.1:") for url in urls)
	assert [ENDPOINTS.port_of(p) for p in demo_shop.PLATFORMS] == [8701, 8702, 8703]


def test_ports_come_from_the_site_and_bench_config(tmp_path):
	(tmp_path / "oms-demo.localhost").mkdir()
	(tmp_path / "common_site_config.json").write_text(json.dumps({"webserver_port": 8001}))
	(tmp_path / "oms-demo.localhost" / "site_config.json").write_text(json.dumps({"oms_sandbox_port": 9100}))
	assert read_endpoints(tmp_path, "oms-demo.localhost") == demo_shop.Endpoints("oms-demo.localhost", 8001, 9100)
	assert read_endpoints(tmp_path, "oms-demo.localhost", sandbox_port=9200, web_port=8002).port_of("tiktok") == 9202


def test_demo_places_are_ones_routing_can_place():
	for place in [w.province for w in demo_shop.WAREHOUSES] + [b.province for b in demo_shop.BUYERS]:
		assert geo.find_province(place), place


def test_every_platform_sku_names_one_item_and_channel_names_fit_order_names():
	for platform in demo_shop.PLATFORMS:
		skus = [item.on(platform).sku for item in demo_shop.ITEMS]
		variants = [(item.on(platform).listing_id, item.on(platform).variant_id) for item in demo_shop.ITEMS]
		assert len(set(skus)) == len(skus) and len(set(variants)) == len(variants)
	assert all(len(channel.name) <= 39 for channel in demo_shop.CHANNELS)


def test_only_the_chosen_storefronts_take_new_orders(fronts):
	traffic = DemoTraffic(list(fronts.values()), random.Random(4), Timing(ship_after=1, cancel_share=0), selling=("lazada", "web"))
	pushes = [push for n in range(6) for push in traffic.tick(now=T + 10 * n)]
	placed = {push.channel for push in pushes if push.what.endswith(PLACED)}
	assert placed == {demo_shop.LAZADA.name, demo_shop.WEB_STORE.name}
	assert any(push.what.endswith(SHIPPED) for push in pushes)  # orders already placed still move on
