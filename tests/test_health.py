"""Health per source from the run history: failing, degraded, silent, ok; and its feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from feeds.health import State, assess, update_health, usual_gap
from feeds.health_feed import write_health_feed
from scraper.sources import Config, HealthSettings
from scraper.store import RunRecord, Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
POLICY = HealthSettings()  # failing after 3, silent after 4 usual gaps (at least 7 days)


def run(outcome: str, hours_ago: float = 1, **stats: int) -> RunRecord:
    finished = NOW - timedelta(hours=hours_ago)
    return RunRecord(0, "src", finished - timedelta(minutes=1), finished, outcome, dict(stats))


def daily(days: int, last: datetime = NOW - timedelta(hours=3)) -> list[datetime]:
    """A source that published once a day for ``days`` days, the last one at ``last``."""
    return [last - timedelta(days=n) for n in range(days)]


OK = run("ok", 6, **{"list_pages": 4, "articles/new": 10, "canary/checked": 1})
ERROR_500 = {"list_errors/http 500": 4, "list_failures/server_error": 4}


def test_no_run_yet_is_unknown() -> None:
    assert assess([], [], NOW, POLICY).state is State.UNKNOWN


def test_a_healthy_source_is_ok() -> None:
    health = assess([OK], daily(30), NOW, POLICY)
    assert (health.state, health.reason) == (State.OK, "last run: ok")


def test_failing_after_n_consecutive_failed_runs_only() -> None:
    failed = [run("server_error", h, **ERROR_500) for h in (1, 2, 3)]
    two = assess([*failed[:2], OK], daily(30), NOW, POLICY)
    assert two.state is State.OK
    assert two.reason == "last run failed: server_error (list page: http 500 x4)"
    three = assess([*failed, OK], daily(30), NOW, POLICY)
    assert three.state is State.FAILING
    assert three.reason == "3 failed runs in a row; last: server_error (list page: http 500 x4)"
    # a success in between breaks the streak; an interrupted run neither counts nor breaks it
    assert assess([failed[0], failed[1], OK, failed[2]], daily(30), NOW, POLICY).state is State.OK
    interrupted = run("interrupted", 1.5)
    assert assess([failed[0], interrupted, *failed[1:]], daily(30), NOW, POLICY).state is (
        State.FAILING
    )
    strict = HealthSettings(failing_after=1)
    assert assess([failed[0], OK], daily(30), NOW, strict).state is State.FAILING


def test_different_failure_types_all_count_towards_failing() -> None:
    runs = [run("down", 1), run("timeout", 2), run("template_changed", 3)]
    health = assess(runs, daily(30), NOW, POLICY)
    assert health.state is State.FAILING
    assert "last: down" in health.reason


def test_canary_drift_on_the_latest_check_is_degraded() -> None:
    drift = run("no_new_items", 1, **{"canary/checked": 1, "canary/drift/published": 1})
    health = assess([drift, OK], daily(30), NOW, POLICY)
    assert (health.state, health.reason) == (
        State.DEGRADED,
        "template drift: canary published differ",
    )
    fixed = run("no_new_items", 0.5, **{"canary/checked": 1})
    assert assess([fixed, drift, OK], daily(30), NOW, POLICY).state is State.OK
    # a run that could not reach the canary keeps the last verdict
    unreached = run("no_new_items", 0.5, **{"canary/failed/timeout": 1})
    assert assess([unreached, drift, OK], daily(30), NOW, POLICY).state is State.DEGRADED


def test_a_jump_in_new_pages_without_date_is_degraded() -> None:
    usual = run("ok", 5, **{"articles/new": 45, "dropped/no body": 1})
    dateless = run("ok", 1, **{"articles/new": 4, "quality/new_without_date": 3})
    health = assess([dateless, usual], daily(30), NOW, POLICY)
    assert health.state is State.DEGRADED
    assert health.reason == (
        "template drift: 75% of new pages lack a title, body or date (usually 2%)"
    )
    # a source that never shows dates is not drifting: its usual share is as high
    always = run("ok", 5, **{"articles/new": 20, "quality/new_without_date": 15})
    assert assess([dateless, always], daily(30), NOW, POLICY).state is State.OK
    # too few pages to judge either way
    one = run("ok", 1, **{"articles/new": 1, "quality/new_without_date": 1})
    assert assess([one, usual], daily(30), NOW, POLICY).state is State.OK
    # pages without title are dropped, not stored: they count too
    untitled = run("no_new_items", 1, **{"dropped/no title": 5})
    assert assess([untitled, usual], daily(30), NOW, POLICY).state is State.DEGRADED


def test_silent_after_much_longer_than_the_usual_gap() -> None:
    weekly = [NOW - timedelta(days=20 + 7 * n) for n in range(10)]  # last one 20 days ago
    assert usual_gap(weekly) == timedelta(days=7)
    assert assess([OK], weekly, NOW, POLICY).state is State.OK  # 20 days < 4 weeks
    quiet = [t - timedelta(days=10) for t in weekly]  # last one 30 days ago
    health = assess([OK], quiet, NOW, POLICY)
    assert (health.state, health.reason) == (
        State.SILENT,
        "no new article for 30 days (usually one every 7 days)",
    )
    # a busy source (hourly) is still given the floor of 7 days before it counts as silent
    hourly = [NOW - timedelta(days=6, hours=n) for n in range(50)]
    assert assess([OK], hourly, NOW, POLICY).state is State.OK
    assert assess([OK], [t - timedelta(days=2) for t in hourly], NOW, POLICY).state is (
        State.SILENT
    )
    # too little history to know what is usual
    assert assess([OK], quiet[:4], NOW, POLICY).state is State.OK


def test_the_worst_finding_wins() -> None:
    quiet = [NOW - timedelta(days=100 + n) for n in range(10)]
    drift = run("server_error", 1, **{"canary/checked": 1, "canary/drift/title": 1}, **ERROR_500)
    failed = [drift, run("down", 2), run("down", 3)]
    assert assess(failed, quiet, NOW, POLICY).state is State.FAILING
    assert assess(failed[:1], quiet, NOW, POLICY).state is State.DEGRADED
    assert assess([OK], quiet, NOW, POLICY).state is State.SILENT


def config() -> Config:
    return Config.model_validate(
        {
            "health": {"failing_after": 2},
            "source": [
                {
                    "name": "src",
                    "title": "Source FAO",
                    "homepage": "http://src.example.gov.cn/",
                    "start_urls": ["http://src.example.gov.cn/news/index.html"],
                    "allowed_domains": ["src.example.gov.cn"],
                    "article_patterns": [r"/t\d+\.html$"],
                }
            ],
        }
    )


def record(store: Store, outcome: str, at: datetime, **stats: int) -> None:
    store.record_run("src", at - timedelta(minutes=1), at, outcome, dict(stats))


def test_state_changes_are_recorded_once_and_become_health_feed_entries(tmp_path: Path) -> None:
    cfg = config()
    with Store(tmp_path / "store.sqlite3") as store:
        assert update_health(cfg, store, NOW) == []  # not crawled: nothing to say yet
        record(store, "ok", NOW, **{"articles/new": 3})
        [first] = update_health(cfg, store, NOW)
        assert (first.state, first.previous) == ("ok", None)
        record(store, "server_error", NOW + timedelta(hours=6), **ERROR_500)
        assert update_health(cfg, store, NOW + timedelta(hours=6)) == []  # one failure: still ok
        record(store, "server_error", NOW + timedelta(hours=12), **ERROR_500)
        [alert] = update_health(cfg, store, NOW + timedelta(hours=12))
        assert (alert.state, alert.previous) == ("failing", "ok")
        record(store, "server_error", NOW + timedelta(hours=18), **ERROR_500)
        assert update_health(cfg, store, NOW + timedelta(hours=18)) == []  # no news: no entry
        assert write_health_feed(cfg, store, tmp_path / "feeds", "http://127.0.0.1:1")
        assert not write_health_feed(cfg, store, tmp_path / "feeds", "http://127.0.0.1:1")
        record(store, "no_new_items", NOW + timedelta(hours=24))
        [recovered] = update_health(cfg, store, NOW + timedelta(hours=24))
        assert (recovered.state, recovered.previous) == ("ok", "failing")
        assert write_health_feed(cfg, store, tmp_path / "feeds", "http://127.0.0.1:1")
    feed = feedparser.parse((tmp_path / "feeds" / "health.atom").read_bytes())
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [
        "src is ok: last run: no_new_items",
        "src is failing: 2 failed runs in a row; last: server_error (list page: http 500 x4)",
        "src is ok: last run: ok",
    ]
    assert feed.entries[1].updated == "2026-11-25T00:00:00+00:00"
    assert feed.entries[1].link == "http://127.0.0.1:1/#source-src"
    assert "Source FAO" in feed.entries[1].content[0].value
    assert len({e.id for e in feed.entries}) == 3
