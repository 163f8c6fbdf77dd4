"""Crash safety: a crawl SIGKILLed at any moment loses nothing, and the next run completes it.

A real ``govfeed crawl ccfao --replay`` (47 article pages, slowed with ``--replay-latency``)
is killed with SIGKILL at many points: as soon as its store file exists (start-up, migration),
after 1, 2, 3, 5, … articles are stored (mid-burst: saves are in flight), and once all are
stored (before the run is recorded and the backfill marked done). Those crawls save two
articles a transaction (``store_batch``), so the kills land at many different store states;
the two-kills test keeps the default batch. Each time the crawl is then
run again to completion. The store must pass SQLite's integrity check after the kill and
after the re-run, and the final store must equal that of one uninterrupted crawl: the same
articles (titles, bodies, content hashes, dates, URLs, feed ids), the same dropped pages, the
same list-page validators, and the backfill marked done. Resume comes from the store only.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scraper.store import make_guid
from tests.conftest import ROOT, SITES, run_govfeed, stored_count

NOW = "2026-11-20T10:00:00+08:00"
LATENCY = "0.15"  # seconds per replayed response: the crawl takes a few seconds, not 0.5
# Kill once this many articles are stored (0: as soon as the store file exists); None: all.
KILL_AT: list[int | None] = [0, 1, 2, 3, 5, 8, 13, 21, 34, None]


def crawl_command(data: Path, latency: str, config: Path) -> list[str]:
    return [
        sys.executable, "-m", "cli", "--config", str(config), "--data", str(data),
        "crawl", "ccfao", "--replay", str(SITES), "--replay-latency", latency, "--now", NOW,
        "--no-feeds",
    ]  # fmt: skip


def with_settings(folder: Path, settings: str) -> Path:
    """The project's config with ``settings`` (TOML lines) added to its ``[settings]``."""
    config = folder / "sources.toml"
    text = (ROOT / "sources.toml").read_text(encoding="utf-8")
    config.write_text(text.replace("[settings]\n", f"[settings]\n{settings}\n", 1))
    return config


def kill_when(
    data: Path, threshold: int | None, total: int, config: Path = ROOT / "sources.toml"
) -> tuple[int, int | None]:
    """Start a crawl, SIGKILL it when ``threshold`` articles are stored; (count, exit code)."""
    store = data / "govfeed.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        crawl_command(data, LATENCY, config),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if threshold == 0 and store.exists():
                break
            count = stored_count(store)
            if count is not None and count >= (total if threshold is None else max(threshold, 1)):
                break
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)  # a no-op if it has already exited
    finally:
        code = process.wait(timeout=30)
    return stored_count(store) or 0, code


