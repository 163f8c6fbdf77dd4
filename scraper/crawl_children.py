"""Crawl subprocesses of ``govfeed run``, tracked so that a shutdown can stop them gracefully.

On SIGTERM the parent stops scheduling, then ``stop`` sends each running crawl one SIGTERM:
Scrapy then finishes the requests in flight, stores their items, records the run and exits.
A crawl still running after the grace period is killed; the store stays consistent even then
(articles are committed in small batches, each whole or not at all), it only loses that run's
record and the batch in hand, which the next run fetches again.

Each child runs in its own session, so a Ctrl-C in a terminal (sent to the whole foreground
process group) reaches only the parent, which forwards exactly one signal: a second signal
would make Scrapy stop without finishing its writes.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Sequence

log = logging.getLogger("govfeed.crawl")


class CrawlChildren:
    """Runs crawl commands as child processes and stops them all on request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._stopping = threading.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self, command: Sequence[str]) -> int | None:
        """Run ``command`` to its end and return its exit status; None if stopping already."""
        with self._lock:
            if self._stopping.is_set():
                return None
            child = subprocess.Popen(list(command), start_new_session=True)
            self._running.add(child)
        try:
            return child.wait()
        finally:
            with self._lock:
                self._running.discard(child)

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def stop(self, grace: float) -> bool:
        """SIGTERM every running crawl, wait up to ``grace`` seconds, then kill what is left.

        Returns True when every crawl ended by itself within the grace period.
        """
        with self._lock:
            self._stopping.set()
            children = list(self._running)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        clean = True
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("crawl (pid %s) still running after %.0fs: killed", child.pid, grace)
                child.kill()
                child.wait()
                clean = False
        return clean
