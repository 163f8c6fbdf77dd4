"""Run one crawl of some sources in this process and summarize it.

Twisted's reactor cannot be restarted, so this runs at most once per process: the scheduler
starts a fresh ``govfeed crawl`` subprocess for every scheduled run (see README).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess

from scraper.replay import ReplayServer
from scraper.settings import crawl_settings
from scraper.sources import Config, Source
from scraper.spiders.site import SiteSpider
from scraper.store import Store


@dataclass(frozen=True)
class CrawlSummary:
    source: str
    pages: int
    new: int
    updated: int
    duplicate: int
    unchanged: int
    dropped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    finish_reason: str = "unknown"
    store_error: str | None = None  # the store could not be written: the crawl stopped

    @classmethod
    def from_stats(cls, source: str, stats: dict[str, Any]) -> CrawlSummary:
        def prefixed(prefix: str) -> dict[str, int]:
            return {
                k.removeprefix(prefix): v for k, v in sorted(stats.items()) if k.startswith(prefix)
            }

        errors = prefixed("govfeed/errors/") | {
            f"list page: {k}": v for k, v in prefixed("govfeed/list_errors/").items()
        }
        return cls(
            source=source,
            pages=int(stats.get("downloader/response_count", 0)),
            new=int(stats.get("govfeed/articles/new", 0)),
            updated=int(stats.get("govfeed/articles/updated", 0)),
            duplicate=int(stats.get("govfeed/articles/duplicate", 0)),
            unchanged=int(stats.get("govfeed/articles/unchanged", 0)),
            dropped=prefixed("govfeed/dropped/"),
            errors=errors,
            finish_reason=str(stats.get("finish_reason", "unknown")),
            store_error=stats.get("govfeed/store_error"),
        )

    def line(self) -> str:
        dropped = sum(self.dropped.values())
        errors = sum(self.errors.values())
        text = (
            f"{self.source}: {self.pages} pages fetched, {self.new} new, {self.updated} updated, "
            f"{self.duplicate} duplicate, {dropped} dropped, {errors} errors"
        )
        details = [f"{k} x{v}" for k, v in {**self.dropped, **self.errors}.items()]
        if self.finish_reason != "finished":
            details.insert(0, f"stopped: {self.finish_reason}")
        return text + (f" ({'; '.join(details)})" if details else "")


def run_crawl(
    config: Config,
    sources: list[Source],
    store_path: Path,
    *,
    replay_dir: Path | None = None,
    replay_latency: float = 0.0,
    replay_proxy: str | None = None,
    log_level: str = "WARNING",
    now: Callable[[], datetime] | None = None,
) -> list[CrawlSummary]:
    """Crawl ``sources`` concurrently (one Scrapy crawler each) and return their summaries.

    ``now`` replaces the clock for everything the crawl records (fetch times, the revisit
    schedule): a replay can be run "days later" without waiting days. ``replay_proxy`` makes
    it a replay-style crawl through a forward proxy that is already running (the tests' fault
    server, the benchmark's replica) instead of a replay server started here.
    """
    Store(store_path).close()  # create or migrate up front: a bad store fails before any fetch
    with ExitStack() as stack:
        proxy = replay_proxy
        if replay_dir is not None:
            proxy = stack.enter_context(ReplayServer(replay_dir, replay_latency)).proxy_url
        settings = crawl_settings(config.settings, store_path, proxy)
        settings["LOG_LEVEL"] = log_level
        process = CrawlerProcess(settings)
        crawlers = []
        for source in sources:
            crawler = process.create_crawler(SiteSpider)
            process.crawl(crawler, source=source, **({"now": now} if now else {}))
            crawlers.append((source, crawler))
        # What exists now (modules, settings, profiles) lives as long as the crawl: frozen,
        # full garbage collections stop re-scanning it.
        gc.collect()
        gc.freeze()
        process.start()
    return [
        CrawlSummary.from_stats(source.name, crawler.stats.get_stats() if crawler.stats else {})
        for source, crawler in crawlers
    ]
