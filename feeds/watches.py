"""Keyword feeds: a ``[[watch]]``'s query over every source, and ad-hoc ``search.atom?q=``.

A watch feed is written like any other feed (Atom and RSS, ``watch-<name>.atom|rss``,
rewritten only when its bytes change); a search is rendered on request from the store.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs

from feeds.render import FeedInfo, render_atom, render_rss
from feeds.server import CONTENT_TYPES, FeedServer, Reply, Route
from scraper.fulltext import QueryError
from scraper.sources import Config, Watch
from scraper.store import Store, StoreError

log = logging.getLogger(__name__)

SEARCH_PATH = "/feeds/search.atom"


def watch_info(watch: Watch, base_url: str) -> FeedInfo:
    base = base_url.rstrip("/")
    return FeedInfo(
        slug=watch.slug,
        title=watch.title or f"govfeed watch: {watch.query}",
        homepage=f"{base}/",
        self_url=f"{base}/feeds/{watch.slug}",
        description=f"Articles from every source matching {watch.query!r}",
    )


def watch_feeds(
    config: Config, store: Store, out_dir: Path, base_url: str
) -> Iterator[tuple[Path, bytes]]:
    """(file, content) of every watch feed, Atom and RSS, newest entries first."""
    for watch in config.watches:
        info = watch_info(watch, base_url)
        articles = store.search(watch.query, config.settings.feed_entries)
        yield out_dir / f"{watch.slug}.atom", render_atom(info, articles)
        yield out_dir / f"{watch.slug}.rss", render_rss(info, articles)


def search_route(config: Config, store_path: Path, base_url: str) -> Route:
    """``GET /feeds/search.atom?q=…``: 200 with an Atom feed, 400 for an empty or bad query."""
    base = base_url.rstrip("/")

    def search(query_string: str, body: bytes, headers: Message) -> Reply:
        queries = parse_qs(query_string).get("q", [])
        query = queries[0].strip() if queries else ""
        if not query:
            return Reply(400, b"give a full-text query: /feeds/search.atom?q=Germany+OR+German\n")
        digest = hashlib.sha1(query.encode()).hexdigest()[:16]
        info = FeedInfo(
            slug=f"search-{digest}",
            title=f"govfeed search: {query}",
            homepage=f"{base}/",
            self_url=f"{base}/feeds/search",
            description=f"Articles from every source matching {query!r}",
        )
        try:
            with Store(store_path) as store:
                articles = store.search(query, config.settings.feed_entries)
        except QueryError as exc:
            return Reply(400, f"{exc}\n".encode())
        except StoreError as exc:
            log.error("search %r: %s", query, exc)
            return Reply(503, b"the store is not available, try again later\n")
        return Reply(200, render_atom(info, articles), CONTENT_TYPES[".atom"])

    return search


def install_search(server: FeedServer, config: Config, store_path: Path, base_url: str) -> None:
    server.routes[("GET", SEARCH_PATH)] = search_route(config, store_path, base_url)
