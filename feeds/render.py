"""Render stored articles as Atom 1.0 and RSS 2.0 (feedgen) — JSON Feed is in jsonfeed.py.

Rendering is deterministic: the same articles give the same bytes. feedgen's defaults work
against that (``updated``/``lastBuildDate`` default to now, ``add_entry`` prepends), so every
time here comes from the data and entries are appended in the order given (newest first).
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from feeds.extensions import (
    HistoryExtension,
    ProvenanceExtension,
    ProvenanceFeedExtension,
)
from feeds.sanitize import entry_html
from scraper.store import StoredArticle
from scraper.xmlchars import strip_xml_forbidden

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # "updated" of a feed with no entries yet
SUMMARY_CHARS = 280
FORMATS = {  # extension → media type (RFC 4287, RSS 2.0 usage, JSON Feed 1.1)
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


@dataclass(frozen=True, slots=True)
class FeedInfo:
    slug: str  # path under feeds/ without extension: "ccfao", "ccfao/picture-news", "all"
    title: str
    homepage: str
    self_url: str  # where this feed is served, without the extension
    description: str
    lang: str | None = None
    hub_url: str | None = None  # WebSub hub advertised with rel="hub"
    source: str | None = None  # None: every source
    channel: str | None = None  # None: every channel of the source
    query: str | None = None  # a keyword watch: full-text matches from every source

    def url(self, fmt: str) -> str:
        """The feed's URL in one of ``FORMATS``."""
        return f"{self.self_url}.{fmt}"


@dataclass(frozen=True, slots=True)
class ArchiveLinks:
    """RFC 5005 §4 links of one document, as URLs without the format extension."""

    current: str  # the subscription document
    prev: str | None  # the next older archive document
    next: str | None = None  # the next newer archive document
    is_archive: bool = False  # this document is an archive (gets fh:archive)

    def pairs(self, fmt: str) -> list[tuple[str, str]]:
        out = [("prev-archive", self.prev), ("next-archive", self.next)]
        if self.is_archive:
            out.insert(0, ("current", self.current))
        return [(rel, f"{href}.{fmt}") for rel, href in out if href]


_x = strip_xml_forbidden


def entry_updated(article: StoredArticle) -> datetime:
    return article.updated or article.published or article.first_seen


def feed_updated(articles: Sequence[StoredArticle]) -> datetime:
    return max((entry_updated(a) for a in articles), default=EPOCH)


def summary(article: StoredArticle) -> str:
    first = _x(article.body).split("\n", 1)[0]
    return first if len(first) <= SUMMARY_CHARS else first[: SUMMARY_CHARS - 1].rstrip() + "…"


_SANITIZED: OrderedDict[tuple[str, str], str] = OrderedDict()  # (url, content hash) → HTML
_SANITIZED_MAX = 2048


def content_html(article: StoredArticle) -> str:
    """Sanitized entry HTML with absolute URLs (plain text as paragraphs when there is none).

    Kept for the latest few thousand articles: one article appears in up to three formats of
    its source, channel, combined and archive feeds, and sanitizing dominates a rebuild.
    """
    key = (article.url, article.content_hash)
    if (cached := _SANITIZED.get(key)) is not None:
        _SANITIZED.move_to_end(key)
        return cached
    raw = article.body_html
    if not raw.strip():
        raw = "".join(f"<p>{html.escape(line)}</p>" for line in article.body.split("\n"))
    _SANITIZED[key] = sanitized = entry_html(raw, article.url)
    if len(_SANITIZED) > _SANITIZED_MAX:
        _SANITIZED.popitem(last=False)
    return sanitized


def _generator(
    info: FeedInfo,
    articles: Sequence[StoredArticle],
    ext: str,
    archive: ArchiveLinks | None,
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.register_extension("history", HistoryExtension, None)
    fg.register_extension("gf", ProvenanceFeedExtension, ProvenanceExtension)
    fg.id(f"tag:govfeed,2026:feed:{info.slug}")
    fg.title(_x(info.title))
    fg.subtitle(_x(info.description))
    links = [("self", info.url(ext))]
    if info.hub_url:
        links.append(("hub", info.hub_url))
    links += archive.pairs(ext) if archive else []
    for rel, href in links:
        fg.link(href=href, rel=rel)
    fg.link(href=info.homepage, rel="alternate")  # last: feedgen makes it RSS's <link>
    history: HistoryExtension = fg.history
    history.is_archive = bool(archive and archive.is_archive)
    history.rss_links = [(rel, href) for rel, href in links if rel != "self"]
    fg.generator("govfeed")
    fg.author(name=_x(info.title))  # entries without a source label fall back to this
    if info.lang:
        fg.language(info.lang)
    fg.updated(feed_updated(articles))
    for article in articles:
        entry = fg.add_entry(order="append")
        entry.id(article.guid)
        entry.guid(article.guid, permalink=False)
        entry.title(_x(article.title))
        entry.link(href=_x(article.url), rel="alternate")
        entry.updated(entry_updated(article))
        entry.published(article.published or article.first_seen)
        if article.source_label:  # the issuing body as the page shows it
            entry.author(name=_x(article.source_label))
            entry.dc.dc_creator(_x(article.source_label))
        if article.channel:
            entry.category(term=_x(article.channel))
        entry.summary(summary(article))
        entry.content(content_html(article), type="CDATA" if ext == "rss" else "html")
        provenance: ProvenanceExtension = entry.gf
        provenance.urls = article.urls or (article.url,)
        provenance.first_seen = article.first_seen
        provenance.content_hash = article.content_hash
    return fg


def render_atom(
    info: FeedInfo, articles: Sequence[StoredArticle], archive: ArchiveLinks | None = None
) -> bytes:
    return bytes(_generator(info, articles, "atom", archive).atom_str(pretty=True))


def render_rss(
    info: FeedInfo, articles: Sequence[StoredArticle], archive: ArchiveLinks | None = None
) -> bytes:
    return bytes(_generator(info, articles, "rss", archive).rss_str(pretty=True))
