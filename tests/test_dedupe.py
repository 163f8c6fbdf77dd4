"""Every article once: near-duplicates merge, different articles stay apart, edits update."""

from __future__ import annotations

import random
import re
import sqlite3
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.render import FeedInfo, render_atom, render_rss
from scraper.extract.article import Article
from scraper.fingerprint import (
    band_keys,
    content_hash,
    normalize_body,
    pack_signature,
    shingles,
    signature,
    similarity,
    token_hashes,
)
from scraper.store import SCHEMA_VERSION, Outcome, Store
from scraper.urls import url_key
from tests.conftest import v1_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI)
SITE = "https://wb.beijing.gov.cn/en"
CONFERENCE = f"{SITE}/center_for_international_exchanges/conference/202507/t20250731_4163762.html"
EXPRESS = f"{SITE}/express/202507/t20250731_4163757.html"
TITLE = "Yanqing District Foreign Affairs Committee Holds Plenary Meeting"
BODY = (
    "The district committee on foreign affairs met on Thursday to review last year's work.\n"
    "Members heard reports on services for foreign visitors to the mountain resorts.\n"
    "The meeting asked departments to prepare for the international ski season.\n"
    "Officials also discussed exchanges with sister cities in Europe and Asia.\n"
    "A plan for training interpreters in the district was approved.\n"
    "The committee will meet again in the autumn to check progress."
)
OTHER_BODY = (
    "A delegation from a partner city in Finland toured the Great Wall at Badaling.\n"
    "Hosts showed the guests the new visitor centre and the winter sports venues.\n"
    "Both sides talked about student exchanges and a joint photo exhibition.\n"
    "The guests later planted a tree in the friendship garden near the county seat."
)
ZH_BODY = (
    "七月三十一日，延庆区外办召开年度工作会议，总结上半年外事工作。\n"
    "会议听取了国际交往中心功能建设情况汇报，部署了下半年重点任务。\n"
    "会议要求各部门做好国际体育赛事和旅游活动的服务保障工作。"
)
INFO = FeedInfo("beijingfao", "Beijing FAO", SITE, "http://127.0.0.1/feeds/beijingfao", "News")


