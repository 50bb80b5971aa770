"""The HTTP plumbing every fake platform shares: a threaded server on 127.0.0.1 (a random port
unless one is given) that hands each request to the fake's `_serve(handler, method)`."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


LOOPBACK = "127.0.0.1"  # the stand-ins never listen beyond this machine


class LocalServer:
	"""Subclasses define `_serve(handler, method)`: how their platform answers."""

	_server: ThreadingHTTPServer | None = None

	def start(self, port: int = 0):
		"""Listen on 127.0.0.1:port (0: a free port the system picks)."""
		fake = self

		class Handler(BaseHTTPRequestHandler):
			def do_GET(self):
				fake._serve(self, "GET")

			def do_POST(self):
				fake._serve(self, "POST")

			def log_message(self, *args):
				pass  # keep test output clean

		self._server = ThreadingHTTPServer((LOOPBACK, port), Handler)
		self._server.daemon_threads = True
		# a short poll interval so stop() returns at once instead of after serve_forever's 0.5 s
		threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
		return self

	def stop(self) -> None:
		if self._server:
			self._server.shutdown()
			self._server.server_close()
			self._server = None

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc) -> None:
		self.stop()

	@property
	def base_url(self) -> str:
		host, port = self._server.server_address[:2]
		return f"http://{host}:{port}"
