"""Write the feed files under ``<data>/feeds/``: every published feed in every format, its
archive pages, the OPML list and the index page.

A file is replaced only when its bytes change (atomically, via a temporary file), so its
modification time — the server's Last-Modified — moves only when the feed really changed.
Sealed archive pages (see archive.py) are not even rendered again once written, so a rebuild
costs the current documents and the newest page, whatever the length of the history.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from feeds.archive import ARCHIVE_PAGE_SIZE, ArchivePage, archive_pages, current_links
from feeds.catalog import COMBINED, feed_infos, published_feeds
from feeds.jsonfeed import render_json
from feeds.opml import render_opml
from feeds.render import FORMATS, ArchiveLinks, FeedInfo, render_atom, render_rss
from scraper.sources import Config
from scraper.store import Store, StoredArticle

__all__ = ["COMBINED", "build_feeds", "feed_infos", "index_page", "write_if_changed"]

OPML_FILE = "feeds.opml"
Renderer = Callable[[FeedInfo, Sequence[StoredArticle], ArchiveLinks | None], bytes]
RENDERERS: dict[str, Renderer] = {"atom": render_atom, "rss": render_rss, "json": render_json}


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def feed_path(out_dir: Path, slug: str, fmt: str) -> Path:
    """Where a feed is written; refuses a slug that would leave ``out_dir``."""
    path = out_dir / f"{slug}.{fmt}"
    if not path.resolve().is_relative_to(out_dir.resolve()):
        raise ValueError(f"feed slug {slug!r} leaves the feeds folder")
    return path


def _sealed_and_written(out_dir: Path, page: ArchivePage) -> bool:
    """A sealed page already on disk as sealed (its last entry and its newer link in it)."""
    if not page.sealed:
        return False
    markers = [page.last_guid, page.info.self_url, page.links.next or ""]
    for fmt in FORMATS:
        path = feed_path(out_dir, page.info.slug, fmt)
        if not path.is_file():
            return False
        data = path.read_bytes()
        if not all(m.encode() in data for m in markers):
            return False
    return True


def write_feed(
    store: Store, info: FeedInfo, out_dir: Path, entries: int, page_size: int
) -> list[Path]:
    """One feed in every format, with its archive pages; returns the files that changed."""
    changed: list[Path] = []
    if info.query is not None:  # a keyword watch: the newest matches, no archive
        pages, current = [], store.search(info.query, entries)
    else:
        pages = archive_pages(info, store.history(info.source, info.channel), page_size)
        current = store.latest_in(info.source, info.channel, entries)
    links = current_links(info, pages)
    for fmt, render in RENDERERS.items():
        path = feed_path(out_dir, info.slug, fmt)
        if write_if_changed(path, render(info, current, links)):
            changed.append(path)
    for page in pages:
        if _sealed_and_written(out_dir, page):
            continue
        articles = store.articles_by_id(page.ids)
        articles.reverse()  # newest stored first, like the subscription document
        for fmt, render in RENDERERS.items():
            path = feed_path(out_dir, page.info.slug, fmt)
            if write_if_changed(path, render(page.info, articles, page.links)):
                changed.append(path)
    return changed


def build_feeds(
    config: Config,
    store: Store,
    out_dir: Path,
    base_url: str,
    only: set[str] | None = None,
    *,
    hub_url: str | None = None,
    page_size: int = ARCHIVE_PAGE_SIZE,
) -> list[Path]:
    """Render and write feeds (all, or the sources in ``only`` plus the combined one).

    ``hub_url`` is the WebSub hub the feeds advertise (default ``<base_url>/websub``).
    Returns the files whose content changed.
    """
    changed: list[Path] = []
    infos = published_feeds(config, store, base_url, hub_url)
    for info in infos:
        if only is not None and info.source is not None and info.source not in only:
            continue
        changed += write_feed(store, info, out_dir, config.settings.feed_entries, page_size)
    write_if_changed(out_dir / "index.html", index_page(infos).encode())
    write_if_changed(out_dir / OPML_FILE, render_opml(infos))
    return changed


def site_path(url: str) -> str:
    """A feed's URL from the site root: pages served beside the feeds link that way, so the
    links hold whatever host and port the server is reached at."""
    return urlsplit(url).path


def autodiscovery_links(infos: Sequence[FeedInfo]) -> str:
    """``<link rel="alternate">`` for every feed in every format, for a page's ``<head>``."""
    links = []
    for info in infos:
        title = html.escape(info.title)
        for fmt, kind in FORMATS.items():
            href = html.escape(site_path(info.url(fmt)))
            links.append(f'<link rel="alternate" type="{kind}" title="{title}" href="{href}">')
    return "\n".join(links)


def index_page(infos: Sequence[FeedInfo]) -> str:
    """A plain page listing every feed, with autodiscovery links for readers."""
    rows = []
    for info in infos:
        anchors = " · ".join(
            f'<a href="{html.escape(site_path(info.url(fmt)))}">{label}</a>'
            for fmt, label in (("atom", "Atom"), ("rss", "RSS"), ("json", "JSON Feed"))
        )
        rows.append(f"<li>{html.escape(info.title)}: {anchors}</li>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>govfeed</title>\n{autodiscovery_links(infos)}\n"
        f'<link rel="outline" type="text/x-opml" title="All feeds" href="/{OPML_FILE}">'
        "</head>\n<body><h1>govfeed feeds</h1><ul>"
        + "".join(rows)
        + f'</ul><p><a href="/{OPML_FILE}">All feeds as OPML</a></p></body></html>\n'
    )
