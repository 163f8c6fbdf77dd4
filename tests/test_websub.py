"""The WebSub hub, driven over HTTP by a real subscriber server on loopback."""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest

from feeds.server import FeedServer
from feeds.websub import Hub
from scraper.store import Store
from tests.conftest import SITES, govfeed_run
from tests.test_crawl import HOST, add_article, articles, make_config

ATOM = b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"/>\n'


@dataclass
class Subscriber:
    """A WebSub subscriber's callback endpoint: answers challenges, records deliveries."""

    echo: str = "right"  # "right": echo the challenge; "wrong": answer something else
    push_statuses: list[int] = field(default_factory=list)  # answers to pushes, then 204
    verifications: list[dict[str, str]] = field(default_factory=list)
    pushes: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)
    gate: threading.Event = field(default_factory=threading.Event)  # challenges wait for it

    def __post_init__(self) -> None:
        self.gate.set()

    def wait(self, what: str, count: int = 1, seconds: float = 20) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: len(getattr(self, what)) >= count, seconds), what


@pytest.fixture
def subscriber() -> Iterator[tuple[Subscriber, str]]:
    state = Subscriber()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.gate.wait(20)
            params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            body = params.get("hub.challenge", "") if state.echo == "right" else "hello"
            with state.lock:
                state.verifications.append(params)
            self._answer(200, body.encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                status = state.push_statuses.pop(0) if state.push_statuses else 204
                state.pushes.append((dict(self.headers), body))
            self._answer(status, b"")

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with state.lock:
                state.lock.notify_all()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/callback?user=7"
    server.shutdown()
    server.server_close()


@dataclass
class Served:
    hub: Hub
    base: str
    feeds: Path
    store: Path

    def topic(self, name: str = "ccfao.atom") -> str:
        return f"{self.base}/feeds/{name}"

    def post(self, **form: str) -> tuple[int, str]:
        data = urllib.parse.urlencode({f"hub.{k}": v for k, v in form.items()}).encode()
        request = urllib.request.Request(
            f"{self.base}/websub",
            data=data,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def subscriptions(self, topic: str, now: datetime | None = None) -> list:
        with Store(self.store) as store:
            return store.subscriptions(topic, now or datetime.now(UTC))


def serve(tmp_path: Path, **hub_options: object) -> Iterator[Served]:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "ccfao.atom").write_bytes(ATOM)
    (feeds / "all.rss").write_bytes(b"<rss/>")
    store = tmp_path / "govfeed.sqlite3"
    Store(store).close()
    server = FeedServer(feeds, port=0)
    hub = Hub(store, server.url, feeds, backoff=0.01, **hub_options)  # type: ignore[arg-type]
    hub.install(server)
    server.start_in_thread()
    yield Served(hub, server.url, feeds, store)
    server.shutdown()
    server.server_close()
    hub.close()


@pytest.fixture
def replaying(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path, allow_private=True)


def test_subscription_is_active_once_the_callback_echoes_the_challenge(replaying, subscriber):
    state, callback = subscriber
    topic = replaying.topic()
    status, _ = replaying.post(
        mode="subscribe", topic=topic, callback=callback, lease_seconds="600"
    )
    assert status == 202
    state.wait("verifications")
    [params] = state.verifications
    assert params["user"] == "7"  # the callback's own query is kept
    assert params["hub.mode"] == "subscribe"
    assert params["hub.topic"] == topic
    assert params["hub.lease_seconds"] == "600"
    assert len(params["hub.challenge"]) >= 20
    replaying.hub.close()  # waits for the verification to finish
    assert replaying.subscriptions(topic) == [(callback, None)]
    in_11_minutes = datetime.now(UTC) + timedelta(minutes=11)
    assert replaying.subscriptions(topic, in_11_minutes) == []  # the lease has ended


def test_callback_that_does_not_echo_the_challenge_is_not_subscribed(replaying, subscriber):
    state, callback = subscriber
    state.echo = "wrong"
    topic = replaying.topic()
    assert replaying.post(mode="subscribe", topic=topic, callback=callback)[0] == 202
    state.wait("verifications")
    replaying.hub.close()
    assert replaying.subscriptions(topic) == []


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"mode": "publish"}, "hub.mode must be"),
        ({"topic": "http://elsewhere.example/feeds/ccfao.atom"}, "hub.topic must be a feed"),
        ({"topic": "{base}/feeds/nosuch.atom"}, "hub.topic must be a feed"),
        ({"topic": "{base}/feeds/search.atom?q=x"}, "hub.topic must be a feed"),
        ({"callback": "ftp://127.0.0.1/cb"}, "must be an http(s) URL"),
        ({"callback": "http://127.0.0.1:99999/cb"}, "bad port"),
        ({"lease_seconds": "forever"}, "hub.lease_seconds must be"),
        ({"secret": "s" * 200}, "hub.secret must be less than 200 bytes"),
    ],
)
def test_bad_subscription_request_is_refused_with_the_reason(replaying, subscriber, form, reason):
    state, callback = subscriber
    request = {"mode": "subscribe", "topic": replaying.topic(), "callback": callback}
    request |= {k: v.replace("{base}", replaying.base) for k, v in form.items()}
    status, text = replaying.post(**request)
    assert status == 400
    assert reason in text
    replaying.hub.close()
    assert state.verifications == []


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Served]:
    addresses = {"metadata.example": ["169.254.169.254"], "public.example": ["93.184.216.34"]}
    yield from serve(tmp_path, resolve=lambda host: addresses.get(host, []))


