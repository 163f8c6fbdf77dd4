"""Keyword watches and search: full-text queries over the store, their feeds and endpoint."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html

from feeds.server import FeedServer
from feeds.watches import install_search
from scraper.extract.article import Article
from scraper.fulltext import QueryError, check_query, index_text
from scraper.sources import ConfigError, load_config
from scraper.store import Store
from tests.conftest import SITES, run_govfeed, v1_store
from tests.test_crawl import HOST, articles, crawl, make_config

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI)
SITE = "http://www.example.gov.cn"


def article(n: int, title: str, body: str) -> Article:
    return Article(
        url=f"{SITE}/xw/t20261101_{n}.html",
        title=title,
        body=body,
        body_html="",
        published=T0 - timedelta(days=n),
        lang="zh",
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store.sqlite3") as s:
        s.save("a", article(1, "德国总理访问长春", "双方讨论了汽车产业合作。"), T0)
        s.save("a", article(2, "日本友好城市代表团来访", "代表团参观了长春电影制片厂。"), T0)
        s.save("b", article(3, "Germany and Changchun", "A delegation from Wolfsburg arrived."), T0)
        s.save("b", article(4, "German engineers return", "More than 200 engineers came back."), T0)
        s.save("b", article(5, "Youth camp opens", "Students from Sendai, Japan, joined."), T0)
        yield s


def titles(found: list) -> list[str]:
    return [a.title for a in found]


# The definition, one run at a time: a run of CJK characters (Han with extensions and
# compatibility ideographs, kana, Hangul, CJK punctuation) becomes " " + its characters
# joined by " " + " ".
_CJK_RUN = re.compile(
    "[\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]+"
)


@given(
    st.text(
        alphabet=st.sampled_from([*"ab 9\n,", *"德国。」ア한", "\U00020001", "\ud800", "\x00"])
    ),
    st.integers(min_value=1, max_value=8),
)
def test_index_text_spaces_each_cjk_run_however_the_text_is_chunked(text: str, chunk: int) -> None:
    expected = _CJK_RUN.sub(lambda run: f" {' '.join(run[0])} ", text)
    assert index_text(text, chunk) == expected
    assert index_text(text) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("德国", ["德国总理访问长春"]),  # two characters: shorter than a trigram
        ("长春", ["德国总理访问长春", "日本友好城市代表团来访"]),  # title of one, body of other
        ("国总", ["德国总理访问长春"]),  # characters in a row match wherever they stand
        ("德长", []),  # not in a row: no match
        ("汽车 合作", ["德国总理访问长春"]),  # both must occur
        ("Germany", ["Germany and Changchun"]),  # a word, not a prefix of longer words
        ("German", ["German engineers return"]),
        ("Germany OR German", ["Germany and Changchun", "German engineers return"]),
        ("germ*", ["Germany and Changchun", "German engineers return"]),
        ("WOLFSBURG", ["Germany and Changchun"]),  # case does not matter
        ("title:Japan", []),
        ("body:Japan", ["Youth camp opens"]),
        ("Japan OR 日本", ["日本友好城市代表团来访", "Youth camp opens"]),
        ('"engineers return"', ["German engineers return"]),
        ('"return engineers"', []),
        ("engineers NOT German", []),
        ("(Germany OR Japan) NOT Wolfsburg", ["Youth camp opens"]),
    ],
)
def test_search_matches_words_and_chinese_runs(store: Store, query: str, expected) -> None:
    assert titles(store.search(query)) == expected  # newest first, like every feed


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("OR", "syntax error"),
        ("NOT Germany", "syntax error"),
        ("(Germany", "syntax error"),
        ('"Germany', "unclosed quote"),
        ("---", "no letters or digits"),
        ("x" * 501, "longer than 500"),
    ],
)
def test_bad_query_is_a_clear_error(store: Store, query: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        store.search(query)
    with pytest.raises(QueryError, match=reason):
        check_query(query)


def test_edited_article_is_found_by_its_new_words_only(store: Store) -> None:
    edited = article(4, "German engineers return", "More than 300 technicians came back.")
    store.save("b", edited, T0 + timedelta(days=1))
    assert titles(store.search("technicians")) == ["German engineers return"]
    assert store.search("engineers NOT German") == []
    assert store.search("200") == []


def test_migration_indexes_articles_stored_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    v1_store(
        path,
        (
            "INSERT INTO articles (guid, source, url, title, body, body_html, content_hash, "
            "first_seen, last_seen, sort_key) VALUES ('g', 'a', ?, '德国代表团访问', "
            "'Talks on trade.', '', 'v1:x', ?, ?, '2026-11-01T00:00:00Z')",
            (f"{SITE}/t1.html", T0.isoformat(), T0.isoformat()),
        ),
    )
    with Store(path) as store:
        assert titles(store.search("德国")) == ["德国代表团访问"]
        assert titles(store.search("trade")) == ["德国代表团访问"]


WATCH = """
[[source]]
name = "ccfao"
title = "Changchun FAO"
homepage = "http://en.changchun.gov.cn/"
start_urls = ["http://en.changchun.gov.cn/xw/ccxw1/index.html"]
allowed_domains = ["en.changchun.gov.cn"]
article_patterns = ['/t\\d{8}_\\d+\\.html?$']

