"""``govfeed``: the command line. It wires config, crawl, store, feeds and scheduler together.

govfeed sources                      list and validate sources.toml
govfeed crawl [SOURCE…] [--replay DIR]   one crawl now, then rebuild the feeds
govfeed feeds                        rebuild every feed from the store
govfeed run [--replay DIR]           crawl on schedule and serve the feeds
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from feeds.build import build_feeds
from feeds.health import update_health
from feeds.health_feed import write_health_feed
from feeds.server import FeedServer
from feeds.status import monitor_routes
from feeds.watches import install_search
from feeds.websub import Hub
from scraper.crawl_children import CrawlChildren
from scraper.failures import crawl_failed
from scraper.sources import Config, ConfigError, load_config
from scraper.store import Store, StoreError

log = logging.getLogger("govfeed")

DEFAULT_CONFIG = "sources.toml"
STORE_FILE = "govfeed.sqlite3"


def data_dir(arg: str | None) -> Path:
    """``--data``, else ``$GOVFEED_DATA``, else ``./data``: everything govfeed writes is here."""
    return Path(arg or os.environ.get("GOVFEED_DATA") or "data")


def base_url(config: Config, port: int | None = None) -> str:
    return f"http://127.0.0.1:{port if port is not None else config.settings.port}"


def _select(config: Config, names: list[str]) -> list:
    return [config.source(n) for n in names] if names else list(config.sources)


def cmd_sources(args: argparse.Namespace, config: Config) -> int:
    for s in config.sources:
        every = s.schedule.every or s.schedule.cron
        print(
            f"{s.name:<16} {s.title}  [{len(s.start_urls)} start URLs, profile "
            f"{s.profile or 'generic'}, {s.timezone}, every {every}]"
        )
    for w in config.watches:
        print(f"{w.slug:<16} watch: {w.query}")
    print(f"{args.config}: {len(config.sources)} sources, {len(config.watches)} watches, valid")
    return 0


def cmd_crawl(args: argparse.Namespace, config: Config) -> int:
    from scraper.crawl import run_crawl  # imports Scrapy/Twisted only for crawls

    sources = _select(config, args.sources)
    data = data_dir(args.data)
    # Until Scrapy installs its graceful handler (SIGTERM: finish what is in flight, record
    # the run), SIGTERM interrupts like Ctrl-C: the store's open transaction rolls back.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        summaries = run_crawl(
            config,
            sources,
            data / STORE_FILE,
            replay_dir=Path(args.replay) if args.replay else None,
            replay_latency=args.replay_latency,
            replay_proxy=args.proxy,
            log_level="INFO" if args.verbose else "WARNING",
            now=(lambda: args.now) if args.now else None,
        )
    except KeyboardInterrupt:
        print("crawl stopped before it started", file=sys.stderr)
        return 0
    for summary in summaries:
        print(summary.line())
    failed = next((s.store_error for s in summaries if s.store_error), None)
    if failed:  # disk full, read-only: what was stored stays; nothing more can be written
        raise StoreError(failed)
    if not args.no_feeds:
        with Store(data / STORE_FILE) as store:
            build_feeds(config, store, data / "feeds", base_url(config), {s.name for s in sources})
            refresh_health(config, store, data / "feeds", base_url(config))
        print(f"feeds written to {data / 'feeds'}")
    return 0


def cmd_feeds(args: argparse.Namespace, config: Config) -> int:
    data = data_dir(args.data)
    with Store(data / STORE_FILE) as store:
        changed = build_feeds(config, store, data / "feeds", base_url(config))
        refresh_health(config, store, data / "feeds", base_url(config))
    print(f"feeds written to {data / 'feeds'} ({len(changed)} changed)")
    return 0


def refresh_health(config: Config, store: Store, feeds_dir: Path, url: str) -> None:
    """Judge every source from the store after a crawl; a change of state becomes an entry
    of the health feed."""
    for event in update_health(config, store, datetime.now(UTC)):
        log.warning("health: %s is %s: %s", event.source, event.state, event.reason)
    write_health_feed(config, store, feeds_dir, url)


def crawl_subprocess(
    args: argparse.Namespace, name: str, children: CrawlChildren | None = None
) -> int | None:
    """One crawl in a fresh process: the reactor starts clean, and a crash stays there.

    Returns its exit status, or None when ``children`` is stopping and it was not started.
    """
    command = [sys.executable, "-m", "cli", "--config", str(args.config)]
    command += ["--data", str(data_dir(args.data)), "crawl", name, "--no-feeds"]
    if args.replay:
        command += ["--replay", str(args.replay), "--replay-latency", str(args.replay_latency)]
    if getattr(args, "proxy", None):
        command += ["--proxy", args.proxy]
    return (children or CrawlChildren()).run(command)


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from schedule_book import BOOK_FILE, ScheduleBook
    from scheduler import RunResult, build_scheduler

    data = data_dir(args.data)
    port = args.port if args.port is not None else config.settings.port
    Store(data / STORE_FILE).close()
    server = FeedServer(data / "feeds", port=port)
    url = base_url(config, server.server_address[1])
    install_search(server, config, data / STORE_FILE, url)
    hub = Hub(data / STORE_FILE, url, data / "feeds", allow_private=bool(args.replay))
    hub.install(server)
    children = CrawlChildren()

    def next_runs() -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in scheduler.get_jobs()}

    server.routes.update(monitor_routes(config, data / STORE_FILE, url, next_runs))

    rebuilding = threading.Lock()  # crawls end in parallel threads: one health judge at a time

    def rebuild(names: set[str] | None) -> list[Path]:
        with rebuilding, Store(data / STORE_FILE) as store:
            written = build_feeds(config, store, data / "feeds", url, names)
            refresh_health(config, store, data / "feeds", url)
        return written

    def last_run_id(name: str) -> int | None:
        with Store(data / STORE_FILE) as store:
            runs = store.runs(name, limit=1)
        return runs[0].id if runs else None

    def run_source(name: str) -> RunResult:
        started, before = datetime.now(UTC), last_run_id(name)
        code = crawl_subprocess(args, name, children)
        if code is None:
            return RunResult.INTERRUPTED  # shutting down: not started
        with Store(data / STORE_FILE) as store:
            runs = store.runs(name, limit=1)
            recorded = runs[0].outcome if runs and runs[0].id != before else None
            if code != 0:
                log.error("crawl of %s exited with status %s", name, code)
                if recorded is None:  # died before recording its run: still a run, failed
                    outcome = "interrupted" if children.stopping else "error"
                    store.record_run(name, started, datetime.now(UTC), outcome, {"exit": code})
        hub.publish(rebuild({name}))  # even after a failed crawl: what it stored is published
        if children.stopping:
            return RunResult.INTERRUPTED
        return RunResult.FAILED if crawl_failed(code, recorded) else RunResult.OK

    rebuild(None)
    book = ScheduleBook(data / BOOK_FILE)
    scheduler = build_scheduler(config, run_source, book=book)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    server.start_in_thread()
    print(f"serving feeds at {url}/ (Ctrl-C to stop)", flush=True)
    stop.wait()
    print("stopping: no new crawls; running crawls finish their writes", flush=True)
    scheduler.pause()  # no new runs from here on
    grace = config.settings.shutdown_grace.total_seconds()
    if not children.stop(grace):
        print(f"stopping: crawls still running after {grace:.0f}s were killed", flush=True)
    scheduler.shutdown(wait=True)  # the jobs' last steps: feeds rebuilt, next runs kept
    server.shutdown()
    hub.close()
    return 0


def aware_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (e.g. +08:00 or Z)")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="govfeed", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (default %(default)s)")
    p.add_argument("--data", help="data folder (default $GOVFEED_DATA or ./data)")
    p.add_argument("-v", "--verbose", action="store_true", help="log crawl progress")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("sources", help="list and validate the configured sources")
    crawl = sub.add_parser("crawl", help="crawl now (all sources, or those named)")
    crawl.add_argument("sources", nargs="*", metavar="SOURCE")
    crawl.add_argument("--no-feeds", action="store_true", help="do not rebuild feeds after")
    crawl.add_argument(
        "--now",
        type=aware_datetime,
        metavar="ISO8601",
        help="crawl as if it were this time (with a zone), e.g. to replay a revisit days later",
    )
    # tests and bench/: a replay-style crawl through a forward proxy that is already running
    crawl.add_argument("--proxy", metavar="URL", help=argparse.SUPPRESS)
    sub.add_parser("feeds", help="rebuild every feed from the store")
    run = sub.add_parser("run", help="crawl on schedule and serve the feeds")
    run.add_argument("--port", type=int, help="HTTP port (default from the config: 8080)")
    run.add_argument("--proxy", metavar="URL", help=argparse.SUPPRESS)  # tests: a fault proxy
    for command in (crawl, run):
        command.add_argument(
            "--replay", metavar="DIR", help="answer every request from saved pages in DIR"
        )
        command.add_argument(
            "--replay-latency",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="delay each replayed response (simulates a slow site)",
        )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command != "crawl":  # a crawl's logging is Scrapy's (LOG_LEVEL)
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        )
    try:
        config = load_config(args.config)
        commands = {"sources": cmd_sources, "crawl": cmd_crawl, "feeds": cmd_feeds, "run": cmd_run}
        return commands[args.command](args, config)
    except (ConfigError, StoreError) as exc:
        print(f"govfeed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
