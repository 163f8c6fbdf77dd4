"""A loopback HTTP server that answers for real sites from a folder of saved pages.

It acts as a forward proxy: the crawler keeps the real URLs (``http://en.changchun.gov.cn/…``)
and sends every request here, so Scrapy's whole stack (robots.txt, retries, redirects, status
handling, pipelines) runs exactly as in a live crawl. ``<root>/<host>/<path>`` answers
``http://<host>/<path>``; a path ending in ``/`` answers from its ``index.html``; anything
missing is a 404. Plain (non-proxy) requests are answered by their Host header, so a browser
can look at the replica too.

``https://`` URLs arrive as ``CONNECT host:443`` (how a client tunnels TLS through an HTTP
proxy). The server accepts the tunnel and speaks TLS itself with a self-signed certificate
made at start-up (Scrapy does not verify certificates by default), then answers the requests
inside from the same folder, so https sites replay under their real URLs too.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import mimetypes
import re
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

# A host name as the replica's folders are named: dot-separated labels, none empty (so never
# "", "." or ".."), no "/" or "\\" (so never a path). Anything else is not in the replica.
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_TYPES = {".html": "text/html", ".htm": "text/html", ".shtml": "text/html", ".txt": "text/plain"}


def _self_signed_context(host: str) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for ``host`` (loopback only).

    The certificate names the host (subjectAltName), so clients that check names but not
    issuers, like Scrapy by default, accept it without a warning.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:  # load_cert_chain reads files only
        pem = Path(tmp) / "replay.pem"
        pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            + cert.public_bytes(serialization.Encoding.PEM)
        )
        context.load_cert_chain(pem)
    return context


class _Handler(BaseHTTPRequestHandler):
    server: _ReplayHTTPServer
    protocol_version = "HTTP/1.1"
    tunnel_host: str | None = None  # set inside a CONNECT tunnel: requests there are https

    def do_CONNECT(self) -> None:
        """Accept the tunnel, then serve the requests inside it over TLS on this connection."""
        host = self.path.rsplit(":", 1)[0].strip("[]").lower()
        if not _HOST.fullmatch(host):
            self.send_error(400, "bad tunnel host")
            self.close_connection = True
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.tls_context(host).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = tls.makefile("wb")  # flushed after each request by handle_one_request
        self.tunnel_host = host
        self.close_connection = False  # handle() goes on reading requests, now from the tunnel

    def finish(self) -> None:
        super().finish()
        if self.tunnel_host is not None:  # the server closes only the socket it accepted
            self.connection.close()

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def log_message(self, format: str, *args: object) -> None:  # quiet: the crawl log says it
        pass

    def _locate(self) -> Path | None:
        """The file answering this request, or None; never a file outside the host's folder.

        The host (from the URL, the tunnel or a ``Host`` header anyone can write) must be a
        plain host name, and the decoded path must resolve, symlinks followed, inside it:
        ``..``, ``%2e%2e``, absolute paths and NUL bytes all end in a 404.
        """
        target = urlsplit(self.path)
        host = (
            target.hostname or self.tunnel_host or self.headers.get("Host", "").split(":")[0]
        ).lower()
        path = unquote(target.path or "/")
        if not _HOST.fullmatch(host) or "\0" in path:
            return None
        folder = self.server.root / host
        candidate = (folder / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(folder):
            return None
        if path.endswith("/") or candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def _answer(self, *, with_body: bool) -> None:
        if self.server.latency:
            time.sleep(self.server.latency)
        file = self._locate()
        tunnelled = self.tunnel_host and not urlsplit(self.path).hostname
        self.server.count(f"https://{self.tunnel_host}{self.path}" if tunnelled else self.path)
        if file is None:
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)
            return
        data = file.read_bytes()
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(file.stat().st_mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag or (
            self.headers.get("If-None-Match") is None
            and self.headers.get("If-Modified-Since") == modified
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        kind = _TYPES.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0]
        self.send_response(200)
        self.send_header("Content-Type", kind or "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.end_headers()
        if with_body:
            self.wfile.write(data)


class _ReplayHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.latency = latency
        self._contexts: dict[str, ssl.SSLContext] = {}
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()

    def tls_context(self, host: str) -> ssl.SSLContext:
        """One certificate per tunnelled host, made on first use."""
        with self._lock:
            if host not in self._contexts:
                self._contexts[host] = _self_signed_context(host)
            return self._contexts[host]

    def count(self, path: str) -> None:
        with self._lock:
            self.requests[path] = self.requests.get(path, 0) + 1


class ReplayServer:
    """Serve ``root`` on a free loopback port for the duration of a ``with`` block."""

    def __init__(self, root: Path | str, latency: float = 0.0) -> None:
        root = Path(root).resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"replay folder {root} does not exist")
        self._server = _ReplayHTTPServer(root, latency)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def proxy_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> dict[str, int]:
        """How often each URL was asked for (for tests of incremental crawling)."""
        return dict(self._server.requests)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
