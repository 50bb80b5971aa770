"""Marketplace channels on a real site, against the tier-1 fake platform servers.

Webhooks go through the real endpoint function with a werkzeug request, so the signature is
checked on the exact bytes and URL a platform would send. The intake enqueues processing;
the tests then process inline with intake.process_order.
"""

from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import frappe
import requests
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from oms_connector.api import marketplace as api
from oms_connector.connectors.base import AuthError, TokenSet
from oms_connector.erp import finance_sync, intake, marketplace
from oms_connector.tests import fixtures as fx
from oms_connector.tests.concurrency import run_workers

from oms_connector.sandbox import FakeLazada, FakeShopee, FakeTikTokShop
from oms_connector.sandbox.shopee_server import escrow_of_detail

SHOPEE = "OMS Test Shopee"
LAZADA = "OMS Test Lazada"
TIKTOK = "OMS Test TikTok"
SITE_URL = "https://oms.example.vn"
WEBHOOK_PATH = "/api/method/oms_connector.api.marketplace.webhook"
SHOPEE_REFRESH = "/api/v2/auth/access_token/get"
SHOPEE_DETAIL = "/api/v2/order/get_order_detail"
VN = timezone(timedelta(hours=7))


# --- payloads ---------------------------------------------------------------------------
def new_number(digits: int = 15) -> int:
	return random.randint(10 ** (digits - 1), 10**digits - 1)


def shopee_order(order_sn: str, status: str = "READY_TO_SHIP", updated: int | None = None) -> dict:
	"""A prepaid get_order_detail order: a variation mapped by Channel Listing, a plain item by code."""
	now = int(time.time())
	return {
		"order_sn": order_sn,
		"region": "VN",
		"currency": "VND",
		"cod": False,
		"order_status": status,
		"create_time": now - 3600,
		"update_time": updated or now - 60,
		"buyer_user_id": 55512,
		"buyer_username": "ng_phuong48",
		"payment_method": "ShopeePay",
		"total_amount": 339000,
		"recipient_address": {
			"name": "Nguyễn Phương",
			"phone": "******78",
			"district": "Phường Bến Nghé",
			"city": "Quận 1",
			"state": "TP. Hồ Chí Minh",
			"region": "VN",
			"full_address": "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
		},
		"item_list": [
			{
				"item_id": 3001,
				"item_name": "Áo thun",
				"model_id": 300101,
				"model_name": "M",
				"model_sku": "SP-TSHIRT-M",
				"model_quantity_purchased": 2,
				"model_original_price": 150000,
				"model_discounted_price": 120000,
			},
			{
				"item_id": 3002,
				"item_name": "Mũ",
				"item_sku": "OMS-CAP",
				"model_id": 0,
				"model_sku": "",
				"model_quantity_purchased": 1,
				"model_original_price": 99000,
				"model_discounted_price": 99000,
			},
		],
		"package_list": [
			{
				"package_number": f"OFG{order_sn}",
				"shipping_carrier": "SPX Express",
				"item_list": [
					{"item_id": 3001, "model_id": 300101, "model_quantity": 2},
					{"item_id": 3002, "model_id": 0, "model_quantity": 1},
				],
			}
		],
	}


def shopee_escrow(order_sn: str) -> dict:
	"""The get_escrow_detail "response" of shopee_order() bought with 25,000 of shipping, a 10,000
	seller voucher, a 15,000 Shopee voucher and 2,000 of coins: the buyer paid 337,000, though the
	lines come to 339,000. Shopee funds 20,000 of the T-shirts' 60,000 discount."""
	return {
		"order_sn": order_sn,
		"buyer_payment_info": {
			"buyer_total_amount": 337000,
			"merchant_subtotal": 339000,
			"shipping_fee": 25000,
			"seller_voucher": -10000,
			"shopee_voucher": -15000,
			"shopee_coins_redeemed": -2000,
			"credit_card_promotion": 0,
		},
		"order_income": {
			"buyer_total_amount": 337000,
			"items": [
				{"item_id": 3001, "model_id": 300101, "original_price": 300000, "discounted_price": 240000, "seller_discount": 40000, "shopee_discount": 20000, "quantity_purchased": 2},
				{"item_id": 3002, "model_id": 0, "original_price": 99000, "discounted_price": 99000, "seller_discount": 0, "shopee_discount": 0, "quantity_purchased": 1},
			],
		},
	}


