"""The one config-driven spider: list pages → pagination → article pages.

It navigates and nothing else: the pages it fetches go to the pipelines, which extract them
(``extract_article``, pure) and write everything the crawl learns. It asks the store which
article URLs it already holds, so each run fetches just what is new (a source's first run walks
every list page: the backfill), which known articles are due for a revisit (the store's decaying
schedule catches edits), and each list page's validators, so an unchanged list page costs a 304.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from scraper.canary import canary_drift
from scraper.extract import SiteProfile, extract_article, get_profile, profile_for_url
from scraper.failures import FailureType, failure_type, looks_like_challenge, moved_to
from scraper.items import FetchedPage, PageFailure
from scraper.middlewares import BlockedAddress, RedirectLoop
from scraper.sources import Source
from scraper.store import Store

_TRS_PAGER = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_ARG = re.compile(r"""\s*(?:(\d+)|["']([^"']*)["'])\s*""")
PERMANENT_STATUSES = (404, 410)
_FAILURE_KINDS: list[tuple[tuple[type[BaseException], ...], str]] = [
    ((CannotResolveHostError, DNSLookupError), "dns"),
    ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
    ((DownloadConnectionRefusedError, ConnectionRefusedError), "connection refused"),
    # over DOWNLOAD_MAXSIZE: announced by Content-Length, or counted while receiving
    ((DownloadCancelledError, CancelledError), "too large"),
    ((ResponseFailed, ResponseNeverReceived), "connection lost"),
]
# Magic numbers of formats that are not HTML whatever the Content-Type says.
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0")


def trs_next_page(response: TextResponse) -> str | None:
    """The next list page of a TRS WCM channel, read from its ``createPageHTML`` call.

    The pager is drawn by script, so there is no link to follow. The call carries the page
    count, the current index (0 = ``index.html``) and the file name parts, e.g.
    ``createPageHTML(5, 0, "index", "html")``; some templates put a div id first.
    """
    for match in _TRS_PAGER.finditer(response.text):
        args = _pager_args(match[1])
        if args is not None:
            numbers, names = args
            break
    else:
        return None
    count, current = numbers[0], numbers[1]
    base, ext = names[-2], names[-1]
    if current + 1 >= count:
        return None
    return response.urljoin(f"{base}_{current + 1}.{ext}")


def _pager_args(text: str) -> tuple[list[int], list[str]] | None:
    """Literal arguments of one call; None for the function's own definition or other code."""
    numbers: list[int] = []
    names: list[str] = []
    for arg in text.split(","):
        parsed = _ARG.fullmatch(arg)
        if parsed is None:
            return None
        if parsed[1] is not None:
            numbers.append(int(parsed[1]))
        else:
            names.append(parsed[2])
    if len(numbers) < 2 or len(names) < 2:
        return None
    return numbers, names


def failure_reason(failure: Failure) -> tuple[str, bool]:
    """A short failure type for stats and the store, and whether it is permanent."""
    if failure.check(HttpError):
        status = failure.value.response.status
        return f"http {status}", status in PERMANENT_STATUSES
    if failure.check(ResponseDataLossError):  # a clean close short of Content-Length, or a reset
        cause = failure.value.__cause__
        reasons = getattr(cause, "reasons", None) or []
        reset = any(r.check(ConnectionLost) for r in reasons)
        return ("connection lost" if reset else "truncated response"), False
    if failure.check(BlockedAddress):
        return BlockedAddress.reason, False
    if failure.check(RedirectLoop):
        return RedirectLoop.reason, False  # a site mid-migration may fix it: try next run
    if failure.check(IgnoreRequest) and "max redirections" in str(failure.value):
        return "too many redirects", False  # REDIRECT_MAX_TIMES hops of fresh URLs
    if failure.check(IgnoreRequest) and "DOWNLOAD_MAXSIZE" in str(failure.value):
        return "too large", False  # a compressed body inflating past the limit (gzip bomb)
    for kind, reason in _FAILURE_KINDS:
        if failure.check(*kind):
            return reason, False
    return failure.type.__name__ if failure.type else "error", False


