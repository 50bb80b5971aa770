"""HTTP with the retry rules every platform needs: 429 and 5xx, backoff with jitter, Retry-After."""

from __future__ import annotations

import time

import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from .base import ConnectorError, RateLimited, RetryableError


def _wait_with_retry_after(base_wait):
	def wait(retry_state):
		exc = retry_state.outcome.exception()
		retry_after = getattr(exc, "retry_after", None)
		return max(float(retry_after or 0), base_wait(retry_state))

	return wait


class PlatformHTTP:
	"""A requests session that turns transport trouble into ConnectorError subclasses and retries.

	`call(fn)` retries any RetryableError raised by `fn` (a whole signed request, so a retry is
	signed afresh with a new timestamp), up to `attempts` times.
	"""

	def __init__(
		self,
		session: requests.Session | None = None,
		attempts: int = 5,
		initial_wait: float = 0.5,
		max_wait: float = 30.0,
		timeout: float = 30.0,
		sleep=time.sleep,
	):
		self.session = session or requests.Session()
		self.attempts = attempts
		self.initial_wait = initial_wait
		self.max_wait = max_wait
		self.timeout = timeout
		self.sleep = sleep

	def call(self, fn):
		retrying = Retrying(
			retry=retry_if_exception(lambda exc: isinstance(exc, RetryableError)),
			stop=stop_after_attempt(self.attempts),
			wait=_wait_with_retry_after(wait_exponential_jitter(initial=self.initial_wait, max=self.max_wait)),
			sleep=self.sleep,
			reraise=True,
		)
		return retrying(fn)

	def send(self, method: str, url: str, **kwargs) -> requests.Response:
		"""One request; 429 and 5xx raise retryable errors, transport failures too."""
		kwargs.setdefault("timeout", self.timeout)
		try:
			response = self.session.request(method, url, **kwargs)
		except (requests.ConnectionError, requests.Timeout) as exc:
			raise RetryableError(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
		if response.status_code == 429:
			raise RateLimited(
				f"{method} {url}: rate limited (429)",
				code="429",
				status=429,
				retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
			)
		if response.status_code >= 500:
			raise RetryableError(
				f"{method} {url}: server error {response.status_code}: {response.text[:200]}",
				status=response.status_code,
			)
		return response

	def json(self, response: requests.Response) -> dict:
		try:
			return response.json()
		except ValueError:
			raise ConnectorError(
				f"platform answered with non-JSON (HTTP {response.status_code}): {response.text[:200]}",
				status=response.status_code,
			) from None


def _retry_after_seconds(value: str | None) -> float | None:
	if not value:
		return None
	try:
		return min(float(value), 120.0)
	except ValueError:
		return None
