"""When to crawl: one APScheduler job per source. It decides *when*, never *how*.

The job calls an injected ``run_source(name)``; in ``govfeed run`` that starts a crawl
subprocess and then rebuilds the source's feeds, while tests pass a recorder. It returns a
``RunResult`` (``None`` counts as ok). Each job runs at most one instance at a time
(``max_instances=1``), so two runs of one source never overlap; a thread pool of
``settings.max_concurrent_crawls`` caps the crawls running at once; missed runs are coalesced.

After every run the job sets its own next run: the schedule's next regular time after the run
ended, pushed back by ``backoff_delay`` when the last runs failed. That time and the failure
count are written to a ``ScheduleBook`` so they survive a restart: a source whose next run is
still ahead waits for it, an overdue one runs once at start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from schedule_book import ScheduleBook, SourceTimes
from scraper.sources import Config, Schedule, Settings

log = logging.getLogger("govfeed.scheduler")

Clock = Callable[[], datetime]


class RunResult(StrEnum):
    OK = "ok"
    FAILED = "failed"  # counts towards back-off
    INTERRUPTED = "interrupted"  # stopped by a shutdown: due again at once after a restart


def trigger_for(schedule: Schedule, start: datetime | None = None) -> BaseTrigger:
    """The schedule as an APScheduler trigger; an interval's first time is ``start + every``."""
    jitter = int(schedule.jitter.total_seconds()) or None
    if schedule.every is not None:
        return IntervalTrigger(
            seconds=schedule.every.total_seconds(),
            jitter=jitter,
            timezone=UTC,
            start_date=start + schedule.every if start is not None else None,
        )
    assert schedule.cron is not None
    minute, hour, day, month, day_of_week = schedule.cron.split()
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=day_of_week,
        timezone=UTC,
        jitter=jitter,
    )


def backoff_delay(failures: int, base: timedelta, maximum: timedelta) -> timedelta:
    """How much later than scheduled a source runs after ``failures`` failed runs in a row.

    0 failures: no delay; then base, 2 × base, 4 × base, … never more than ``maximum``.
    """
    if failures <= 0:
        return timedelta(0)
    seconds = base.total_seconds() * 2.0 ** min(failures - 1, 1000)  # no overflow for big k
    return min(timedelta(seconds=min(seconds, maximum.total_seconds())), maximum)


def regular_next_run(schedule: Schedule, after: datetime) -> datetime | None:
    """The schedule's next time after ``after`` (a run's end), jitter included."""
    return trigger_for(schedule, start=after).get_next_fire_time(None, after)


def next_run(
    schedule: Schedule, settings: Settings, finished_at: datetime, failures: int
) -> datetime | None:
    """When a source runs next after a run that ended at ``finished_at``."""
    regular = regular_next_run(schedule, finished_at)
    if regular is None:
        return None
    return regular + backoff_delay(failures, settings.backoff_base, settings.backoff_max)


def first_run(schedule: Schedule, kept: SourceTimes, now: datetime) -> datetime | None:
    """When a source first runs after (re)start: its kept time if still ahead, now if overdue."""
    if kept.next_run is not None:
        return max(kept.next_run, now)
    if schedule.run_at_start:
        return now
    return regular_next_run(schedule, now)


def build_scheduler(
    config: Config,
    run_source: Callable[[str], RunResult | None],
    now: Clock = lambda: datetime.now(UTC),
    book: ScheduleBook | None = None,
) -> BackgroundScheduler:
    """A scheduler (not yet started) with one job per configured source.

    ``book`` keeps next run times and failure counts across restarts (default: in memory).
    """
    book = book if book is not None else ScheduleBook(None)
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(config.settings.max_concurrent_crawls)},
    )
    start = now()
    for source in config.sources:
        kept = book.get(source.name)
        first = first_run(source.schedule, kept, start)
        book.record(source.name, SourceTimes(first, kept.failures))
        scheduler.add_job(
            _job(scheduler, config.settings, source.schedule, run_source, book, now),
            trigger=trigger_for(source.schedule, start),
            args=[source.name],
            id=source.name,
            name=f"crawl {source.name}",
            max_instances=1,  # two runs of one source never overlap
            coalesce=True,  # runs missed while busy or down collapse into one
            misfire_grace_time=3600,
            next_run_time=first,
        )
    return scheduler


def _job(
    scheduler: BackgroundScheduler,
    settings: Settings,
    schedule: Schedule,
    run_source: Callable[[str], RunResult | None],
    book: ScheduleBook,
    now: Clock,
) -> Callable[[str], RunResult]:
    """One source's job: run it, then set (and keep) its next run from the outcome."""

    def run_and_reschedule(name: str) -> RunResult:
        started = now()
        try:
            outcome = RunResult(run_source(name) or RunResult.OK)
        except Exception:  # a broken run must not end the source's schedule
            log.exception("run of %s failed", name)
            outcome = RunResult.FAILED
        kept = book.get(name)
        if outcome is RunResult.INTERRUPTED:
            book.record(name, SourceTimes(started, kept.failures))  # overdue: runs after restart
            return outcome
        failures = 0 if outcome is RunResult.OK else kept.failures + 1
        when = next_run(schedule, settings, now(), failures)
        book.record(name, SourceTimes(when, failures))
        if failures:
            log.warning("%s: %d failed run(s) in a row; next run at %s", name, failures, when)
        try:
            if when is None:
                scheduler.remove_job(name)
            else:
                scheduler.modify_job(name, next_run_time=when)
        except JobLookupError:  # the scheduler is shutting down
            pass
        return outcome

    return run_and_reschedule
