"""Hostile input that must not turn govfeed against its host: paths and XML.

Paths: a source's name becomes a file name (``<data>/feeds/<name>.atom``), so only a plain
slug is accepted at config load; the replay server maps request hosts and paths to files, so
no request may read outside its fixtures folder. XML: every parse goes through
``scraper.safexml.parse_xml``, which refuses entity declarations and expands nothing.
"""

from __future__ import annotations

import socket
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from scraper.extract import extract_article
from scraper.replay import ReplayServer
from scraper.safexml import XMLError, parse_xml
from scraper.sources import ConfigError, load_config
from tests.conftest import run_govfeed
from tests.test_sources import GOOD

# -- paths: source names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../etc",
        "..",
        ".",
        "../feeds",
        "/etc/passwd",
        "a/b",
        "a\\\\b",  # TOML escape: one backslash
        "x\\u0000y",  # TOML escape: a NUL in the name
        "ccfao\\n",  # "$" in a regex matches before a final newline: must still be refused
        "",
        "CCFAO",
        "all",  # the combined feed's name: its files would be overwritten
        "health",  # the health feed's
        "archive",  # the folder of archive pages
        "watch-germany",  # a keyword watch's feed
        "a" * 65,
    ],
)
def test_a_source_name_that_is_not_a_plain_slug_is_refused_at_load(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD.replace('name = "ccfao"', f'name = "{name}"'), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "\n" not in message
    assert "field 'name'" in message


def test_the_cli_names_a_traversal_source_on_one_line_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text(GOOD.replace('name = "ccfao"', 'name = "../../etc"'), encoding="utf-8")
    result = run_govfeed("crawl", data=tmp_path / "data", config=config, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'../../etc' is not a slug" in lines[0], result.stderr
    assert not (tmp_path / "data").exists()  # nothing written anywhere


# -- paths: the replay server -----------------------------------------------------------------

HOST = "www.replica.gov.cn"


@pytest.fixture
def replica(tmp_path: Path) -> tuple[Path, Path]:
    """A replay root with one page, a secret beside the root, and a symlink pointing out."""
    root = tmp_path / "sites"
    (root / HOST / "news").mkdir(parents=True)
    (root / HOST / "news" / "page.html").write_text("<p>public page</p>", encoding="utf-8")
    (root / "other.gov.cn").mkdir()
    (root / "other.gov.cn" / "page.html").write_text("<p>other host</p>", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    (root / HOST / "news" / "link.html").symlink_to(secret)
    return root, secret


def raw_request(proxy_url: str, request: bytes) -> bytes:
    """Send bytes exactly as given (no client library tidies the path) and read the answer."""
    host, port = proxy_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def get(target: str, host: str = HOST) -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


def test_the_replay_server_serves_its_own_pages(replica: tuple[Path, Path]) -> None:
    root, _ = replica
    with ReplayServer(root) as server:
        answer = raw_request(server.proxy_url, get(f"http://{HOST}/news/page.html"))
        plain = raw_request(server.proxy_url, get("/news/page.html"))
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"<p>public page</p>")
    assert plain.startswith(b"HTTP/1.1 200") and plain.endswith(b"<p>public page</p>")


@pytest.mark.parametrize(
    ("target", "host"),
    [
        (f"http://{HOST}/../secret.txt", HOST),
        (f"http://{HOST}/../../secret.txt", HOST),
        (f"http://{HOST}/%2e%2e/%2e%2e/secret.txt", HOST),
        (f"http://{HOST}/%2E%2E%2F%2E%2E%2Fsecret.txt", HOST),
        (f"http://{HOST}/news/..%2f..%2f..%2fsecret.txt", HOST),
        (f"http://{HOST}/news/link.html", HOST),  # a symlink out of the folder
        (f"http://{HOST}/../other.gov.cn/page.html", HOST),  # another host's folder
        ("/../../secret.txt", HOST),
        ("/secret.txt", ".."),  # the Host header is the client's to write
        ("/secret.txt", "%2e%2e"),
        ("/sites/../secret.txt", "."),
        ("/secret.txt", "{tmp}"),  # an absolute path as the host
        ("/{tmp}/secret.txt", HOST),  # an absolute path as the path
        (f"http://{HOST}//{{tmp}}/secret.txt", HOST),
        (f"http://{HOST}/news/page.html%00.txt", HOST),  # NUL: no crash, no file
        ("/news/page.html", "www.replica.gov.cn/../other.gov.cn"),
    ],
)
def test_the_replay_server_never_reads_outside_its_folder(
    replica: tuple[Path, Path], target: str, host: str
) -> None:
    root, secret = replica
    tmp = str(secret.parent).lstrip("/")
    target, host = target.replace("{tmp}", tmp), host.replace("{tmp}", "/" + tmp)
    with ReplayServer(root) as server:
        answer = raw_request(server.proxy_url, get(target, host))
    status = answer.split(b"\r\n", 1)[0]
    assert status in (b"HTTP/1.1 404 Not Found", b"HTTP/1.1 400 Bad Request"), answer[:200]
    assert b"TOP SECRET" not in answer and b"other host" not in answer


def test_a_tunnel_to_a_path_is_refused(replica: tuple[Path, Path]) -> None:
    root, secret = replica
    with ReplayServer(root) as server:
        request = f"CONNECT {secret.parent}:443 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        answer = raw_request(server.proxy_url, request)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


# -- XML ----------------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE feed [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol9;</title>
<entry><title a="&lol9;">entry</title></entry></feed>"""


def external_entity(target: Path) -> bytes:
    return (
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "'
        + target.as_uri().encode()
        + b'">]><feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>'
    )


def test_the_unsafe_default_parser_would_expand_entities() -> None:
    """The premise: lxml's default parser expands internal entities (so the helper matters)."""
    small = b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>'
    assert etree.fromstring(small).text == "a" * 40


@pytest.mark.parametrize("in_attribute", [True, False])
def test_parse_xml_refuses_a_billion_laughs(in_attribute: bool) -> None:
    document = BILLION_LAUGHS if in_attribute else BILLION_LAUGHS.replace(b' a="&lol9;"', b"")
    # libxml2 stops an attribute's expansion itself (amplification limit); the rest is refused
    # for declaring entities at all. Either way: an XMLError, nothing expanded.
    with pytest.raises(XMLError, match="entit"):
        parse_xml(document)


def test_parse_xml_refuses_an_external_entity(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    with pytest.raises(XMLError, match="declares entities"):
        parse_xml(external_entity(secret))
    with pytest.raises(XMLError, match="declares entities"):
        parse_xml(external_entity(Path("/etc/passwd")))


def test_parse_xml_reads_plain_xml_and_refuses_malformed_xml() -> None:
    root = parse_xml(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A &amp; B</title></feed>')
    assert root.findtext("{http://www.w3.org/2005/Atom}title") == "A & B"
    for bad in (b"", b"<feed>", b"<a>&undefined;</a>", b"not xml"):
        with pytest.raises(XMLError):
            parse_xml(bad)


def test_feedparser_in_the_tests_expands_neither(tmp_path: Path) -> None:
    """The tests also read feeds with feedparser: it must not expand entities either."""
    laughs = feedparser.parse(BILLION_LAUGHS)
    assert "lollol" not in str(laughs.feed.get("title", ""))
    assert all("lollol" not in str(e.get("title", "")) for e in laughs.entries)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    assert "TOP SECRET" not in str(feedparser.parse(external_entity(secret)))


def test_an_html_page_declaring_entities_is_extracted_without_expanding_them(
    tmp_path: Path,
) -> None:
    """Pages go through lxml's HTML parser, which ignores an internal DTD's entities."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    head, _, _ = BILLION_LAUGHS.partition(b"<feed")
    head = head.replace(b"]>", f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'.encode())
    body = b"<p>" + b"The delegation met the mayor to discuss trade. " * 20 + b"</p>"
    page = head + (
        b"<html><head><title>Laughs</title></head><body><h1>Laughs</h1>"
        b'<div class="article-content"><p>Start &lol9; middle &xxe; end.</p>' + body + b"</div>"
        b"</body></html>"
    )
    article = extract_article(page, url="http://www.replica.gov.cn/news/t20261101_1.html")
    assert article.title == "Laughs"
    assert "The delegation met the mayor" in article.body
    assert "lollol" not in article.body and "TOP SECRET" not in article.body
    assert len(article.body) < 5000
