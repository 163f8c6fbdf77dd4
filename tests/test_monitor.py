"""The monitor end to end: ``govfeed run`` over loopback, judged through its own pages.

A source whose site answers 500 turns failing after N runs and the health feed says so; a
template change in the replica (the date line removed) turns the source degraded; the status
page, loaded in a real headless Chromium, shows every source with its feed links.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import feedparser
import lxml.html

from scraper.sources import load_config
from tests.conftest import ROOT, SITES, govfeed_run, source_toml
from tests.faultserver import Fault, FaultServer

T = TypeVar("T")
HOST = "en.changchun.gov.cn"


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def healthz(base: str) -> dict[str, Any]:
    return dict(json.loads(get(f"{base}/healthz")))


def wait_for(probe: Callable[[], T | None], seconds: float, what: str) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if (value := probe()) is not None:
                return value
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds}s: {what}")


def source_state(base: str, name: str, state: str) -> dict[str, Any] | None:
    source = healthz(base)["sources"][name]
    return dict(source) if source["state"] == state else None


def health_entry(base: str, title: str) -> feedparser.FeedParserDict | None:
    """The health feed, once its newest entry starts with ``title``."""
    feed = feedparser.parse(get(f"{base}/feeds/health.atom"))
    return feed if feed.entries and feed.entries[0].title.startswith(title) else None


def broken_site_config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        """[settings]
download_timeout = 5
backoff_base = "1s"  # failed runs back off, but briefly here
backoff_max = "2s"

[health]
failing_after = 2
"""
        + source_toml(
            "broken",
            "Broken FAO",
            "broken.example.gov.cn",
            "/news/index.html",
            schedule='{ every = "2s" }',
        ),
        encoding="utf-8",
    )
    return path


def test_a_site_answering_500_turns_failing_after_n_runs_and_the_health_feed_says_so(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with (
        FaultServer({"/news/index.html": Fault("status", 500)}) as site,
        govfeed_run(broken_site_config(tmp_path), data, "--proxy", site.proxy_url) as base,
    ):
        feed = wait_for(lambda: health_entry(base, "broken is failing"), 120, "an alert")
        failing = source_state(base, "broken", "failing")
        assert failing is not None
        metrics = get(f"{base}/metrics").decode()
    assert failing["reason"] == (
        "2 failed runs in a row; last: server_error (list page: http 500 x1)"
    )
    assert failing["last_run"]["outcome"] == "server_error"
    assert site.requests["/news/index.html"] >= 2 * 3  # two runs, each with its two retries
    assert not feed.bozo
    alerts = [e for e in feed.entries if e.title.startswith("broken is failing")]
    assert len(alerts) == 1
    assert alerts[0].title == f"broken is failing: {failing['reason']}"
    assert [t.term for t in alerts[0].tags] == ["failing"]
    # before failing it was ok (one failed run is not yet an alert)
    assert [e.title.split(":")[0] for e in feed.entries] == ["broken is failing", "broken is ok"]
    runs = re.search(
        r'^govfeed_runs_total\{outcome="server_error",source="broken"\} (\d+)', metrics, re.M
    )
    assert runs and int(float(runs[1])) >= 2
    assert 'govfeed_health_state{source="broken",state="failing"} 1.0' in metrics
    assert 'govfeed_articles_stored{source="broken"} 0.0' in metrics


def ccfao_config(tmp_path: Path) -> Path:
    """The shipped sources.toml, ccfao only, crawled every few seconds."""
    text = (ROOT / "sources.toml").read_text(encoding="utf-8")
    blocks = text.split("\n[[source]]\n")
    text = "\n[[source]]\n".join(
        b for b in blocks if not b.startswith("name =") or 'name = "ccfao"' in b
    )
    text = text.replace(
        'schedule = { every = "6h", jitter = "10m" }', 'schedule = { every = "3s" }'
    )
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def remove_date_lines(sites: Path) -> set[Path]:
    """The site's new template: no PubDate meta, no "Updated :" line. Returns pages changed."""
    changed = set()
    for page in (sites / HOST).rglob("t*.htm*"):
        html = page.read_text(encoding="utf-8")
        new = re.sub(r'<meta name="PubDate" content="[^"]*" */?>\n?', "", html)
        new = re.sub(r"Updated : \d{4}-\d{2}-\d{2}", "", new)
        if new != html:
            page.write_text(new, encoding="utf-8")
            changed.add(page)
    return changed