[[watch]]
name = "germany"
query = "Germany OR German"
"""


def test_watch_config_parses(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(WATCH, encoding="utf-8")
    [watch] = load_config(path).watches
    assert (watch.slug, watch.query) == ("watch-germany", "Germany OR German")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'name = "germany"',
            'name = "Ger many"',
            "[[watch]] #1 ('Ger many'): field 'name': 'Ger many' is not",
        ),
        ('"Germany OR German"', '"Germany OR"', "[[watch]] #1 (germany): field 'query': bad full"),
        ('"Germany OR German"', '""', "field 'query': empty full-text query"),
        ('query = "Germany OR German"', "", "[[watch]] #1 (germany): field 'query': Field req"),
        ('name = "germany"', 'name = "germany"\nqueries = 1', "field 'queries': Extra inputs"),
    ],
)
def test_bad_watch_is_one_clear_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(WATCH.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert expected in message, message


def test_duplicate_watch_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    second = WATCH[WATCH.index("[[watch]]") :].replace("Germany OR German", "Japan")
    path.write_text(WATCH + second, encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate watch name 'germany'"):
        load_config(path)


# -- over the replica --------------------------------------------------------------------------


def replica_texts() -> dict[str, str]:
    """Title and article body of every replica article page, read straight from the fixtures.

    The body is the text of the page's one ``TRS_Editor`` div (the CMS's article container);
    the title comes from the hand-checked expected JSON. Nothing here uses govfeed's code.
    """
    texts = {}
    for path in sorted((SITES / HOST).rglob("*.expected.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        [page] = path.parent.glob(path.name.replace(".expected.json", ".htm*"))
        [body] = lxml_html.fromstring(page.read_bytes()).xpath('//div[@class="TRS_Editor"]')
        texts[expected["url"]] = expected["title"] + "\n" + body.text_content()
    return texts


def matching_articles(pattern: str) -> list[set[str]]:
    """The replica's articles (URL groups) whose title or body holds a word ``pattern`` matches."""
    texts = replica_texts()
    word = re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)
    return [g for g in articles() if any(word.search(texts[url]) for url in g)]


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("watch-crawl")
    config = make_config(tmp)
    text = config.read_text(encoding="utf-8")
    text += '\n[[watch]]\nname = "germany"\nquery = "Germany OR German"\n'
    text += '\n[[watch]]\nname = "japan-exchanges"\nquery = "Japan* exchange*"\n'
    config.write_text(text, encoding="utf-8")
    data = tmp / "data"
    crawl(data, config)
    return data


