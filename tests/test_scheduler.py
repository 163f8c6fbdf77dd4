"""The scheduler decides when; a recorder stands in for the crawl."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler import build_scheduler, trigger_for
from scraper.sources import Schedule, load_config
from tests.test_sources import GOOD


def config_with(tmp_path: Path, schedules: dict[str, str]):
    text = "".join(
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
