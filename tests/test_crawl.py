"""End to end: crawl the en.changchun.gov.cn replica over loopback, store it, publish feeds.

Every crawl here runs the real ``govfeed`` command in a subprocess with ``--replay``, so the
whole Scrapy stack, the pipelines and the store run exactly as in production.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import feedparser
import pytest

from feeds.server import FeedServer
from scraper.store import Store
from tests.conftest import ROOT, SITES, govfeed_run, run_govfeed, stored_count

HOST = "en.changchun.gov.cn"
SUMMARY = re.compile(
    r"^ccfao: (?P<pages>\d+) pages fetched, (?P<new>\d+) new, (?P<updated>\d+) updated, "
    r"(?P<duplicate>\d+) duplicate, (?P<dropped>\d+) dropped, (?P<errors>\d+) errors",
    re.M,
)


def expectations() -> dict[str, dict]:
    """Expected extraction of every replica article, by URL."""
    pages = {}
    for path in sorted((SITES / HOST).rglob("*.expected.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        pages[expected["url"]] = expected
    return pages


def articles() -> list[set[str]]:
    """The replica's distinct articles, each as the set of URLs it is published under."""
    groups: list[set[str]] = []
    for url, expected in expectations().items():
        other = expected.get("same_article_as")
        for group in groups:
            if url in group or other in group:
                group.update({url, other} - {None})
                break
        else:
            groups.append({url, other} - {None})
    return groups


def non_articles() -> list[Path]:
    """Replica pages at article URLs that hold no article (e.g. a withdrawn document's shell)."""
    return [
        page
        for page in (SITES / HOST).rglob("t*.htm*")
        if re.fullmatch(r"t\d{8}_\d+\.html?", page.name)
        and not page.with_name(f"{page.stem}.expected.json").exists()
    ]


def make_config(tmp_path: Path, schedule: str = '{ every = "6h", jitter = "10m" }') -> Path:
    """The shipped sources.toml with room for every replica article in one feed."""
    text = (ROOT / "sources.toml").read_text(encoding="utf-8")
    blocks = text.split("\n[[source]]\n")  # this replica is ccfao's: keep only that source
    text = "\n[[source]]\n".join(
        b for b in blocks if not b.startswith("name =") or 'name = "ccfao"' in b
    )
    text = text.replace("feed_entries = 50", "feed_entries = 1000")
    text = text.replace('schedule = { every = "6h", jitter = "10m" }', f"schedule = {schedule}")
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def crawl(data: Path, config: Path, sites: Path = SITES) -> re.Match[str]:
    result = run_govfeed("crawl", "--replay", str(sites), data=data, config=config)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout
    return summary


def last_run_stats(data: Path) -> dict[str, int]:
    db = sqlite3.connect(data / "govfeed.sqlite3")
    row = db.execute("SELECT stats FROM runs WHERE source = 'ccfao' ORDER BY id DESC").fetchone()
    db.close()
    return json.loads(row[0])


def store_snapshot(data: Path) -> set[tuple]:
    with Store(data / "govfeed.sqlite3") as store:
        assert store.integrity_check() == "ok"
        return {
            (frozenset(a.urls), a.title, a.published, a.source_label, a.body, a.content_hash)
            for a in store.latest(None, limit=100_000)
        }


def test_replica_is_big_enough() -> None:
    assert len(expectations()) >= 40
    list_pages = [p for p in (SITES / HOST).rglob("index*.htm*") if p.parent != SITES / HOST]
    assert len(list_pages) >= 8
    assert any(len(group) == 2 for group in articles())


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, re.Match[str]]:
    tmp = tmp_path_factory.mktemp("first-crawl")
    config = make_config(tmp)
    data = tmp / "data"
    return data, config, crawl(data, config)


