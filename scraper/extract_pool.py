"""Downloaded article pages → normalized articles with what the store derives from them
(fingerprints, full-text index input), off the event loop.

Extraction and derivation are pure CPU work, about 6 ms for a 40 KB page. Run inline they
stall Scrapy's event loop, so a crawl uses one core however many the machine has. With
workers > 0 they run in worker processes while the loop goes on downloading and storing;
with 0 (or after a worker died) they run inline. Results are the same either way:
``prepare`` is a pure function.

A worker is ``python -m scraper.extract_pool``, spoken to over its stdin and stdout in
length-prefixed pickles, and the event loop itself reads and writes those pipes. No helper
threads (as ``ProcessPoolExecutor`` has) compete with the loop for the GIL to pass a page
on, so a worker is not left waiting for its next page or to hand back its last result, and
pipes widened to 1 MB take a whole result at once. A worker whose crawl process dies sees
its stdin close and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import itertools
import logging
import os
import pickle
import sys
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from scraper.extract import SiteProfile, extract_article
from scraper.extract.article import Article
from scraper.normalize import normalize
from scraper.store import Derived, derive

log = logging.getLogger(__name__)

_HEADER = 4  # bytes of a frame's length, little-endian
_PIPE_SIZE = 1 << 20  # Linux's default cap for unprivileged processes
# Workers yield the CPU to the crawl's event loop, which serves downloads and the store: on a
# machine with fewer spare cores than workers, the loop running late holds up everything.
WORKER_NICENESS = 5


def prepare(
    body: bytes,
    url: str,
    content_type: str,
    profile: SiteProfile | None,
    zone: str,
    language: str,
) -> tuple[Article, Derived]:
    """Extract, normalize into the source's zone and language, derive the store's input."""
    article = extract_article(body, url=url, profile=profile, content_type=content_type)
    article = normalize(article, ZoneInfo(zone), language)
    return article, derive(article)


def auto_workers() -> int:
    """One worker per spare core, at most four: the event loop keeps a core for itself."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def _frame(value: object) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(_HEADER, "little") + data


def _widen(pipe: Any) -> None:
    """Best effort: a 1 MB pipe holds a page or a result whole (the default is 64 KB)."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if pipe is not None and setsize is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), setsize, _PIPE_SIZE)


class WorkerDied(Exception):
    """The worker process ended with pages in hand."""


class _Worker(asyncio.SubprocessProtocol):
    """One worker process and the pages it has in hand, by job number."""

    def __init__(self, slots: int) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.pending: dict[int, asyncio.Future[tuple[Article, Derived]]] = {}
        self.jobs = itertools.count()
        self.buffer = bytearray()
        self.transport: asyncio.SubprocessTransport | None = None
        self.exited: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def alive(self) -> bool:
        return not self.exited.done()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport
        for fd in (0, 1):
            pipe = transport.get_pipe_transport(fd)
            _widen(pipe.get_extra_info("pipe") if pipe else None)

    async def run(self, args: tuple[Any, ...]) -> tuple[Article, Derived]:
        async with self.slots:
            if not self.alive or self.transport is None:
                raise WorkerDied
            job = next(self.jobs)
            future = asyncio.get_running_loop().create_future()
            self.pending[job] = future
            stdin = self.transport.get_pipe_transport(0)
            assert isinstance(stdin, asyncio.WriteTransport)
            stdin.write(_frame((job, args)))
            return await future

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= _HEADER:
            end = _HEADER + int.from_bytes(self.buffer[:_HEADER], "little")
            if len(self.buffer) < end:
                return
            job, ok, value = pickle.loads(self.buffer[_HEADER:end])
            del self.buffer[:end]
            future = self.pending.pop(job, None)
            if future is not None and not future.done():
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)
        for future in self.pending.values():
            if not future.done():
                future.set_exception(WorkerDied())
        self.pending.clear()

    async def close(self, timeout: float = 10.0) -> None:
        """End of input; the worker exits when it reads it (killed if it does not)."""
        if self.transport is None:
            return
        stdin = self.transport.get_pipe_transport(0)
        if stdin is not None:
            stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.exited), timeout)
        self.transport.close()  # kills a worker still running


class ExtractionPool:
    """``prepare`` in worker processes, shared by every spider of the crawl process.

    At most ``PAGES_PER_WORKER`` pages per worker are handed over at a time; the others wait
    in ``prepare``, so Scrapy holds back its downloads instead of the workers' queues growing
    with the site (40 KB a page) when downloading outruns extraction. Workers start with the
    first page.
    """

    PAGES_PER_WORKER = 16

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: list[_Worker] | None = None
        self._starting: asyncio.Future[list[_Worker]] | None = None

    async def _started(self) -> list[_Worker]:
        if self._pool is not None:
            return self._pool
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        return await asyncio.shield(self._starting)

    async def _start(self) -> list[_Worker]:
        loop = asyncio.get_running_loop()
        pool = []
        try:
            for _ in range(self.workers):
                _, worker = await loop.subprocess_exec(
                    lambda: _Worker(self.PAGES_PER_WORKER),
                    sys.executable, "-m", "scraper.extract_pool",
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=None,
                )  # fmt: skip
                pool.append(worker)
        except OSError as exc:
            log.warning("cannot start extraction workers (%s); extracting inline", exc)
        self._pool = pool
        return pool

    async def prepare(
        self,
        body: bytes,
        url: str,
        content_type: str,
        profile: SiteProfile | None,
        zone: str,
        language: str,
    ) -> tuple[Article, Derived]:
        args = (body, url, content_type, profile, zone, language)
        if self.workers > 0:
            workers = [w for w in await self._started() if w.alive]
            if workers:
                worker = min(workers, key=lambda w: len(w.pending))
                try:
                    return await worker.run(args)
                except WorkerDied:
                    log.warning("an extraction worker died; its pages are extracted inline")
        return prepare(*args)

    async def close(self) -> None:
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        for worker in self._pool or []:
            await worker.close()
        self._pool, self._starting = [], None


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    """A worker's loop: a job in, its result out, until the input ends. An exception is
    sent back as the result (the crawl's pipeline reports it), never ends the worker."""
    while header := source.read(_HEADER):
        data = source.read(int.from_bytes(header, "little"))
        job, args = pickle.loads(data)
        reply: tuple[int, bool, object]
        try:
            reply = (job, True, prepare(*args))
        except Exception as exc:  # the page's failure, not the worker's
            reply = (job, False, exc)
        try:
            frame = _frame(reply)
        except Exception as exc:  # an exception that does not pickle
            frame = _frame((job, False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        sink.write(frame)
        sink.flush()


if __name__ == "__main__":
    os.nice(WORKER_NICENESS)
    gc.freeze()  # modules and tables live as long as the worker: no full collection rescans them
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to stderr, never into the results
    serve(sys.stdin.buffer, channel)
