"""Write the feed files: per source and combined, Atom and RSS, under ``<data>/feeds/``.

A file is replaced only when its bytes change (atomically, via a temporary file), so its
modification time — the server's Last-Modified — moves only when the feed really changed.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

from feeds.render import FeedInfo, render_atom, render_rss
from feeds.watches import watch_feeds
from scraper.sources import Config
from scraper.store import Store

COMBINED = "all"


def feed_infos(config: Config, base_url: str) -> list[FeedInfo]:
    """The feeds govfeed publishes: one per source, then the combined one."""
    base = base_url.rstrip("/")
    infos = [
        FeedInfo(
            slug=s.name,
            title=s.title,
            homepage=s.homepage,
            self_url=f"{base}/feeds/{s.name}",
            description=f"News from {s.title}, collected by govfeed",
            lang=s.language,
        )
        for s in config.sources
    ]
    langs = {s.language for s in config.sources}
    infos.append(
        FeedInfo(
            slug=COMBINED,
            title="govfeed: all sources",
            homepage=f"{base}/",
            self_url=f"{base}/feeds/{COMBINED}",
            description="News from every configured government source",
            lang=langs.pop() if len(langs) == 1 else None,
        )
    )
    return infos


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


def build_feeds(
    config: Config,
    store: Store,
    out_dir: Path,
    base_url: str,
    only: set[str] | None = None,
) -> list[Path]:
    """Render and write feeds (all, or the sources in ``only`` plus the combined one).

    Returns the files whose content changed.
    """
    changed: list[Path] = []
    limit = config.settings.feed_entries
    for info in feed_infos(config, base_url):
        if only is not None and info.slug != COMBINED and info.slug not in only:
            continue
        articles = store.latest(None if info.slug == COMBINED else info.slug, limit)
        for ext, render in (("atom", render_atom), ("rss", render_rss)):
            path = out_dir / f"{info.slug}.{ext}"
            if write_if_changed(path, render(info, articles)):
                changed.append(path)
    for path, data in watch_feeds(config, store, out_dir, base_url):  # across all sources
        if write_if_changed(path, data):
            changed.append(path)
    write_if_changed(out_dir / "index.html", index_page(config, base_url).encode())
    return changed


def index_page(config: Config, base_url: str) -> str:
    """A plain page listing every feed, with autodiscovery links for readers."""
    rows, links = [], []
    for info in feed_infos(config, base_url):
        title = html.escape(info.title)
        for ext, kind in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
            href = html.escape(f"/feeds/{info.slug}.{ext}")
            links.append(f'<link rel="alternate" type="{kind}" title="{title}" href="{href}">')
        rows.append(
            f'<li>{title}: <a href="/feeds/{info.slug}.atom">Atom</a> · '
            f'<a href="/feeds/{info.slug}.rss">RSS</a></li>'
        )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>govfeed</title>{''.join(links)}</head>\n<body><h1>govfeed feeds</h1><ul>"
        + "".join(rows)
        + "</ul></body></html>\n"
    )
