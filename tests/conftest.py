"""Shared test helpers: paths, a store in a temp dir, and a way to run the real CLI."""

from __future__ import annotations

import os
import re
import signal
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