def test_first_crawl_stores_every_article_once(crawled) -> None:
    data, _, summary = crawled
    groups = articles()
    assert int(summary["new"]) == len(groups)
    assert int(summary["duplicate"]) == sum(len(g) - 1 for g in groups)
    assert int(summary["errors"]) == 0
    assert int(summary["dropped"]) == len(non_articles()) == 1
    with Store(data / "govfeed.sqlite3") as store:
        stored = store.latest(None, limit=1000)
    assert len(stored) == len(groups)
    assert {frozenset(a.urls) for a in stored} == {frozenset(g) for g in groups}


@pytest.fixture(scope="module")
def served(crawled) -> str:
    """The crawled data's feeds, served as ``govfeed run`` serves them."""
    data, _, _ = crawled
    server = FeedServer(data / "feeds", port=0)
    server.start_in_thread()
    yield server.url
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("ext", ["atom", "rss"])
def test_combined_feed_holds_every_article_once_as_expected(served: str, ext: str) -> None:
    with urllib.request.urlopen(f"{served}/feeds/all.{ext}", timeout=10) as response:
        assert response.headers["Content-Type"] == f"application/{ext}+xml; charset=utf-8"
        raw = response.read()
    feed = feedparser.parse(raw)
    assert not feed.bozo, feed.get("bozo_exception")
    by_link = {entry.link: entry for entry in feed.entries}
    assert len(by_link) == len(feed.entries) == len(articles())
    assert len({entry.id for entry in feed.entries}) == len(feed.entries)
    expected_pages = expectations()
    for group in articles():
        [link] = [url for url in group if url in by_link]
        entry = by_link[link]
        for url in group:
            expected = expected_pages[url]
            assert entry.title == expected["title"], url
            published = datetime.fromisoformat(expected["published"])
            parsed = (
                datetime.fromisoformat(entry.published)
                if ext == "atom"
                else datetime.strptime(entry.published, "%a, %d %b %Y %H:%M:%S %z")
            )
            assert parsed == published and parsed.utcoffset() == published.utcoffset(), url
            assert entry.get("author") == expected["source"], url
            assert expected["body_starts_with"].split()[0] in entry.content[0].value, url


