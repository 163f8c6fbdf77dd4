"""govfeed's own WebSub hub (W3C WebSub): subscribers are told of new entries right away.

``POST /websub`` takes a (un)subscription request, answers ``202 Accepted`` and verifies the
subscriber's intent in the background: a GET of the callback with ``hub.challenge``, which
must come back as the body of a 2xx answer. Only then is the subscription stored (or
removed). After a crawl, ``publish`` pushes each changed feed to its topic's subscribers: a
POST of the whole feed with ``Link`` headers, signed with ``X-Hub-Signature`` when the
subscriber gave a secret. Deliveries run on a small thread pool with a bounded number of
retries, so a slow or broken subscriber never holds up or crashes a run.

Callbacks are outbound URLs chosen by strangers, so they are checked like every fetch: the
host must resolve to public addresses only (checked at subscription, verification and each
delivery), redirects are not followed and no proxy is used. ``allow_private`` lifts the
address check for replay mode (tests), as the crawl does.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from feeds.server import CONTENT_TYPES, FeedServer, Reply
from scraper.addresses import Resolver, non_public_address, resolve_host
from scraper.store import Store, StoreError

log = logging.getLogger(__name__)

HUB_PATH = "/websub"
DEFAULT_LEASE = 10 * 24 * 3600  # seconds; a subscriber renews before it ends
MIN_LEASE = 60
MAX_LEASE = 30 * 24 * 3600
MAX_SECRET_BYTES = 199  # the spec: "MUST be less than 200 bytes"
MAX_CALLBACK_CHARS = 2000
_TOPIC_PATH = re.compile(r"^/feeds/([a-z0-9][a-z0-9_-]*\.(?:atom|rss|json))$")  # a written feed


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead a callback to a private address: treat 3xx as a failure."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value for ``body``: ``sha256=<hex HMAC>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Hub:
    """The hub at ``{base_url}/websub`` for the feeds in ``feeds_dir``.

    ``now``, ``resolve`` and ``sleep`` are injectable so tests control time, DNS and retry
    waits. ``close`` stops the background work (waits between retries end at once).
    """

    def __init__(
        self,
        store_path: Path,
        base_url: str,
        feeds_dir: Path,
        *,
        allow_private: bool = False,
        resolve: Resolver = resolve_host,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 2.0,
        workers: int = 4,
        max_pending: int = 100,
    ) -> None:
        self.store_path = store_path
        self.base_url = base_url.rstrip("/")
        self.feeds_dir = feeds_dir
        self.allow_private = allow_private
        self.resolve = resolve
        self.now = now
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_pending = max_pending  # verifications queued at once; more get 503
        self._pending = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="websub")

    @property
    def url(self) -> str:
        return f"{self.base_url}{HUB_PATH}"

    def install(self, server: FeedServer) -> None:
        server.routes[("POST", HUB_PATH)] = self.handle

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- subscription requests ---------------------------------------------------------------

    def handle(self, query_string: str, body: bytes, headers: Message) -> Reply:
        """The ``POST /websub`` route: 202 and verify later, or 400 saying what is wrong."""
        if not (headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return Reply(400, b"send the request as application/x-www-form-urlencoded\n")
        try:
            form = {k: v[0] for k, v in parse_qs(body.decode(), strict_parsing=False).items()}
        except UnicodeDecodeError:
            return Reply(400, b"the form is not UTF-8\n")
        mode, topic, callback = (form.get(f"hub.{k}", "") for k in ("mode", "topic", "callback"))
        problem = self.check_mode(mode) or self.check_topic(topic) or self.check_callback(callback)
        secret = form.get("hub.secret") or None
        if problem is None and secret is not None and len(secret.encode()) > MAX_SECRET_BYTES:
            problem = f"hub.secret must be less than {MAX_SECRET_BYTES + 1} bytes"
        lease = DEFAULT_LEASE
        if problem is None and (requested := form.get("hub.lease_seconds")):
            if not requested.isdigit():
                problem = f"hub.lease_seconds must be a number of seconds, got {requested!r}"
            else:
                lease = min(max(int(requested), MIN_LEASE), MAX_LEASE)
        if problem is not None:
            return Reply(400, f"{problem}\n".encode())
        with self._lock:
            if self._pending >= self.max_pending:
                return Reply(503, b"too many requests being verified, retry later\n")
            self._pending += 1
        try:
            future = self._pool.submit(self.verify, mode, topic, callback, secret, lease)
        except RuntimeError:  # shutting down
            self._verified()
            return Reply(503, b"the hub is shutting down\n")
        future.add_done_callback(_log_failure)
        future.add_done_callback(lambda _: self._verified())
        return Reply(202, b"accepted: verifying intent with the callback\n")

    def _verified(self) -> None:
        with self._lock:
            self._pending -= 1

    @staticmethod
    def check_mode(mode: str) -> str | None:
        if mode in ("subscribe", "unsubscribe"):
            return None
        return f"hub.mode must be 'subscribe' or 'unsubscribe', got {mode!r}"

    def check_topic(self, topic: str) -> str | None:
        """None when ``topic`` is one of the feeds this server publishes."""
        prefix = self.base_url
        path = topic[len(prefix) :] if topic.startswith(prefix) else None
        match = _TOPIC_PATH.match(path) if path else None
        if match is None or not (self.feeds_dir / match[1]).is_file():
            return f"hub.topic must be a feed of this hub ({prefix}/feeds/…), got {topic!r}"
        return None

    def check_callback(self, callback: str) -> str | None:
        """None when ``callback`` may be fetched: http(s), and a public host unless replaying."""
        parts = urlsplit(callback)
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            return f"hub.callback has a bad port: {callback!r}"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"hub.callback must be an http(s) URL, got {callback!r}"
        if len(callback) > MAX_CALLBACK_CHARS:
            return f"hub.callback is longer than {MAX_CALLBACK_CHARS} characters"
        if self.allow_private:
            return None
        address = non_public_address(parts.hostname, self.resolve)
        if address is not None:
            return f"hub.callback host {parts.hostname} is {address}, not a public address"
        return None

    def verify(self, mode: str, topic: str, callback: str, secret: str | None, lease: int) -> bool:
        """Ask the callback to echo a challenge; store or remove the subscription if it does."""
        challenge = secrets.token_urlsafe(24)
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = str(lease)
        url = callback + ("&" if urlsplit(callback).query else "?") + urlencode(params)
        if (problem := self.check_callback(callback)) is not None:  # DNS may have changed
            log.warning("websub: not verifying %s: %s", callback, problem)
            return False
        try:
            with _opener().open(url, timeout=self.timeout) as response:
                echoed = response.read(len(challenge) + 64)
        except (OSError, ValueError) as exc:  # HTTPError (non-2xx, redirects) is an OSError
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()
            log.warning("websub: %s of %s to %s not verified: %s", mode, callback, topic, exc)
            return False
        if echoed.strip() != challenge.encode():
            log.warning("websub: %s did not echo the challenge; %s refused", callback, mode)
            return False
        with Store(self.store_path) as store:
            if mode == "subscribe":
                store.save_subscription(topic, callback, secret, lease, self.now())
            else:
                store.delete_subscription(topic, callback)
        log.info("websub: %s of %s to %s verified", mode, callback, topic)
        return True

    # -- content distribution ----------------------------------------------------------------

    def publish(self, changed: Iterable[Path]) -> list[Future[bool]]:
        """Push each changed feed file to its subscribers, in the background.

        Returns the deliveries (tests wait on them; the run does not). A store that cannot
        be read is logged and skipped: publishing never fails a run.
        """
        changed = list(changed)
        deliveries: list[Future[bool]] = []
        try:
            with Store(self.store_path) as store:
                for path in changed:
                    topic = f"{self.base_url}/feeds/{path.name}"
                    if path.suffix not in CONTENT_TYPES or self.check_topic(topic):
                        continue
                    subscribers = store.subscriptions(topic, self.now())
                    if not subscribers:
                        continue
                    body = path.read_bytes()
                    for callback, secret in subscribers:
                        future = self._pool.submit(
                            self.deliver, topic, callback, secret, body, CONTENT_TYPES[path.suffix]
                        )
                        future.add_done_callback(_log_failure)
                        deliveries.append(future)
        except (StoreError, OSError, RuntimeError) as exc:  # RuntimeError: pool shut down
            log.error("websub: cannot publish %s: %s", [p.name for p in changed], exc)
        return deliveries

    def deliver(
        self, topic: str, callback: str, secret: str | None, body: bytes, content_type: str
    ) -> bool:
        """POST one feed to one subscriber, retrying a bounded number of times."""
        headers = {
            "Content-Type": content_type,
            "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
        }
        if secret:
            headers["X-Hub-Signature"] = signature(secret, body)
        for attempt in range(self.retries + 1):
            if attempt and self._stop.wait(self.backoff * 2 ** (attempt - 1)):
                return False  # shutting down
            if (problem := self.check_callback(callback)) is not None:
                log.warning("websub: not delivering to %s: %s", callback, problem)
                return False
            request = urllib.request.Request(callback, data=body, headers=headers, method="POST")
            try:
                with _opener().open(request, timeout=self.timeout) as response:
                    response.read(1024)
                return True
            except urllib.error.HTTPError as exc:
                exc.close()  # it holds the response's socket
                if exc.code == 410:  # Gone: the subscriber wants no more
                    with Store(self.store_path) as store:
                        store.delete_subscription(topic, callback)
                    log.info("websub: %s is gone; unsubscribed from %s", callback, topic)
                    return False
                error: Exception = exc
            except (OSError, ValueError) as exc:
                error = exc
            log.warning(
                "websub: push of %s to %s failed (attempt %d of %d): %s",
                topic,
                callback,
                attempt + 1,
                self.retries + 1,
                error,
            )
        return False


def _log_failure(future: Future[bool]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.error("websub: background task failed: %r", exc)
