"""Ad-hoc keyword search: ``/feeds/search.atom?q=…``, rendered on request from the store.

A ``[[watch]]`` is a feed like any other (feeds/catalog.py, written by feeds/build.py); this
is the same full-text query for a reader that has no watch configured.
"""

from __future__ import annotations

import hashlib
import logging
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs

from feeds.render import FeedInfo, render_atom
from feeds.server import CONTENT_TYPES, FeedServer, Reply, Route
from scraper.fulltext import QueryError
from scraper.sources import Config
from scraper.store import Store, StoreError

log = logging.getLogger(__name__)

SEARCH_PATH = "/feeds/search.atom"


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
