"""Serve the written feed files over HTTP, with validators so readers can poll cheaply."""

from __future__ import annotations

import email.utils
import hashlib
import re
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from scraper.store import StoreError

Route = Callable[[], tuple[bytes, str]]  # a dynamic page: () → (body, content type)

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
_FEED_PATH = re.compile(r"^/feeds/([a-z0-9][a-z0-9_-]*\.(?:atom|rss))$")


class _FeedHandler(BaseHTTPRequestHandler):
    server: FeedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET(with_body=False)

    def do_GET(self, with_body: bool = True) -> None:
        path = urlsplit(self.path).path
        if (route := self.server.routes.get(path)) is not None:
            self._dynamic(route, with_body)
            return
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

    def _dynamic(self, route: Route, with_body: bool) -> None:
        """A page rendered per request (status, health): never cached, errors are a 503."""
        try:
            data, content_type = route()
        except StoreError as exc:
            self._send(503, f"{exc}\n".encode(), "text/plain; charset=utf-8", with_body)
            return
        self._send(200, data, content_type, with_body, {"Cache-Control": "no-cache"})

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

    def __init__(
        self,
        feeds_dir: Path,
        host: str = "127.0.0.1",
        port: int = 8080,
        routes: Mapping[str, Route] | None = None,
    ) -> None:
        super().__init__((host, port), _FeedHandler)
        self.feeds_dir = feeds_dir
        self.routes: dict[str, Route] = dict(routes or {})  # path → page rendered per request

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="feed-server", daemon=True)
        thread.start()
        return thread
