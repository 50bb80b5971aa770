"""The demo shop both sides of the demo agree on: what it sells and how each platform lists it,
its warehouses, buyers, channels and credentials, and where the stand-ins listen.

The site's demo setup (oms_connector.demo.setup) makes ERPNext records from it and the sandbox
process (oms_connector.sandbox.run) serves the same catalogue and credentials, so the two never
need to talk to agree. Pure data, no frappe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from .local_server import LOOPBACK

# --- the company ---------------------------------------------------------------------------
COMPANY = "OMS Demo"
ABBR = "OMSD"
PRICE_LIST = "OMS Demo Selling"
SHIPPING_ITEM = "DEMO-SHIPPING"
ITEM_GROUP = "OMS Demo Products"

# --- where things listen ----------------------------------------------------------------------
DEFAULT_SITE = "oms-demo.localhost"
DEFAULT_SANDBOX_PORT = 8701  # Shopee; Lazada and TikTok Shop on the next two ports
SANDBOX_PORT_KEY = "oms_sandbox_port"  # site config key both sides read the port from
ORDER_WEBHOOK = "/api/method/oms_connector.api.webhooks.order"
MARKETPLACE_WEBHOOK = "/api/method/oms_connector.api.marketplace.webhook"
PLATFORMS = ("shopee", "lazada", "tiktok")
TOKEN_LIFETIME = 365 * 24 * 3600  # seconds: the demo shops stay connected without a refresh


@dataclass(frozen=True)
class Endpoints:
	"""Where the site and the stand-ins are: all on 127.0.0.1, the site chosen by Host."""

	site: str
	web_port: int
	sandbox_port: int = DEFAULT_SANDBOX_PORT

	def port_of(self, platform: str) -> int:
		return self.sandbox_port + PLATFORMS.index(platform)

	def stand_in_url(self, platform: str) -> str:
		return f"http://{LOOPBACK}:{self.port_of(platform)}"

	@property
	def site_url(self) -> str:
		return f"http://{LOOPBACK}:{self.web_port}"

	def registered_push_url(self, channel: str) -> str:
		"""The webhook URL as the seller registers it with the platform (what Shopee signs)."""
		return f"http://{self.site}:{self.web_port}{MARKETPLACE_WEBHOOK}?channel={quote(channel)}"


# --- warehouses ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoWarehouse:
	name: str
	province: str
	latitude: float
	longitude: float
	opening_qty: int  # of every item
	priority: int = 10
	is_store: bool = False
	pickup: bool = False


WAREHOUSES = (
	DemoWarehouse("Kho Hà Nội", "Hà Nội", 21.0285, 105.8542, opening_qty=400, priority=1),
	DemoWarehouse("Kho TP. Hồ Chí Minh", "TP. Hồ Chí Minh", 10.7769, 106.7009, opening_qty=500, priority=1),
	DemoWarehouse("Cửa hàng Đà Nẵng", "Đà Nẵng", 16.0544, 108.2022, opening_qty=100, priority=5, is_store=True, pickup=True),
)
OPENING_QTY = sum(warehouse.opening_qty for warehouse in WAREHOUSES)  # what each listing shows at first


def warehouse_name(warehouse: DemoWarehouse) -> str:
	"""The ERPNext name of a demo warehouse."""
	return f"{warehouse.name} - {ABBR}"


# --- the catalogue ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Listing:
	"""One product variant as a platform names it."""

	listing_id: str  # product / item id
	variant_id: str  # model / SKU id ("" for a Shopee item without variations)
	sku: str  # the seller SKU the platform shows


@dataclass(frozen=True)
class DemoItem:
	code: str
	name: str
	price: int  # VND, VAT included
	weight_kg: float
	product_no: int  # variants of one product share it
	variant_no: int = 0  # 0: a product without variations
	listings: dict[str, Listing] = field(default_factory=dict, compare=False, hash=False)

	def on(self, platform: str) -> Listing:
		return self.listings[platform]


TIKTOK_WAREHOUSE = "7300000000000000001"  # the demo shop's one TikTok warehouse


def _listings(code: str, product_no: int, variant_no: int) -> dict[str, Listing]:
	"""Platform ids in each platform's shape; SKUs differ from the item code, so Channel Listings matter."""
	short = code.removeprefix("DEMO-")
	shopee_item = 880000 + product_no
	lazada_item = 2100000 + product_no
	tiktok_product = f"17296000000{product_no:08d}"
	return {
		"shopee": Listing(str(shopee_item), str(shopee_item * 10 + variant_no) if variant_no else "", f"SP-{short}"),
		"lazada": Listing(str(lazada_item), str(lazada_item * 100 + max(variant_no, 1)), f"LZ-{short}"),
		"tiktok": Listing(tiktok_product, f"17296100{product_no:08d}{max(variant_no, 1):03d}", f"TT-{short}"),
	}


def _item(code: str, name: str, price: int, weight_kg: float, product_no: int, variant_no: int = 0) -> DemoItem:
	return DemoItem(code, name, price, weight_kg, product_no, variant_no, _listings(code, product_no, variant_no))


