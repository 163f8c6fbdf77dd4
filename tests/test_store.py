"""The store keeps every article once and survives what a crawl throws at it."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scraper.extract.article import Article
from scraper.store import SCHEMA_VERSION, Outcome, Store, StoreError

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI)
URL = "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html"


def article(
    url: str = URL,
    title: str = "Delegation Visits CCFAO",
    body: str | None = None,
    published: datetime | None = datetime(2020, 8, 3, 9, 12, tzinfo=SHANGHAI),
) -> Article:
    return Article(
        url=url,
        title=title,
        body=body or "The delegation met the director.\nBoth sides agreed to cooperate.",
        body_html="<p>The delegation met the director.</p>",
        published=published,
        source="CCFAO",
        lang="en",
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store.sqlite3") as s:
        yield s


def test_new_then_unchanged(store: Store) -> None:
    assert store.save("ccfao", article(), T0) is Outcome.NEW
    assert store.save("ccfao", article(), T0 + timedelta(days=1)) is Outcome.UNCHANGED
    assert store.count("ccfao") == 1
    [stored] = store.latest("ccfao")
    assert stored.published == datetime(2020, 8, 3, 9, 12, tzinfo=SHANGHAI)
    assert stored.published.utcoffset() == timedelta(hours=8)
    assert stored.first_seen == T0
    assert stored.last_seen == T0 + timedelta(days=1)
    assert stored.updated is None


def test_url_variants_are_the_same_article(store: Store) -> None:
    store.save("ccfao", article(), T0)
    variant = URL.replace("http://en.changchun", "HTTPS://EN.Changchun") + "?utm_source=x#top"
    assert store.save("ccfao", article(url=variant), T0) is Outcome.UNCHANGED
    assert store.known_urls([variant, URL + "x"]) == {variant}
    assert store.count() == 1


def test_copy_in_second_channel_is_one_article_with_both_urls(store: Store) -> None:
    other = URL.replace("/xw/ccxw1/", "/ztlm/twotpoocpocc/")
    store.save("ccfao", article(), T0)
    spaced = article(
        url=other, body="The  delegation met\tthe director.\n\nBoth sides agreed to cooperate."
    )
    assert store.save("ccfao", spaced, T0) is Outcome.DUPLICATE
    [stored] = store.latest()
    assert stored.urls == (URL, other)
    assert store.known_urls([other]) == {other}


def test_edit_updates_in_place_and_keeps_the_guid(store: Store) -> None:
    store.save("ccfao", article(), T0)
    [before] = store.latest()
    edited = article(body="The delegation met the director general.\nBoth sides agreed.")
    assert store.save("ccfao", edited, T0 + timedelta(days=2)) is Outcome.UPDATED
    [after] = store.latest()
    assert after.guid == before.guid
    assert after.id == before.id
    assert after.body.startswith("The delegation met the director general.")
    assert after.updated == T0 + timedelta(days=2)
    assert after.content_hash != before.content_hash


def test_latest_is_newest_first_by_publication(store: Store) -> None:
    for day in (3, 17, 9):
        url = URL.replace("t20200803", f"t202008{day:02d}")
        store.save(
            "ccfao",
            article(
                url=url,
                title=f"Story {day}",
                body=f"Body {day}",
                published=datetime(2020, 8, day, tzinfo=SHANGHAI),
            ),
            T0,
        )
    assert [a.title for a in store.latest("ccfao")] == ["Story 17", "Story 9", "Story 3"]
    assert [a.title for a in store.latest("ccfao", limit=2)] == ["Story 17", "Story 9"]
    assert store.latest("other") == []


def test_dropped_pages_are_known_but_not_articles(store: Store) -> None:
    store.record_dropped("ccfao", URL, "no body", T0)
    assert store.known_urls([URL]) == {URL}
    assert store.count() == 0
    store.save("ccfao", article(), T0)  # it turned into an article later
    assert store.count() == 1


def test_backfill_flag(store: Store) -> None:
    assert not store.backfilled("ccfao")
    store.mark_backfilled("ccfao", T0)
    assert store.backfilled("ccfao")
    assert not store.backfilled("other")


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.save("ccfao", article(published=datetime(2020, 8, 3)), T0)
    assert store.count() == 0


def test_schema_is_versioned_and_a_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this govfeed"):
        Store(path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open store"):
        Store(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_bulk_insert_fills_every_index_save_relies_on(store: Store) -> None:
    """Articles inserted in bulk are found like saved ones: by URL, as near-duplicates, in
    the full-text index."""
    topics = ["harbour trade", "university exchange", "winter festival", "rail freight"]
    bulk = [
        article(
            url=URL.replace("2383368", str(n)),
            title=f"Changchun talks on {topic}",
            body=f"The office hosted talks on {topic} with a partner city.\n" * 3
            + f"Item {n} of the bulk import, on {topic}.",
        )
        for n, topic in enumerate(topics)
    ]
    assert store.bulk_insert("ccfao", iter(bulk), T0) == 4
    assert store.count("ccfao") == 4
    assert store.save("ccfao", bulk[2], T0) is Outcome.UNCHANGED  # known by its URL
    elsewhere = dataclasses.replace(bulk[1], url=URL.replace("2383368", "99"))
    assert store.save("ccfao", elsewhere, T0) is Outcome.DUPLICATE  # same text, other URL
    assert [a.title for a in store.search("festival")] == ["Changchun talks on winter festival"]
