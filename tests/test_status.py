"""The server's dynamic routes: status page, /healthz and /metrics, rendered per request."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
from prometheus_client.parser import text_string_to_metric_families

from feeds.server import FeedServer
from feeds.status import monitor_routes
from scraper.sources import Config
from scraper.store import Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ERROR_500 = {"list_errors/http 500": 1, "list_failures/server_error": 1}


def config() -> Config:
    def source(name: str) -> dict[str, object]:
        return {
            "name": name,
            "title": f"{name.title()} FAO",
            "homepage": f"http://{name}.example.gov.cn/",
            "start_urls": [f"http://{name}.example.gov.cn/news/index.html"],
            "allowed_domains": [f"{name}.example.gov.cn"],
            "article_patterns": [r"/t\d+\.html$"],
        }

    return Config.model_validate(
        {"health": {"failing_after": 2}, "source": [source("alpha"), source("beta")]}
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "store.sqlite3"
    with Store(path) as store:  # alpha failed twice; beta was never crawled
        for hours in (2, 1):
            at = NOW - timedelta(hours=hours)
            store.record_run("alpha", at - timedelta(minutes=1), at, "server_error", ERROR_500)
    server = FeedServer(tmp_path / "feeds", port=0)
    server.routes.update(monitor_routes(config(), path, server.url, now=lambda: NOW))
    server.start_in_thread()
    try:
        yield server.url, path
    finally:
        server.shutdown()
        server.server_close()


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_healthz_gives_each_source_its_state_reason_and_last_run(served) -> None:
    base, _ = served
    status, kind, body = get(f"{base}/healthz")
    assert (status, kind) == (200, "application/json")
    report = json.loads(body)
    assert report["status"] == "failing"  # the worst source decides
    alpha, beta = report["sources"]["alpha"], report["sources"]["beta"]
    assert alpha["state"] == "failing"
    assert alpha["reason"] == "2 failed runs in a row; last: server_error (list page: http 500 x1)"
    assert alpha["last_run"] == {
        "outcome": "server_error",
        "started_at": "2026-11-24T10:59:00+00:00",
        "finished_at": "2026-11-24T11:00:00+00:00",
    }
    assert alpha["since"] is None  # judged live; no change recorded by a crawl yet
    assert beta == {
        "state": "unknown",
        "reason": "not crawled yet",
        "since": None,
        "last_run": None,
    }


def test_metrics_are_prometheus_text(served) -> None:
    base, _ = served
    status, kind, body = get(f"{base}/metrics")
    assert status == 200 and kind.startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    assert samples[("govfeed_runs_total", (("outcome", "server_error"), ("source", "alpha")))] == 2
    assert samples[("govfeed_health_state", (("source", "alpha"), ("state", "failing")))] == 1
    assert samples[("govfeed_health_state", (("source", "alpha"), ("state", "ok")))] == 0
    assert samples[("govfeed_health_state", (("source", "beta"), ("state", "unknown")))] == 1
    assert samples[("govfeed_articles_stored", (("source", "beta"),))] == 0
    # alpha never succeeded: no last-success sample rather than a made-up one
    assert not [k for k in samples if k[0] == "govfeed_last_success_timestamp_seconds"]


def test_the_status_page_without_a_scheduler_shows_dashes(served) -> None:
    base, _ = served
    status, kind, body = get(f"{base}/")
    assert (status, kind) == (200, "text/html; charset=utf-8")
    page = lxml.html.fromstring(body)
    rows = {row.get("data-source"): row for row in page.cssselect("tr.source")}
    assert list(rows) == ["alpha", "beta"]
    cells = {td.get("data-label"): td.text_content().strip() for td in rows["alpha"]}
    assert cells["Next run"] == "—"
    assert cells["Last run"] == "2026-11-24 11:00 UTCserver_error"  # (a <br> between)
    assert rows["alpha"].get("data-state") == "failing"
    assert rows["beta"].cssselect('td[data-label="Last run"]')[0].text_content() == "—"
    assert "No articles yet" in body


def test_a_store_that_cannot_be_read_is_a_503_not_a_crash(served) -> None:
    base, path = served
    with Store(path) as store:  # a store written by a newer govfeed
        store._db.execute("PRAGMA user_version = 99")
    status, _, body = get(f"{base}/healthz")
    assert status == 503
    assert "newer than this govfeed" in body
