"""Downloaded article pages → normalized articles with what the store derives from them
(fingerprints, full-text index input), off the event loop.

Extraction and derivation are pure CPU work, about 6 ms for a 40 KB page. Run inline they
stall Scrapy's event loop, so a crawl uses one core however many the machine has. With
workers > 0 they run in a pool of worker processes while the loop goes on downloading and
storing; with 0 (or after a worker died) they run inline. Results are the same either way:
``prepare`` is a pure function.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from zoneinfo import ZoneInfo

from scraper.extract import SiteProfile, extract_article
from scraper.extract.article import Article
from scraper.normalize import normalize
from scraper.store import Derived, derive

log = logging.getLogger(__name__)


def prepare(
    body: bytes,
    url: str,
    content_type: str,
    profile: SiteProfile | None,
    zone: str,
    language: str,
) -> tuple[Article, Derived]:
    """Extract, normalize into the source's zone and language, derive the store's input."""
    article = extract_article(body, url=url, profile=profile, content_type=content_type)
    article = normalize(article, ZoneInfo(zone), language)
    return article, derive(article)


def auto_workers() -> int:
    """One worker per spare core, at most four: the event loop keeps a core for itself."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def _exit_with_parent(parent: int) -> None:
    """A worker whose crawl process was killed (SIGKILL leaves no time to stop the pool)
    must not linger: it checks its parent every second and exits when orphaned."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class ExtractionPool:
    """``prepare`` in worker processes, shared by every spider of the crawl process.

    At most ``PAGES_PER_WORKER`` pages per worker are handed over at a time; the others wait
    in ``prepare``, so Scrapy holds back its downloads instead of the pool's queue growing
    with the site (40 KB a page) when downloading outruns extraction.
    """

    PAGES_PER_WORKER = 16

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._slots = asyncio.Semaphore(max(1, workers * self.PAGES_PER_WORKER))
        self._pool: ProcessPoolExecutor | None = None
        if workers > 0:
            self._pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),  # no fork of a live reactor
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )

    async def prepare(
        self,
        body: bytes,
        url: str,
        content_type: str,
        profile: SiteProfile | None,
        zone: str,
        language: str,
    ) -> tuple[Article, Derived]:
        args = (body, url, content_type, profile, zone, language)
        if self._pool is not None:
            try:
                async with self._slots:
                    return await asyncio.wrap_future(self._pool.submit(prepare, *args))
            except BrokenProcessPool:
                log.warning("extraction worker died; extracting inline from now on")
                self.close()
        return prepare(*args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
