"""Item pipelines: extract (and normalize) → validate → store (which also dedupes).

Order lives in ``ITEM_PIPELINES`` (scraper/settings.py). Each stage counts what it does in the
crawl stats under ``govfeed/``, which is where the per-source crawl summary comes from.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import ClassVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from scraper.extract_pool import ExtractionPool, auto_workers
from scraper.failures import classify_run
from scraper.items import ArticleItem, FetchedPage, PageFailure
from scraper.sources import Settings
from scraper.store import Outcome, Store, StoreError

logger = logging.getLogger(__name__)


class _StatsPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> _StatsPipeline:
        return cls(crawler)

    @property
    def stats(self) -> StatsCollector:
        assert self.crawler.stats is not None
        return self.crawler.stats


class ExtractPipeline(_StatsPipeline):
    """Fetched pages → normalized articles and their ``Derived`` (``extract_pool.prepare``),
    in worker processes when there are cores to spare. One pool serves every spider of the
    crawl process."""

    _pool: ClassVar[ExtractionPool | None] = None
    _users: ClassVar[int] = 0

    def open_spider(self) -> None:
        cls = type(self)
        if cls._pool is None:
            workers = self.crawler.settings.get("GOVFEED_EXTRACT_WORKERS")
            cls._pool = ExtractionPool(auto_workers() if workers is None else int(workers))
        cls._users += 1

    async def close_spider(self) -> None:
        cls = type(self)
        cls._users -= 1
        if cls._users == 0 and cls._pool is not None:
            pool, cls._pool = cls._pool, None
            await pool.close()

    async def process_item(self, item: object) -> object:
        if not isinstance(item, FetchedPage):
            return item
        assert self._pool is not None
        source = self.crawler.spider.source  # type: ignore[union-attr]
        profile = self.crawler.spider.profile  # type: ignore[union-attr]
        article, derived = await self._pool.prepare(
            item.body, item.url, item.content_type, profile, source.timezone, source.language
        )
        return ArticleItem(item.source, article, item.fetched_at, derived, item.redirected_from)


class ValidatePipeline(_StatsPipeline):
    """Drop pages that are not articles (no title or no body), counting each reason."""

    def process_item(self, item: object) -> object:
        if isinstance(item, ArticleItem):
            if not item.article.title:
                raise DropItem("no title")
            if not item.article.body:
                raise DropItem("no body")
        return item


class StorePipeline(_StatsPipeline):
    """Write articles (deduped by the store), dropped pages and the run record.

    Articles are written ``store_batch`` at a time in one transaction (``Store.batch``), and
    at least every ``BATCH_SECONDS``, so a slow crawl's articles do not wait in memory; their
    outcomes count once committed. A store that cannot be written (disk full, read-only)
    stops the crawl: every later page would be fetched for nothing. The error goes to the
    stats as ``govfeed/store_error``, one line for the command to report; what was committed
    before stays committed.
    """

    BATCH_SECONDS = 1.0

    def __init__(self, crawler: Crawler, store_path: str) -> None:
        super().__init__(crawler)
        self.store_path = store_path
        self.batch_size = crawler.settings.getint("GOVFEED_STORE_BATCH", Settings().store_batch)
        self.store: Store | None = None
        self.started_at: datetime | None = None
        self.pending: list[ArticleItem] = []
        self.flusher = task.LoopingCall(self.flush)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler, crawler.settings["GOVFEED_STORE"])
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.store = Store(self.store_path)
        self.started_at = self.crawler.spider.now()  # type: ignore[union-attr]
        self.flusher.start(self.BATCH_SECONDS, now=False)

    def process_item(self, item: object) -> object:
        if self.store is None:  # closed after a store error: the crawl is stopping
            return item
        if isinstance(item, ArticleItem):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.flush()
            return item
        try:
            self._write_failure(item)
        except StoreError as exc:
            self.store_failed(exc)
        return item

    def flush(self) -> None:
        """Save the pending articles in one transaction, then count their outcomes."""
        items, self.pending = self.pending, []
        if not items or self.store is None:
            return
        try:
            with self.store.batch():
                outcomes = [
                    self.store.save(i.source, i.article, i.fetched_at, i.derived, i.aliases)
                    for i in items
                ]
        except StoreError as exc:
            self.store_failed(exc)
            return
        for item, outcome in zip(items, outcomes, strict=True):
            self.stats.inc_value(f"govfeed/articles/{outcome.value}")
            if outcome is Outcome.NEW and item.article.published is None:  # for health's
                self.stats.inc_value("govfeed/quality/new_without_date")  # drift check

    def store_failed(self, exc: StoreError) -> None:
        """Record the first store error and close the spider (once)."""
        if self.stats.get_value("govfeed/store_error") is None:
            self.stats.set_value("govfeed/store_error", str(exc))
            logger.error("%s", exc)
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store error"))

    def _write_failure(self, item: object) -> None:
        assert self.store is not None
        if isinstance(item, PageFailure):
            self.stats.inc_value(f"govfeed/errors/{item.reason}")
            if not item.permanent:
                self.stats.inc_value("govfeed/retry_later")
            else:
                self.store.record_dropped(item.source, item.url, item.reason, item.fetched_at)

    def item_dropped(
        self, item: object, response: Response, exception: BaseException, spider: object
    ) -> None:
        # Scrapy reports the item as the spider yielded it: the fetched page, not the article
        if isinstance(item, FetchedPage | ArticleItem) and self.store is not None:
            reason = str(exception) or type(exception).__name__
            url = item.url if isinstance(item, FetchedPage) else item.article.url
            self.stats.inc_value(f"govfeed/dropped/{reason}")
            try:
                self.store.record_dropped(item.source, url, reason, item.fetched_at)
            except StoreError as exc:
                self.store_failed(exc)

    def spider_closed(self, spider: object, reason: str) -> None:
        """Save what is pending, record the run; a complete, error-free first walk ends the
        source's backfill."""
        if self.flusher.running:
            self.flusher.stop()
        self.flush()
        if self.store is None:
            return
        source = self.crawler.spider.source  # type: ignore[union-attr]
        now = self.crawler.spider.now()  # type: ignore[union-attr]
        stats = {
            k.removeprefix("govfeed/"): v
            for k, v in self.stats.get_stats().items()
            if k.startswith("govfeed/") and isinstance(v, int)
        }
        list_errors = sum(v for k, v in stats.items() if k.startswith("list_errors/"))
        complete = reason == "finished" and not list_errors and not stats.get("retry_later")
        validators = getattr(self.crawler.spider, "list_validators", None)
        outcome = classify_run(stats, reason)
        assert self.started_at is not None
        try:
            # Validators before the backfill mark: killed between the two, the next run is
            # still a backfill and walks (and validates) every list page again. The other
            # way round it would be incremental and leave the deeper pages without any.
            if complete and validators:  # every article these list pages link to is stored
                self.store.save_list_validators(source.name, validators, now)
            if complete and not self.store.backfilled(source.name):
                self.store.mark_backfilled(source.name, now)
            self.store.record_run(source.name, self.started_at, now, outcome, stats)
        except StoreError as exc:
            if self.stats.get_value("govfeed/store_error") is None:
                self.stats.set_value("govfeed/store_error", str(exc))
                logger.error("%s", exc)
        finally:
            self.store.close()
            self.store = None