@pytest.mark.parametrize(
    "callback",
    [
        "http://127.0.0.1:{port}/callback",
        "http://localhost:{port}/callback",
        "http://[::1]:{port}/callback",
        "http://10.0.0.5/callback",
        "http://metadata.example/latest/meta-data/",
    ],
)
def test_private_callback_is_refused_outside_replay_mode(live, subscriber, callback):
    state, real = subscriber
    port = urllib.parse.urlsplit(real).port
    target = callback.format(port=port)
    if "localhost" in target:
        live.hub.resolve = lambda host: ["127.0.0.1"]
    status, text = live.post(mode="subscribe", topic=live.topic(), callback=target)
    assert status == 400
    assert "not a public address" in text
    live.hub.close()
    assert state.verifications == []
    assert live.subscriptions(live.topic()) == []


def test_public_callback_passes_the_address_check(live) -> None:
    assert live.hub.check_callback("https://public.example/websub?id=1") is None
    assert "169.254.169.254" in (live.hub.check_callback("http://metadata.example/") or "")


def subscribe(served: Served, callback: str, secret: str | None = None) -> None:
    form = {"mode": "subscribe", "topic": served.topic(), "callback": callback}
    assert served.post(**form, **({"secret": secret} if secret else {}))[0] == 202
    deadline = time.monotonic() + 20
    while not served.subscriptions(served.topic()):
        assert time.monotonic() < deadline, "subscription not verified"
        time.sleep(0.05)


