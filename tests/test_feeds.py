"""Feeds: valid, deterministic, dated from the data, safe with hostile text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from feeds.build import build_feeds
from feeds.render import FeedInfo, render_atom, render_rss
from scraper.extract.article import Article
from scraper.safexml import parse_xml
from scraper.sources import load_config
from scraper.store import Store
from tests.conftest import ROOT

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
INFO = FeedInfo(
    "ccfao",
    "Changchun FAO",
    "http://en.changchun.gov.cn/",
    "http://127.0.0.1:8080/feeds/ccfao",
    "News",
    "en",
)


def make_store(path: Path, titles: list[str]) -> Store:
    store = Store(path)
    for day, title in enumerate(titles, start=1):
        store.save(
            "ccfao",
            Article(
                url=f"http://en.changchun.gov.cn/xw/ccxw1/202008/t202008{day:02d}_{day}.html",
                title=title,
                body=f"First paragraph of {title}.\nSecond paragraph.",
                body_html=f"<p>First paragraph of {title}.</p><p>Second paragraph.</p>",
                published=datetime(2020, 8, day, 9, 30, tzinfo=SHANGHAI),
                source="CCFAO",
                channel="Changchun News",
            ),
            T0,
        )
    return store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with make_store(tmp_path / "s.sqlite3", ["Alpha", "Beta", "Gamma"]) as s:
        yield s


@pytest.mark.parametrize("render", [render_atom, render_rss])
def test_rendering_is_deterministic_across_stores(tmp_path: Path, render) -> None:
    with make_store(tmp_path / "a.sqlite3", ["Alpha", "Beta"]) as a:
        first = render(INFO, a.latest())
    with make_store(tmp_path / "b.sqlite3", ["Alpha", "Beta"]) as b:
        second = render(INFO, b.latest())
    assert first == second


def test_atom_entries_carry_ids_dates_and_source(store: Store) -> None:
    parsed = feedparser.parse(render_atom(INFO, store.latest()))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == ["Gamma", "Beta", "Alpha"]
    first = parsed.entries[0]
    assert first.id.startswith("tag:govfeed,2026:ccfao:")
    assert first.published == "2020-08-03T09:30:00+08:00"
    assert first.author == "CCFAO"
    assert first.link == "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_3.html"
    assert "<p>First paragraph of Gamma.</p>" in first.content[0].value
    # the feed's own time is its newest entry's, never the render time
    assert parsed.feed.updated == "2020-08-03T09:30:00+08:00"
    assert parsed.feed.language == "en"


def test_rss_uses_rfc822_dates_and_stable_guids(store: Store) -> None:
    raw = render_rss(INFO, store.latest())
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    item = parsed.entries[0]
    assert item.published == "Mon, 03 Aug 2020 09:30:00 +0800"
    assert item.guid == store.latest()[0].guid
    assert item.guidislink is False
    assert b"<lastBuildDate>Mon, 03 Aug 2020 09:30:00 +0800</lastBuildDate>" in raw
    assert item.author == "CCFAO"  # dc:creator: RSS <author> must be an e-mail address


def test_empty_feed_is_valid_and_stable(tmp_path: Path) -> None:
    with Store(tmp_path / "empty.sqlite3") as empty:
        raw = render_atom(INFO, empty.latest())
    assert not feedparser.parse(raw).bozo
    assert b"<updated>1970-01-01T00:00:00+00:00</updated>" in raw


def test_control_characters_never_break_a_feed(tmp_path: Path) -> None:
    with make_store(tmp_path / "c.sqlite3", ["Bad\x0bTitle\x00 here"]) as s:
        for render in (render_atom, render_rss):
            raw = render(INFO, s.latest())
            parse_xml(raw)  # well-formed XML
            assert b"BadTitle here" in raw


def _written(out: Path, changed: list[Path]) -> set[str]:
    return {p.relative_to(out).as_posix() for p in changed}


def _formats(*stems: str) -> set[str]:
    return {f"{stem}.{fmt}" for stem in stems for fmt in ("atom", "rss", "json")}


def test_build_writes_every_feed_and_rewrites_only_on_change(tmp_path: Path, store: Store) -> None:
    config = load_config(ROOT / "sources.toml")
    out = tmp_path / "feeds"
    # every source (most are empty here); ccfao's three articles are in one channel
    every = _formats(*(s.name for s in config.sources), "all", "watch-germany") | _formats(
        "ccfao/changchun-news",
        "archive/ccfao/0",
        "archive/ccfao/changchun-news/0",
        "archive/all/0",
    )
    changed = build_feeds(config, store, out, "http://127.0.0.1:8080")
    assert _written(out, changed) == every
    assert build_feeds(config, store, out, "http://127.0.0.1:8080") == []
    store.save(
        "ccfao",
        Article(
            url="http://en.changchun.gov.cn/tpxw/t20200901_9.html",
            title="Delta",
            body="Text.",
            published=T0 + timedelta(days=1),
        ),
        T0,
    )
    changed = build_feeds(config, store, out, "http://127.0.0.1:8080")
    # Delta has no channel: the channel feed and its archive stay as they were
    assert _written(out, changed) == _formats("ccfao", "all", "archive/ccfao/0", "archive/all/0")
    combined = feedparser.parse((out / "all.atom").read_bytes())
    assert combined.entries[0].title == "Delta"
    assert any(
        link.rel == "self" and link.href == "http://127.0.0.1:8080/feeds/all.atom"
        for link in combined.feed.links
    )
    index = (out / "index.html").read_text()
    assert 'href="/feeds/ccfao.atom"' in index
    assert 'href="/feeds/ccfao/changchun-news.json"' in index
    assert 'type="application/rss+xml"' in index
    assert 'type="application/feed+json"' in index
