"""A loopback forward proxy that answers each path with a chosen fault (test support only).

Like ``scraper/replay.py`` it is an HTTP forward proxy: the crawler keeps its real URLs and
``govfeed crawl --proxy`` sends every request here. Each path maps to a ``Fault``; the server
counts the requests per path. Every fault is bounded: the slow body stops after a few seconds
or when the server stops, and the huge body stops when the client hangs up.
"""

from __future__ import annotations

import gzip
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SLOW_BODY_SECONDS = 15.0  # the endless body gives up after this, client or not
BOMB_INFLATED = 24 * 1024 * 1024  # a gzip body inflating past DOWNLOAD_MAXSIZE (10 MB)
HUGE = 50 * 1024 * 1024


@dataclass(frozen=True)
class Fault:
    """How one path answers. ``kind`` is one of KINDS; ``body`` is used by "ok"."""

    kind: str = "ok"
    status: int = 200
    retry_after: str | None = None
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    location: str = ""  # where "redirect" sends the client (with ``status``, e.g. 302)


KINDS = (
    "ok", "status", "reset", "truncated", "slow", "gzip-bomb", "huge", "binary", "empty",
    "redirect",
)  # fmt: skip


@cache
def gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * BOMB_INFLATED, compresslevel=9)


class _Handler(BaseHTTPRequestHandler):
    server: _FaultHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path or "/"
        fault = self.server.route(path)
        getattr(self, "_" + fault.kind.replace("-", "_"))(fault)

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _ok(self, fault: Fault) -> None:
        self._head(
            fault.status,
            {"Content-Type": fault.content_type, "Content-Length": str(len(fault.body))},
        )
        self.wfile.write(fault.body)

    def _status(self, fault: Fault) -> None:
        body = f"<html><body><h1>{fault.status}</h1></body></html>".encode()
        headers = {"Content-Type": "text/html", "Content-Length": str(len(body))}
        if fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
        self._head(fault.status, headers)
        self.wfile.write(body)

    def _reset(self, fault: Fault) -> None:
        """Half a body, then a TCP reset (SO_LINGER 0 makes close() send RST, not FIN)."""
        self._head(200, {"Content-Type": "text/html", "Content-Length": "20000"})
        self.wfile.write(b"<html><body>" + b"x" * 5000)
        self.wfile.flush()
        time.sleep(0.05)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        socket.socket(fileno=self.connection.detach()).close()
        self.close_connection = True

    def _truncated(self, fault: Fault) -> None:
        """Content-Length promises more than is sent, then a clean close."""
        self._head(200, {"Content-Type": "text/html", "Content-Length": "20000"})
        self.wfile.write(b"<html><body>" + b"x" * 5000)
        self.close_connection = True

    def _slow(self, fault: Fault) -> None:
        """A body without end: a few bytes at a time until the client or the bound gives up."""
        self._head(200, {"Content-Type": "text/html", "Connection": "close"})
        self.close_connection = True
        deadline = time.monotonic() + SLOW_BODY_SECONDS
        try:
            self.wfile.write(b"<html><body>")
            while time.monotonic() < deadline and not self.server.stopping.is_set():
                self.wfile.write(b"<p>still loading</p>\n")
                self.server.stopping.wait(0.2)
        except OSError:
            pass

    def _gzip_bomb(self, fault: Fault) -> None:
        body = gzip_bomb()
        self._head(
            200,
            {
                "Content-Type": "text/html",
                "Content-Encoding": "gzip",
                "Content-Length": str(len(body)),
            },
        )
        self.wfile.write(body)

    def _huge(self, fault: Fault) -> None:
        """A 50 MB page, sent until the client hangs up (it should, at DOWNLOAD_MAXSIZE)."""
        self._head(200, {"Content-Type": "text/html", "Content-Length": str(HUGE)})
        self.close_connection = True
        chunk = b" " * 65536
        try:
            for _ in range(HUGE // len(chunk)):
                if self.server.stopping.is_set():
                    break
                self.wfile.write(chunk)
        except OSError:
            pass

    def _binary(self, fault: Fault) -> None:
        body = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + os.urandom(20000)
        self._head(200, {"Content-Type": "text/html", "Content-Length": str(len(body))})
        self.wfile.write(body)

    def _empty(self, fault: Fault) -> None:
        self._head(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": "0"})

    def _redirect(self, fault: Fault) -> None:
        self._head(fault.status, {"Location": fault.location, "Content-Length": "0"})


class _FaultHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Fault] = {}
        self.requests: dict[str, int] = {}
        self.times: dict[str, list[float]] = {}  # monotonic arrival times, per path
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def route(self, path: str) -> Fault:
        with self._lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            self.times.setdefault(path, []).append(time.monotonic())
            return self.routes.get(path, Fault("status", 404))

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up mid-body is the point of several faults


class FaultServer:
    """Serve ``routes`` (path → Fault, for any host) on loopback within a ``with`` block."""

    def __init__(self, routes: dict[str, Fault] | None = None) -> None:
        self._server = _FaultHTTPServer()
        self._server.routes = dict(routes or {})
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def proxy_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def routes(self) -> dict[str, Fault]:
        return self._server.routes

    @routes.setter
    def routes(self, routes: dict[str, Fault]) -> None:
        with self._server._lock:
            self._server.routes = dict(routes)

    @property
    def requests(self) -> dict[str, int]:
        with self._server._lock:
            return dict(self._server.requests)

    @property
    def times(self) -> dict[str, list[float]]:
        with self._server._lock:
            return {path: list(times) for path, times in self._server.times.items()}

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
