"""Each run is stored with its outcome type: a real ``govfeed crawl`` against a loopback site
whose list page fails in one way or another (tests/faultserver.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import run_govfeed
from tests.faultserver import Fault, FaultServer
from tests.test_faults import LIST, article_page, article_path, config, last_run, listing

CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b'<div id="challenge"><script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1">'
    b"</script></div></body></html>"
)


def crawl(tmp_path: Path, proxy: str) -> tuple[str, dict[str, int]]:
    data = tmp_path / "data"
    result = run_govfeed("crawl", "--proxy", proxy, data=data, config=config(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    return last_run(data)


@pytest.mark.parametrize(
    ("fault", "outcome", "counted"),
    [
        (Fault("status", 500), "server_error", "list_failures/server_error"),
        (Fault("status", 403), "blocked", "list_failures/blocked"),
        (Fault("status", 451), "blocked", "list_failures/blocked"),
        (Fault("status", 404), "moved", "list_failures/moved"),
        (Fault(body=CHALLENGE), "blocked", "list_failures/blocked"),
        (
            Fault(body=b"<html><body><div class='news'>No list here</div></body></html>"),
            "template_changed",
            "list_pages_without_articles",
        ),
    ],
    ids=["500", "403", "451", "404", "challenge", "no-links"],
)
def test_a_failed_list_page_gives_the_run_its_type(
    tmp_path: Path, fault: Fault, outcome: str, counted: str
) -> None:
    with FaultServer({LIST: fault}) as site:
        recorded, stats = crawl(tmp_path, site.proxy_url)
    assert recorded == outcome
    assert stats[counted] == 1


def test_a_site_nobody_answers_for_is_down(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    recorded, stats = crawl(tmp_path, f"http://127.0.0.1:{port}")
    assert recorded == "down"
    assert stats["list_failures/down"] == 1


def test_a_healthy_site_is_ok_then_has_no_new_items(tmp_path: Path) -> None:
    routes = {LIST: Fault(body=listing([1, 2]))}
    routes |= {article_path(n): Fault(body=article_page(n, f"Story {n}")) for n in (1, 2)}
    with FaultServer(routes) as site:
        first, stats = crawl(tmp_path, site.proxy_url)
        second, _ = crawl(tmp_path, site.proxy_url)
    assert (first, stats["articles/new"]) == ("ok", 2)
    assert second == "no_new_items"
    assert not any(key.startswith(("failures/", "list_failures/")) for key in stats)
