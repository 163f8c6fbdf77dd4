"""Downloader middlewares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater
from w3lib.url import canonicalize_url

from scraper.addresses import Resolver, non_public_address, resolve_host
from scraper.addresses import is_public as is_public  # re-exported: tests and callers use it


class ReplayProxyMiddleware:
    """Route every request through the replay server, keeping the real URL.

    Enabled only when ``GOVFEED_REPLAY_PROXY`` is set (``govfeed crawl --replay``). It sits
    before Scrapy's HttpProxyMiddleware, which then sends the absolute URL to the proxy.
    """

    def __init__(self, proxy_url: str) -> None:
        self.proxy_url = proxy_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayProxyMiddleware:
        proxy = crawler.settings.get("GOVFEED_REPLAY_PROXY")
        if not proxy:
            raise NotConfigured("not replaying")
        return cls(proxy)

    def process_request(self, request: Request, spider: object = None) -> None:
        request.meta["proxy"] = self.proxy_url


class BlockedAddress(IgnoreRequest):
    """A request refused because its host is, or resolves to, a non-public address."""

    reason = "blocked: private address"


class PrivateAddressMiddleware:
    """SSRF guard: refuse any request whose host resolves to a non-public address.

    Every request passes here: start requests (which Scrapy's offsite filter does not check),
    followed links and each redirect hop (RedirectMiddleware schedules the redirected request
    anew, so it comes through this middleware again). The host is resolved and *all* of its
    addresses must be public. Refusals raise ``BlockedAddress``, which the spider records as
    the failure type "blocked: private address". Disabled in replay mode, where every request
    goes to the loopback replay server on purpose.

    Resolution is cached per host for the crawl (a source has a handful of hosts). Scrapy
    resolves the host again when it connects, so a DNS answer that changes in between (DNS
    rebinding) is not caught here; live crawls should also run where private ranges are
    firewalled.
    """

    def __init__(self, resolve: Resolver = resolve_host, cache_size: int = 1024) -> None:
        self.resolve = resolve
        self.cache_size = cache_size
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressMiddleware:
        if crawler.settings.get("GOVFEED_REPLAY_PROXY"):
            raise NotConfigured("replay mode: requests go to the loopback replay server")
        return cls()

    def blocked_address(self, host: str) -> str | None:
        """The first non-public address ``host`` stands for, or None when it is public."""
        if host not in self._verdicts:
            if len(self._verdicts) >= self.cache_size:
                self._verdicts.clear()
            self._verdicts[host] = non_public_address(host, self.resolve)
        return self._verdicts[host]

    def process_request(self, request: Request, spider: object = None) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
        address = self.blocked_address(host) if host else None
        if address is not None:
            raise BlockedAddress(f"{request.url}: {host} is {address}, not a public address")


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if unusable."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    """Wait before a status retry: ``Retry-After`` when the server sends one, else a backoff.

    It sits just below Scrapy's RetryMiddleware (550), so it sees a retryable response first,
    waits (without holding a download slot: other requests go on), then hands the response on
    and RetryMiddleware schedules the retry. The wait is ``backoff * 2**retries`` without a
    header. A ``Retry-After`` longer than ``max_wait`` is not waited for in this run: the
    retry is cancelled, the page counts as failed and is tried again next run.
    """

    def __init__(
        self,
        statuses: Iterable[int],
        max_retries: int,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.statuses = frozenset(statuses)
        self.clock = clock  # for Retry-After dates
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("retries disabled")
        return cls(
            statuses=settings.getlist("RETRY_HTTP_CODES"),
            max_retries=settings.getint("RETRY_TIMES"),
            backoff=settings.getfloat("GOVFEED_RETRY_BACKOFF", 1.0),
            max_wait=settings.getfloat("GOVFEED_RETRY_AFTER_MAX", 60.0),
        )

    def delay(self, request: Request, response: Response) -> float | None:
        """Seconds to wait before the retry; None when no retry will follow or it is cancelled."""
        if int(response.status) not in self.statuses or request.meta.get("dont_retry"):
            return None
        retries = int(request.meta.get("retry_times", 0))
        if retries >= int(request.meta.get("max_retry_times", self.max_retries)):
            return None  # RetryMiddleware gives up: nothing to wait for
        after = retry_after_seconds(response.headers.get(b"Retry-After"), self.clock())
        if after is None:
            return min(self.backoff * 2**retries, self.max_wait)
        if after > self.max_wait:
            request.meta["dont_retry"] = True
            return None
        return after

    async def process_response(
        self, request: Request, response: Response, spider: object = None
    ) -> Response:
        delay = self.delay(request, response)
        if delay:
            from twisted.internet import reactor

            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return response


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL of its own chain (itself, or A → B → A)."""

    reason = "redirect loop"


class RedirectLoopMiddleware:
    """Turn a redirect loop into a failure the spider records.

    Scrapy's RedirectMiddleware (600) schedules the redirected request anew, and the
    duplicates filter silently discards one whose URL was requested before: a page that
    redirects to itself, or to a page that redirects back, would vanish from the crawl with
    no error at all. Sitting above it (``process_response`` runs in decreasing order), this
    sees the redirect first and raises ``RedirectLoop`` instead, which reaches the errback.
    Long chains of fresh URLs are left to ``REDIRECT_MAX_TIMES``.
    """

    REDIRECTS = frozenset({301, 302, 303, 307, 308})

    def process_response(
        self, request: Request, response: Response, spider: object = None
    ) -> Response:
        location = response.headers.get(b"Location")
        if (
            response.status not in self.REDIRECTS
            or not location
            or request.meta.get("dont_redirect")
            or response.status in request.meta.get("handle_httpstatus_list", ())
            or request.meta.get("handle_httpstatus_all")
        ):
            return response
        target = canonicalize_url(response.urljoin(location.decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", ()), request.url]
        if any(canonicalize_url(url) == target for url in chain):
            raise RedirectLoop(f"redirect loop: {request.url} -> {target}")
        return response
