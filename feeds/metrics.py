"""``/metrics``: the store's runs, articles and health in Prometheus' text format.

The numbers live in the store (crawls run in other processes), so a custom collector reads
them at scrape time instead of counters kept in this process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from feeds.health import Health, State
from scraper.failures import FAILED_OUTCOMES
from scraper.sources import Config
from scraper.store import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StoreCollector(Collector):
    """One scrape's worth of metrics, read from an open store."""

    def __init__(self, config: Config, store: Store, health: Mapping[str, Health]) -> None:
        self.config = config
        self.store = store
        self.health = health

    def collect(self) -> Iterator[Metric]:
        names = [s.name for s in self.config.sources]
        runs = CounterMetricFamily(
            "govfeed_runs", "Crawl runs by source and outcome type", labels=["source", "outcome"]
        )
        for (source, outcome), count in sorted(self.store.run_counts().items()):
            runs.add_metric([source, outcome], count)
        yield runs
        stored = GaugeMetricFamily(
            "govfeed_articles_stored", "Articles in the store", labels=["source"]
        )
        counts = {name: self.store.count(name) for name in names}
        for name, count in counts.items():
            stored.add_metric([name], count)
        yield stored
        state = GaugeMetricFamily(
            "govfeed_health_state",
            "1 for the source's current health state",
            labels=["source", "state"],
        )
        for name in names:
            current = self.health[name].state if name in self.health else State.UNKNOWN
            for each in State:
                state.add_metric([name, each.value], 1.0 if each == current else 0.0)
        yield state
        success = GaugeMetricFamily(
            "govfeed_last_success_timestamp_seconds",
            "End of the source's last run that was not a failure (Unix time)",
            labels=["source"],
        )
        for name in names:
            ok = [r for r in self.store.runs(name, limit=200) if r.outcome not in FAILED_OUTCOMES]
            if ok:
                success.add_metric([name], ok[0].finished_at.timestamp())
        yield success


def render_metrics(config: Config, store: Store, health: Mapping[str, Health]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(config, store, health))
    return generate_latest(registry)
