"""Feed serving and rebuilding: requests/s for a 304 and a full 500-entry feed, rebuild time.

    .venv/bin/python bench/serve.py [--requests 3000] [--concurrency 16] [--articles 10000]

Fills a store with generated articles of one source, builds its feeds (the current document
holds 500 entries), then starts two servers on loopback, each in its own process:

* govfeed's ``FeedServer`` serving the built folder;
* the baseline: Python's plain ``http.server`` (``SimpleHTTPRequestHandler``, HTTP/1.1 so
  connections are kept alive as with govfeed) serving the same folder as static files.

An asyncio client (aiohttp, bounded concurrency, a fixed number of requests) measures
requests/s for (a) a conditional GET answered ``304`` (govfeed: ``If-None-Match``; the
baseline only knows ``If-Modified-Since``) and (b) the full feed (plain, and gzip for
govfeed, which the baseline cannot do). (c) times the rebuild of the source's feeds with
10,000 stored articles: the first build (every archive page rendered) beside a rebuild after
one new article (sealed archive pages skipped). Client and servers share the machine's
cores, so the figures are for comparing side by side, not absolute.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds.build import build_feeds  # noqa: E402
from scraper.extract.article import Article  # noqa: E402
from scraper.sources import Config, load_config  # noqa: E402
from scraper.store import Store  # noqa: E402

SOURCE = "bench"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
ENTRIES = 500
IDENTITY = {"Accept-Encoding": "identity"}  # aiohttp asks for gzip unless told otherwise
SERVER = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from feeds.server import FeedServer
server = FeedServer(Path({folder!r}), port=0)
print(server.server_address[1], flush=True)
server.serve_forever()
"""
BASELINE = """
import functools, sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory={folder!r}))
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def config_file(folder: Path) -> Config:
    path = folder / "sources.toml"
    path.write_text(
        f"[settings]\nfeed_entries = {ENTRIES}\n\n[[source]]\n"
        f'name = "{SOURCE}"\ntitle = "Bench FAO"\nhomepage = "http://bench.example/"\n'
        'start_urls = ["http://bench.example/news/index.html"]\n'
        'allowed_domains = ["bench.example"]\narticle_patterns = ["/t\\\\d+\\\\.html$"]\n',
        encoding="utf-8",
    )
    return load_config(path)


def make_article(i: int) -> Article:
    words = [hashlib.sha1(f"{i}:{k}".encode()).hexdigest()[: 3 + k % 6] for k in range(120)]
    paragraphs = [" ".join(words[k : k + 30]) + "." for k in range(0, 120, 30)]
    return Article(
        url=f"http://bench.example/news/t{i}.html",
        title=f"Bench article {i}: {' '.join(words[:6])}",
        body="\n".join(paragraphs),
        body_html="".join(f"<p>{p}</p>" for p in paragraphs),
        published=T0 - timedelta(hours=10 * i),
        source="Bench FAO",
        channel=("News", "Events", "Notices")[i % 3],
    )


def start(script: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


async def load(url: str, headers: dict[str, str], requests: int, concurrency: int) -> tuple:
    """(requests/s, status codes seen, bytes of one body) for ``requests`` GETs of ``url``."""
    statuses: set[int] = set()
    sizes: set[int] = set()
    remaining = requests
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                async with session.get(url, headers=headers) as response:
                    body = await response.read()
                    statuses.add(response.status)
                    sizes.add(len(body))

        async with session.get(url, headers=headers) as warm:  # open a connection first
            await warm.read()
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return requests / elapsed, statuses, max(sizes)


def measure(url: str, headers: dict[str, str], args: argparse.Namespace) -> tuple:
    return asyncio.run(load(url, headers, args.requests, args.concurrency))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--articles", type=int, default=10_000)
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="govfeed-bench-") as tmp:
        folder = Path(tmp)
        config = config_file(folder)
        out = folder / "feeds"
        with Store(folder / "bench.sqlite3") as store:
            t = time.perf_counter()
            store.bulk_insert(SOURCE, (make_article(i) for i in range(args.articles)), T0)
            print(
                f"store: {args.articles:,} articles of one source ({time.perf_counter() - t:.1f} s)"
            )
            t = time.perf_counter()
            first = build_feeds(config, store, out, "http://127.0.0.1:8080")
            cold = time.perf_counter() - t
            store.save(SOURCE, make_article(args.articles), T0 + timedelta(days=1))
            t = time.perf_counter()
            again = build_feeds(config, store, out, "http://127.0.0.1:8080")
            warm = time.perf_counter() - t
        print(f"\n(c) rebuild of the source's feeds ({args.articles:,} stored articles)")
        print(f"{'':<44} {'seconds':>8} {'files written':>14}")
        print(f"{'first build: every archive page (baseline)':<44} {cold:>8.2f} {len(first):>14}")
        print(f"{'rebuild after one new article':<44} {warm:>8.2f} {len(again):>14}")

        feed = "/feeds/bench.atom"
        size = (out / "bench.atom").stat().st_size
        govfeed, govfeed_url = start(SERVER.format(root=str(ROOT), folder=str(out)))
        baseline, baseline_url = start(BASELINE.format(folder=str(out.parent)))
        base_feed = "/feeds/bench.atom"
        try:
            with urllib_get(govfeed_url + feed) as response:
                etag = response.headers["ETag"]
                modified = response.headers["Last-Modified"]
            print(
                f"\nload: {args.requests:,} requests per line, {args.concurrency} concurrent, "
                f"keep-alive; feed {size / 1024:.0f} KiB, {ENTRIES} entries"
            )
            print(f"{'':<34} {'govfeed req/s':>14} {'http.server req/s':>18}")
            rows = [
                (
                    "(a) conditional GET → 304",
                    (govfeed_url + feed, {"If-None-Match": etag, **IDENTITY}),
                    (baseline_url + base_feed, {"If-Modified-Since": modified, **IDENTITY}),
                ),
                (
                    "(b) full feed, identity",
                    (govfeed_url + feed, {"Accept-Encoding": "identity"}),
                    (baseline_url + base_feed, {"Accept-Encoding": "identity"}),
                ),
                ("(b) full feed, gzip", (govfeed_url + feed, {"Accept-Encoding": "gzip"}), None),
            ]
            for label, ours, theirs in rows:
                rate, statuses, body = measure(*ours, args)
                line = f"{label:<34} {rate:>14,.0f}"
                note = f"govfeed: status {sorted(statuses)}, {body:,} bytes"
                if theirs is not None:
                    base_rate, base_statuses, base_body = measure(*theirs, args)
                    line += f" {base_rate:>18,.0f}"
                    note += f"; http.server: status {sorted(base_statuses)}, {base_body:,} bytes"
                else:
                    line += f" {'(no gzip)':>18}"
                print(f"{line}   ({note})")
        finally:
            for proc in (govfeed, baseline):
                proc.terminate()
                proc.wait(timeout=10)
    print(f"\nbench time {time.perf_counter() - began:.0f} s")
    return 0


def urllib_get(url: str):
    import urllib.request

    return urllib.request.urlopen(url, timeout=10)


if __name__ == "__main__":
    sys.exit(main())