def article(url: str = CONFERENCE, title: str = TITLE, body: str = BODY, **kw: object) -> Article:
    return Article(
        url=url,
        title=title,
        body=body,
        body_html="",  # the feeds then render the body text
        published=datetime(2025, 5, 1, tzinfo=SHANGHAI),
        source="Foreign Affairs Office of Yanqing District",
        lang="en",
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store.sqlite3") as s:
        yield s


# -- fingerprints --------------------------------------------------------------------------


def test_boilerplate_lines_and_whitespace_do_not_change_the_hash() -> None:
    noisy = "Print\nDate: 2025-05-01  Source: Foreign Affairs Office of Yanqing District\n"
    noisy += (
        BODY.replace(" the ", "  the ") + "\n【Fonts: A+ A A-\nClose\n打印 \n【字体：大 中 小】"
    )
    assert content_hash(TITLE, noisy) == content_hash(TITLE, BODY)
    assert content_hash(TITLE, BODY + "\nThe budget was cut.") != content_hash(TITLE, BODY)
    assert content_hash(TITLE + "s", BODY) != content_hash(TITLE, BODY)


def test_a_sentence_that_starts_like_boilerplate_is_kept() -> None:
    line = "Source of the Guishui River lies in the hills north of the county seat, it is said."
    assert normalize_body(line) == line.casefold()


def test_shingles_are_word_runs_in_english_and_character_runs_in_chinese() -> None:
    assert shingles("The  Great Wall, at Badaling!") == {
        "the great wall",
        "great wall at",
        "wall at badaling",
    }
    assert shingles("延庆区外办") == {"延 庆 区", "庆 区 外", "区 外 办"}
    assert shingles("Hi") == {"hi"}
    # a word never swallows the CJK characters it touches
    assert shingles("APEC会议 2026") == {"apec 会 议", "会 议 2026"}


def _reference_token_hash(token: str) -> int:
    """The documented definition, one code point at a time: Horner's rule mod 2^64 with the
    base 0x100000001B3, then MurmurHash3's 64-bit finalizer."""
    m64 = (1 << 64) - 1
    x = 0
    for ch in token:
        x = (x * 0x100000001B3 + ord(ch)) & m64
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & m64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & m64
    return x ^ (x >> 33)


_MIXED_TEXT = st.text(
    alphabet=st.sampled_from(
        list("ab_Z9 \n,.-'")
        + list("中文会议はカ한국")
        + ["\u00e9", "\u0301", "\U00020000", "\u2160"]
    ),
    max_size=60,
)


@given(
    st.text(
        alphabet=st.sampled_from(
            [*"aZ ß\n\r:", "\u0301", "\u00a0", "\ufb00", "\u2028", "\x85", "Σ", "Ⅻ", "ｶ", "\u3099"]
        )
    )
)
def test_body_normalized_at_once_equals_line_by_line(text: str) -> None:
    lines = (
        " ".join(unicodedata.normalize("NFKC", line).split()).casefold()
        for line in text.splitlines()
    )
    assert normalize_body(text) == "\n".join(line for line in lines if line)


@settings(deadline=None)  # the first call builds the code-point tables (a fifth of a second)
@given(_MIXED_TEXT)
def test_vectorized_token_hashes_match_a_token_by_token_reference(text: str) -> None:
    tokens = re.findall(
        r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
        r"|[^\W_\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+",
        text,
    )
    assert token_hashes(text).tolist() == [_reference_token_hash(t) for t in tokens]


@pytest.mark.parametrize("text", [BODY, ZH_BODY])
def test_similarity_tracks_how_much_text_is_shared(text: str) -> None:
    lines = text.split("\n")
    one_changed = "\n".join(
        [
            *lines[:-1],
            "该段文字已经完全改写。"
            if text is ZH_BODY
            else "An entirely different closing sentence was written here.",
        ]
    )
    assert similarity(signature(text), signature(text.replace("\n", "\n\n"))) == 1.0
    assert 0.45 <= similarity(signature(text), signature(one_changed)) < 1.0
    assert similarity(signature(text), signature(OTHER_BODY)) < 0.2
    assert len(band_keys(signature(text))) == 16


# -- the store -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "copy",
    [
        article(url=EXPRESS, body=BODY.replace(" the ", "  the ")),  # doubled spaces
        article(url=EXPRESS, body="Print\n" + BODY + "\nShare to: WeChat Weibo"),  # boilerplate
        article(url=EXPRESS, body=BODY.replace("autumn", "early autumn, as planned")),  # edit
        article(url=EXPRESS, title=TITLE.upper(), channel="Express"),  # channel moved
        # one sentence of six rewritten (Jaccard about 0.7), a typo fixed in the title
        article(
            url=EXPRESS,
            title=TITLE.replace("Holds", "Hold"),
            body=BODY.replace("A plan for training interpreters", "A budget for the coming year"),
        ),
    ],
)
def test_near_copy_under_another_url_is_one_more_url(store: Store, copy: Article) -> None:
    assert store.save("beijingfao", article(), T0) is Outcome.NEW
    assert store.save("beijingfao", copy, T0) is Outcome.DUPLICATE
    [stored] = store.latest()
    assert stored.urls == (CONFERENCE, EXPRESS)
    assert stored.body == BODY  # the first copy's text stays
    assert store.known_urls([EXPRESS]) == {EXPRESS}


def test_chinese_copy_with_different_spacing_merges(store: Store) -> None:
    store.save("beijingfao", article(title="延庆区外办召开年度工作会议", body=ZH_BODY), T0)
    spaced = ZH_BODY.replace("，", "， ").replace("。", "。 ") + "\n【打印】"
    copy = article(url=EXPRESS, title="延庆区外办召开年度工作会议", body=spaced)
    assert store.save("beijingfao", copy, T0) is Outcome.DUPLICATE
    assert store.count() == 1


def test_different_articles_on_one_template_and_day_stay_apart(store: Store) -> None:
    boiler = "\nDate: 2025-05-01 Source: Foreign Affairs Office of Yanqing District\nPrint\nClose"
    assert store.save("beijingfao", article(body=BODY + boiler), T0) is Outcome.NEW
    other = article(
        url=EXPRESS, title="Finnish Delegation Visits Badaling", body=OTHER_BODY + boiler
    )
    assert store.save("beijingfao", other, T0) is Outcome.NEW
    # same title, half the text different: a different report, not a copy
    half = "\n".join(BODY.split("\n")[:2] + OTHER_BODY.split("\n"))
    third = article(url=EXPRESS.replace("4163757", "4163758"), body=half)
    assert store.save("beijingfao", third, T0) is Outcome.NEW
    assert store.count() == 3


