"""The health feed (``/feeds/health.atom``): one entry per change of a source's health state,
so an alert reaches the same feed reader as the news. Deterministic like the other feeds:
every time comes from the events, entries are appended newest first.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from feedgen.feed import FeedGenerator

from feeds.build import write_if_changed
from feeds.render import EPOCH
from scraper.sources import Config
from scraper.store import HealthEvent, Store
from scraper.xmlchars import strip_xml_forbidden

HEALTH_FEED = "health"
ENTRIES = 100


def render_health_atom(
    events: Sequence[HealthEvent], titles: dict[str, str], base_url: str
) -> bytes:
    """Atom for ``events`` (newest first); ``titles`` maps source names to their titles."""
    base = base_url.rstrip("/")
    fg = FeedGenerator()
    fg.id("tag:govfeed,2026:feed:health")
    fg.title("govfeed: source health")
    fg.subtitle("Changes of state of every crawled source: ok, degraded, silent, failing")
    fg.link(href=f"{base}/", rel="alternate")
    fg.link(href=f"{base}/feeds/{HEALTH_FEED}.atom", rel="self")
    fg.generator("govfeed")
    fg.author(name="govfeed")
    fg.language("en")
    fg.updated(max((e.at for e in events), default=EPOCH))
    for event in events:
        title = titles.get(event.source, event.source)
        change = f"{event.previous} → {event.state}" if event.previous else event.state
        entry = fg.add_entry(order="append")
        entry.id(f"tag:govfeed,2026:health:{event.id}")
        entry.title(strip_xml_forbidden(f"{event.source} is {event.state}: {event.reason}"))
        entry.link(href=f"{base}/#source-{event.source}", rel="alternate")
        entry.updated(event.at)
        entry.published(event.at)
        entry.category(term=event.state)
        entry.content(
            strip_xml_forbidden(
                f"<p><strong>{html.escape(title)}</strong>: {html.escape(change)}</p>"
                f"<p>{html.escape(event.reason)}</p>"
            ),
            type="html",
        )
    return bytes(fg.atom_str(pretty=True))


def write_health_feed(config: Config, store: Store, out_dir: Path, base_url: str) -> bool:
    """Write ``health.atom`` beside the other feeds; True when its bytes changed."""
    titles = {s.name: s.title for s in config.sources}
    data = render_health_atom(store.health_events(limit=ENTRIES), titles, base_url)
    return write_if_changed(out_dir / f"{HEALTH_FEED}.atom", data)
