"""Spider navigation helpers, on real-shaped list pages (no crawl)."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from scraper.spiders.site import trs_next_page
from tests.conftest import SITES

LIST = "http://en.changchun.gov.cn/xw/ccxw1/index.html"


def page(url: str, script: str) -> HtmlResponse:
    body = f"<html><body><ul><li>x</li></ul><script>{script}</script></body></html>"
    return HtmlResponse(url, body=body.encode(), encoding="utf-8")


@pytest.mark.parametrize(
    ("url", "script", "expected"),
    [
        (LIST, 'createPageHTML(4, 0, "index", "html");', "index_1.html"),
        (
            LIST.replace("index", "index_2"),
            "createPageHTML(4, 2, 'index', 'html');",
            "index_3.html",
        ),
        (LIST.replace("index", "index_3"), 'createPageHTML(4, 3, "index", "html");', None),
        (LIST, 'createPageHTML("page_div", 7, 0, "index", "shtml", 20);', "index_1.shtml"),
        (LIST, 'createPageHTML(1, 0, "index", "html");', None),
        (LIST, "var x = 1;", None),
        # the pager's own definition comes first on TRS pages; only the call counts
        (
            LIST,
            "function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {}\n"
            'createPageHTML(2, 0, "index", "htm");',
            "index_1.htm",
        ),
    ],
)
def test_trs_next_page(url: str, script: str, expected: str | None) -> None:
    result = trs_next_page(page(url, script))
    assert result == (None if expected is None else url.rsplit("/", 1)[0] + "/" + expected)


def test_trs_next_page_on_the_replica_list_pages() -> None:
    root = SITES / "en.changchun.gov.cn"
    first = root / "tpxw" / "index.html"
    response = HtmlResponse(
        "http://en.changchun.gov.cn/tpxw/index.html", body=first.read_bytes(), encoding="utf-8"
    )
    assert trs_next_page(response) == "http://en.changchun.gov.cn/tpxw/index_1.html"
    last = root / "xw" / "ccxw1" / "index_3.html"
    response = HtmlResponse(
        "http://en.changchun.gov.cn/xw/ccxw1/index_3.html", body=last.read_bytes(), encoding="utf-8"
    )
    assert trs_next_page(response) is None


def test_live_crawls_are_polite_and_replay_crawls_are_routed_to_loopback(tmp_path) -> None:
    from scraper.settings import crawl_settings
    from scraper.sources import load_config
    from tests.conftest import ROOT

    config = load_config(ROOT / "sources.toml")
    live = crawl_settings(config.settings, tmp_path / "s.sqlite3")
    assert live["ROBOTSTXT_OBEY"] is True
    assert live["AUTOTHROTTLE_ENABLED"] is True
    assert live["CONCURRENT_REQUESTS_PER_DOMAIN"] == config.settings.concurrent_requests_per_domain
    assert live["USER_AGENT"] == config.settings.user_agent.strip()
    assert live["USER_AGENT"].startswith("govfeed/")
    assert "GOVFEED_REPLAY_PROXY" not in live
    assert "JOBDIR" not in live  # the store, not Scrapy's queue on disk, is what resumes a crawl
    replay = crawl_settings(config.settings, tmp_path / "s.sqlite3", "http://127.0.0.1:9")
    assert replay["GOVFEED_REPLAY_PROXY"] == "http://127.0.0.1:9"
    assert replay["ROBOTSTXT_OBEY"] is True  # the replica's robots.txt is honoured too