def test_old_text_under_a_new_title_is_a_new_article(store: Store) -> None:
    """A template page reused for a new report (the text not yet replaced) is not a copy."""
    store.save("beijingfao", article(), T0)
    reused = article(url=EXPRESS, title="Yanqing Hosts Winter Exchange Week for Consular Corps")
    assert store.save("beijingfao", reused, T0) is Outcome.NEW
    retitled = article(
        url=EXPRESS.replace("4163757", "4163758"),
        title="Yanqing Foreign Affairs Committee Holds 2025 Plenary Meeting",  # most words kept
    )
    assert store.save("beijingfao", retitled, T0) is Outcome.DUPLICATE
    assert store.count() == 2


def test_near_copies_are_only_merged_within_one_source(store: Store) -> None:
    store.save("beijingfao", article(), T0)
    copy = article(url="https://english.beijing.gov.cn/x/t1.html", body=BODY + "\nExtra line.")
    assert store.save("beijingportal", copy, T0) is Outcome.NEW


def test_canonical_on_another_site_is_not_identity(store: Store) -> None:
    store.save("beijingfao", article(canonical_url="https://www.gov.cn/news/t1.html"), T0)
    [stored] = store.latest()
    assert stored.url == CONFERENCE
    assert stored.urls == (CONFERENCE,)


def test_boilerplate_only_change_is_not_an_edit(store: Store) -> None:
    store.save("beijingfao", article(), T0)
    noisy = article(body="Print\n" + BODY.replace(". ", ".  ") + "\nfontSize: big middle small")
    assert store.save("beijingfao", noisy, T0 + timedelta(days=1)) is Outcome.UNCHANGED
    [stored] = store.latest()
    assert stored.updated is None
    assert store.versions(stored.id) == []


def test_edit_keeps_the_entry_id_and_moves_updated_in_both_feeds(store: Store) -> None:
    store.save("beijingfao", article(), T0)
    [before] = store.latest()
    atom_before = feedparser.parse(render_atom(INFO, [before])).entries[0]
    rss_before = feedparser.parse(render_rss(INFO, [before])).entries[0]
    edited = article(body=BODY.replace("ski season", "ski and snowboard season"))
    assert store.save("beijingfao", edited, T0 + timedelta(days=1)) is Outcome.UPDATED
    [after] = store.latest()
    assert store.versions(after.id) == [(T0, TITLE)]
    atom_after = feedparser.parse(render_atom(INFO, [after])).entries[0]
    rss_after = feedparser.parse(render_rss(INFO, [after])).entries[0]
    assert atom_after.id == atom_before.id == before.guid
    assert rss_after.id == rss_before.id == before.guid
    assert atom_before.updated == "2025-05-01T00:00:00+08:00"  # the publication date
    assert atom_after.updated == "2026-11-02T08:00:00+08:00"  # when the edit was seen
    assert "snowboard" in atom_after.content[0].value + rss_after.description


def test_known_articles_are_revisited_after_1_7_and_30_days(store: Store) -> None:
    store.save("beijingfao", article(), T0)
    assert store.due_for_revisit("beijingfao", T0 + timedelta(hours=23)) == []
    assert store.due_for_revisit("beijingfao", T0 + timedelta(days=1)) == [CONFERENCE]
    assert store.due_for_revisit("other", T0 + timedelta(days=1)) == []
    store.save("beijingfao", article(), T0 + timedelta(days=1, hours=1))  # the revisit
    assert store.due_for_revisit("beijingfao", T0 + timedelta(days=6)) == []
    assert store.due_for_revisit("beijingfao", T0 + timedelta(days=7)) == [CONFERENCE]
    store.save("beijingfao", article(), T0 + timedelta(days=20))  # late: next step is day 30
    assert store.due_for_revisit("beijingfao", T0 + timedelta(days=29)) == []
    assert store.due_for_revisit("beijingfao", T0 + timedelta(days=30)) == [CONFERENCE]
    store.save("beijingfao", article(), T0 + timedelta(days=31))
    assert store.due_for_revisit("beijingfao", T0 + timedelta(days=3650)) == []


def test_an_article_gone_404_is_not_revisited_every_run(store: Store) -> None:
    store.save("beijingfao", article(), T0)
    store.record_dropped("beijingfao", CONFERENCE, "http 404", T0 + timedelta(days=2))
    assert store.due_for_revisit("beijingfao", T0 + timedelta(days=3)) == []
    assert store.due_for_revisit("beijingfao", T0 + timedelta(days=7)) == [CONFERENCE]


