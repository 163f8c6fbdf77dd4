"""Feeds validate: well-formed XML, RFC 822 / RFC 3339 dates, self and hub links, xml:lang,
no forbidden control characters, sanitized entry HTML with absolute URLs, and provenance."""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest
from defusedxml import ElementTree as SafeET

from feeds.build import build_feeds, feed_path
from feeds.catalog import published_feeds
from feeds.slugs import SLUG, channel_slug, channel_slugs
from scraper.store import Store
from tests.feedsupport import BASE, HOST, T0, article, one_source_config

ATOM = "{http://www.w3.org/2005/Atom}"
GF = "{tag:govfeed,2026:ns/provenance/1}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")

HOSTILE_HTML = (
    '<p onclick="steal()" style="position:fixed">Read <a href="../more.html">more</a> '
    'and <a href="javascript:alert(1)">this</a>.</p>'
    '<img src="/pic/a.jpg" onerror="x()"><script>alert(1)</script><style>p{}</style>'
    '<form action="/post"><input name="q"></form><iframe src="http://evil.example/"></iframe>'
    "<p>Ends with ]]> inside\x0b text\x00.</p>"
)


@pytest.fixture
def built(tmp_path: Path):
    config = one_source_config(tmp_path)
    with Store(tmp_path / "s.sqlite3") as store:
        store.save(
            "ccfao",
            article(
                1,
                title="Bad\x0btitle\x00 with ]]> and \x1fend",
                body="Body\x0c with a form feed.\nSecond line.",
                body_html=HOSTILE_HTML,
            ),
            T0,
        )
        store.save("ccfao", article(2), T0)
        # the same article in a second channel, found a day later: one entry, two URLs
        copy = article(2, channel="Picture News", url=f"{HOST}/tpxw/202008/t20200801_2.html")
        store.save("ccfao", copy, T0 + timedelta(days=1))
        build_feeds(config, store, tmp_path / "feeds", BASE)
        stored = {a.guid: a for a in store.latest(None, 100)}
    return tmp_path / "feeds", stored


SLUGS = ["ccfao", "ccfao/changchun-news", "all", "archive/ccfao/0"]


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_xml_feeds_are_well_formed_without_forbidden_characters(built, slug: str, fmt: str) -> None:
    out, _ = built
    raw = (out / f"{slug}.{fmt}").read_bytes()
    SafeET.fromstring(raw)
    assert not FORBIDDEN.search(raw)
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")


@pytest.mark.parametrize("slug", SLUGS)
def test_rss_dates_are_rfc822_and_links_are_right(built, slug: str) -> None:
    out, _ = built
    channel = SafeET.fromstring((out / f"{slug}.rss").read_bytes()).find("channel")
    dates = [channel.findtext("lastBuildDate")]
    dates += [item.findtext("pubDate") for item in channel.findall("item")]
    assert len(dates) >= 2
    for date in dates:
        assert RFC822.match(date), date
        assert email.utils.parsedate_to_datetime(date).tzinfo is not None
    links = {link.get("rel"): link.get("href") for link in channel.findall(f"{ATOM}link")}
    assert links["self"] == f"{BASE}/feeds/{slug}.rss"
    assert links["hub"] == f"{BASE}/websub"
    assert channel.findtext("link") == f"{HOST}/" if slug != "all" else f"{BASE}/"
    assert channel.findtext("language") == "en"


@pytest.mark.parametrize("slug", SLUGS)
def test_atom_dates_are_rfc3339_with_lang_and_links(built, slug: str) -> None:
    out, _ = built
    feed = SafeET.fromstring((out / f"{slug}.atom").read_bytes())
    assert feed.get(XML_LANG) == "en"
    dates = [feed.findtext(f"{ATOM}updated")]
    for entry in feed.findall(f"{ATOM}entry"):
        dates += [entry.findtext(f"{ATOM}updated"), entry.findtext(f"{ATOM}published")]
        dates.append(entry.find(f"{GF}provenance").findtext(f"{GF}firstSeen"))
    assert len(dates) >= 4
    for date in dates:
        assert RFC3339.match(date), date
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"] == f"{BASE}/feeds/{slug}.atom"
    assert links["hub"] == f"{BASE}/websub"


def _entry_html(out: Path, fmt: str) -> str:
    if fmt == "json":
        items = json.loads((out / "ccfao.json").read_text())["items"]
        return next(i["content_html"] for i in items if i["title"].startswith("Badtitle"))
    parsed = feedparser.parse((out / f"ccfao.{fmt}").read_bytes(), sanitize_html=False)
    return next(e.content[0].value for e in parsed.entries if e.title.startswith("Badtitle"))


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_entry_html_is_sanitized_with_absolute_urls(built, fmt: str) -> None:
    out, _ = built
    html = _entry_html(out, fmt)
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    banned = ("script", "style", "form", "input", "iframe", "object", "embed")
    assert not [el.tag for el in tree.iter() if el.tag in banned]
    assert not [a for el in tree.iter() for a in el.attrib if a.startswith("on") or a == "style"]
    hrefs = [el.get("href") for el in tree.iter("a") if el.get("href")]
    srcs = [el.get("src") for el in tree.iter("img")]
    # relative URLs resolved against the article's own URL; javascript: dropped
    assert hrefs == [f"{HOST}/xw/ccxw1/more.html"]
    assert srcs == [f"{HOST}/pic/a.jpg"]
    assert all(urlsplit(u).scheme in ("http", "https") for u in hrefs + srcs)
    assert "alert" not in html and "Read " in html and "]]&gt; inside text." in html


