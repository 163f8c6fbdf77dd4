"""Shared test helpers: paths, a store in a temp dir, and a way to run the real CLI."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SITES = FIXTURES / "sites"
CORPUS = ROOT.parent / "shared" / "corpus"


def source_toml(name: str, title: str, host: str, start_path: str, **fields: str) -> str:
    """One ``[[source]]`` for a test site on ``host`` (a fault server's): TRS article names
    (``t20250101_1.html``), no pagination, and ``fields`` as TOML values, quoted by the caller."""
    extra = "".join(f"{key} = {value}\n" for key, value in fields.items())
    return f"""
[[source]]
name = "{name}"
title = "{title}"
homepage = "http://{host}/"
start_urls = ["http://{host}{start_path}"]
allowed_domains = ["{host}"]
article_patterns = ['/t\\d{{8}}_\\d+\\.html$']
pagination = "none"
{extra}"""


def run_govfeed(
    *args: str, data: Path, config: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``govfeed`` as a user would (a fresh process: the reactor starts only once)."""
    command = [sys.executable, "-m", "cli", "--config", str(config or ROOT / "sources.toml")]
    command += ["--data", str(data), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env, check=False
    )


def stored_count(path: Path) -> int | None:
    """Articles committed in the store at ``path``, read as another process would (a crawl
    may be writing); None before the file or its tables exist."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return int(db.execute("SELECT count(*) FROM articles").fetchone()[0])
        finally:
            db.close()
    except sqlite3.OperationalError:  # not created yet, or mid-migration
        return None


def v1_store(path: Path, *rows: tuple[str, tuple[object, ...]]) -> None:
    """A store as the first schema left it: v1 tables, the given ``(sql, params)`` rows."""
    from scraper.store import _V1

    db = sqlite3.connect(path)
    for statement in _V1.split(";"):
        if statement.strip():
            db.execute(statement)
    for sql, params in rows:
        db.execute(sql, params)
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


@contextmanager
def govfeed_run(config: Path, data: Path, *args: str) -> Iterator[str]:
    """``govfeed run`` in a subprocess on a free port; yields its base URL. On leaving, it gets
    SIGTERM and must exit 0 (a clean shutdown is part of every test that uses this)."""
    command = [sys.executable, "-m", "cli", "--config", str(config), "--data", str(data)]
    command += ["run", "--port", "0", *args]
    log_path = data.parent / "run.log"
    log = log_path.open("w")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base = re.search(r"serving feeds at (http://\S+?)/? ", line)
        assert base, line + log_path.read_text()
        yield base[1]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=90) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        log.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
