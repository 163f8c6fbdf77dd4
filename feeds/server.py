"""Serve the written feed files over HTTP, as a good feed host: readers poll cheaply.

Validators (``ETag``, ``Last-Modified``) answer conditional requests with ``304`` and no
body; responses are gzip-compressed when the client accepts it (``Vary: Accept-Encoding``,
and the compressed variant has its own ETag, since its bytes differ); ``HEAD`` sends the same
headers as ``GET``. A file's bytes, ETags and compressed copy are cached until its
modification time or size changes, so a poll costs a ``stat`` and a dictionary look-up.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from scraper.store import StoreError

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
# /feeds/<segment>[/<segment>…].<format>: segments cannot start with a dot, so no "..".
_FEED_PATH = re.compile(
    r"^/feeds/((?:[a-z0-9][a-z0-9_-]*/){0,4}[a-z0-9][a-z0-9_-]*\.(?:atom|rss|json))$"
)
_FIXED_PATHS = {"/": "index.html", "/index.html": "index.html", "/feeds.opml": "feeds.opml"}
GZIP_LEVEL = 6
MAX_CACHED = 256  # files kept in memory (the current feeds; archive pages come and go)
MAX_REQUEST_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class Reply:
    """What a route answers; the server writes it (and drops the body for HEAD)."""

    status: int
    body: bytes = b""
    content_type: str | None = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


# A dynamic endpoint: (query string, request body, request headers) -> reply.
Route = Callable[[str, bytes, Message], Reply]


@dataclass(frozen=True, slots=True)
class Representation:
    """One file as served: its bytes plain and gzipped, with an ETag for each."""

    stamp: tuple[int, int, int]  # (inode, size, mtime_ns): changes when the file is replaced
    mtime: float
    data: bytes
    gzipped: bytes
    etag: str
    gzip_etag: str

    @classmethod
    def load(cls, file: Path) -> Representation:
        stat = file.stat()
        data = file.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:20]
        return cls(
            stamp=(stat.st_ino, stat.st_size, stat.st_mtime_ns),
            mtime=stat.st_mtime,
            data=data,
            gzipped=gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0),
            etag=f'"{digest}"',
            gzip_etag=f'"{digest}-gzip"',
        )


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``q=0`` refuses it)."""
    for part in (header or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            return True
    return False


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


class _FeedHandler(BaseHTTPRequestHandler):
    server: FeedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET(with_body=False)

    def do_POST(self) -> None:
        if not self._route("POST"):
            self._send(405, b"method not allowed\n", "text/plain; charset=utf-8", True)

    def _route(self, method: str, with_body: bool = True) -> bool:
        """Answer from a registered route (``FeedServer.routes``); False when there is none."""
        parts = urlsplit(self.path)
        route = self.server.routes.get((method, parts.path))
        if route is None:
            return False
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit() or int(length) > MAX_REQUEST_BODY:
            self.close_connection = True
            self._send(413, b"request body too large\n", "text/plain; charset=utf-8", with_body)
            return True
        try:
            reply = route(parts.query, self.rfile.read(int(length)), self.headers)
        except StoreError as exc:  # a locked, corrupt or vanished store: try again later
            reply = Reply(503, f"{exc}\n".encode(), headers={"Retry-After": "60"})
        self._send(reply.status, reply.body, reply.content_type, with_body, reply.headers)
        return True

    def do_GET(self, with_body: bool = True) -> None:
        if self._route("GET", with_body):
            return
        file = self.server.resolve(urlsplit(self.path).path)
        rep = self.server.representation(file) if file is not None else None
        if file is None or rep is None:
            self._send(404, b"not found\n", "text/plain; charset=utf-8", with_body)
            return
        compressed = accepts_gzip(self.headers.get("Accept-Encoding"))
        etag = rep.gzip_etag if compressed else rep.etag
        headers = {
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(rep.mtime, usegmt=True),
            "Cache-Control": "max-age=300",
            "Vary": "Accept-Encoding",
        }
        if self._not_modified(etag, rep.mtime):
            self._send(304, None, None, with_body, headers)
            return
        if compressed:
            headers["Content-Encoding"] = "gzip"
        data = rep.gzipped if compressed else rep.data
        self._send(200, data, CONTENT_TYPES[file.suffix], with_body, headers)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        if (tags := self.headers.get("If-None-Match")) is not None:
            if tags.strip() == "*":
                return True
            return _opaque(etag) in {_opaque(t) for t in tags.split(",")}  # weak comparison
        if since := self.headers.get("If-Modified-Since"):
            try:
                return int(mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _send(
        self,
        status: int,
        data: bytes | None,
        content_type: str | None,
        with_body: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        """A response; ``data`` None means none at all (304: no body, no Content-Length)."""
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if data is not None:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if with_body and data:
            self.wfile.write(data)


class FeedServer(ThreadingHTTPServer):
    """``/`` is the feed index, ``/feeds.opml`` the list of feeds for readers, and
    ``/feeds/<name>.atom|rss|json`` (``<name>`` may be ``source/channel`` or an archive page)
    are the feeds."""

    daemon_threads = True

    def __init__(self, feeds_dir: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
        super().__init__((host, port), _FeedHandler)
        self.feeds_dir = feeds_dir
        self._cache: OrderedDict[Path, Representation] = OrderedDict()
        self._lock = threading.Lock()
        # (method, path) → dynamic endpoint: status page, health, metrics, search, WebSub hub
        self.routes: dict[tuple[str, str], Route] = {}

    def handle_error(self, request: object, client_address: object) -> None:
        """A reader that hangs up mid-response is routine, not an error worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def resolve(self, path: str) -> Path | None:
        """The file a request path names, or None (never outside the feeds folder)."""
        if path in _FIXED_PATHS:
            return self.feeds_dir / _FIXED_PATHS[path]
        if match := _FEED_PATH.match(path):
            return self.feeds_dir / match[1]
        return None

    def representation(self, file: Path) -> Representation | None:
        """The file's cached representation, reloaded when the file was replaced."""
        try:
            stat = file.stat()
        except OSError:
            return None
        if not file.is_file():
            return None
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(file)
            if cached is not None and cached.stamp == stamp:
                self._cache.move_to_end(file)
                return cached
        try:
            rep = Representation.load(file)
        except OSError:
            return None
        with self._lock:
            self._cache[file] = rep
            while len(self._cache) > MAX_CACHED:
                self._cache.popitem(last=False)
        return rep

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="feed-server", daemon=True)
        thread.start()
        return thread
