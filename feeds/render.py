"""Render stored articles as Atom 1.0 and RSS 2.0 — the only module that imports feedgen.

Rendering is deterministic: the same articles give the same bytes. feedgen's defaults work
against that (``updated``/``lastBuildDate`` default to now, ``add_entry`` prepends), so every
time here comes from the data and entries are appended in the order given (newest first).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from scraper.store import StoredArticle
from scraper.xmlchars import strip_xml_forbidden

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # "updated" of a feed with no entries yet
SUMMARY_CHARS = 280


@dataclass(frozen=True, slots=True)
class FeedInfo:
    slug: str  # file stem: a source name, or "all"
    title: str
    homepage: str
    self_url: str  # where this feed is served, without the extension
    description: str
    lang: str | None = None


_x = strip_xml_forbidden


def entry_updated(article: StoredArticle) -> datetime:
    return article.updated or article.published or article.first_seen


def feed_updated(articles: Sequence[StoredArticle]) -> datetime:
    return max((entry_updated(a) for a in articles), default=EPOCH)


def summary(article: StoredArticle) -> str:
    first = article.body.split("\n", 1)[0]
    return first if len(first) <= SUMMARY_CHARS else first[: SUMMARY_CHARS - 1].rstrip() + "…"


def content_html(article: StoredArticle) -> str:
    if article.body_html.strip():
        return article.body_html
    return "".join(f"<p>{html.escape(line)}</p>" for line in article.body.split("\n"))


def _generator(info: FeedInfo, articles: Sequence[StoredArticle], ext: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(f"tag:govfeed,2026:feed:{info.slug}")
    fg.title(_x(info.title))
    fg.subtitle(_x(info.description))
    fg.link(href=info.homepage, rel="alternate")
    fg.link(href=f"{info.self_url}.{ext}", rel="self")
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
        entry.link(href=article.url, rel="alternate")
        entry.updated(entry_updated(article))
        entry.published(article.published or article.first_seen)
        if article.source_label:  # the issuing body as the page shows it
            entry.author(name=_x(article.source_label))
            entry.dc.dc_creator(_x(article.source_label))
        if article.channel:
            entry.category(term=_x(article.channel))
        entry.summary(_x(summary(article)))
        entry.content(_x(content_html(article)), type="CDATA" if ext == "rss" else "html")
    return fg


def render_atom(info: FeedInfo, articles: Sequence[StoredArticle]) -> bytes:
    return bytes(_generator(info, articles, "atom").atom_str(pretty=True))


def render_rss(info: FeedInfo, articles: Sequence[StoredArticle]) -> bytes:
    return bytes(_generator(info, articles, "rss").rss_str(pretty=True))