def test_second_crawl_fetches_no_article_again(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    data = tmp_path / "data"
    crawl(data, config)
    stats = last_run_stats(data)
    assert stats["article_requests"] == len(expectations()) + len(non_articles())
    assert stats["dropped/no body"] == 1
    feed_before = (data / "feeds" / "all.atom").read_bytes()
    second = crawl(data, config)
    assert int(second["new"]) == 0
    assert int(second["updated"]) == 0
    assert last_run_stats(data).get("article_requests", 0) == 0  # the dropped page too
    # only robots.txt, the first list page of each channel (each holds only known articles)
    # and the canary (re-read every run to catch template drift)
    assert int(second["pages"]) == 1 + 4 + 1
    assert (data / "feeds" / "all.atom").read_bytes() == feed_before


@pytest.mark.parametrize("kill_after", [3, 20])
def test_killed_crawl_resumes_to_the_uninterrupted_store(tmp_path: Path, kill_after: int) -> None:
    config = make_config(tmp_path)
    reference = tmp_path / "reference"
    crawl(reference, config)

    data = tmp_path / "killed"
    command = [sys.executable, "-m", "cli", "--config", str(config), "--data", str(data)]
    command += ["crawl", "--replay", str(SITES), "--replay-latency", "0.05", "--no-feeds"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (stored_count(data / "govfeed.sqlite3") or 0) >= kill_after:
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    partial = stored_count(data / "govfeed.sqlite3") or 0
    assert kill_after <= partial < len(articles()), "the kill did not land mid-crawl"

    crawl(data, config)
    assert store_snapshot(data) == store_snapshot(reference)


def add_article(sites: Path, title: str) -> str:
    """Publish one more article on the replica: a page plus its line on the first list page."""
    template = min(  # a real article of the 2019+ template, chosen deterministically
        json.with_name(json.name.replace(".expected.json", ".html"))
        for json in (sites / HOST / "xw" / "ccxw1").glob("*/t*.expected.json")
    )
    html = template.read_text(encoding="utf-8")
    old_title = re.search(r'<meta name="ArticleTitle" content="([^"]*)"', html)
    assert old_title
    html = html.replace(old_title[1], title)
    html = re.sub(r'(<meta name="PubDate" content=")[^"]*"', r'\g<1>2026-11-20 10:00"', html)
    html = re.sub(r"Updated : \d{4}-\d{2}-\d{2}", "Updated : 2026-11-20", html)
    url = f"http://{HOST}/xw/ccxw1/202611/t20261120_9999001.html"
    html = re.sub(r'(<meta name="Url" content=")[^"]*"', rf'\g<1>{url}"', html)
    body = re.search(r'<div class="TRS_Editor">', html)
    assert body, "template has no article body"
    html = html.replace(body[0], body[0] + "<p>A new opening paragraph for the new story.</p>", 1)
    page = sites / HOST / "xw" / "ccxw1" / "202611" / "t20261120_9999001.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(html, encoding="utf-8")
    listing = sites / HOST / "xw" / "ccxw1" / "index.html"
    text = listing.read_text(encoding="utf-8")
    item = f'<li><a href="./202611/t20261120_9999001.html" title="{title}">{title}</a></li>'
    text = text.replace("<ul>", "<ul>\n" + item, 1)
    listing.write_text(text, encoding="utf-8")
    return url


def test_served_feed_answers_conditional_requests_with_304(served: str) -> None:
    with urllib.request.urlopen(f"{served}/feeds/ccfao.atom", timeout=10) as response:
        etag = response.headers["ETag"]
        modified = response.headers["Last-Modified"]
    for header, value in (("If-None-Match", etag), ("If-Modified-Since", modified)):
        request = urllib.request.Request(f"{served}/feeds/ccfao.atom", headers={header: value})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code == 304
        assert info.value.read() == b""
    with urllib.request.urlopen(f"{served}/", timeout=10) as response:
        assert b'href="/feeds/all.atom"' in response.read()


def fetch_feed(url: str) -> feedparser.FeedParserDict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return feedparser.parse(response.read())
    except OSError:
        return None


def test_run_crawls_on_schedule_and_serves_the_new_article(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    shutil.copytree(SITES / HOST, sites / HOST)
    config = make_config(tmp_path, schedule='{ every = "4s" }')
    data = tmp_path / "data"
    with govfeed_run(config, data, "--replay", str(sites)) as base:
        feed_url = f"{base}/feeds/ccfao.atom"
        first = wait_for(lambda: feed_with(feed_url, len(articles())), 90)
        new_url = add_article(sites, "Changchun Hosts Winter Exchange Week for Consular Corps")
        second = wait_for(lambda: feed_with(feed_url, len(articles()) + 1), 90)
        assert new_url not in {e.link for e in first.entries}
        assert second.entries[0].link == new_url
        assert second.entries[0].title == "Changchun Hosts Winter Exchange Week for Consular Corps"
    db = sqlite3.connect(data / "govfeed.sqlite3")
    runs = db.execute("SELECT count(*) FROM runs WHERE source = 'ccfao'").fetchone()[0]
    db.close()
    assert runs >= 2


def feed_with(url: str, entries: int) -> feedparser.FeedParserDict | None:
    feed = fetch_feed(url)
    return feed if feed is not None and len(feed.entries) == entries else None


def wait_for(probe, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (value := probe()) is not None:
            return value
        time.sleep(0.5)
    raise AssertionError(f"condition not met within {seconds}s")


def test_a_missing_list_page_is_a_recorded_error_not_a_crash(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("/tpxw/index.html", "/tpxw/gone/index.html"), encoding="utf-8")
    data = tmp_path / "data"
    result = run_govfeed("crawl", "--replay", str(SITES), data=data, config=config)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "1 errors (" in result.stdout
    assert "list page: http 404 x1)" in result.stdout
    summary = SUMMARY.search(result.stdout)
    assert summary
    picture_news = sum(1 for url in expectations() if "/tpxw/" in url)
    assert int(summary["new"]) == len(articles()) - picture_news
    with Store(data / "govfeed.sqlite3") as store:
        assert not store.backfilled("ccfao")  # the next run walks the whole history again
