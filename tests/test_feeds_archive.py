"""RFC 5005 archived feeds: the whole history through prev-archive, pages that never move."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from defusedxml import ElementTree as SafeET  # Scrapy's dependency: a parser without XXE

from feeds.build import build_feeds
from scraper.store import Store
from tests.feedsupport import BASE, T0, article, one_source_config

ATOM = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
PAGE = 5


def _file(out: Path, url: str) -> Path:
    assert url.startswith(f"{BASE}/feeds/"), url
    return out / url.removeprefix(f"{BASE}/feeds/")


def _links(root, fmt: str) -> dict[str, str]:
    parent = root if fmt == "atom" else root.find("channel")
    return {link.get("rel"): link.get("href") for link in parent.findall(f"{ATOM}link")}


def _ids(root, fmt: str) -> list[str]:
    if fmt == "atom":
        return [e.findtext(f"{ATOM}id") for e in root.findall(f"{ATOM}entry")]
    return [i.findtext("guid") for i in root.find("channel").findall("item")]


def walk_xml(out: Path, slug: str, fmt: str) -> tuple[list[str], list[list[str]]]:
    """(ids of the current document, ids of each archive page newest page first)."""
    root = SafeET.fromstring((out / f"{slug}.{fmt}").read_bytes())
    current_url = f"{BASE}/feeds/{slug}.{fmt}"
    current = _ids(root, fmt)
    assert (root if fmt == "atom" else root.find("channel")).find(f"{FH}archive") is None
    pages: list[list[str]] = []
    url = _links(root, fmt).get("prev-archive")
    newer = None
    while url:
        page = SafeET.fromstring(_file(out, url).read_bytes())
        holder = page if fmt == "atom" else page.find("channel")
        assert holder.find(f"{FH}archive") is not None, url  # fh:archive marks archive docs
        links = _links(page, fmt)
        assert links["current"] == current_url
        assert links["self"] == url
        assert links.get("next-archive") == newer  # a doubly linked chain
        pages.append(_ids(page, fmt))
        newer, url = url, links.get("prev-archive")
        assert len(pages) < 100, "archive chain does not end"
    return current, pages


@pytest.fixture
def history(tmp_path: Path):
    config = one_source_config(tmp_path, feed_entries=4)
    store = Store(tmp_path / "s.sqlite3")
    # a backfill: the list pages give the newest first, so ids run against publication time
    for i in range(23, 0, -1):
        store.save("ccfao", article(i), T0 + timedelta(minutes=23 - i))
    yield config, store, tmp_path / "feeds"
    store.close()


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_walking_prev_archive_reaches_every_article_exactly_once(history, fmt: str) -> None:
    config, store, out = history
    build_feeds(config, store, out, BASE, page_size=PAGE)
    every = {a.guid for a in store.latest(None, 1000)}
    assert len(every) == 23
    for slug in ("ccfao", "all", "ccfao/changchun-news"):
        current, pages = walk_xml(out, slug, fmt)
        archived = [guid for page in pages for guid in page]
        assert len(archived) == len(set(archived)) == 23  # no article twice in the archive
        assert set(archived) == every
        # the subscription document is the newest 4 by publication time
        assert current == [a.guid for a in store.latest("ccfao", 4)]
        assert [len(p) for p in pages] == [3, 5, 5, 5, 5]  # newest page is the partial one


def test_json_feed_pages_through_next_url_to_the_first_article(history) -> None:
    config, store, out = history
    build_feeds(config, store, out, BASE, page_size=PAGE)
    doc = json.loads((out / "ccfao.json").read_text())
    seen = []
    while "next_url" in doc:
        doc = json.loads(_file(out, doc["next_url"]).read_text())
        seen += [item["id"] for item in doc["items"]]
    assert sorted(seen) == sorted(a.guid for a in store.latest(None, 1000))
    assert len(seen) == len(set(seen))


def test_full_pages_never_change_when_articles_arrive(history) -> None:
    config, store, out = history
    build_feeds(config, store, out, BASE, page_size=PAGE)
    _, before = walk_xml(out, "ccfao", "atom")
    sealed = {k: (out / f"archive/ccfao/{k}.atom").read_bytes() for k in range(3)}
    # new articles, and a late find of an article older than every stored one
    store.save("ccfao", article(24), T0 + timedelta(days=1))
    store.save("ccfao", article(25), T0 + timedelta(days=1))
    old = article(99, published=datetime(2019, 1, 1, tzinfo=UTC))
    store.save("ccfao", old, T0 + timedelta(days=1))
    changed = build_feeds(config, store, out, BASE, page_size=PAGE)
    _, after = walk_xml(out, "ccfao", "atom")
    # oldest pages are identical; only the newest page filled up and one more began
    assert after[-3:] == before[-3:]
    assert {k: (out / f"archive/ccfao/{k}.atom").read_bytes() for k in range(3)} == sealed
    assert len(after[1]) == PAGE and after[1][-len(before[0]) :] == before[0]  # newest first
    assert len(after[0]) == 1
    assert out / "archive/ccfao/0.atom" not in changed
    # the late old article is reachable, exactly once
    everything = [g for page in after for g in page]
    assert len(everything) == len(set(everything)) == 26


def test_an_empty_feed_has_no_archive_links(tmp_path: Path) -> None:
    config = one_source_config(tmp_path)
    with Store(tmp_path / "s.sqlite3") as store:
        build_feeds(config, store, tmp_path / "feeds", BASE)
    current, pages = walk_xml(tmp_path / "feeds", "ccfao", "atom")
    assert current == [] and pages == []
    assert not (tmp_path / "feeds" / "archive").exists()
