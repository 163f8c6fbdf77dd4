"""Health per source — ok, degraded, silent, failing — judged from the store's history.

``assess`` is pure: recorded runs and article dates in, a state and a reason out, with "now"
passed in. ``update_health`` applies it to every configured source after a crawl and records
each change of state in the store; those changes are the entries of the health feed. Nothing
here talks to the spider: it reads what runs left behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from scraper.failures import FAILED_OUTCOMES, RunOutcome
from scraper.sources import Config, HealthSettings
from scraper.store import HealthEvent, RunRecord, Store

MIN_GAPS = 4  # a usual gap is learned from at least this many gaps between articles
MIN_PAGES = 3  # a share of bad pages is judged on at least this many new pages


class State(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # template drift: the canary differs, or bad new pages jumped
    SILENT = "silent"  # no new article for much longer than the source's usual gap
    FAILING = "failing"  # the last N runs failed
    UNKNOWN = "unknown"  # never crawled yet


@dataclass(frozen=True, slots=True)
class Health:
    state: State
    reason: str


def _errors(run: RunRecord) -> str:
    """'list page: http 500 x2' from a run's stats: what the failure looked like."""
    parts = [
        f"{key.removeprefix('list_errors/')} x{n}"
        for key, n in sorted(run.stats.items())
        if key.startswith("list_errors/")
    ]
    return f" (list page: {', '.join(parts)})" if parts else ""


def _failing(runs: Sequence[RunRecord], after: int) -> Health | None:
    """``after`` failed runs in a row, newest first; interrupted runs neither count nor break."""
    failed = []
    for run in runs:
        if run.outcome == RunOutcome.INTERRUPTED:
            continue
        if run.outcome not in FAILED_OUTCOMES:
            break
        failed.append(run)
        if len(failed) == after:
            last = failed[0]
            return Health(
                State.FAILING,
                f"{after} failed runs in a row; last: {last.outcome}{_errors(last)}",
            )
    return None


def _canary_drift(runs: Sequence[RunRecord]) -> Health | None:
    """Drift on the latest run that re-read the canary."""
    for run in runs:
        if run.stats.get("canary/checked"):
            fields = sorted(
                k.removeprefix("canary/drift/") for k in run.stats if k.startswith("canary/drift/")
            )
            if not fields:
                return None
            return Health(State.DEGRADED, f"template drift: canary {', '.join(fields)} differ")
    return None


def _pages(run: RunRecord) -> tuple[int, int]:
    """(new pages read, of which missing a title, a body or a date) in one run."""
    no_title = run.stats.get("dropped/no title", 0)
    no_body = run.stats.get("dropped/no body", 0)
    stored = run.stats.get("articles/new", 0)
    missing = no_title + no_body + run.stats.get("quality/new_without_date", 0)
    return stored + no_title + no_body, missing


def _missing_jump(runs: Sequence[RunRecord], jump: float) -> Health | None:
    """The latest run with new pages against every earlier one: a share of pages without
    title, body or date well above what the source used to show is drift, even when each
    page on its own looks plausible."""
    with_pages = [run for run in runs if _pages(run)[0] > 0]
    if not with_pages:
        return None
    latest, earlier = with_pages[0], with_pages[1:]
    pages, missing = _pages(latest)
    base_pages = sum(_pages(run)[0] for run in earlier)
    base_missing = sum(_pages(run)[1] for run in earlier)
    if pages < MIN_PAGES or base_pages < MIN_PAGES:
        return None
    share, usual = missing / pages, base_missing / base_pages
    if share - usual >= jump:
        return Health(
            State.DEGRADED,
            f"template drift: {share:.0%} of new pages lack a title, body or date "
            f"(usually {usual:.0%})",
        )
    return None


def usual_gap(times: Sequence[datetime]) -> timedelta | None:
    """The median time between consecutive articles, or None with too little history."""
    ordered = sorted(times)
    gaps = sorted(b - a for a, b in pairwise(ordered) if b > a)
    if len(gaps) < MIN_GAPS:
        return None
    middle = len(gaps) // 2
    return gaps[middle] if len(gaps) % 2 else (gaps[middle - 1] + gaps[middle]) / 2


def _silent(times: Sequence[datetime], now: datetime, policy: HealthSettings) -> Health | None:
    gap = usual_gap(times)
    if gap is None:
        return None
    quiet = now - max(times)
    limit = max(policy.silent_floor, gap * policy.silent_factor)
    if quiet > limit:
        return Health(
            State.SILENT,
            f"no new article for {quiet.days} days (usually one every {_days(gap)})",
        )
    return None


def _days(gap: timedelta) -> str:
    return f"{gap.days} days" if gap >= timedelta(days=2) else f"{gap.total_seconds() / 3600:.0f}h"


def assess(
    runs: Sequence[RunRecord],
    published: Sequence[datetime],
    now: datetime,
    policy: HealthSettings,
) -> Health:
    """A source's state from its runs (newest first) and its articles' dates.

    The worst finding wins: failing, then degraded, then silent. A run that failed but not
    yet N times leaves the state ok and says so in the reason.
    """
    if not runs:
        return Health(State.UNKNOWN, "not crawled yet")
    finding = (
        _failing(runs, policy.failing_after)
        or _canary_drift(runs)
        or _missing_jump(runs, policy.missing_jump)
        or _silent(published, now, policy)
    )
    if finding is not None:
        return finding
    last = runs[0]
    if last.outcome in FAILED_OUTCOMES:
        return Health(State.OK, f"last run failed: {last.outcome}{_errors(last)}")
    return Health(State.OK, f"last run: {last.outcome}")


def current_health(config: Config, store: Store, now: datetime) -> dict[str, Health]:
    """Every configured source's state now, from the store."""
    return {
        source.name: assess(
            store.runs(source.name, limit=50),
            store.publication_times(source.name),
            now,
            config.health,
        )
        for source in config.sources
    }


def update_health(config: Config, store: Store, now: datetime) -> list[HealthEvent]:
    """Assess every source and record the ones whose state changed; return the new events."""
    recorded = store.health_states()
    for name, health in current_health(config, store, now).items():
        before = recorded.get(name)
        if health.state == State.UNKNOWN or (before and before.state == health.state):
            continue
        previous = before.state if before else None
        store.record_health(name, health.state, previous, health.reason, now)
    latest = store.health_states()
    return [event for name, event in latest.items() if recorded.get(name) != event]
