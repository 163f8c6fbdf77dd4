"""A store that cannot be written: disk full, or read-only.

A real ``govfeed crawl`` runs in a subprocess whose writes fail the way they would on a full
or read-only disk, without root tricks (the tests may run as root, where ``chmod`` stops
nothing): a file size limit (``RLIMIT_FSIZE``, with ``SIGXFSZ`` ignored, so ``write`` fails
with ``EFBIG`` as it would with ``ENOSPC``), or the store opened with SQLite's ``mode=ro``,
which is what SQLite falls back to on its own for a database file the process may not write
(``sqlite3_open_v2``: "reading only if the file is write protected"), so the same code path.

The crawl must stop with one clear line and exit code 2 (no traceback), the database must pass
its integrity check, everything stored before must still be there, and once the disk is fine
again a plain re-run completes the source.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, SITES, run_govfeed

NOW = "2026-11-20T10:00:00+08:00"
CCFAO_ARTICLES = 45  # the ccfao replica: 47 article pages, one copy of another, one empty
READ_ONLY = """
import sqlite3, sys
connect = sqlite3.connect
def read_only(path, *args, **kwargs):
    if str(path).endswith("govfeed.sqlite3"):  # the store; not the config check's :memory:
        return connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)
    return connect(path, *args, **kwargs)
sqlite3.connect = read_only
import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def crawl(data: Path, source: str, *, limit: int | None = None, read_only: bool = False):
    """``govfeed crawl SOURCE`` over the replica, with writes limited as asked."""
    args = ["--config", str(ROOT / "sources.toml"), "--data", str(data), "crawl", source]
    args += ["--replay", str(SITES), "--now", NOW, "--no-feeds"]
    command = [sys.executable, "-c", READ_ONLY, *args] if read_only else [
        sys.executable, "-m", "cli", *args
    ]  # fmt: skip
    preexec: Callable[[], None] | None = None
    if limit is not None:

        def preexec() -> None:  # in the child, before exec: both survive the exec
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills it
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=preexec,  # two system calls, nothing that could deadlock after fork
        check=False,
    )


def rows(store: Path) -> dict[str, set[tuple[object, ...]]]:
    """Articles by source (URL, title, body, hash); the database must be sound to read them."""
    db = sqlite3.connect(store)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        found: dict[str, set[tuple[object, ...]]] = {}
        for source, *article in db.execute(
            "SELECT source, url, title, body, content_hash FROM articles"
        ):
            found.setdefault(source, set()).add(tuple(article))
        return found
    finally:
        db.close()


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, set[tuple[object, ...]]]:
    """A data folder whose store already holds beijingfao's articles."""
    data = tmp_path / "data"
    first = run_govfeed("crawl", "beijingfao", "--replay", str(SITES), "--now", NOW,
                        "--no-feeds", data=data)  # fmt: skip
    assert first.returncode == 0, first.stderr[-3000:]
    before = rows(data / "govfeed.sqlite3")
    assert set(before) == {"beijingfao"} and len(before["beijingfao"]) == 5
    return data, before["beijingfao"]


def assert_clear_failure(result: subprocess.CompletedProcess[str], reason: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr[-3000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("govfeed: ") and "govfeed.sqlite3" in last and reason in last, last


def assert_rerun_completes(data: Path, kept: set[tuple[object, ...]]) -> None:
    rerun = run_govfeed("crawl", "ccfao", "--replay", str(SITES), "--now", NOW, "--no-feeds",
                        data=data)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = rows(data / "govfeed.sqlite3")
    assert after["beijingfao"] == kept
    assert len(after["ccfao"]) == CCFAO_ARTICLES


def test_disk_full_mid_crawl_stops_it_clearly_and_keeps_what_was_stored(
    stored: tuple[Path, set[tuple[object, ...]]],
) -> None:
    data, kept = stored
    store = data / "govfeed.sqlite3"
    # ~100 KB more than the store: the write-ahead log fills it after a few articles
    result = crawl(data, "ccfao", limit=store.stat().st_size + 100_000)
    assert_clear_failure(result, "cannot write")
    assert "stopped: store error" in result.stdout  # the summary says why it ended early
    after = rows(store)
    assert after["beijingfao"] == kept
    written = len(after.get("ccfao", ()))
    assert 0 < written < CCFAO_ARTICLES, written  # it failed mid-crawl, not before or after
    assert f"{written} new" in result.stdout  # what it says it stored is what is there
    assert_rerun_completes(data, kept)


def test_a_disk_too_full_to_open_the_store_for_writing_stops_before_any_fetch(
    stored: tuple[Path, set[tuple[object, ...]]],
) -> None:
    data, kept = stored
    result = crawl(data, "ccfao", limit=4096)  # not even SQLite's shared-memory index fits
    assert_clear_failure(result, "cannot open store")
    assert "pages fetched" not in result.stdout
    assert rows(data / "govfeed.sqlite3") == {"beijingfao": kept}
    assert_rerun_completes(data, kept)


def test_a_read_only_store_stops_the_crawl_clearly_and_changes_nothing(
    stored: tuple[Path, set[tuple[object, ...]]],
) -> None:
    data, kept = stored
    store = data / "govfeed.sqlite3"
    image = store.read_bytes()
    result = crawl(data, "ccfao", read_only=True)
    assert_clear_failure(result, "readonly database")
    assert "0 new" in result.stdout and "stopped: store error" in result.stdout
    assert store.read_bytes() == image  # not a byte written
    assert rows(store) == {"beijingfao": kept}
    assert_rerun_completes(data, kept)
