"""Local stand-ins of the outside systems: Shopee, Lazada and TikTok Shop, each an HTTP server on
127.0.0.1 that checks requests the way the platform documents (auth, signing, limits).

The tests drive them, and the demo (`python -m oms_connector.sandbox.run`) serves them to a
site. Pure Python, no frappe: tier 1 imports this package without a bench.
"""

from .lazada_server import FakeLazada
from .shopee_server import FakeShopee
from .tiktok_server import FakeTikTokShop

__all__ = ["FakeLazada", "FakeShopee", "FakeTikTokShop"]