def test_list_page_validators_round_trip(store: Store) -> None:
    url = f"{SITE}/express/index.html"
    assert store.list_validators(url) == (None, None)
    store.save_list_validators("beijingfao", {url: ('"abc"', "Sat, 01 Nov 2026 00:00:00 GMT")}, T0)
    assert store.list_validators(f"{SITE}/express/") == ('"abc"', "Sat, 01 Nov 2026 00:00:00 GMT")
    store.save_list_validators("beijingfao", {url: (None, "Sun, 02 Nov 2026 00:00:00 GMT")}, T0)
    assert store.list_validators(url) == (None, "Sun, 02 Nov 2026 00:00:00 GMT")


def test_v1_store_is_migrated_with_new_hashes_and_signatures(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    v1_store(
        path,
        (
            "INSERT INTO articles (guid, source, url, title, body, body_html, content_hash, "
            "first_seen, last_seen, sort_key) VALUES ('g', 'beijingfao', ?, ?, ?, '', 'v1:x', "
            "?, ?, '2025-04-30T16:00:00Z')",
            (CONFERENCE, TITLE, BODY + "\nPrint", T0.isoformat(), T0.isoformat()),
        ),
        (
            "INSERT INTO article_urls VALUES (?, ?, 1, ?)",
            (url_key(CONFERENCE), CONFERENCE, T0.isoformat()),
        ),
    )
    with Store(path) as store:
        assert store.save("beijingfao", article(url=CONFERENCE), T0) is Outcome.UNCHANGED
        copy = article(url=EXPRESS, body=BODY.replace("autumn", "spring"))
        assert store.save("beijingfao", copy, T0) is Outcome.DUPLICATE
        assert store.due_for_revisit("beijingfao", T0 + timedelta(days=1)) == [CONFERENCE]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT content_hash FROM articles").fetchone()[0].startswith("v2:")
    db.close()


def test_v5_signatures_are_recomputed_so_old_articles_still_catch_copies(tmp_path: Path) -> None:
    path = tmp_path / "v5.sqlite3"
    with Store(path) as store:
        store.save("beijingfao", article(url=CONFERENCE), T0)
    db = sqlite3.connect(path)  # as a v5 store left it: signatures of another tokenizer
    db.execute("UPDATE articles SET signature = ?", (pack_signature(tuple(range(64))),))
    db.execute("DELETE FROM article_bands")
    db.execute("PRAGMA user_version = 5")
    db.commit()
    db.close()
    with Store(path) as store:
        copy = article(url=EXPRESS, body=BODY.replace("autumn", "spring"))
        assert store.save("beijingfao", copy, T0) is Outcome.DUPLICATE
    db = sqlite3.connect(path)
    assert db.execute("SELECT signature FROM articles").fetchone()[0] == pack_signature(
        signature(BODY)
    )
    assert db.execute("SELECT count(*) FROM article_bands").fetchone()[0] == 16
    db.close()


def test_dedupe_cost_does_not_grow_with_the_store(tmp_path: Path) -> None:
    """Count SQLite VM steps of one save at 50 and at 1,000 stored articles: no scan."""
    rng = random.Random(5)
    words = [f"w{i}" for i in range(3000)]

    def fresh(n: int) -> Article:
        body = "\n".join(" ".join(rng.choices(words, k=12)) + "." for _ in range(6))
        return article(url=f"{SITE}/express/2025/t2025_{n}.html", title=f"Report {n}", body=body)

    def steps_of_one_save(store: Store, n: int) -> int:
        count = 0

        def tick() -> int:
            nonlocal count
            count += 1
            return 0

        store._db.set_progress_handler(tick, 1)
        assert store.save("beijingfao", fresh(n), T0) is Outcome.NEW
        store._db.set_progress_handler(None, 1)
        return count

    with Store(tmp_path / "store.sqlite3") as store:
        for n in range(50):
            store.save("beijingfao", fresh(n), T0)
        small = sum(steps_of_one_save(store, 10_000 + i) for i in range(5))
        for n in range(50, 1000):
            store.save("beijingfao", fresh(n), T0)
        large = sum(steps_of_one_save(store, 20_000 + i) for i in range(5))
    assert large < small * 1.5, (small, large)
