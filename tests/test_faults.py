"""Faults: a real ``govfeed crawl`` against a loopback server that misbehaves on purpose.

The first crawl sees a healthy site and stores its articles. Then the site breaks: new article
links answer with every fault of tests/faultserver.py, and the stored articles, due for their
first revisit two days later, answer with faults too. The second crawl must end by itself in
bounded time, record each fault with its failure type and count (summary line and runs table),
leave every stored article as it was, and still store the healthy new pages.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sqlite3
import time
from pathlib import Path

import pytest

from scraper.store import Store
from tests.conftest import run_govfeed, source_toml
from tests.faultserver import Fault, FaultServer

HOST = "faults.example.gov.cn"
LIST = "/news/index.html"
WORDS = (  # noqa: SIM905 (a sentence of words reads better than a column)
    "city office delegation cooperation exchange province meeting friendship visit "
    "trade investment culture education tourism forum agreement partner enterprise "
    "project youth science service policy consulate mayor talks expo port railway "
    "festival university"
).split()
TIMEOUT = 2  # download_timeout in the test config: bounds the slow body


def article_page(n: int, title: str) -> bytes:
    """An article in the CCFAO (TRS) template."""
    url = f"http://{HOST}{article_path(n)}"
    words = random.Random(n).choices(WORDS, k=240)  # distinct texts, not near-duplicates
    paragraphs = "".join(f"<p>{' '.join(words[i : i + 40])}.</p>" for i in range(0, 240, 40))
    return f"""<!DOCTYPE html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{title} - Faults FAO</title>
