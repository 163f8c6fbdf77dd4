"""The scheduler decides when; a recorder stands in for the crawl."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from schedule_book import ScheduleBook, SourceTimes
from scheduler import RunResult, backoff_delay, build_scheduler, regular_next_run, trigger_for
from scraper.sources import Schedule, load_config
from tests.test_sources import GOOD


def config_with(tmp_path: Path, schedules: dict[str, str], settings: str = ""):
    text = f"[settings]\n{settings}\n" + "".join(
        GOOD.replace('name = "ccfao"', f'name = "{name}"').replace(
            'schedule = { every = "6h", jitter = "5m" }', f"schedule = {schedule}"
        )
        for name, schedule in schedules.items()
    )
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return load_config(path)


def test_triggers_from_schedules() -> None:
    interval = trigger_for(Schedule(every=timedelta(hours=6), jitter=timedelta(minutes=10)))
    assert isinstance(interval, IntervalTrigger)
    assert interval.interval == timedelta(hours=6)
    assert interval.jitter == 600
    cron = trigger_for(Schedule(cron="15 */6 * * *"))
    assert isinstance(cron, CronTrigger)
    start = datetime(2026, 11, 24, 0, 20, tzinfo=UTC)
    assert cron.get_next_fire_time(None, start) == datetime(2026, 11, 24, 6, 15, tzinfo=UTC)


def test_one_job_per_source_never_overlapping(tmp_path: Path) -> None:
    config = config_with(tmp_path, {"a": '{ every = "1s" }', "b": '{ cron = "0 3 * * *" }'})
    scheduler = build_scheduler(config, lambda name: None)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"a", "b"}
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
    assert jobs["a"].args == ("a",)


def test_runs_repeat_on_schedule_without_overlap(tmp_path: Path) -> None:
    config = config_with(tmp_path, {"a": '{ every = "1s" }', "b": '{ every = "1s" }'})
    runs: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    lock = threading.Lock()

    def slow_crawl(name: str) -> None:
        start = time.monotonic()
        time.sleep(1.3)  # longer than the interval: the next run must wait, not overlap
        with lock:
            runs[name].append((start, time.monotonic()))

    scheduler = build_scheduler(config, slow_crawl)
    scheduler.start()
    time.sleep(4.5)
    scheduler.shutdown(wait=True)
    for name, spans in runs.items():
        assert len(spans) >= 2, (name, spans)
        for (_, end), (next_start, _) in itertools.pairwise(spans):
            assert next_start >= end, f"{name}: runs overlapped"


T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class Clock:
    """An injected "now" that a test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def wait_until(probe, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not probe():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_both_triggers_carry_the_jitter() -> None:
    after = datetime(2026, 11, 24, 0, 20, tzinfo=UTC)
    jittered = {
        Schedule(every=timedelta(hours=6), jitter=timedelta(minutes=10)): after
        + timedelta(hours=6),
        Schedule(cron="15 */6 * * *", jitter=timedelta(minutes=10)): datetime(
            2026, 11, 24, 6, 15, tzinfo=UTC
        ),
    }
    for schedule, slot in jittered.items():
        assert trigger_for(schedule).jitter == 600
        times = {regular_next_run(schedule, after) for _ in range(40)}
        assert all(t is not None and slot <= t <= slot + timedelta(minutes=10) for t in times)
        assert len(times) > 1, "the jitter was not applied"
    assert regular_next_run(Schedule(every=timedelta(hours=6)), after) == after + timedelta(hours=6)


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(0, 0), (1, 30), (2, 60), (3, 120), (4, 240), (6, 960), (7, 1440), (8, 1440), (5000, 1440)],
)
def test_backoff_doubles_from_the_base_up_to_the_cap(failures: int, minutes: int) -> None:
    delay = backoff_delay(failures, timedelta(minutes=30), timedelta(hours=24))
    assert delay == timedelta(minutes=minutes)