def shopee_push(fake: FakeShopee, order_sn: str, status: str = "READY_TO_SHIP") -> bytes:
	message = {
		"shop_id": fake.shop_id,
		"code": 3,
		"timestamp": int(time.time()),
		"data": {"ordersn": order_sn, "status": status, "update_time": int(time.time())},
	}
	return json.dumps(message, separators=(",", ":")).encode()


def lazada_order(order_id: int, updated_at: str) -> tuple[dict, list[dict]]:
	order = {
		"order_id": order_id,
		"order_number": order_id,
		"created_at": updated_at,
		"updated_at": updated_at,
		"price": "399000.00",
		"items_count": 3,
		"payment_method": "COD",
		"shipping_fee": "15000.00",
		"customer_first_name": "Nguyễn Thị Lan",
		"customer_last_name": "",
		"buyer_note": "",
		"address_shipping": {
			"first_name": "Nguyễn Thị Lan",
			"last_name": "",
			"phone": "84*****567",
			"address1": "12 Nguyễn Văn Linh",
			"address3": "Hồ Chí Minh",
			"address4": "Quận 7",
			"address5": "Phường Tân Phong",
			"country": "Vietnam",
		},
	}

	def item(n: int, sku: str, price: str) -> dict:
		return {
			"order_item_id": order_id * 10 + n,
			"order_id": order_id,
			"sku": sku,
			"sku_id": f"{sku}-ID",
			"name": sku,
			"currency": "VND",
			"item_price": price,
			"paid_price": price,
			"voucher_seller": "0.00",
			"voucher_platform": "0.00",
			"shipping_amount": "5000.00",
			"status": "pending",
			"package_id": "",
			"tracking_code": "",
			"buyer_id": 100112802006,
			"created_at": updated_at,
			"updated_at": updated_at,
		}

	return order, [item(1, "LZ-TSHIRT", "150000.00"), item(2, "LZ-TSHIRT", "150000.00"), item(3, "OMS-CAP", "99000.00")]


def tiktok_order(order_id: str) -> dict:
	now = int(time.time())
	package = f"11530{order_id[-10:]}"

	def line(n: int, sku: str, sku_id: str, price: str) -> dict:
		return {
			"id": f"{order_id}{n}",
			"sku_id": sku_id,
			"product_id": "1729500000000000001",
			"product_name": sku,
			"seller_sku": sku,
			"currency": "VND",
			"original_price": price,
			"sale_price": price,
			"seller_discount": "0",
			"platform_discount": "0",
			"package_id": package,
		}

	return {
		"id": order_id,
		"status": "AWAITING_SHIPMENT",
		"create_time": now - 3600,
		"update_time": now - 60,
		"is_cod": True,
		"shipping_provider": "J&T Express",
		"packages": [{"id": package}],
		"payment": {
			"currency": "VND",
			"original_total_product_price": "350000",
			"seller_discount": "0",
			"platform_discount": "0",
			"sub_total": "350000",
			"shipping_fee": "20000",
			"total_amount": "370000",
		},
		"recipient_address": {
			"name": "Nguyễn Văn An",
			"phone_number": "(+84)90*****78",
			"address_detail": "12 Ngõ 165 Cầu Giấy",
			"region_code": "VN",
			"district_info": [
				{"address_level": "L0", "address_level_name": "Country", "address_name": "Việt Nam"},
				{"address_level": "L1", "address_level_name": "Province", "address_name": "Hà Nội"},
				{"address_level": "L2", "address_level_name": "District", "address_name": "Quận Cầu Giấy"},
				{"address_level": "L3", "address_level_name": "Ward", "address_name": "Phường Dịch Vọng"},
			],
		},
		"line_items": [
			line(1, "TT-TSHIRT", "1729500000000000101", "150000"),
			line(2, "TT-TSHIRT", "1729500000000000101", "150000"),
			line(3, "OMS-MUG", "1729500000000000202", "50000"),
		],
	}


# --- site helpers -----------------------------------------------------------------------
def utc_in(delta: timedelta) -> datetime:
	return datetime.now(timezone.utc) + delta


def give_tokens(channel: str, access: str, refresh: str, expires_in: timedelta = timedelta(hours=4)) -> None:
	marketplace.store_tokens(
		channel,
		TokenSet(access, refresh, access_expires_at=utc_in(expires_in), refresh_expires_at=utc_in(timedelta(days=30))),
	)
	frappe.db.commit()