<meta name="ArticleTitle" content="{title}" />
<meta name="PubDate" content="2026-11-0{1 + n % 9} 09:30" />
<meta name="Url" content="{url}" />
</head><body>
<div class="article"><h1 class="article-title">{title}</h1>
<div class="article-info">Updated : 2026-11-0{1 + n % 9}<span class="source">Source :</span></div>
<div class="article-content"><div class="TRS_Editor">{paragraphs}</div></div></div>
</body></html>""".encode()


def article_path(n: int) -> str:
    return f"/news/202611/t202611{1 + n % 9:02d}_{5000 + n}.html"


def listing(numbers: list[int]) -> bytes:
    links = "".join(f'<li><a href=".{article_path(n)[5:]}">Story {n}</a></li>' for n in numbers)
    return f"<html><body><ul>{links}</ul></body></html>".encode()


def config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        f"[settings]\ndownload_timeout = {TIMEOUT}\n"
        + source_toml("faults", "Faults FAO", HOST, LIST, profile='"ccfao"'),
        encoding="utf-8",
    )
    return path


STORED = [1, 2, 3, 4, 5, 6, 7]  # healthy in the first crawl
HEALTHY_NEW = [20, 21]
# the new links of the broken site: number → (fault, failure type it must be recorded as)
NEW_FAULTS: dict[int, tuple[Fault, str]] = {
    30: (Fault("status", 500), "http 500"),
    31: (Fault("status", 503, retry_after="1"), "http 503"),
    32: (Fault("status", 429, retry_after="1"), "http 429"),
    33: (Fault("status", 403), "http 403"),
    34: (Fault("reset"), "connection lost"),
    35: (Fault("truncated"), "truncated response"),
    36: (Fault("slow"), "timeout"),
    37: (Fault("gzip-bomb"), "too large"),
    38: (Fault("huge"), "too large"),
    39: (Fault("binary"), "not html"),
    40: (Fault("empty"), "empty response"),
    41: (Fault("status", 503, retry_after="3600"), "http 503"),  # longer than the run waits
}
# stored articles, refetched on their revisit, now broken in the same ways
REVISIT_FAULTS: dict[int, tuple[Fault, str]] = {
    1: (Fault("status", 503), "http 503"),
    2: (Fault("empty"), "empty response"),
    3: (Fault("truncated"), "truncated response"),
    4: (Fault("binary"), "not html"),
    5: (Fault("gzip-bomb"), "too large"),
}


def healthy(numbers: list[int]) -> dict[str, Fault]:
    return {article_path(n): Fault(body=article_page(n, f"Story number {n}")) for n in numbers}


def snapshot(data: Path) -> dict[tuple[str, ...], tuple]:
    with Store(data / "govfeed.sqlite3") as store:
        assert store.integrity_check() == "ok"
        return {
            a.urls: (a.title, a.body, a.content_hash, a.published, a.last_seen)
            for a in store.latest(None, limit=1000)
        }


def last_run(data: Path) -> tuple[str, dict[str, int]]:
    db = sqlite3.connect(data / "govfeed.sqlite3")
    try:
        outcome, stats = db.execute(
            "SELECT outcome, stats FROM runs WHERE source = 'faults' ORDER BY id DESC"
        ).fetchone()
    finally:
        db.close()
    return outcome, json.loads(stats)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    """Both crawls, once for the module: (data, stored before, second run's output, seconds)."""
    tmp = tmp_path_factory.mktemp("faults")
    cfg = config(tmp)
    data = tmp / "data"
    with FaultServer() as server:
        server.routes = {LIST: Fault(body=listing(STORED)), **healthy(STORED)}
        first = run_govfeed(
            "crawl", "--proxy", server.proxy_url, "--now", "2026-11-20T10:00:00+08:00",
            "--no-feeds", data=data, config=cfg, timeout=60,
        )  # fmt: skip
        assert first.returncode == 0, first.stderr[-3000:]
        before = snapshot(data)
        assert len(before) == len(STORED)

        broken = {article_path(n): fault for n, (fault, _) in NEW_FAULTS.items()}
        broken |= {article_path(n): fault for n, (fault, _) in REVISIT_FAULTS.items()}
        everything = STORED + HEALTHY_NEW + list(NEW_FAULTS)
        server.routes = {
            LIST: Fault(body=listing(everything)),
            **healthy(STORED + HEALTHY_NEW),
            **broken,
        }
        started = time.monotonic()
        second = run_govfeed(
            "crawl", "--proxy", server.proxy_url, "--now", "2026-11-22T10:00:00+08:00",
            "--no-feeds", data=data, config=cfg, timeout=60,
        )  # fmt: skip
        seconds = time.monotonic() - started
        requests = server.times
    return data, before, second, seconds, requests


def test_the_broken_site_crawl_exits_cleanly_in_bounded_time(crawled) -> None:
    _, _, second, seconds, _ = crawled
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Traceback" not in second.stderr, second.stderr[-3000:]
    # the slow body is cut by the timeout on each try (1 + RETRY_TIMES), in parallel with the rest
    assert seconds < 3 * TIMEOUT + 25


def expected_failures() -> dict[str, int]:
    expected: dict[str, int] = {}
    for _, reason in [*NEW_FAULTS.values(), *REVISIT_FAULTS.values()]:
        expected[reason] = expected.get(reason, 0) + 1
    return expected


def test_each_fault_is_recorded_with_its_type_and_count(crawled) -> None:
    data, _, second, _, _ = crawled
    outcome, stats = last_run(data)
    recorded = {k.removeprefix("errors/"): v for k, v in stats.items() if k.startswith("errors/")}
    assert recorded == expected_failures(), second.stdout
    summary = second.stdout
    for reason, count in expected_failures().items():
        assert f"{reason} x{count}" in summary, summary
    assert f"{sum(expected_failures().values())} errors" in summary
    assert outcome == "ok"  # the list page was read: only articles failed
    assert stats["retry_later"] == sum(
        1 for _, reason in [*NEW_FAULTS.values(), *REVISIT_FAULTS.values()] if reason != "not html"
    )


def test_stored_articles_are_untouched_and_healthy_pages_still_stored(crawled) -> None:
    data, before, _, _, _ = crawled
    after = snapshot(data)
    for urls, stored in before.items():
        number = int(re.search(r"_(\d+)\.html", urls[0])[1]) - 5000  # type: ignore[index]
        if number in REVISIT_FAULTS:
            assert after[urls] == stored, (
                urls
            )  # a broken revisit changes nothing, not even last_seen
    assert set(before) <= set(after)
    new = {urls for urls in after if urls not in before}
    assert {int(re.search(r"_(\d+)\.html", u[0])[1]) - 5000 for u in new} == set(HEALTHY_NEW)  # type: ignore[index]


def test_transient_faults_are_retried_and_permanent_ones_are_not(crawled) -> None:
    _, _, _, _, requests = crawled
    tries = {n: len(requests.get(article_path(n), [])) for n in NEW_FAULTS}
    assert tries[30] == tries[31] == tries[32] == 3  # 1 + RETRY_TIMES for 500, 503, 429
    assert tries[33] == 1  # 403 is not retried
    assert tries[37] == tries[39] == tries[40] == 1
    assert tries[41] == 1  # Retry-After: 3600 is past the run's limit: next run, not now


def test_retries_honour_retry_after(crawled) -> None:
    _, _, _, _, requests = crawled
    for n in (31, 32):  # Retry-After: 1
        times = requests[article_path(n)]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert len(gaps) == 2 and min(gaps) >= 0.9, (n, gaps)


@pytest.mark.parametrize(
    ("header", "retries", "expected"),
    [
        (None, 0, 2.0),  # backoff, doubling
        (None, 1, 4.0),
        (b"7", 0, 7.0),
        (b"Wed, 21 Oct 2026 07:28:10 GMT", 0, 10.0),
        (b"3600", 0, None),  # past max_wait: no retry in this run
        (b"soon", 1, 4.0),  # unusable header: backoff
        (None, 2, None),  # retries used up: RetryMiddleware gives up, nothing to wait for
    ],
)
def test_retry_wait(header: bytes | None, retries: int, expected: float | None) -> None:
    from datetime import UTC, datetime

    from scrapy import Request
    from scrapy.http import Response

    from scraper.middlewares import RetryAfterMiddleware

    now = datetime(2026, 10, 21, 7, 28, 0, tzinfo=UTC)
    middleware = RetryAfterMiddleware([503], 2, backoff=2.0, max_wait=60, clock=lambda: now)
    request = Request("http://x.gov.example/", meta={"retry_times": retries})
    headers = {"Retry-After": header} if header else {}
    response = Response(request.url, status=503, headers=headers)
    assert middleware.delay(request, response) == expected
    assert request.meta.get("dont_retry", False) is (header == b"3600")


def test_malformed_links_on_a_list_page_are_skipped_not_fatal(tmp_path: Path) -> None:
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from scraper.sources import load_config
    from scraper.spiders.site import SiteSpider

    source = load_config(config(tmp_path)).sources[0]
    crawler = get_crawler(SiteSpider)
    with Store(tmp_path / "store.sqlite3") as store:
        spider = SiteSpider.from_crawler(crawler, source=source, store=store)
        hrefs = [
            "http://[bad/t20261101_1.html",
            f"http://{HOST}:99999/news/t20261101_2.html",
            f"http://{HOST}:x/news/t20261101_3.html",
            "./202611/t20261101_4.html",
        ]
        body = "".join(f'<a href="{h}">x</a>' for h in hrefs).encode()
        response = HtmlResponse(f"http://{HOST}{LIST}", body=body, encoding="utf-8")
        assert spider.article_links(response) == [f"http://{HOST}/news/202611/t20261101_4.html"]
        assert crawler.stats is not None
        assert crawler.stats.get_value("govfeed/malformed_links") == 3