def test_a_failing_source_backs_off_while_another_keeps_its_schedule(tmp_path: Path) -> None:
    config = config_with(
        tmp_path,
        {"down": '{ every = "1h" }', "up": '{ every = "1h" }'},
        'backoff_base = "10m"\nbackoff_max = "1h"',
    )
    outcomes = {"down": RunResult.FAILED, "up": RunResult.OK}
    clock = Clock(T0)
    book = ScheduleBook(tmp_path / "schedule.json")
    scheduler = build_scheduler(config, outcomes.__getitem__, now=clock, book=book)
    scheduler.start(paused=True)  # jobs are run by hand, at the injected times

    def run_when_due(name: str) -> datetime:
        job = scheduler.get_job(name)
        clock.at = job.next_run_time
        job.func(name)
        return scheduler.get_job(name).next_run_time

    try:
        assert run_when_due("up") == T0 + timedelta(hours=1)
        due = T0
        for delay in (10, 20, 40, 60, 60):  # 10m x 2^(k-1), capped at 1h
            due = run_when_due("down")
            assert due == clock.at + timedelta(hours=1, minutes=delay)
            assert run_when_due("up") == clock.at + timedelta(hours=1)  # keeps its hour
        assert book.get("down") == SourceTimes(due, 5)
        assert book.get("up").failures == 0
        outcomes["down"] = RunResult.OK
        assert run_when_due("down") == clock.at + timedelta(hours=1)  # back on schedule
        assert book.get("down").failures == 0
    finally:
        scheduler.shutdown()


def test_a_failing_source_runs_less_often_on_the_clock(tmp_path: Path) -> None:
    config = config_with(
        tmp_path,
        {"down": '{ every = "1s" }', "up": '{ every = "1s" }'},
        'backoff_base = "2s"\nbackoff_max = "2s"',
    )
    runs: dict[str, list[float]] = {"down": [], "up": []}

    def crawl(name: str) -> RunResult:
        runs[name].append(time.monotonic())
        return RunResult.FAILED if name == "down" else RunResult.OK

    scheduler = build_scheduler(config, crawl)
    scheduler.start()
    time.sleep(5)
    scheduler.shutdown(wait=True)
    assert len(runs["up"]) >= 4, runs  # every second or so
    assert 1 <= len(runs["down"]) <= 2, runs  # every 1s + 2s of back-off
    assert all(b - a >= 2.9 for a, b in itertools.pairwise(runs["down"]))


def test_runs_are_capped_globally_and_never_overlap_per_source(tmp_path: Path) -> None:
    config = config_with(
        tmp_path, {name: '{ every = "1s" }' for name in "abc"}, "max_concurrent_crawls = 2"
    )
    release = threading.Event()
    lock = threading.Lock()
    running: list[str] = []
    started: list[str] = []
    peak = 0
    overlaps: list[str] = []

    def blocking_crawl(name: str) -> None:
        nonlocal peak
        with lock:
            if name in running:
                overlaps.append(name)
            running.append(name)
            started.append(name)
            peak = max(peak, len(running))
        release.wait(timeout=30)
        with lock:
            running.remove(name)

    scheduler = build_scheduler(config, blocking_crawl)
    scheduler.start()
    try:
        wait_until(lambda: len(started) >= 2)
        time.sleep(2.5)  # every source fell due again (twice) while two runs hold the pool
        with lock:
            assert len(started) == 2 and len(set(started)) == 2, started
        release.set()
        wait_until(lambda: set(started) == set("abc"))  # the third waited for a free slot
        wait_until(lambda: len(started) >= 6)  # and runs keep coming, unblocked now
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    assert peak == 2
    assert overlaps == []