def test_a_template_change_in_the_replica_turns_the_source_degraded(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    shutil.copytree(SITES / HOST, sites / HOST)
    data = tmp_path / "data"
    with govfeed_run(ccfao_config(tmp_path), data, "--replay", str(sites)) as base:
        first = wait_for(
            lambda: (s := healthz(base)["sources"]["ccfao"])["last_run"] and s, 120, "a run"
        )
        assert first["state"] != "degraded", first
        changed = remove_date_lines(sites)
        assert len(changed) >= 30
        assert sites / HOST / "xw/ccxw1/201901/t20190128_1787779.html" in changed  # the canary
        feed = wait_for(lambda: health_entry(base, "ccfao is degraded"), 120, "an alert")
        degraded = source_state(base, "ccfao", "degraded")
        assert degraded is not None
    assert degraded["reason"] == "template drift: canary published differ"
    assert feed.entries[0].title == "ccfao is degraded: template drift: canary published differ"


def chromium(*args: str, user_data: Path) -> subprocess.CompletedProcess[str]:
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is missing: `make test` (or `make chromium`) installs it"
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    command += ["--disable-dev-shm-usage", f"--user-data-dir={user_data}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_status_page_in_headless_chromium(tmp_path: Path) -> None:
    config = load_config(ROOT / "sources.toml")
    names = [s.name for s in config.sources]
    data = tmp_path / "data"
    with govfeed_run(ROOT / "sources.toml", data, "--replay", str(SITES)) as base:
        wait_for(
            lambda: all(s["last_run"] for s in healthz(base)["sources"].values()) or None,
            120,
            "the first crawl of every source",
        )
        dom = chromium("--dump-dom", f"{base}/", user_data=tmp_path / "profile")
        shot = tmp_path / "status.png"
        chromium(
            f"--screenshot={shot}", "--window-size=412,1400", f"{base}/", user_data=tmp_path / "p2"
        )
        page = lxml.html.fromstring(dom.stdout)
        hrefs = {a.get("href") for a in page.cssselect("a.feed")}
        feeds = {href: get(href) for href in hrefs}
    assert dom.returncode == 0, dom.stderr[-2000:]
    rows = page.cssselect("table.sources tr.source")
    assert [row.get("data-source") for row in rows] == names
    for row, source in zip(rows, config.sources, strict=True):
        cells = {td.get("data-label"): td.text_content().strip() for td in row.cssselect("td")}
        assert cells["Source"].startswith(source.title)
        assert row.get("data-state") in ("ok", "silent")  # the replica is months old
        assert cells["Last run"].endswith("ok")
        assert cells["Next run"] not in ("", "—")  # the scheduler knows the next run
        assert int(cells["Articles"]) == int(cells["New (7 days)"]) > 0  # all found just now
        links = [a.get("href") for a in row.cssselect("a.feed")]
        assert links == [f"{base}/feeds/{source.name}.atom", f"{base}/feeds/{source.name}.rss"]
    assert int(rows[0].cssselect('td[data-label="Articles"]')[0].text_content()) == 45
    newest = [row.cssselect('td[data-label="Newest"]')[0].text_content() for row in rows]
    assert newest == ["2026-02-12", "2025-07-28"]  # in the sites' own zone (+08:00)
    for href, body in feeds.items():  # every feed link works and is a feed
        assert not feedparser.parse(body).bozo, href
    discovery = {
        link.get("href"): link.get("type") for link in page.cssselect('head link[rel="alternate"]')
    }
    for name in [*names, "all"]:
        assert discovery[f"{base}/feeds/{name}.atom"] == "application/atom+xml"
        assert discovery[f"{base}/feeds/{name}.rss"] == "application/rss+xml"
    assert discovery[f"{base}/feeds/health.atom"] == "application/atom+xml"
    articles = page.cssselect("ol.articles li a")
    assert len(articles) == 50  # the latest 50 of the 50 stored
    assert articles[0].text_content() == (  # the newest replica article (2026-02-12)
        "Provincial Foreign Affairs Committee Holds Plenary Session"
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000
