"""The monitor's dynamic pages: the status page ``/``, ``/healthz`` (JSON) and ``/metrics``.

Each is rendered per request from the store (crawls write it from other processes), so what
they show is never older than the last finished run. The scheduler is optional: ``next_runs``
gives each source's next run time when the caller has one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from feeds.build import feed_infos
from feeds.health import Health, State, current_health
from feeds.health_feed import HEALTH_FEED
from feeds.metrics import CONTENT_TYPE as METRICS_TYPE
from feeds.metrics import render_metrics
from feeds.server import Reply, Route
from scraper.sources import Config
from scraper.store import RunRecord, Store, StoredArticle

Page = tuple[bytes, str]  # body, content type
Clock = Callable[[], datetime]
NextRuns = Callable[[], Mapping[str, datetime | None]]
LATEST = 50
RECENT = timedelta(days=7)
# Formats each feed is published in, by extension: the autodiscovery and table links.
FEED_FORMATS = {"atom": "application/atom+xml", "rss": "application/rss+xml"}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class FeedLink:
    title: str
    format: str  # "atom", "rss"
    href: str
    type: str


@dataclass(frozen=True, slots=True)
class SourceRow:
    name: str
    title: str
    homepage: str
    health: Health
    last_run: RunRecord | None
    next_run: datetime | None
    total: int
    recent: int
    newest: datetime | None
    feeds: list[FeedLink]


def _feed_links(config: Config, base_url: str) -> dict[str, list[FeedLink]]:
    """Every published feed's links, by feed slug (source names, "all", and whatever else
    ``feed_infos`` lists)."""
    return {
        info.slug: [
            FeedLink(info.title, ext, f"{info.self_url}.{ext}", kind)
            for ext, kind in FEED_FORMATS.items()
        ]
        for info in feed_infos(config, base_url)
    }


def status_rows(
    config: Config,
    store: Store,
    base_url: str,
    now: datetime,
    next_runs: Mapping[str, datetime | None] | None = None,
) -> list[SourceRow]:
    health = current_health(config, store, now)
    counts = store.source_counts(now - RECENT)
    feeds = _feed_links(config, base_url)
    rows = []
    for source in config.sources:
        runs = store.runs(source.name, limit=1)
        count = counts.get(source.name)
        rows.append(
            SourceRow(
                name=source.name,
                title=source.title,
                homepage=source.homepage,
                health=health[source.name],
                last_run=runs[0] if runs else None,
                next_run=(next_runs or {}).get(source.name),
                total=count.total if count else 0,
                recent=count.recent if count else 0,
                newest=count.newest if count else None,
                feeds=feeds.get(source.name, []),
            )
        )
    return rows


def render_status(
    config: Config,
    store: Store,
    base_url: str,
    now: datetime,
    next_runs: Mapping[str, datetime | None] | None = None,
) -> str:
    """The status page: a row per source, the latest articles, every feed for discovery."""
    rows = status_rows(config, store, base_url, now, next_runs)
    feeds = _feed_links(config, base_url)
    source_names = {s.name for s in config.sources}
    other_feeds = [links for slug, links in feeds.items() if slug not in source_names]
    health_feed = FeedLink(
        "govfeed: source health",
        "atom",
        f"{base_url.rstrip('/')}/feeds/{HEALTH_FEED}.atom",
        FEED_FORMATS["atom"],
    )
    titles = {s.name: s.title for s in config.sources}
    articles: list[StoredArticle] = store.latest(None, LATEST)
    return _env.get_template("status.html").render(
        rows=rows,
        discovery=[link for links in feeds.values() for link in links] + [health_feed],
        other_feeds=other_feeds,
        health_feed=health_feed,
        articles=articles,
        titles=titles,
        now=now,
        when=_when,
    )


def _when(value: datetime | None, with_time: bool = True) -> str:
    """A time in UTC for the page; a date as the site gave it (its own zone); "—" if unknown."""
    if value is None:
        return "—"
    if not with_time:
        return value.strftime("%Y-%m-%d")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def healthz(config: Config, store: Store, now: datetime) -> dict[str, object]:
    """Per-source state, reason and last run, plus the worst state as ``status``."""
    health = current_health(config, store, now)
    since = store.health_states()
    sources: dict[str, object] = {}
    for source in config.sources:
        runs = store.runs(source.name, limit=1)
        state = health[source.name]
        recorded = since.get(source.name)
        sources[source.name] = {
            "state": state.state.value,
            "reason": state.reason,
            "since": recorded.at.isoformat()
            if recorded and recorded.state == state.state
            else None,
            "last_run": {
                "outcome": runs[0].outcome,
                "started_at": runs[0].started_at.isoformat(),
                "finished_at": runs[0].finished_at.isoformat(),
            }
            if runs
            else None,
        }
    order = [State.OK, State.UNKNOWN, State.SILENT, State.DEGRADED, State.FAILING]
    worst = max((h.state for h in health.values()), key=order.index, default=State.OK)
    return {"status": worst.value, "checked_at": now.isoformat(), "sources": sources}


def monitor_routes(
    config: Config,
    store_path: Path,
    base_url: str,
    next_runs: NextRuns | None = None,
    now: Clock = lambda: datetime.now(UTC),
) -> dict[tuple[str, str], Route]:
    """The server's dynamic GET routes, each opening the store per request."""

    def page(render: Callable[[Store], Page]) -> Route:
        def route(query: str, body: bytes, headers: Message) -> Reply:
            with Store(store_path) as store:
                data, content_type = render(store)
            return Reply(200, data, content_type, {"Cache-Control": "no-cache"})

        return route

    def status(store: Store) -> Page:
        html = render_status(config, store, base_url, now(), next_runs() if next_runs else None)
        return html.encode(), "text/html; charset=utf-8"

    def health_json(store: Store) -> Page:
        body = json.dumps(healthz(config, store, now()), ensure_ascii=False, indent=2)
        return body.encode() + b"\n", "application/json"

    def metrics(store: Store) -> Page:
        return render_metrics(config, store, current_health(config, store, now())), METRICS_TYPE

    pages = {"/": status, "/index.html": status, "/healthz": health_json, "/metrics": metrics}
    return {("GET", path): page(render) for path, render in pages.items()}