def entry_groups(feed_path: Path) -> list[set[str]]:
    feed = feedparser.parse(feed_path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    groups = articles()
    found = []
    for entry in feed.entries:
        [group] = [g for g in groups if entry.link in g]
        found.append(group)
    return found


def as_sets(groups: list[set[str]]) -> set[frozenset[str]]:
    return {frozenset(g) for g in groups}


@pytest.mark.parametrize("ext", ["atom", "rss"])
def test_watch_feed_holds_exactly_the_matching_replica_articles(watched: Path, ext: str) -> None:
    expected = matching_articles("Germany|German")
    assert len(expected) >= 8  # the replica really exercises the watch
    found = entry_groups(watched / "feeds" / f"watch-germany.{ext}")
    assert len(found) == len(expected)  # each article once, though some have two URLs
    assert as_sets(found) == as_sets(expected)


def test_watch_with_prefixes_and_two_words(watched: Path) -> None:
    texts = replica_texts()
    japan = re.compile(r"\bJapan\w*", re.IGNORECASE)
    exchange = re.compile(r"\bexchange\w*", re.IGNORECASE)
    expected = [
        g
        for g in articles()
        if any(japan.search(texts[u]) and exchange.search(texts[u]) for u in g)
    ]
    assert 2 <= len(expected) < len(matching_articles("Japan\\w*"))
    found = entry_groups(watched / "feeds" / "watch-japan-exchanges.atom")
    assert as_sets(found) == as_sets(expected)


@pytest.fixture(scope="module")
def search_server(watched: Path) -> str:
    config = load_config(watched.parent / "sources.toml")
    server = FeedServer(watched / "feeds", port=0)
    install_search(server, config, watched / "govfeed.sqlite3", server.url)
    server.start_in_thread()
    yield server.url
    server.shutdown()
    server.server_close()


def test_search_endpoint_answers_an_ad_hoc_query(search_server: str) -> None:
    url = f"{search_server}/feeds/search.atom?q=" + urllib.parse.quote("Wolfsburg OR Sendai")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        feed = feedparser.parse(response.read())
    assert not feed.bozo
    links = {entry.link for entry in feed.entries}
    expected = matching_articles("Wolfsburg|Sendai")
    assert len(expected) >= 2
    assert len(links) == len(expected)
    assert all(any(link in g for g in expected) for link in links)


@pytest.mark.parametrize("query", ["", "q=", "q=%20", "q=NOT+Germany", "q=%28Germany", "q=---"])
def test_search_endpoint_refuses_a_bad_query_with_400(search_server: str, query: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{search_server}/feeds/search.atom?{query}", timeout=10)
    assert info.value.code == 400
    assert b"query" in info.value.read()


def test_sources_command_lists_watches(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(WATCH, encoding="utf-8")
    result = run_govfeed("sources", data=tmp_path / "data", config=path)
    assert result.returncode == 0, result.stderr
    assert "watch-germany" in result.stdout
    assert "1 sources, 1 watches, valid" in result.stdout


def test_search_endpoint_reads_a_chinese_query(store: Store, tmp_path: Path) -> None:
    config = load_config(write_watch_config(tmp_path))
    server = FeedServer(tmp_path / "feeds", port=0)
    install_search(server, config, store.path, server.url)
    server.start_in_thread()
    try:
        url = f"{server.url}/feeds/search.atom?q=" + urllib.parse.quote("德国 OR 日本")
        with urllib.request.urlopen(url, timeout=10) as response:
            feed = feedparser.parse(response.read())
    finally:
        server.shutdown()
        server.server_close()
    assert not feed.bozo
    assert [e.title for e in feed.entries] == ["德国总理访问长春", "日本友好城市代表团来访"]
    assert "德国 OR 日本" in feed.feed.title


def write_watch_config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(WATCH, encoding="utf-8")
    return path