def test_next_runs_and_failures_survive_a_restart(tmp_path: Path) -> None:
    config = config_with(
        tmp_path,
        {
            "up": '{ every = "1h" }',
            "down": '{ every = "1h" }',
            "nightly": '{ cron = "0 3 * * *", run_at_start = false }',
        },
        'backoff_base = "10m"',
    )
    outcomes = {"up": RunResult.OK, "down": RunResult.FAILED}
    path = tmp_path / "data" / "schedule.json"
    clock = Clock(T0)

    def start() -> object:
        scheduler = build_scheduler(config, outcomes.get, now=clock, book=ScheduleBook(path))
        scheduler.start(paused=True)
        return scheduler

    def next_runs(scheduler) -> dict[str, datetime]:
        return {job.id: job.next_run_time for job in scheduler.get_jobs()}

    first = start()
    assert next_runs(first) == {
        "up": T0,
        "down": T0,
        "nightly": datetime(2026, 11, 25, 3, tzinfo=UTC),
    }
    for name in ("up", "down"):
        first.get_job(name).func(name)
    planned = next_runs(first)
    first.shutdown()
    assert planned == {
        "up": T0 + timedelta(hours=1),
        "down": T0 + timedelta(hours=1, minutes=10),
        "nightly": datetime(2026, 11, 25, 3, tzinfo=UTC),
    }

    clock.at = T0 + timedelta(minutes=5)  # restart soon after: nothing runs at start
    second = start()
    assert next_runs(second) == planned
    clock.at = planned["down"]
    second.get_job("down").func("down")  # its second failure in a row: the delay doubles
    assert second.get_job("down").next_run_time == clock.at + timedelta(hours=1, minutes=20)
    second.shutdown()

    clock.at = T0 + timedelta(days=1)  # restart long after: each overdue source runs once, now
    third = start()
    assert next_runs(third) == dict.fromkeys(planned, clock.at)
    third.shutdown()
    assert ScheduleBook(path).get("down").failures == 2


def test_an_overdue_source_runs_once_at_start_and_a_waiting_one_waits(tmp_path: Path) -> None:
    config = config_with(tmp_path, {"late": '{ every = "1h" }', "early": '{ every = "1h" }'})
    path = tmp_path / "schedule.json"
    now = datetime.now(UTC)
    book = ScheduleBook(path)
    book.record("late", SourceTimes(now - timedelta(days=2), 0))  # missed 48 runs while down
    book.record("early", SourceTimes(now + timedelta(hours=1), 0))
    runs: list[str] = []
    scheduler = build_scheduler(config, runs.append, book=ScheduleBook(path))
    scheduler.start()
    try:
        wait_until(lambda: runs)
        time.sleep(1.5)
    finally:
        scheduler.shutdown(wait=True)
    assert runs == ["late"]
    kept = ScheduleBook(path)
    assert kept.get("early").next_run == now + timedelta(hours=1)
    late = kept.get("late").next_run
    assert late is not None
    assert now + timedelta(minutes=59) < late < datetime.now(UTC) + timedelta(hours=1)


def test_an_interrupted_run_is_due_again_at_once_and_no_failure(tmp_path: Path) -> None:
    config = config_with(tmp_path, {"a": '{ every = "1h" }'})
    path = tmp_path / "schedule.json"
    ScheduleBook(path).record("a", SourceTimes(T0, 2))
    clock = Clock(T0)
    scheduler = build_scheduler(
        config, lambda name: RunResult.INTERRUPTED, now=clock, book=ScheduleBook(path)
    )
    scheduler.start(paused=True)
    scheduler.get_job("a").func("a")
    scheduler.shutdown()
    assert ScheduleBook(path).get("a") == SourceTimes(T0, 2)


def test_book_keeps_zone_aware_times_and_sets_an_unreadable_file_aside(tmp_path: Path) -> None:
    path = tmp_path / "schedule.json"
    shanghai = datetime.fromisoformat("2026-11-24T18:00:00+08:00")
    ScheduleBook(path).record("a", SourceTimes(shanghai, 3))
    again = ScheduleBook(path).get("a")
    assert again == SourceTimes(shanghai, 3) and again.next_run.utcoffset() == timedelta(hours=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schedule.json"]  # no temp file left
    with pytest.raises(ValueError, match="naive"):
        ScheduleBook(path).record("a", SourceTimes(datetime(2026, 11, 24), 0))

    path.write_text('{"version": 1, "sources": {"a": {"next_run": "yesterday"}}}')
    book = ScheduleBook(path)
    assert book.all() == {}
    aside = tmp_path / "schedule.json.unreadable"
    assert "yesterday" in aside.read_text()  # kept, not deleted
    book.record("b", SourceTimes(T0, 0))
    assert ScheduleBook(path).all() == {"b": SourceTimes(T0, 0)}