def looks_binary(body: bytes) -> bool:
    """A PDF, image, archive or Office file (or anything with NUL bytes) served as a page."""
    head = body[:1024].lstrip()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NUL bytes too
        return False
    return head.startswith(_BINARY_MAGIC) or b"\x00" in head


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(
        self,
        source: Source,
        store: Store,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        **kwargs: Any,
    ) -> None:
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.store = store
        self.now = now
        self.profile: SiteProfile | None = (
            get_profile(source.profile) if source.profile else profile_for_url(source.homepage)
        )
        self.allowed_domains = list(source.allowed_domains)
        self.backfill = not store.backfilled(source.name)
        # Validators of list pages seen in this run; the pipeline stores them only when the
        # run completes, so a crash never turns unstored articles into a 304 next time.
        self.list_validators: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SiteSpider:
        if "store" not in kwargs:
            kwargs["store"] = Store(crawler.settings["GOVFEED_STORE"])
        spider: SiteSpider = super().from_crawler(crawler, *args, **kwargs)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        self.logger.info(
            "%s: %s crawl", self.source.name, "backfill" if self.backfill else "incremental"
        )
        for url in self.source.start_urls:
            yield self.listing_request(url)
        if self.source.canary is not None:  # never filtered: it may be a link of this run too
            yield Request(
                self.source.canary.url,
                callback=self.parse_canary,
                errback=self.canary_failed,
                dont_filter=True,
            )
        assert self.crawler.stats is not None
        for url in self.store.due_for_revisit(self.source.name, self.now()):
            self.crawler.stats.inc_value("govfeed/revisits")
            yield Request(url, callback=self.parse_article, errback=self.article_failed)

    def listing_request(self, url: str) -> Request:
        """A list page request, conditional (ETag/Last-Modified) once the backfill is done."""
        headers = {}
        if not self.backfill:
            etag, modified = self.store.list_validators(url)
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        return Request(
            url,
            headers=headers,
            callback=self.parse_listing,
            errback=self.listing_failed,
            meta={"handle_httpstatus_list": [304]},  # else HttpErrorMiddleware drops it
        )

    def parse_listing(self, response: Response) -> Iterator[Request]:
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("govfeed/list_pages")
        if response.status == 304:  # unchanged since the last complete run: nothing new
            stats.inc_value("govfeed/list_pages_not_modified")
            return
        etag = response.headers.get(b"ETag")
        modified = response.headers.get(b"Last-Modified")
        if etag or modified:
            requested = response.meta.get("redirect_urls", [response.url])[0]
            self.list_validators[requested] = (
                etag.decode("latin-1") if etag else None,
                modified.decode("latin-1") if modified else None,
            )
        if not isinstance(response, TextResponse):
            stats.inc_value("govfeed/list_errors/not text")
            stats.inc_value(f"govfeed/list_failures/{FailureType.ERROR}")
            return
        requested = response.meta.get("redirect_urls", [response.url])[0]
        if moved_to(requested, response.url):
            stats.inc_value(f"govfeed/list_failures/{FailureType.MOVED}")
            self.logger.error("list page %s moved to %s", requested, response.url)
        links = self.article_links(response)
        if not links:
            stats.inc_value("govfeed/list_pages_without_articles")
            if looks_like_challenge(response.text):
                stats.inc_value(f"govfeed/list_failures/{FailureType.BLOCKED}")
        known = self.store.known_urls(links)
        new = [url for url in links if url not in known]
        stats.inc_value("govfeed/article_links_known", len(links) - len(new))
        stats.inc_value("govfeed/article_requests", len(new))
        for url in new:
            yield Request(url, callback=self.parse_article, errback=self.article_failed)
        if self.backfill or new:
            next_url = self.next_page(response)
            if next_url:
                yield self.listing_request(next_url)

    def parse_article(self, response: Response) -> Iterator[FetchedPage | PageFailure]:
        if not response.body.strip():  # a server glitch more often than a withdrawn page
            yield PageFailure(self.source.name, response.url, "empty response", False, self.now())
            return
        if not isinstance(response, TextResponse) or looks_binary(response.body):
            yield PageFailure(self.source.name, response.url, "not html", True, self.now())
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        redirected = tuple(response.meta.get("redirect_urls", ()))  # asked for, led here
        yield FetchedPage(
            self.source.name, response.url, response.body, content_type, self.now(), redirected
        )

    def article_links(self, response: TextResponse) -> list[str]:
        """Absolute article URLs on a list page, in page order, each once."""
        seen: dict[str, None] = {}
        for href in response.css("a::attr(href)").getall():
            href = href.strip()
            if not href or href.startswith(("javascript:", "mailto:", "#")):
                continue
            try:  # one malformed href (bad port, bad IPv6 brackets) must not cost the page
                url = response.urljoin(href).split("#", 1)[0]
                urlsplit(url).port  # noqa: B018 (raises ValueError on a port no one can reach)
            except ValueError:
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value("govfeed/malformed_links")
                continue
            if self.source.is_article_url(url):
                seen.setdefault(url)
        return list(seen)

    def next_page(self, response: TextResponse) -> str | None:
        if self.source.pagination == "trs":
            return trs_next_page(response)
        if self.source.pagination == "next-link" and self.source.next_page_selector:
            href = response.css(self.source.next_page_selector).attrib.get("href")
            return response.urljoin(href) if href else None
        return None

    def listing_failed(self, failure: Failure) -> None:
        reason, _ = failure_reason(failure)
        url = failure.request.url  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"govfeed/list_errors/{reason}")
        kind = failure_type(reason, list_page=True)
        redirects = failure.request.meta.get("redirect_urls")  # type: ignore[attr-defined]
        if redirects and moved_to(redirects[0], url):  # e.g. redirected off allowed_domains
            kind = FailureType.MOVED
        self.crawler.stats.inc_value(f"govfeed/list_failures/{kind}")
        self.logger.error("list page %s failed: %s", url, reason)

    def article_failed(self, failure: Failure) -> Iterator[PageFailure]:
        reason, permanent = failure_reason(failure)
        url = failure.request.url  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        self.logger.warning("article %s failed: %s", url, reason)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"govfeed/failures/{failure_type(reason, list_page=False)}")
        yield PageFailure(self.source.name, url, reason, permanent, self.now())

    def parse_canary(self, response: Response) -> None:
        """Re-read the source's known article; any field that differs is template drift."""
        canary, stats = self.source.canary, self.crawler.stats
        assert canary is not None and stats is not None
        stats.inc_value("govfeed/canary/checked")
        if not isinstance(response, TextResponse) or looks_binary(response.body):
            drift = ["body"]
        else:
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            article = extract_article(
                response.body, url=response.url, profile=self.profile, content_type=content_type
            )
            drift = canary_drift(canary, article, ZoneInfo(self.source.timezone))
        for name in drift:
            stats.inc_value(f"govfeed/canary/drift/{name}")
        if drift:
            self.logger.warning("canary %s: template drift in %s", canary.url, ", ".join(drift))

    def canary_failed(self, failure: Failure) -> None:
        reason, _ = failure_reason(failure)
        assert self.crawler.stats is not None
        kind = failure_type(reason, list_page=False)
        self.crawler.stats.inc_value(f"govfeed/canary/failed/{kind}")
        self.logger.warning("canary %s failed: %s", failure.request.url, reason)  # type: ignore[attr-defined]

    def closed(self, reason: str) -> None:
        self.store.close()