def ensure_listing(channel: str, sku: str, item_code: str) -> None:
	if not frappe.db.exists("Channel Listing", {"sales_channel": channel, "sku": sku}):
		frappe.get_doc(
			{"doctype": "Channel Listing", "sales_channel": channel, "sku": sku, "item_code": item_code}
		).insert(ignore_permissions=True)


def shopee_channel(name: str, fake: FakeShopee) -> str:
	return fx.ensure_channel(
		name,
		platform="Shopee",
		api_base_url=fake.base_url,
		auth_base_url="",
		app_key=str(fake.partner_id),
		app_secret=fake.partner_key,
		shop_id=str(fake.shop_id),
		platform_settings="",
	)


def channel_value(channel: str, field: str):
	frappe.db.commit()  # see what other connections committed
	return frappe.db.get_value("Sales Channel", channel, field)


def event_count(order_name: str) -> int:
	return frappe.db.count("Channel Order Event", {"channel_order": order_name})


class TestMarketplace(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		basics = fx.ensure_basics()
		cls.hanoi = basics["warehouses"][0]
		for item in fx.ITEMS:
			fx.set_stock(item, cls.hanoi, 500)

		cls.shopee = FakeShopee().start()
		cls.lazada = FakeLazada().start()
		cls.tiktok = FakeTikTokShop().start()

		shopee_channel(SHOPEE, cls.shopee)
		give_tokens(SHOPEE, *cls.shopee.issue_tokens())
		ensure_listing(SHOPEE, "SP-TSHIRT-M", "OMS-TSHIRT")

		fx.ensure_lazada_channel(LAZADA, cls.lazada)
		ensure_listing(LAZADA, "LZ-TSHIRT", "OMS-TSHIRT")

		fx.ensure_channel(
			TIKTOK,
			platform="TikTok Shop",
			api_base_url=cls.tiktok.base_url,
			auth_base_url=cls.tiktok.base_url,
			app_key=cls.tiktok.app_key,
			app_secret=cls.tiktok.app_secret,
			shop_id=cls.tiktok.shop_id,
			platform_settings=json.dumps({"service_id": "7431458374265161478"}),
		)
		give_tokens(TIKTOK, "TTP_access_1", "TTP_refresh_1", expires_in=timedelta(days=7))
		ensure_listing(TIKTOK, "TT-TSHIRT", "OMS-TSHIRT")
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		for fake in (cls.shopee, cls.lazada, cls.tiktok):
			fake.stop()
		super().tearDownClass()

	def setUp(self):
		self._request = getattr(frappe.local, "request", None)
		frappe.local.response = frappe._dict({"docs": []})

	def tearDown(self):
		frappe.local.request = self._request

	# --- helpers ---------------------------------------------------------------------------
	def post(self, channel: str, body: bytes, sign, base_url: str = SITE_URL) -> dict:
		"""POST body to the webhook endpoint; sign(url) gives the headers the platform would add."""

		def request(headers: dict) -> Request:
			builder = EnvironBuilder(
				method="POST",
				base_url=base_url,
				path=WEBHOOK_PATH,
				query_string={"channel": channel},
				data=body,
				headers=headers,
				content_type="application/json",
			)
			return Request(builder.get_environ())

		url = request({}).url
		frappe.local.request = request(sign(url))
		return api.webhook(channel=channel)

	def process(self, name: str):
		intake.process_order(name)
		return frappe.get_doc("Channel Order", name)

	def assert_ordered(self, name: str):
		order = self.process(name)
		self.assertEqual(order.status, "Ordered", order.error)
		self.assertEqual(frappe.db.get_value("Sales Order", order.sales_order, "docstatus"), 1)
		return order

	# --- webhooks ----------------------------------------------------------------------------
	def test_signed_shopee_push_makes_a_sales_order(self):
		order_sn = f"SP{new_number(12)}"
		self.shopee.add_order(shopee_order(order_sn))
		body = shopee_push(self.shopee, order_sn)

		detail_calls = len(self.shopee.calls_to(SHOPEE_DETAIL))
		answer = self.post(SHOPEE, body, lambda url: {"Authorization": self.shopee.push_authorization(url, body)})

		name = intake.channel_order_name(SHOPEE, order_sn)
		self.assertEqual(answer["channel_orders"], [name])
		# the push is stored and answered without calling the platform; a job reads the order
		self.assertEqual(len(self.shopee.calls_to(SHOPEE_DETAIL)), detail_calls)
		self.assertEqual(frappe.db.get_value("Channel Order", name, "needs_fetch"), 1)
		self.assertGreaterEqual(marketplace.fetch_pushed_orders(), 1)
		self.assertEqual(frappe.db.get_value("Channel Order", name, "needs_fetch"), 0)
		self.assertTrue(frappe.db.exists("Channel Order Event", {"channel_order": name, "source": "Webhook"}))
		self.assertTrue(frappe.db.exists("Channel Order Event", {"channel_order": name, "source": "Push"}))
		order = self.assert_ordered(name)
		skus = {row.sku: row.item_code for row in order.items}
		self.assertEqual(skus, {"SP-TSHIRT-M": "OMS-TSHIRT", "OMS-CAP": "OMS-CAP"})

		# The same push again (platforms re-deliver) stores nothing new and makes no second order.
		self.post(SHOPEE, body, lambda url: {"Authorization": self.shopee.push_authorization(url, body)})
		marketplace.fetch_pushed_orders()
		self.assertEqual(event_count(name), 2)  # the push and the order as read
		self.assertEqual(frappe.db.count("Sales Order", {"oms_channel_order": name}), 1)

	def push_and_fetch(self, order_sn: str, status: str = "READY_TO_SHIP") -> str:
		"""A signed Shopee status push for the order, then the job that reads it from the stand-in."""
		body = shopee_push(self.shopee, order_sn, status)
		self.post(SHOPEE, body, lambda url: {"Authorization": self.shopee.push_authorization(url, body)})
		marketplace.fetch_pushed_orders()
		return intake.channel_order_name(SHOPEE, order_sn)

	def test_shopee_sales_order_totals_what_the_escrow_says_the_buyer_paid(self):
		order_sn = f"SP{new_number(12)}"
		detail = shopee_order(order_sn)
		detail["total_amount"] = 337000  # what the buyer paid (the escrow's buyer_total_amount)
		self.shopee.add_order(detail)
		self.shopee.escrow[order_sn] = shopee_escrow(order_sn)

		order = self.assert_ordered(self.push_and_fetch(order_sn))

		sales_order = frappe.get_doc("Sales Order", order.sales_order)
		# the sale: what the buyer paid (not the lines' 339,000) plus what Shopee funds (its 20,000
		# item discount, 15,000 voucher and 2,000 of coins), which Shopee pays the shop
		self.assertEqual(
			(sales_order.grand_total, sales_order.oms_buyer_paid, sales_order.oms_platform_funded), (374000, 337000, 37000)
		)
		self.assertEqual([row.tax_amount for row in sales_order.taxes if row.description == "Shipping fee"], [25000])
		self.assertEqual([(row.seller_discount, row.platform_discount) for row in order.items], [(40000, 20000), (0, 0)])
		self.assertEqual((order.grand_total, order.shipping_fee, order.discount_total), (337000, 25000, 87000))

		# Escrow figures are estimates until the order completes: the next push reads the escrow
		# again, a changed one is a new event, and the order follows the newest.
		revised = shopee_escrow(order_sn)
		revised["order_income"]["items"][0].update(seller_discount=30000, shopee_discount=30000)
		self.shopee.escrow[order_sn] = revised
		read_before = frappe.db.count("Channel Order Event", {"channel_order": order.name, "source": "Webhook"})
		self.push_and_fetch(order_sn)
		self.assertEqual(frappe.db.count("Channel Order Event", {"channel_order": order.name, "source": "Webhook"}), read_before + 1)
		order = self.process(order.name)
		normalized = json.loads(order.normalized_order)
		self.assertEqual([Decimal(line["platform_discount"]) for line in normalized["lines"]], [30000, 0])
		self.assertEqual(Decimal(normalized["total"]), 337000)
		self.assertEqual(frappe.db.count("Sales Order", {"oms_channel_order": order.name}), 1)

	def test_an_order_the_platform_refuses_holds_up_no_other_pushed_order(self):
		"""The Shopee stand-in refuses a whole get_order_detail call when one order_sn is unknown."""
		known, unknown = f"SP{new_number(12)}", f"SP{new_number(12)}"
		self.shopee.add_order(shopee_order(known))
		for order_sn in (unknown, known):
			body = shopee_push(self.shopee, order_sn)
			self.post(SHOPEE, body, lambda url, body=body: {"Authorization": self.shopee.push_authorization(url, body)})

		marketplace.fetch_pushed_orders()

		self.assert_ordered(intake.channel_order_name(SHOPEE, known))
		stuck = frappe.db.get_value("Channel Order", intake.channel_order_name(SHOPEE, unknown), ["needs_fetch", "error", "status"], as_dict=True)
		self.assertEqual((stuck.needs_fetch, stuck.status), (1, "Received"))
		self.assertIn("not found", stuck.error)

	def test_shopee_order_whose_escrow_is_of_another_order_is_refused(self):
		order_sn, other = f"SP{new_number(12)}", f"SP{new_number(12)}"
		self.shopee.add_order(shopee_order(order_sn))
		self.shopee.escrow[order_sn] = shopee_escrow(other)

		order = self.process(self.push_and_fetch(order_sn))

		self.assertEqual(order.status, "Error")
		self.assertIn(f"the escrow detail is of order {other}", order.error)
		self.assertFalse(order.sales_order)

	def test_shopee_push_signed_for_https_passes_behind_a_proxy_that_ends_tls(self):
		order_sn = f"SP{new_number(12)}"
		self.shopee.add_order(shopee_order(order_sn))
		body = shopee_push(self.shopee, order_sn)

		def sign_https(url: str) -> dict:
			self.assertTrue(url.startswith("http://"))  # what the app sees behind the proxy
			return {"Authorization": self.shopee.push_authorization("https://" + url[len("http://") :], body)}

		answer = self.post(SHOPEE, body, sign_https, base_url="http://oms.example.vn")
		self.assertEqual(answer["channel_orders"], [intake.channel_order_name(SHOPEE, order_sn)])

	def test_forged_push_is_refused_and_leaves_nothing(self):
		order_sn = f"SP{new_number(12)}"
		self.shopee.add_order(shopee_order(order_sn))
		body = shopee_push(self.shopee, order_sn)
		detail_calls = len(self.shopee.calls_to(SHOPEE_DETAIL))
		forgeries = {
			"wrong key": lambda url: {"Authorization": FakeShopee(partner_key="not-the-key").push_authorization(url, body)},
			"other url": lambda url: {"Authorization": self.shopee.push_authorization(url + "&x=1", body)},
			"no header": lambda url: {},
		}
		for why, sign in forgeries.items():
			with self.subTest(why):
				frappe.local.response = frappe._dict()
				with self.assertRaises(frappe.AuthenticationError):
					self.post(SHOPEE, body, sign)
				self.assertEqual(frappe.local.response.get("http_status_code"), 401)
		with self.assertRaises(frappe.AuthenticationError):
			self.post("No Such Channel", body, lambda url: {"Authorization": self.shopee.push_authorization(url, body)})

		name = intake.channel_order_name(SHOPEE, order_sn)
		self.assertFalse(frappe.db.exists("Channel Order", name))
		self.assertEqual(event_count(name), 0)
		self.assertEqual(len(self.shopee.calls_to(SHOPEE_DETAIL)), detail_calls)  # nothing was even fetched

	def test_signed_tiktok_webhook_makes_a_sales_order(self):
		order_id = str(new_number(18))
		self.tiktok.orders[order_id] = tiktok_order(order_id)
		headers, body = self.tiktok.webhook(
			{
				"type": 1,
				"tts_notification_id": str(new_number(19)),
				"shop_id": self.tiktok.shop_id,
				"timestamp": int(time.time()),
				"data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT", "update_time": int(time.time())},
			}
		)

		answer = self.post(TIKTOK, body, lambda url: headers)

		name = intake.channel_order_name(TIKTOK, order_id)
		self.assertEqual(answer["channel_orders"], [name])
		marketplace.fetch_pushed_orders()
		self.assert_ordered(name)
		# the shop cipher looked up on the way is kept for the next call
		settings = json.loads(channel_value(TIKTOK, "platform_settings"))
		self.assertEqual(settings["shop_cipher"], self.tiktok.shop_cipher)

		forged = body.replace(b"AWAITING_SHIPMENT", b"CANCELLED")
		with self.assertRaises(frappe.AuthenticationError):
			self.post(TIKTOK, forged, lambda url: headers)

	# --- polling -----------------------------------------------------------------------------
	def test_lazada_poll_stores_and_processes_orders(self):
		frappe.db.set_value("Sales Channel", LAZADA, "last_order_poll", None)
		frappe.db.commit()
		updated = (datetime.now(VN) - timedelta(minutes=30)).isoformat(timespec="seconds")
		order_ids = [new_number() for _ in range(3)]
		for order_id in order_ids:
			self.lazada.add_order(*lazada_order(order_id, updated))

		result = marketplace.poll_orders(LAZADA)

		self.assertEqual(result["orders"], 3)
		for order_id in order_ids:
			name = intake.channel_order_name(LAZADA, str(order_id))
			self.assertEqual(frappe.db.get_value("Channel Order Event", {"channel_order": name}, "source"), "Poll")
			order = self.assert_ordered(name)
			self.assertEqual(order.payment_method, "COD")
		last_poll = channel_value(LAZADA, "last_order_poll")
		self.assertLess(abs((frappe.utils.now_datetime() - last_poll).total_seconds()), 120)
		# The next poll starts where this one ended: nothing new to store.
		self.assertEqual(marketplace.poll_orders(LAZADA)["orders"], 0)

	def test_shopee_poll_reads_and_confirms_lost_pushes(self):
		frappe.db.set_value("Sales Channel", SHOPEE, "last_order_poll", None)
		frappe.db.commit()
		recent, lost = f"SP{new_number(12)}", f"SP{new_number(12)}"
		self.shopee.add_order(shopee_order(recent))
		# updated 3 days ago: outside the poll window, only the lost push still names it
		self.shopee.add_order(shopee_order(lost, updated=int(time.time()) - 3 * 86400))
		self.shopee.add_lost_push(3, {"ordersn": lost, "status": "READY_TO_SHIP"})

		result = marketplace.poll_orders(SHOPEE)

		self.assertGreaterEqual(result["orders"], 1)
		self.assertEqual(result["lost_pushes"], 1)
		for order_sn in (recent, lost):
			self.assertTrue(frappe.db.exists("Channel Order", intake.channel_order_name(SHOPEE, order_sn)))
		self.assertEqual(
			frappe.db.get_value("Channel Order Event", {"channel_order": intake.channel_order_name(SHOPEE, lost)}, "source"),
			"Lost Push",
		)
		self.assertTrue(all(message["consumed"] for message in self.shopee.lost_push))

	def test_poll_all_channels_only_queues_connected_marketplaces(self):
		queued = []
		original = marketplace.enqueue_poll
		marketplace.enqueue_poll = queued.append
		try:
			marketplace.poll_all_channels()
		finally:
			marketplace.enqueue_poll = original
		self.assertTrue({SHOPEE, LAZADA, TIKTOK} <= set(queued))
		self.assertFalse(set(queued) - set(frappe.get_all("Sales Channel", {"connection_status": "Connected"}, pluck="name")))

	# --- tokens ------------------------------------------------------------------------------
	def test_two_workers_refreshing_at_once_spend_the_refresh_token_once(self):
		with FakeShopee() as fake:
			channel = shopee_channel("OMS Test Shopee Race", fake)
			old_access, old_refresh = fake.issue_tokens()
			give_tokens(channel, old_access, old_refresh, expires_in=timedelta(minutes=2))

			errors = run_workers(marketplace.ensure_fresh_token, [(channel,), (channel,)])

			self.assertEqual(errors, [])
			self.assertEqual(len(fake.calls_to(SHOPEE_REFRESH)), 1)
			self.assertEqual(channel_value(channel, "connection_status"), "Connected")
			connector = marketplace.get_connector(channel)
			self.assertNotIn(connector.config.access_token, ("", old_access))
			self.assertNotIn(connector.config.refresh_token, ("", old_refresh))
			self.assertGreater(channel_value(channel, "access_token_expires_at"), frappe.utils.now_datetime() + timedelta(hours=3))
			# the stored refresh token is the live one: it can be spent (and its successor is stored)
			self.assertTrue(marketplace.ensure_fresh_token(channel, rejected_token=connector.config.access_token))
			self.assertEqual(len(fake.calls_to(SHOPEE_REFRESH)), 2)

	def test_refused_token_is_refreshed_once_and_the_call_retried(self):
		with FakeShopee() as fake:
			channel = shopee_channel("OMS Test Shopee Retry", fake)
			access, refresh = fake.issue_tokens()
			give_tokens(channel, access, refresh)
			fake.expire_access_token(access)  # revoked early: our expiry still says hours left

			self.assertEqual(marketplace.poll_orders(channel)["orders"], 0)

			self.assertEqual(len(fake.calls_to(SHOPEE_REFRESH)), 1)
			self.assertEqual(channel_value(channel, "connection_status"), "Connected")

	def test_auth_error_marks_the_channel_needs_reconnection(self):
		with FakeShopee() as fake:
			channel = shopee_channel("OMS Test Shopee Revoked", fake)
			access, _refresh = fake.issue_tokens()
			give_tokens(channel, access, "a-refresh-token-shopee-never-issued")
			fake.expire_access_token(access)

			with self.assertRaises(AuthError):
				marketplace.poll_orders(channel)

			self.assertEqual(channel_value(channel, "connection_status"), "Needs Reconnection")
			self.assertIn("connect the shop again", channel_value(channel, "last_error"))
			self.assertNotIn(channel, frappe.get_all("Sales Channel", {"connection_status": "Connected"}, pluck="name"))

	def test_connect_and_callback_store_the_first_tokens(self):
		with FakeShopee() as fake:
			channel = shopee_channel("OMS Test Shopee OAuth", fake)
			frappe.db.set_value("Sales Channel", channel, "connection_status", "Not Connected")
			frappe.db.commit()
			url = marketplace.authorization_url(channel, redirect_uri=f"{SITE_URL}/api/method/oms_connector.api.marketplace.callback")
			redirect = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]  # the seller says yes
			params = dict(parse_qsl(urlsplit(redirect).query))

			# a made-up state gets nowhere
			api.callback(code=params["code"], state="x" * 32, shop_id=params["shop_id"])
			self.assertEqual(frappe.local.response.get("http_status_code"), 400)
			self.assertEqual(channel_value(channel, "connection_status"), "Not Connected")

			frappe.local.response = frappe._dict()
			api.callback(**params)

			self.assertEqual(frappe.local.response["type"], "redirect")
			self.assertIn("/app/sales-channel/", frappe.local.response["location"])
			self.assertEqual(channel_value(channel, "connection_status"), "Connected")
			self.assertFalse(channel_value(channel, "auth_state"))  # a state works once
			connector = marketplace.get_connector(channel)
			self.assertTrue(connector.config.access_token and connector.config.refresh_token)
			self.assertEqual(len(fake.calls_to("/api/v2/auth/token/get")), 1)

	# --- fulfilment, money, products ---------------------------------------------------------
	def test_ship_then_settlement(self):
		order_sn = f"SP{new_number(12)}"
		self.shopee.add_order(shopee_order(order_sn))
		[name] = marketplace.fetch_and_receive(SHOPEE, [order_sn], source="Test")
		self.process(name)

		shipment = marketplace.ship_channel_order(name)

		self.assertEqual(shipment["tracking_number"], "SPXVN" + order_sn[-8:])
		self.assertEqual(frappe.db.get_value("Channel Order", name, "tracking_number"), shipment["tracking_number"])

		# Shopee's escrow of an order not yet completed is an estimate: kept, nothing booked
		answer = finance_sync.fetch_order_settlement(name)
		self.assertEqual(answer["status"], "Estimate")
		record = frappe.get_doc("Marketplace Settlement", answer["settlement"])
		escrow = self.shopee.escrow.get(order_sn) or escrow_of_detail(self.shopee.orders[order_sn], self.shopee.fee_rates)
		self.assertEqual(flt(record.payout), flt(escrow["order_income"]["escrow_amount"]))
		self.assertEqual(
			{row.label: flt(row.amount) for row in record.charges if row.label == "commission_fee"},
			{"commission_fee": flt(escrow["order_income"]["commission_fee"])},
		)
		self.assertFalse(record.journal_entry)

	def complete_then_settle(self, channel: str, order_id: str, complete) -> frappe._dict:
		"""The order read, completed on the platform and read again (invoiced and paid into the
		channel's clearing account), then the channel's finance data read and booked by the job."""
		[name] = marketplace.fetch_and_receive(channel, [order_id], source="Test")
		self.assert_ordered(name)
		complete()
		marketplace.fetch_and_receive(channel, [order_id], source="Test")
		order = self.process(name)
		self.assertEqual(order.status, "Completed", order.error)
		frappe.db.set_value("Sales Channel", channel, "last_finance_sync", None)
		finance_sync.fetch_channel_finance(channel)
		return frappe.db.get_value(
			"Marketplace Settlement",
			{"sales_channel": channel, "external_order_id": order_id},
			["status", "difference", "payout", "in_clearing", "error", "channel_order"],
			as_dict=True,
		)

	def test_lazada_settlement_ties_out_to_the_invoice(self):
		"""What the Lazada stand-in posts for a completed order (item price credits, shipping,
		commission, payment fee, withheld VAT and PIT) books against its invoice with no difference."""
		order_id = new_number()
		updated = (datetime.now(VN) - timedelta(minutes=30)).isoformat(timespec="seconds")
		self.lazada.add_order(*lazada_order(order_id, updated))

		def complete():
			for item in self.lazada.items[str(order_id)]:
				item["status"] = "confirmed"
			self.lazada.settle_order(str(order_id))

		booked = self.complete_then_settle(LAZADA, str(order_id), complete)
		self.assertEqual((booked.status, flt(booked.difference)), ("Booked", 0), booked.error)
		self.assertEqual(flt(booked.in_clearing), 399000 + 15000)
		self.assertLess(flt(booked.payout), flt(booked.in_clearing))  # the fees came off

	def test_tiktok_settlement_ties_out_to_the_invoice(self):
		order_id = str(new_number(18))
		self.tiktok.orders[order_id] = tiktok_order(order_id)

		def complete():
			self.tiktok.orders[order_id].update(status="COMPLETED", update_time=int(time.time()))
			self.tiktok.settle_order(order_id)

		booked = self.complete_then_settle(TIKTOK, order_id, complete)
		self.assertEqual((booked.status, flt(booked.difference)), ("Booked", 0), booked.error)
		self.assertEqual(flt(booked.in_clearing), 370000)
		self.assertLess(flt(booked.payout), 370000)

	def test_cancel_on_platform_cancels_the_sales_order_here(self):
		order_sn = f"SP{new_number(12)}"
		self.shopee.add_order(shopee_order(order_sn))
		[name] = marketplace.fetch_and_receive(SHOPEE, [order_sn], source="Test")
		sales_order = self.assert_ordered(name).sales_order

		self.assertEqual(marketplace.cancel_on_platform(name, "customer asked"), "Cancelled")
		self.assertEqual(self.shopee.orders[order_sn]["order_status"], "CANCELLED")
		self.assertEqual(frappe.db.get_value("Sales Order", sales_order, "docstatus"), 2)
		self.assertEqual(frappe.db.get_value("Channel Order Event", {"channel_order": name, "source": "Desk"}, "source"), "Desk")

	def test_pull_products_creates_listings_matched_by_sku_or_barcode(self):
		mug_barcode = frappe.db.get_value("Item Barcode", {"parent": "OMS-MUG"}, "barcode")
		plain, varied = new_number(11), new_number(11)
		self.shopee.add_item(plain, "Cốc sứ", sku=mug_barcode)
		self.shopee.add_item(
			varied,
			"Áo & mũ",
			models=[
				{"model_id": new_number(11), "model_sku": "OMS-CAP", "option": "Mũ"},
				{"model_id": new_number(11), "model_sku": "NO-SUCH-ITEM", "option": "Khác"},
			],
		)

		counts = marketplace.pull_products(SHOPEE)

		self.assertEqual(counts, {"created": 3, "updated": 0, "matched": 2, "unmatched": 1})
		listings = frappe.get_all(
			"Channel Listing",
			filters={"sales_channel": SHOPEE, "listing_id": ("in", [str(plain), str(varied)])},
			fields=["sku", "item_code", "variant_id", "title"],
		)
		self.assertEqual({row.sku: row.item_code for row in listings}, {mug_barcode: "OMS-MUG", "OMS-CAP": "OMS-CAP", "NO-SUCH-ITEM": None})
		self.assertIn("Áo & mũ - Mũ", {row.title for row in listings})
		# a second pull finds them all: nothing new
		self.assertEqual(marketplace.pull_products(SHOPEE)["created"], 0)
