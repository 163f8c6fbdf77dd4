"""Render stored articles as JSON Feed 1.1 (https://jsonfeed.org/version/1.1).

Same entries, ids, dates and sanitized HTML as the Atom and RSS feeds; provenance goes into
the ``_govfeed`` extension object (JSON Feed reserves keys starting with ``_`` for that).
The history is reachable through ``next_url``, JSON Feed's paging link, which points from
each document to the next older one (the RFC 5005 ``prev-archive`` of the XML feeds).
Deterministic like the others: keys in a fixed order, no time read from the clock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from feeds.extensions import rfc3339
from feeds.render import ArchiveLinks, FeedInfo, content_html, entry_updated, summary
from scraper.store import StoredArticle
from scraper.xmlchars import strip_xml_forbidden as _x

VERSION = "https://jsonfeed.org/version/1.1"
EXTENSION_ABOUT = "tag:govfeed,2026:ns/provenance/1"


def _item(article: StoredArticle) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": article.guid,
        "url": article.url,
        "title": _x(article.title),
        "content_html": content_html(article),
        "summary": summary(article),
        "date_published": (article.published or article.first_seen).isoformat(),
        "date_modified": entry_updated(article).isoformat(),
    }
    if article.source_label:
        item["authors"] = [{"name": _x(article.source_label)}]
    if article.channel:
        item["tags"] = [_x(article.channel)]
    if article.lang:
        item["language"] = article.lang
    item["_govfeed"] = {
        "about": EXTENSION_ABOUT,
        "urls": list(article.urls or (article.url,)),
        "first_seen": rfc3339(article.first_seen),
        "content_hash": article.content_hash,
    }
    return item


def render_json(
    info: FeedInfo, articles: Sequence[StoredArticle], archive: ArchiveLinks | None = None
) -> bytes:
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": _x(info.title),
        "home_page_url": info.homepage,
        "feed_url": info.url("json"),
        "description": _x(info.description),
        "authors": [{"name": _x(info.title)}],
    }
    if info.lang:
        feed["language"] = info.lang
    if info.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": info.hub_url}]
    if archive and archive.prev:
        feed["next_url"] = f"{archive.prev}.json"  # JSON Feed's paging runs towards the past
    if archive:  # the RFC 5005 links, all of them, as an extension object
        links = {"current": archive.current, "prev_archive": archive.prev}
        if archive.is_archive:
            links["next_archive"] = archive.next
        feed["_govfeed"] = {
            "about": EXTENSION_ABOUT,
            "archive": archive.is_archive,
            **{k: f"{v}.json" for k, v in links.items() if v},
        }
    feed["items"] = [_item(a) for a in articles]
    text = json.dumps(feed, ensure_ascii=False) + "\n"  # compact: the C encoder, 4x faster
    return text.encode("utf-8", "replace")  # a stray surrogate must not fail the whole feed