ITEMS = (
	_item("DEMO-AOTHUN-M", "Áo thun cotton - size M", 159000, 0.25, 1, 1),
	_item("DEMO-AOTHUN-L", "Áo thun cotton - size L", 159000, 0.27, 1, 2),
	_item("DEMO-NON", "Mũ lưỡi trai", 99000, 0.15, 2),
	_item("DEMO-COC", "Cốc sứ in logo", 65000, 0.40, 3),
	_item("DEMO-BINH", "Bình giữ nhiệt 500ml", 229000, 0.45, 4),
	_item("DEMO-TUI", "Túi tote vải canvas", 89000, 0.20, 5),
	_item("DEMO-SO", "Sổ tay A5 bìa da", 55000, 0.30, 6),
	_item("DEMO-O", "Ô gấp gọn chống UV", 145000, 0.35, 7),
)


def product_title(item: DemoItem) -> str:
	"""The platform's product title: variants of one product share the part before " - "."""
	return item.name.split(" - ")[0]


# --- buyers -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoBuyer:
	name: str
	phone: str  # full number; marketplaces show it masked
	email: str
	line1: str
	ward: str
	district: str
	province: str


BUYERS = (
	DemoBuyer("Nguyễn Văn An", "0901234567", "an.nguyen@example.vn", "12 Ngõ 165 Cầu Giấy", "Phường Dịch Vọng", "Quận Cầu Giấy", "Hà Nội"),
	DemoBuyer("Trần Thị Bình", "0912345678", "binh.tran@example.vn", "45 Nguyễn Huệ", "Phường Bến Nghé", "Quận 1", "TP. Hồ Chí Minh"),
	DemoBuyer("Lê Hoàng Cường", "0923456789", "cuong.le@example.vn", "88 Bạch Đằng", "Phường Hải Châu I", "Quận Hải Châu", "Đà Nẵng"),
	DemoBuyer("Phạm Thu Dung", "0934567890", "dung.pham@example.vn", "21 Lạch Tray", "Phường Lạch Tray", "Quận Ngô Quyền", "Hải Phòng"),
	DemoBuyer("Võ Minh Em", "0945678901", "em.vo@example.vn", "5 Hòa Bình", "Phường An Cư", "Quận Ninh Kiều", "Cần Thơ"),
	DemoBuyer("Đặng Quốc Phong", "0956789012", "phong.dang@example.vn", "17 Lê Lợi", "Phường Vĩnh Ninh", "Thành phố Huế", "Huế"),
	DemoBuyer("Bùi Ngọc Giang", "0967890123", "giang.bui@example.vn", "9 Trần Phú", "Phường Lộc Thọ", "Thành phố Nha Trang", "Khánh Hòa"),
	DemoBuyer("Hoàng Thị Hạnh", "0978901234", "hanh.hoang@example.vn", "102 Nguyễn Văn Linh", "Phường Tân Phong", "Quận 7", "TP. Hồ Chí Minh"),
	DemoBuyer("Đỗ Văn Khánh", "0989012345", "khanh.do@example.vn", "33 Quang Trung", "Phường Hưng Bình", "Thành phố Vinh", "Nghệ An"),
	DemoBuyer("Ngô Thị Lan", "0990123456", "lan.ngo@example.vn", "7 Hoàng Hoa Thám", "Phường Liễu Giai", "Quận Ba Đình", "Hà Nội"),
)


def masked(phone: str) -> str:
	"""A phone as marketplaces show it to the seller ('******67')."""
	return "*" * (len(phone) - 2) + phone[-2:]


# --- channels ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoChannel:
	name: str  # the Sales Channel
	platform: str  # its Platform
	app_key: str = ""
	app_secret: str = ""
	shop_id: str = ""
	access_token: str = ""
	refresh_token: str = ""
	settings: dict = field(default_factory=dict, compare=False, hash=False)


SHOPEE = DemoChannel(
	"Demo Shopee", "Shopee", "2001887", "demo-shopee-partner-key-4be1c2d93a7f", "14701711",
	"demo-shopee-access-7d1e", "demo-shopee-refresh-7d1e",
)
LAZADA = DemoChannel(
	"Demo Lazada", "Lazada", "500123", "demo-lazada-app-secret-93c0e5aa41", "200000000101",
	"demo-lazada-access-52aa", "demo-lazada-refresh-52aa",
)
TIKTOK = DemoChannel(
	"Demo TikTok Shop", "TikTok Shop", "6ademo0app", "demo-tiktok-app-secret-1f7b20", "7494049642642441621",
	"demo-tiktok-access-c3f0", "demo-tiktok-refresh-c3f0",
	{"service_id": "7431458374265161478", "shop_cipher": "ROW_demoCipher_OMS0001"},
)
WEB_STORE = DemoChannel("Demo Web Store", "Custom API", app_secret="demo-web-store-webhook-secret-8e55d1")
STORE_PHONE = DemoChannel("Demo Store and Phone", "Store/Phone")
MARKETPLACES = {"shopee": SHOPEE, "lazada": LAZADA, "tiktok": TIKTOK}
CHANNELS = (SHOPEE, LAZADA, TIKTOK, WEB_STORE, STORE_PHONE)
