"""The feed server over HTTP on loopback: validators, 304, gzip, HEAD, formats, OPML."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from defusedxml import ElementTree as SafeET

from feeds.build import build_feeds
from feeds.server import FeedServer, accepts_gzip
from scraper.sources import Config
from scraper.store import Store
from tests.feedsupport import BASE, T0, article, one_source_config


class Served:
    def __init__(self, config: Config, store: Store, out: Path, server: FeedServer) -> None:
        self.config, self.store, self.out, self.server = config, store, out, server
        self.port = server.server_address[1]

    def request(
        self, path: str, method: str = "GET", **headers: str
    ) -> tuple[http.client.HTTPResponse, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
            response = conn.getresponse()
            return response, response.read()
        finally:
            conn.close()

    def rebuild(self) -> None:
        build_feeds(self.config, self.store, self.out, BASE)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    config = one_source_config(tmp_path)
    store = Store(tmp_path / "s.sqlite3")
    for i in range(1, 8):
        store.save("ccfao", article(i, channel="Picture News" if i % 2 else "Changchun News"), T0)
    out = tmp_path / "feeds"
    build_feeds(config, store, out, BASE)
    server = FeedServer(out, port=0)
    server.start_in_thread()
    yield Served(config, store, out, server)
    server.shutdown()
    server.server_close()
    store.close()


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/feeds/ccfao.atom", "application/atom+xml"),
        ("/feeds/ccfao.rss", "application/rss+xml"),
        ("/feeds/ccfao.json", "application/feed+json"),
        ("/feeds/ccfao/picture-news.atom", "application/atom+xml"),
        ("/feeds/archive/all/0.rss", "application/rss+xml"),
        ("/feeds.opml", "text/x-opml"),
        ("/", "text/html"),
    ],
)
def test_every_published_file_is_served_with_its_type(served: Served, path: str, kind: str) -> None:
    response, body = served.request(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == f"{kind}; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(body) > 0
    file = {"/": "index.html", "/feeds.opml": "feeds.opml"}.get(path, path.removeprefix("/feeds/"))
    assert body == (served.out / file).read_bytes()


def test_conditional_get_of_an_unchanged_feed_is_304_with_an_empty_body(served: Served) -> None:
    first, body = served.request("/feeds/ccfao.atom")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and modified and body
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        response, again = served.request("/feeds/ccfao.atom", **headers)
        assert response.status == 304
        assert again == b""
        assert response.headers["ETag"] == etag
        assert response.headers["Vary"] == "Accept-Encoding"
    # a weak validator of the same bytes matches too (If-None-Match uses weak comparison)
    assert served.request("/feeds/ccfao.atom", If_None_Match=f"W/{etag}")[0].status == 304
    # a stale validator gets the feed
    stale, body2 = served.request("/feeds/ccfao.atom", If_None_Match='"0000"')
    assert stale.status == 200 and body2 == body


def test_304_keeps_the_connection_usable(served: Served) -> None:
    """A 304 has no body: the next response on the same connection must not be misread."""
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        conn.request("GET", "/feeds/ccfao.rss")
        first = conn.getresponse()
        full = first.read()
        for _ in range(3):
            conn.request(
                "GET", "/feeds/ccfao.rss", headers={"If-None-Match": first.headers["ETag"]}
            )
            response = conn.getresponse()
            assert (response.status, response.read()) == (304, b"")
        conn.request("GET", "/feeds/ccfao.rss")
        assert conn.getresponse().read() == full
    finally:
        conn.close()


def test_a_changed_feed_gets_a_new_etag_and_body(served: Served) -> None:
    first, body = served.request("/feeds/ccfao.atom")
    time.sleep(0.01)
    served.store.save("ccfao", article(50), T0 + timedelta(days=1))
    served.rebuild()
    response, new_body = served.request("/feeds/ccfao.atom", If_None_Match=first.headers["ETag"])
    assert response.status == 200
    assert new_body != body and b"Report number 50 " in new_body
    assert response.headers["ETag"] != first.headers["ETag"]


def test_gzip_when_accepted_with_its_own_etag(served: Served) -> None:
    plain, body = served.request("/feeds/ccfao.atom")
    response, packed = served.request("/feeds/ccfao.atom", Accept_Encoding="br, gzip;q=0.8")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert int(response.headers["Content-Length"]) == len(packed) < len(body)
    assert gzip.decompress(packed) == body
    assert response.headers["ETag"] != plain.headers["ETag"]
    # each variant revalidates with its own tag
    again, empty = served.request(
        "/feeds/ccfao.atom", Accept_Encoding="gzip", If_None_Match=response.headers["ETag"]
    )
    assert (again.status, empty) == (304, b"")
    other, _ = served.request(
        "/feeds/ccfao.atom", Accept_Encoding="gzip", If_None_Match=plain.headers["ETag"]
    )
    assert other.status == 200
    refused, raw = served.request("/feeds/ccfao.atom", Accept_Encoding="gzip;q=0, identity")
    assert "Content-Encoding" not in refused.headers and raw == body


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("*", True),
        ("br", False),
        ("x-gzip", True),
        ("gzip;q=abc", False),
    ],
)
def test_accept_encoding(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_head_sends_the_get_headers_without_a_body(served: Served, encoding: str) -> None:
    got, body = served.request("/feeds/ccfao.json", Accept_Encoding=encoding)
    head, nothing = served.request("/feeds/ccfao.json", method="HEAD", Accept_Encoding=encoding)
    assert head.status == 200 and nothing == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Vary"):
        assert head.headers[name] == got.headers[name], name
    assert int(head.headers["Content-Length"]) == len(body)


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/../s.sqlite3",
        "/feeds/%2e%2e/s.sqlite3",
        "/feeds/..%2fs.sqlite3",
        "/feeds/nope.atom",
        "/feeds/ccfao.xml",
        "/feeds/.ccfao.atom",
        "/feeds//etc/passwd.atom",
        "/feeds/ccfao/../../s.sqlite3",
        "/s.sqlite3",
    ],
)
def test_anything_else_is_404(served: Served, path: str) -> None:
    response, _ = served.request(path)
    assert response.status == 404


def test_opml_lists_every_feed_and_the_index_has_autodiscovery(served: Served) -> None:
    _, raw = served.request("/feeds.opml")
    root = SafeET.fromstring(raw)
    assert root.tag == "opml" and root.get("version") == "2.0"
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    expected = [
        f"{BASE}/feeds/{slug}.atom"
        for slug in ("ccfao", "ccfao/changchun-news", "ccfao/picture-news", "all")
    ]
    assert urls == expected
    _, page = served.request("/")
    link = re.compile(r'<link rel="alternate" type="([^"]+)" title="[^"]+" href="([^"]+)">')
    assert set(link.findall(page.decode())) == {
        (f"application/{kind}", f"/feeds/{slug}.{fmt}")  # from the root: any host, any port
        for slug in ("ccfao", "ccfao/changchun-news", "ccfao/picture-news", "all")
        for fmt, kind in (("atom", "atom+xml"), ("rss", "rss+xml"), ("json", "feed+json"))
    }


def test_channel_feeds_hold_exactly_their_channel(served: Served) -> None:
    for slug, numbers in (("picture-news", {1, 3, 5, 7}), ("changchun-news", {2, 4, 6})):
        _, raw = served.request(f"/feeds/ccfao/{slug}.json")
        items = json.loads(raw)["items"]
        assert {int(i["title"].split()[2]) for i in items} == numbers
