"""Shared test helpers: paths, a store in a temp dir, and a way to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
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


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
