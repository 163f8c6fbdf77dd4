"""End to end on the wb.beijing.gov.cn replica (https): a two-channel copy is one entry, list
pages cost a 304 when unchanged, and a correction found on a revisit is an update of the entry.

Crawls run the real ``govfeed crawl`` with ``--replay`` over a temp copy of the replica (so it
can be edited) and ``--now`` (so "two days later" needs no waiting).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from scraper.pipelines import StorePipeline
from scraper.replay import ReplayServer
from scraper.sources import Source, load_config
from scraper.spiders.site import SiteSpider
from scraper.store import Store
from tests.conftest import ROOT, SITES, run_govfeed

HOST = "wb.beijing.gov.cn"
EN = f"https://{HOST}/en"
EXPRESS_COPY = f"{EN}/express/202507/t20250731_4163757.html"
CONFERENCE_COPY = (
    f"{EN}/center_for_international_exchanges/conference/202507/t20250731_4163762.html"
)
SAME_DAY = f"{EN}/express/202507/t20250731_4163750.html"  # other article, same template and day
BAVARIA = f"{EN}/express/202507/t20250728_4160123.html"  # corrected between crawls
HUAIROU = f"{EN}/express/202506/t20250619_4141880.html"  # only its boilerplate changes
CHAOYANG = f"{EN}/center_for_international_exchanges/conference/202506/t20250612_4138001.html"
SUMMARY = re.compile(
    r"^beijingfao: (?P<pages>\d+) pages fetched, (?P<new>\d+) new, (?P<updated>\d+) updated, "
    r"(?P<duplicate>\d+) duplicate, (?P<dropped>\d+) dropped, (?P<errors>\d+) errors",
    re.M,
)


def config(tmp_path: Path) -> Path:
    """The shipped sources.toml with only the beijingfao source."""
    text = (ROOT / "sources.toml").read_text(encoding="utf-8")
    blocks = text.split("\n[[source]]\n")
    text = "\n[[source]]\n".join(
        b for b in blocks if not b.startswith("name =") or 'name = "beijingfao"' in b
    )
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def crawl(tmp_path: Path, sites: Path, now: str) -> tuple[re.Match[str], dict[str, int]]:
    data = tmp_path / "data"
    result = run_govfeed(
        "crawl", "beijingfao", "--replay", str(sites), "--now", now, data=data,
        config=config(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout
    db = sqlite3.connect(data / "govfeed.sqlite3")
    row = db.execute("SELECT stats FROM runs ORDER BY id DESC").fetchone()
    db.close()
    return summary, json.loads(row[0])


def feeds(tmp_path: Path) -> tuple[feedparser.FeedParserDict, feedparser.FeedParserDict]:
    atom = feedparser.parse((tmp_path / "data" / "feeds" / "beijingfao.atom").read_bytes())
    rss = feedparser.parse((tmp_path / "data" / "feeds" / "beijingfao.rss").read_bytes())
    assert not atom.bozo and not rss.bozo
    return atom, rss


def edit(sites: Path, url: str, old: str, new: str) -> None:
    page = sites / url.removeprefix("https://")
    text = page.read_text(encoding="utf-8")
    assert old in text
    page.write_text(text.replace(old, new), encoding="utf-8")


def test_crawl_edit_recrawl_gives_one_entry_with_an_update(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    shutil.copytree(SITES / HOST, sites / HOST)

    # 1. first crawl: six article pages, five articles (the two-channel copy is one)
    first, stats = crawl(tmp_path, sites, "2026-11-01T08:00:00+08:00")
    assert (first["new"], first["duplicate"], first["errors"]) == ("5", "1", "0")
    assert stats["article_requests"] == 6
    with Store(tmp_path / "data" / "govfeed.sqlite3") as store:
        stored = {a.title: a for a in store.latest("beijingfao")}
    assert len(stored) == 5
    [yanqing] = [a for a in stored.values() if a.title.startswith("The 2025 Plenary Meeting")]
    assert set(yanqing.urls) == {EXPRESS_COPY, CONFERENCE_COPY}
    assert stored[
        "Yanqing District Holds Training Session on Foreign-Related Services for Tourism Staff"
    ].urls == (SAME_DAY,)
    atom1, rss1 = feeds(tmp_path)
    assert len(atom1.entries) == len(rss1.entries) == 5
    before = {e.link: e for e in atom1.entries}
    rss_before = {e.link: e for e in rss1.entries}

    # 2. the site corrects one article and retouches another's boilerplate only
    edit(sites, BAVARIA, "visited the Beijing Foreign Affairs Office on Monday", "visited the "
         "Beijing Foreign Affairs Office on Tuesday")  # fmt: skip
    edit(sites, HUAIROU, "<p>Consular officials", "<p>Print</p>\n<p>Consular  officials")

    # an hour later: list pages unchanged (304), no article due for a revisit yet
    second, stats = crawl(tmp_path, sites, "2026-11-01T09:00:00+08:00")
    assert stats["list_pages_not_modified"] == 2
    assert "revisits" not in stats and "article_requests" not in stats
    # two 304s, robots.txt and the canary (re-read every run)
    assert (second["new"], second["updated"], second["pages"]) == ("0", "0", "4")

    # two days later: every article is revisited once; only the correction is an update
    third, stats = crawl(tmp_path, sites, "2026-11-03T08:00:00+08:00")
    assert stats["revisits"] == 5
    assert (third["new"], third["updated"], third["duplicate"]) == ("0", "1", "0")
    assert stats["articles/unchanged"] == 4

    atom3, rss3 = feeds(tmp_path)
    assert len(atom3.entries) == len(rss3.entries) == 5
    after = {e.link: e for e in atom3.entries}
    rss_after = {e.link: e for e in rss3.entries}
    assert after[BAVARIA].id == before[BAVARIA].id
    assert rss_after[BAVARIA].id == rss_before[BAVARIA].id == before[BAVARIA].id
    assert before[BAVARIA].updated == "2025-07-28T00:00:00+08:00"  # its publication date
    assert after[BAVARIA].updated == "2026-11-03T08:00:00+08:00"  # when the fix was seen
    assert after[BAVARIA].published == before[BAVARIA].published
    assert "on Tuesday" in after[BAVARIA].content[0].value
    assert "on Tuesday" in rss_after[BAVARIA].content[0].value
    for link in set(before) - {BAVARIA}:  # the boilerplate-only change is not an update
        assert after[link].updated == before[link].updated, link
        assert after[link].id == before[link].id, link

    # a fourth run the same day asks for nothing again
    fourth, stats = crawl(tmp_path, sites, "2026-11-03T20:00:00+08:00")
    assert "revisits" not in stats
    assert fourth["pages"] == "4"


def test_replay_serves_https_through_a_connect_tunnel_with_conditional_get() -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with ReplayServer(SITES) as replay:
        proxies = {"https": replay.proxy_url, "http": replay.proxy_url}
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler(proxies), urllib.request.HTTPSHandler(context=context)
        )
        with opener.open(f"{EN}/express/index.html", timeout=10) as response:
            etag = response.headers["ETag"]
            assert b"t20250731_4163757.html" in response.read()
        request = urllib.request.Request(f"{EN}/express/index.html")
        request.add_header("If-None-Match", etag)
        with pytest.raises(urllib.error.HTTPError) as not_modified:
            opener.open(request, timeout=10)
        assert not_modified.value.code == 304
        not_modified.value.close()
        with pytest.raises(urllib.error.HTTPError) as missing:
            opener.open(f"{EN}/express/no-such-page.html", timeout=10)
        assert missing.value.code == 404
        missing.value.close()
        assert replay.requests[f"{EN}/express/index.html"] == 2


@pytest.fixture
def spider_parts(tmp_path: Path) -> Iterator[tuple[Source, Store]]:
    source = load_config(ROOT / "sources.toml").source("beijingfao")
    with Store(tmp_path / "store.sqlite3") as store:
        yield source, store


def make_spider(source: Source, store: Store) -> SiteSpider:
    """A spider as a crawl builds it (stats included), without a crawl."""
    crawler = get_crawler(SiteSpider)
    spider = SiteSpider.from_crawler(crawler, source=source, store=store)
    crawler.spider = spider
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return spider


def test_list_requests_are_conditional_only_after_the_backfill(
    spider_parts: tuple[Source, Store],
) -> None:
    source, store = spider_parts
    listing = f"{EN}/express/index.html"
    store.save_list_validators(
        "beijingfao", {listing: ('"v1"', "Sat, 01 Nov 2025 00:00:00 GMT")}, datetime.now(UTC)
    )
    first = make_spider(source, store).listing_request(listing)
    assert b"If-None-Match" not in first.headers  # a backfill walks everything
    assert 304 in first.meta["handle_httpstatus_list"]

    store.mark_backfilled("beijingfao", datetime.now(UTC))
    later = make_spider(source, store).listing_request(listing)
    assert later.headers[b"If-None-Match"] == b'"v1"'
    assert later.headers[b"If-Modified-Since"] == b"Sat, 01 Nov 2025 00:00:00 GMT"
    other = make_spider(source, store).listing_request(f"{EN}/express/index_1.html")
    assert b"If-None-Match" not in other.headers


def test_a_304_list_page_yields_nothing_and_a_200_records_its_validators(
    spider_parts: tuple[Source, Store],
) -> None:
    source, store = spider_parts
    spider = make_spider(source, store)
    listing = f"{EN}/express/index.html"
    request = Request(listing)
    assert list(spider.parse_listing(Response(listing, status=304, request=request))) == []
    assert spider.crawler.stats.get_value("govfeed/list_pages_not_modified") == 1
    assert spider.list_validators == {}

    body = (SITES / HOST / "en" / "express" / "index.html").read_bytes()
    page = HtmlResponse(
        listing, body=body, encoding="utf-8", request=request, headers={"ETag": '"v2"'}
    )
    followed = [r.url for r in spider.parse_listing(page)]
    assert followed == [
        EXPRESS_COPY,
        SAME_DAY,
        BAVARIA,
        f"{EN}/express/index_1.html",  # a backfill pages on
    ]
    assert spider.list_validators == {listing: ('"v2"', None)}


@pytest.mark.parametrize(("retry_later", "kept"), [(0, True), (1, False)])
def test_validators_are_stored_only_after_a_complete_run(
    tmp_path: Path, retry_later: int, kept: bool
) -> None:
    """A list page whose articles did not all get stored must be fetched in full next time."""
    source = load_config(ROOT / "sources.toml").source("beijingfao")
    path = tmp_path / "store.sqlite3"
    with Store(path) as store:
        spider = make_spider(source, store)
    spider.store = Store(path)
    listing = f"{EN}/express/index.html"
    spider.list_validators[listing] = ('"v3"', None)
    pipeline = StorePipeline(spider.crawler, str(path))
    pipeline.open_spider()
    assert spider.crawler.stats is not None
    if retry_later:
        spider.crawler.stats.inc_value("govfeed/retry_later", retry_later)
    pipeline.spider_closed(spider, "finished")
    spider.store.close()
    with Store(path) as store:
        assert store.list_validators(listing) == (('"v3"', None) if kept else (None, None))
