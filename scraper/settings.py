"""Scrapy settings for govfeed crawls, built from the sources config.

Live crawls are polite (robots.txt, AutoThrottle, per-domain limits, a User-Agent from the
config); replay crawls talk to a loopback server and skip the politeness delays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scraper.sources import Settings

BASE: dict[str, Any] = {
    "BOT_NAME": "govfeed",
    "SPIDER_MODULES": ["scraper.spiders"],
    "ROBOTSTXT_OBEY": True,
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "INFO",
    "DEFAULT_DROPITEM_LOG_LEVEL": "INFO",  # drops are counted in the crawl summary instead
    # A page callback yields one item at most; Scrapy starts this many asyncio workers for
    # each response's output (default 100), which cost ~2 ms of event-loop time per page.
    "CONCURRENT_ITEMS": 4,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 2,
    "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 2 * 1024 * 1024,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 1.0,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
    "DOWNLOADER_MIDDLEWARES": {
        "scraper.middlewares.PrivateAddressMiddleware": 50,  # SSRF guard, first of all
        "scraper.middlewares.RetryAfterMiddleware": 560,  # waits, then RetryMiddleware (550)
        "scraper.middlewares.RedirectLoopMiddleware": 610,  # above RedirectMiddleware (600)
        "scraper.middlewares.ReplayProxyMiddleware": 740,
    },
    "GOVFEED_RETRY_BACKOFF": 2.0,  # seconds before the first status retry, doubling after
    "GOVFEED_RETRY_AFTER_MAX": 120.0,  # a longer Retry-After is left to the next run
    "ITEM_PIPELINES": {
        "scraper.pipelines.ExtractPipeline": 100,
        "scraper.pipelines.ValidatePipeline": 200,
        "scraper.pipelines.StorePipeline": 900,
    },
}


def crawl_settings(
    settings: Settings, store_path: Path, replay_proxy: str | None = None
) -> dict[str, Any]:
    values = dict(BASE)
    values.update(
        {
            "GOVFEED_STORE": str(store_path),
            "USER_AGENT": settings.user_agent,
            "CONCURRENT_REQUESTS_PER_DOMAIN": settings.concurrent_requests_per_domain,
            "DOWNLOAD_DELAY": settings.download_delay,
            "DOWNLOAD_TIMEOUT": settings.download_timeout,
            "GOVFEED_EXTRACT_WORKERS": settings.extract_workers,
            "GOVFEED_STORE_BATCH": settings.store_batch,
        }
    )
    if replay_proxy:
        values.update(
            {
                "GOVFEED_REPLAY_PROXY": replay_proxy,
                "AUTOTHROTTLE_ENABLED": False,
                "DOWNLOAD_DELAY": 0,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
                "GOVFEED_RETRY_BACKOFF": 0.0,  # Retry-After is still honoured
                "GOVFEED_RETRY_AFTER_MAX": 5.0,
            }
        )
    return values
