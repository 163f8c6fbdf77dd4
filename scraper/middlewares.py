"""Downloader middlewares."""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


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
