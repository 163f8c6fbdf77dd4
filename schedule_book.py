"""Each source's next run time and failure count, kept in a file so they survive a restart.

Without it a restarted ``govfeed run`` would crawl every source at once (or forget that a
failing source was backing off). The book is a small JSON file in the data folder, rewritten
whole and atomically (temporary file, fsync, rename), so a crash mid-write leaves the old
version. A file that cannot be read is set aside (never deleted) and the book starts empty:
the worst case is one crawl earlier than planned.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger("govfeed.scheduler")

BOOK_FILE = "schedule.json"
BOOK_VERSION = 1


@dataclass(frozen=True, slots=True)
class SourceTimes:
    """When a source runs next, and how many runs in a row have failed (0 after a success)."""

    next_run: datetime | None = None
    failures: int = 0


class ScheduleBook:
    """The persisted ``SourceTimes`` of every source; safe to use from the scheduler's threads."""

    def __init__(self, path: Path | str | None) -> None:
        """``path=None``: a book held in memory only (tests, or a run that keeps no data)."""
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._times = self._load()

    def _load(self) -> dict[str, SourceTimes]:
        if self.path is None:
            return {}
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(raw)
            if data.get("version") != BOOK_VERSION:
                raise ValueError(f"unknown version {data.get('version')!r}")
            times = {}
            for name, entry in data["sources"].items():
                next_run = entry.get("next_run")
                parsed = datetime.fromisoformat(next_run) if next_run else None
                if parsed is not None and parsed.tzinfo is None:
                    raise ValueError(f"{name}: next_run {next_run!r} has no time zone")
                times[str(name)] = SourceTimes(parsed, int(entry.get("failures", 0)))
            return times
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            aside = self.path.with_name(self.path.name + ".unreadable")
            os.replace(self.path, aside)
            log.warning("%s: unreadable (%s); kept as %s, starting afresh", self.path, exc, aside)
            return {}

    def get(self, source: str) -> SourceTimes:
        with self._lock:
            return self._times.get(source, SourceTimes())

    def all(self) -> dict[str, SourceTimes]:
        with self._lock:
            return dict(self._times)

    def record(self, source: str, times: SourceTimes) -> None:
        """Keep ``times`` for ``source`` and write the whole book before returning."""
        if times.next_run is not None and times.next_run.tzinfo is None:
            raise ValueError(f"naive next_run {times.next_run!r}: the book keeps zone-aware times")
        with self._lock:
            self._times[source] = times
            self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        data = {
            "version": BOOK_VERSION,
            "sources": {
                name: {
                    "next_run": t.next_run.isoformat() if t.next_run else None,
                    "failures": t.failures,
                }
                for name, t in sorted(self._times.items())
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=1)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
