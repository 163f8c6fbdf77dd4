"""Item pipelines: normalize → validate → store (which also dedupes).

Order lives in ``ITEM_PIPELINES`` (scraper/settings.py). Each stage counts what it does in the
crawl stats under ``govfeed/``, which is where the per-source crawl summary comes from.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from scraper.extract.article import Article
from scraper.failures import classify_run
from scraper.items import ArticleItem, PageFailure
from scraper.store import Outcome, Store
from scraper.xmlchars import strip_xml_forbidden

_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u3000\u200b]+")


def clean_line(text: str) -> str:
    return _SPACE.sub(" ", strip_xml_forbidden(text)).strip()


def clean_body(text: str) -> str:
    """One paragraph per line, inner whitespace collapsed, blank lines gone."""
    lines = (clean_line(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def in_zone(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A zone-aware time in the site's zone; a naive one is taken as the site's local time."""
    if value is None:
        return None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def normalize(article: Article, zone: ZoneInfo, language: str) -> Article:
    source = clean_line(article.source or "")
    return dataclasses.replace(
        article,
        title=clean_line(article.title or "") or None,
        source=source or None,
        body=clean_body(article.body),
        body_html=strip_xml_forbidden(article.body_html),
        published=in_zone(article.published, zone),
        updated=in_zone(article.updated, zone),
        lang=article.lang or language,
        authors=[a for a in (clean_line(a) for a in article.authors) if a],
    )


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


class NormalizePipeline(_StatsPipeline):
    """Whitespace, control characters, and dates into the site's time zone."""

    def process_item(self, item: object) -> object:
        if isinstance(item, ArticleItem):
            source = self.crawler.spider.source  # type: ignore[union-attr]
            item.article = normalize(item.article, ZoneInfo(source.timezone), source.language)
        return item


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
    """Write articles (deduped by the store), dropped pages and the run record."""

    def __init__(self, crawler: Crawler, store_path: str) -> None:
        super().__init__(crawler)
        self.store_path = store_path
        self.store: Store | None = None
        self.started_at: datetime | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler, crawler.settings["GOVFEED_STORE"])
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.store = Store(self.store_path)
        self.started_at = self.crawler.spider.now()  # type: ignore[union-attr]

    def process_item(self, item: object) -> object:
        assert self.store is not None
        if isinstance(item, PageFailure):
            self.stats.inc_value(f"govfeed/errors/{item.reason}")
            if not item.permanent:
                self.stats.inc_value("govfeed/retry_later")
            else:
                self.store.record_dropped(item.source, item.url, item.reason, item.fetched_at)
        elif isinstance(item, ArticleItem):
            outcome = self.store.save(item.source, item.article, item.fetched_at)
            self.stats.inc_value(f"govfeed/articles/{outcome.value}")
            if outcome is Outcome.NEW and item.article.published is None:  # for health's
                self.stats.inc_value("govfeed/quality/new_without_date")  # drift check
        return item

    def item_dropped(
        self, item: object, response: Response, exception: BaseException, spider: object
    ) -> None:
        if isinstance(item, ArticleItem) and self.store is not None:
            reason = str(exception) or type(exception).__name__
            self.stats.inc_value(f"govfeed/dropped/{reason}")
            self.store.record_dropped(item.source, item.article.url, reason, item.fetched_at)

    def spider_closed(self, spider: object, reason: str) -> None:
        """Record the run; a complete, error-free first walk ends the source's backfill."""
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
        if complete and not self.store.backfilled(source.name):
            self.store.mark_backfilled(source.name, now)
        validators = getattr(self.crawler.spider, "list_validators", None)
        if complete and validators:  # every article these list pages link to is stored now
            self.store.save_list_validators(source.name, validators, now)
        outcome = classify_run(stats, reason)
        assert self.started_at is not None
        self.store.record_run(source.name, self.started_at, now, outcome, stats)
        self.store.close()
        self.store = None
