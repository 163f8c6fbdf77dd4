"""Serve the written feed files over HTTP, with validators so readers can poll cheaply."""

from __future__ import annotations

import email.utils
import hashlib
import re
import threading
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
    ".html": "text/html; charset=utf-8",
}
_FEED_PATH = re.compile(r"^/feeds/([a-z0-9][a-z0-9_-]*\.(?:atom|rss))$")
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
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            file = self.server.feeds_dir / "index.html"
        elif match := _FEED_PATH.match(path):
            file = self.server.feeds_dir / match[1]
        else:
            file = None
        if file is None or not file.is_file():
            self._send(404, b"not found\n", "text/plain; charset=utf-8", with_body)
            return
        data = file.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        modified = email.utils.formatdate(file.stat().st_mtime, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified, "Cache-Control": "max-age=300"}
        if self._not_modified(etag, file.stat().st_mtime):
            self._send(304, b"", None, with_body, headers)
            return
        self._send(200, data, CONTENT_TYPES[file.suffix], with_body, headers)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        if (tags := self.headers.get("If-None-Match")) is not None:
            return etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
        if since := self.headers.get("If-Modified-Since"):
            try:
                return int(mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _send(
        self,
        status: int,
        data: bytes,
        content_type: str | None,
        with_body: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if with_body and data:
            self.wfile.write(data)


class FeedServer(ThreadingHTTPServer):
    """``/`` is the feed index; ``/feeds/<name>.atom|rss`` are the feeds."""

    daemon_threads = True

    def __init__(self, feeds_dir: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
        super().__init__((host, port), _FeedHandler)
        self.feeds_dir = feeds_dir
        self.routes: dict[tuple[str, str], Route] = {}  # (method, path): search, WebSub hub

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="feed-server", daemon=True)
        thread.start()
        return thread