def test_titles_lose_control_characters_in_every_format(built) -> None:
    out, _ = built
    for fmt in ("atom", "rss"):
        titles = [e.title for e in feedparser.parse((out / f"ccfao.{fmt}").read_bytes()).entries]
        assert "Badtitle with ]]> and end" in titles
    titles = [i["title"] for i in json.loads((out / "ccfao.json").read_text())["items"]]
    assert "Badtitle with ]]> and end" in titles


def test_provenance_lists_every_url_first_seen_and_hash(built) -> None:
    out, stored = built
    [merged] = [a for a in stored.values() if len(a.urls) == 2]
    urls = [f"{HOST}/xw/ccxw1/202008/t20200801_2.html", f"{HOST}/tpxw/202008/t20200801_2.html"]
    atom = SafeET.fromstring((out / "all.atom").read_bytes())
    [entry] = [e for e in atom.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}id") == merged.guid]
    prov = entry.find(f"{GF}provenance")
    assert [u.text for u in prov.findall(f"{GF}seenAt")] == urls
    assert prov.findtext(f"{GF}firstSeen") == "2026-11-01T08:00:00Z"
    assert prov.findtext(f"{GF}contentHash") == merged.content_hash
    assert re.fullmatch(r"v2:[0-9a-f]{64}", merged.content_hash)
    rss = SafeET.fromstring((out / "all.rss").read_bytes()).find("channel")
    [item] = [i for i in rss.findall("item") if i.findtext("guid") == merged.guid]
    assert [u.text for u in item.find(f"{GF}provenance").findall(f"{GF}seenAt")] == urls
    items = json.loads((out / "all.json").read_text())["items"]
    [item] = [i for i in items if i["id"] == merged.guid]
    assert item["_govfeed"]["urls"] == urls
    assert item["_govfeed"]["first_seen"] == "2026-11-01T08:00:00Z"
    assert item["_govfeed"]["content_hash"] == merged.content_hash


def test_json_feed_is_version_1_1_with_hub_and_dates(built) -> None:
    out, _ = built
    doc = json.loads((out / "ccfao/changchun-news.json").read_text())
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["feed_url"] == f"{BASE}/feeds/ccfao/changchun-news.json"
    assert doc["home_page_url"] == f"{HOST}/"
    assert doc["hubs"] == [{"type": "WebSub", "url": f"{BASE}/websub"}]
    assert doc["language"] == "en"
    assert doc["next_url"] == f"{BASE}/feeds/archive/ccfao/changchun-news/0.json"
    assert [i["title"].split()[:3] for i in doc["items"]] == [
        ["Report", "number", "2"],
        ["Badtitle", "with", "]]>"],
    ]
    for item in doc["items"]:
        assert item["tags"] == ["Changchun News"]
        assert item["authors"] == [{"name": "CCFAO"}]
        for key in ("date_published", "date_modified"):
            assert RFC3339.match(item[key]), item[key]
    assert doc["items"][0]["date_published"] == "2020-01-01T02:00:00+00:00"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Changchun News", "changchun-news"),
        ("  Picture   News!! ", "picture-news"),
        ("../../etc/passwd", "etc-passwd"),
        ("Café Résumé", "cafe-resume"),
        ("COVID-19 / Updates", "covid-19-updates"),
        ("..", "channel-" + hashlib.sha1(b"..").hexdigest()[:8]),
        ("ニュース", "channel-" + hashlib.sha1("ニュース".encode()).hexdigest()[:8]),
        ("新闻\x00/..", "channel-" + hashlib.sha1("新闻\x00/..".encode()).hexdigest()[:8]),
    ],
)
def test_channel_slugs_are_safe(name: str, slug: str) -> None:
    assert channel_slug(name) == slug
    assert SLUG.match(slug)


def test_channel_slugs_stay_unique_within_a_source() -> None:
    slugs = channel_slugs(["News", "news", "NEWS!", "Events"])
    assert slugs["Events"] == "events"
    assert slugs["NEWS!"] == "news"  # first in sorted order keeps the plain slug
    assert slugs["News"] == "news-" + hashlib.sha1(b"News").hexdigest()[:8]
    assert slugs["news"] == "news-" + hashlib.sha1(b"news").hexdigest()[:8]
    assert len(set(slugs.values())) == 4


def test_hostile_channel_names_stay_inside_the_feeds_folder(tmp_path: Path) -> None:
    config = one_source_config(tmp_path)
    out = tmp_path / "feeds"
    with Store(tmp_path / "s.sqlite3") as store:
        store.save("ccfao", article(1, channel="../../../outside"), T0)
        store.save("ccfao", article(2, channel="/abs/path"), T0)
        build_feeds(config, store, out, BASE)
        infos = published_feeds(config, store, BASE)
    assert [i.slug for i in infos] == ["ccfao", "ccfao/abs-path", "ccfao/outside", "all"]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".atom", ".json")]
    assert all(p.is_relative_to(out) for p in written)
    with pytest.raises(ValueError, match="leaves the feeds folder"):
        feed_path(out, "../escape", "atom")


def test_feeds_render_the_same_bytes_twice(tmp_path: Path, built) -> None:
    out, _ = built
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    config = one_source_config(tmp_path)
    with Store(tmp_path / "s.sqlite3") as store:
        assert build_feeds(config, store, out, BASE) == []
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