def snapshot(path: Path) -> dict[str, Any]:
    """Everything a re-run must restore, in a form two stores can be compared by."""
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        urls: dict[int, set[str]] = {}
        for article_id, url in db.execute("SELECT article_id, url FROM article_urls"):
            urls.setdefault(article_id, set()).add(url)
        articles: dict[frozenset[str], dict[str, Any]] = {}
        db.row_factory = sqlite3.Row
        for row in db.execute("SELECT * FROM articles"):
            columns = row.keys()  # iterating a Row gives its values, not its keys
            article = {k: row[k] for k in columns if k not in ("id", "signature")}
            known = frozenset(urls[row["id"]])
            assert row["url"] in known and row["guid"] == make_guid(row["source"], row["url"])
            if len(known) > 1:
                # One article in two channels: its feed id, URL, channel and HTML (links made
                # absolute against its own URL) come from the copy stored first, which the
                # crawl's concurrency decides, interrupted or not. Either copy is right.
                for copy_field in ("guid", "url", "channel", "body_html"):
                    del article[copy_field]
            articles[known] = article
        db.row_factory = None
        return {
            "articles": articles,
            "dropped": set(db.execute("SELECT url_key, url, source, reason FROM dropped_pages")),
            "validators": set(db.execute("SELECT url_key, etag, last_modified FROM list_pages")),
            "backfilled": db.execute("SELECT source, backfilled_at FROM source_state").fetchall(),
            "versions": db.execute("SELECT count(*) FROM article_versions").fetchone()[0],
        }
    finally:
        db.close()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("uninterrupted")
    result = run_govfeed(
        "crawl", "ccfao", "--replay", str(SITES), "--now", NOW, "--no-feeds", data=data
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return snapshot(data / "govfeed.sqlite3")


def test_the_uninterrupted_crawl_is_a_meaningful_baseline(uninterrupted: dict[str, Any]) -> None:
    assert len(uninterrupted["articles"]) == 45
    assert any(len(urls) == 2 for urls in uninterrupted["articles"])  # the two-channel copy
    assert len(uninterrupted["dropped"]) == 1
    assert uninterrupted["validators"] and uninterrupted["backfilled"]


def test_sigkill_at_many_points_then_a_rerun_equals_an_uninterrupted_crawl(
    tmp_path: Path, uninterrupted: dict[str, Any]
) -> None:
    total = len(uninterrupted["articles"])
    config = with_settings(tmp_path, "store_batch = 2")
    landed: list[int] = []
    for threshold in KILL_AT:
        data = tmp_path / f"killed-at-{threshold}"
        count, code = kill_when(data, threshold, total, config)
        if threshold is not None:  # the last point may find the crawl already done
            assert code == -signal.SIGKILL, (threshold, code)
        landed.append(count)
        store = data / "govfeed.sqlite3"
        if count:
            db = sqlite3.connect(store)
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", threshold
            db.close()
        rerun = run_govfeed(
            "crawl", "ccfao", "--replay", str(SITES), "--now", NOW, "--no-feeds", data=data
        )
        assert rerun.returncode == 0, (threshold, rerun.stderr[-3000:])
        assert "Traceback" not in rerun.stderr, rerun.stderr[-3000:]
        after = snapshot(store)
        assert after == uninterrupted, f"killed with {count} articles stored"
        assert f", {total - count} new," in rerun.stdout, rerun.stdout  # only what was missing
    # the kills really fell at different moments: before any article, mid-crawl, at the end
    assert landed[0] == 0
    assert len(set(landed)) >= 5, landed
    assert any(0 < n < total for n in landed), landed


def test_two_kills_in_a_row_then_a_rerun_still_equal_an_uninterrupted_crawl(
    tmp_path: Path, uninterrupted: dict[str, Any]
) -> None:
    """A resumed crawl killed again resumes again (its second start is not a backfill's)."""
    data = tmp_path / "data"
    total = len(uninterrupted["articles"])
    first, _ = kill_when(data, 5, total)
    second, code = kill_when(data, first + 10, total)
    assert code == -signal.SIGKILL and second >= first
    rerun = run_govfeed(
        "crawl", "ccfao", "--replay", str(SITES), "--now", NOW, "--no-feeds", data=data
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert snapshot(data / "govfeed.sqlite3") == uninterrupted


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def _running(pid: int) -> bool:
    try:  # a zombie has exited; only a container's init may be slow to reap it
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_killed_crawl_leaves_no_extraction_worker_behind(tmp_path: Path) -> None:
    """SIGKILL gives the crawl no time to stop its workers: each sees its input close and
    exits on its own."""
    config = with_settings(tmp_path, "extract_workers = 2")
    store = tmp_path / "data" / "govfeed.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    crawl = subprocess.Popen(
        crawl_command(tmp_path / "data", LATENCY, config), cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not stored_count(store) and time.monotonic() < deadline:  # workers at work
            time.sleep(0.01)
        workers = _children(crawl.pid)
        assert len(workers) == 2, workers
        crawl.send_signal(signal.SIGKILL)
    finally:
        crawl.wait(timeout=30)
    deadline = time.monotonic() + 15
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _running(pid)]
