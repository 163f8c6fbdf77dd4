"""SSRF guard: live crawls never reach loopback, private, link-local or metadata addresses.

The middleware is built directly with a stub resolver: no test here does real DNS.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.http import Response
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from scraper.middlewares import (
    BlockedAddress,
    PrivateAddressMiddleware,
    ReplayProxyMiddleware,
    is_public,
)
from scraper.settings import crawl_settings
from scraper.sources import Settings
from scraper.spiders.site import failure_reason

DNS = {
    "www.gov.example": ["93.184.216.34"],
    "dual.gov.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "intranet.gov.example": ["192.168.1.10"],
    "metadata.google.internal": ["169.254.169.254"],
    "rebind.gov.example": ["93.184.216.34", "127.0.0.1"],  # one bad address is enough
    "mapped.gov.example": ["::ffff:10.0.0.1"],
}


class StubResolver:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        return DNS.get(host, [])


@pytest.fixture
def guard() -> PrivateAddressMiddleware:
    return PrivateAddressMiddleware(resolve=StubResolver())


BLOCKED = [
    "http://127.0.0.1/",
    "http://127.1.2.3:8080/x",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://10.0.0.5/admin",
    "http://172.16.3.4/",
    "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",  # shared address space (a cloud's metadata)
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "https://intranet.gov.example/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://rebind.gov.example/",
    "http://mapped.gov.example/",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_private_addresses_are_refused(guard: PrivateAddressMiddleware, url: str) -> None:
    with pytest.raises(BlockedAddress):
        guard.process_request(Request(url))


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/",
        "http://www.gov.example/news/index.html",
        "https://dual.gov.example:8443/",
        "http://[2606:2800:220:1:248:1893:25c8:1946]/",
        "http://unresolvable.gov.example/",  # left to fail as a DNS error
    ],
)
def test_public_addresses_pass(guard: PrivateAddressMiddleware, url: str) -> None:
    assert guard.process_request(Request(url)) is None


def test_every_redirect_hop_is_checked(guard: PrivateAddressMiddleware) -> None:
    """A public page redirecting to the metadata endpoint: the hop is refused."""
    crawler = get_crawler(settings_dict={"REDIRECT_ENABLED": True})
    redirects = RedirectMiddleware.from_crawler(crawler)
    first = Request("http://www.gov.example/news/index.html")
    assert guard.process_request(first) is None
    response = Response(
        first.url, status=302, headers={"Location": "http://169.254.169.254/latest/"}
    )
    hop = redirects.process_response(first, response)
    assert isinstance(hop, Request) and hop.url == "http://169.254.169.254/latest/"
    with pytest.raises(BlockedAddress):
        guard.process_request(hop)


def test_hosts_are_resolved_once_per_crawl() -> None:
    resolver = StubResolver()
    guard = PrivateAddressMiddleware(resolve=resolver)
    for path in ("a", "b", "c"):
        guard.process_request(Request(f"http://www.gov.example/{path}"))
        with pytest.raises(BlockedAddress):
            guard.process_request(Request(f"http://intranet.gov.example/{path}"))
    assert resolver.asked == ["www.gov.example", "intranet.gov.example"]


def test_a_refusal_is_recorded_as_its_own_failure_type() -> None:
    failure = Failure(BlockedAddress("http://10.0.0.1/: 10.0.0.1 is 10.0.0.1"))
    assert failure_reason(failure) == ("blocked: private address", False)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("::", False),
        ("2001:db8::1", False),  # documentation
        ("fe80::1%eth0", False),
        ("not an address", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(address) is public


def test_the_guard_is_on_in_live_mode_and_off_only_in_replay_mode(tmp_path: Path) -> None:
    live = crawl_settings(Settings(), tmp_path / "s.sqlite3")
    replay = crawl_settings(Settings(), tmp_path / "s.sqlite3", "http://127.0.0.1:9")
    assert "scraper.middlewares.PrivateAddressMiddleware" in live["DOWNLOADER_MIDDLEWARES"]
    guard = PrivateAddressMiddleware.from_crawler(get_crawler(settings_dict=live))
    assert isinstance(guard, PrivateAddressMiddleware)
    with pytest.raises(Exception, match="replay mode"):
        PrivateAddressMiddleware.from_crawler(get_crawler(settings_dict=replay))
    assert ReplayProxyMiddleware.from_crawler(get_crawler(settings_dict=replay))
