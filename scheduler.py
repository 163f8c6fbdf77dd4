"""When to crawl: one APScheduler job per source. It decides *when*, never *how*.

The job calls an injected ``run_source(name)``; in ``govfeed run`` that starts a crawl
subprocess and then rebuilds the source's feeds, while tests pass a recorder.
Each job runs at most one instance at a time (``max_instances=1``), so two runs of one source
never overlap, and missed runs are coalesced into one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scraper.sources import Config, Schedule

log = logging.getLogger("govfeed.scheduler")


def trigger_for(schedule: Schedule) -> BaseTrigger:
    jitter = int(schedule.jitter.total_seconds()) or None
    if schedule.every is not None:
        return IntervalTrigger(seconds=schedule.every.total_seconds(), jitter=jitter, timezone=UTC)
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


def build_scheduler(
    config: Config,
    run_source: Callable[[str], object],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackgroundScheduler:
    """A scheduler (not yet started) with one job per configured source."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(config.settings.max_concurrent_crawls)},
    )
    for source in config.sources:
        options: dict[str, object] = {}
        if source.schedule.run_at_start:
            options["next_run_time"] = now()
        scheduler.add_job(
            run_source,
            trigger=trigger_for(source.schedule),
            args=[source.name],
            id=source.name,
            name=f"crawl {source.name}",
            max_instances=1,  # two runs of one source never overlap
            coalesce=True,  # runs missed while busy or down collapse into one
            misfire_grace_time=3600,
            **options,
        )
    return scheduler