def test_push_carries_the_feed_links_and_signature(replaying, subscriber) -> None:
    state, callback = subscriber
    subscribe(replaying, callback, secret="s3cret")
    [delivery] = replaying.hub.publish(
        [replaying.feeds / "ccfao.atom", replaying.feeds / "all.rss"]
    )
    assert delivery.result(timeout=20) is True
    [(headers, body)] = state.pushes
    assert body == ATOM
    assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    expected = "sha256=" + hmac.new(b"s3cret", ATOM, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature"] == expected
    assert f'<{replaying.base}/websub>; rel="hub"' in headers["Link"]
    assert f'<{replaying.topic()}>; rel="self"' in headers["Link"]


def test_failed_push_is_retried_a_bounded_number_of_times(replaying, subscriber) -> None:
    state, callback = subscriber
    subscribe(replaying, callback)
    state.push_statuses = [500, 503]
    [delivery] = replaying.hub.publish([replaying.feeds / "ccfao.atom"])
    assert delivery.result(timeout=20) is True
    assert len(state.pushes) == 3
    assert "X-Hub-Signature" not in state.pushes[0][0]  # no secret, no signature
    state.push_statuses = [500] * 10
    [delivery] = replaying.hub.publish([replaying.feeds / "ccfao.atom"])
    assert delivery.result(timeout=20) is False
    assert len(state.pushes) == 3 + replaying.hub.retries + 1


def test_subscriber_answering_410_gone_is_unsubscribed(replaying, subscriber) -> None:
    state, callback = subscriber
    subscribe(replaying, callback)
    state.push_statuses = [410]
    [delivery] = replaying.hub.publish([replaying.feeds / "ccfao.atom"])
    assert delivery.result(timeout=20) is False
    assert replaying.subscriptions(replaying.topic()) == []
    assert replaying.hub.publish([replaying.feeds / "ccfao.atom"]) == []


def test_unreachable_subscriber_does_not_break_publishing(replaying, subscriber) -> None:
    state, callback = subscriber
    subscribe(replaying, callback)
    with Store(replaying.store) as store:  # a second subscriber that has gone away
        store.save_subscription(
            replaying.topic(), "http://127.0.0.1:9/cb", None, 600, datetime.now(UTC)
        )
    deliveries = replaying.hub.publish([replaying.feeds / "ccfao.atom"])
    assert sorted(d.result(timeout=30) for d in deliveries) == [False, True]
    assert len(state.pushes) == 1


# -- end to end: govfeed run ---------------------------------------------------------------------


def test_run_pushes_new_entries_after_a_crawl_until_unsubscribed(tmp_path, subscriber) -> None:
    state, callback = subscriber
    sites = tmp_path / "sites"
    shutil.copytree(SITES / HOST, sites / HOST)
    config = make_config(tmp_path, schedule='{ every = "4s" }')
    data = tmp_path / "data"
    with govfeed_run(config, data, "--replay", str(sites)) as base:
        served = Served(None, base, data / "feeds", data / "govfeed.sqlite3")  # type: ignore[arg-type]
        subscribe(served, callback, secret="k3y")

        title = "Changchun Opens Consular Service Hall for Foreign Residents"
        add_article(sites, title)
        pushed = wait_for_push(state, title, 120)
        headers, body = pushed
        expected = "sha256=" + hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature"] == expected
        feed = feedparser.parse(body)
        assert feed.entries[0].title == title
        assert len(feed.entries) == len(articles()) + 1

        form = {"mode": "unsubscribe", "topic": served.topic(), "callback": callback}
        assert served.post(**form)[0] == 202
        deadline = time.monotonic() + 20
        while served.subscriptions(served.topic()):
            assert time.monotonic() < deadline, "unsubscribe not verified"
            time.sleep(0.05)
        assert state.verifications[-1]["hub.mode"] == "unsubscribe"
        pushes_before = len(state.pushes)

        second = "Foreign Students Visit Changchun Planning Exhibition Hall"
        add_second_article(sites, second)
        wait_for_feed_title(f"{served.topic()}", second, 120)
        time.sleep(2)  # a push would follow the feed rebuild at once
        assert len(state.pushes) == pushes_before


def wait_for_push(state: Subscriber, title: str, seconds: float) -> tuple[dict[str, str], bytes]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with state.lock:
            for headers, body in state.pushes:
                if title.encode() in body:
                    return headers, body
            state.lock.wait(0.5)
    raise AssertionError(f"no push holding {title!r} within {seconds}s")


def add_second_article(sites: Path, title: str) -> None:
    """One more article: ``add_article`` uses a fixed URL, so move the first one aside."""
    page = sites / HOST / "xw" / "ccxw1" / "202611" / "t20261120_9999001.html"
    text = page.read_text(encoding="utf-8")
    new = page.with_name("t20261121_9999002.html")
    old_title = re.search(r'<meta name="ArticleTitle" content="([^"]*)"', text)
    assert old_title
    text = text.replace(old_title[1], title).replace("t20261120_9999001", "t20261121_9999002")
    text = text.replace("A new opening paragraph for the new story.", "Students toured the hall.")
    new.write_text(text, encoding="utf-8")
    listing = sites / HOST / "xw" / "ccxw1" / "index.html"
    item = f'<li><a href="./202611/t20261121_9999002.html" title="{title}">{title}</a></li>'
    listing.write_text(
        listing.read_text(encoding="utf-8").replace("<ul>", "<ul>\n" + item, 1), encoding="utf-8"
    )


def wait_for_feed_title(url: str, title: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if title.encode() in response.read():
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{title!r} not in {url} within {seconds}s")


def test_verifications_waiting_at_once_are_bounded(tmp_path, subscriber) -> None:
    state, callback = subscriber
    state.gate.clear()  # the subscriber is slow to answer its challenge
    for served in serve(tmp_path, allow_private=True, max_pending=1):
        form = {"mode": "subscribe", "topic": served.topic(), "callback": callback}
        assert served.post(**form)[0] == 202
        status, text = served.post(**form | {"callback": callback + "&second=1"})
        assert (status, text) == (503, "too many requests being verified, retry later\n")
        state.gate.set()
        deadline = time.monotonic() + 20
        while served.post(**form | {"callback": callback + "&third=1"})[0] != 202:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_changed_watch_feed_is_pushed_like_any_feed(replaying, subscriber) -> None:
    state, callback = subscriber
    (replaying.feeds / "watch-germany.rss").write_bytes(b"<rss>Germany</rss>")
    form = {"mode": "subscribe", "callback": callback}
    assert replaying.post(**form, topic=replaying.topic("watch-germany.rss"))[0] == 202
    deadline = time.monotonic() + 20
    while not replaying.subscriptions(replaying.topic("watch-germany.rss")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [delivery] = replaying.hub.publish([replaying.feeds / "watch-germany.rss"])
    assert delivery.result(timeout=20) is True
    [(headers, body)] = state.pushes
    assert (headers["Content-Type"], body) == (
        "application/rss+xml; charset=utf-8",
        b"<rss>Germany</rss>",
    )
