"""URL identity: spellings of one page collapse, different pages stay apart."""

from __future__ import annotations

import pytest

from scraper.urls import canonical_url, url_key

BASE = "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html"


@pytest.mark.parametrize(
    "variant",
    [
        "HTTP://EN.CHANGCHUN.GOV.CN/xw/ccxw1/202008/t20200803_2383368.html",
        "http://en.changchun.gov.cn:80/xw/ccxw1/202008/t20200803_2383368.html",
        "https://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html",
        "https://en.changchun.gov.cn:443/xw/ccxw1/202008/t20200803_2383368.html",
        "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html#top",
        "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html?utm_source=wechat",
        "http://en.changchun.gov.cn/xw/ccxw1/../ccxw1/./202008/t20200803_2383368.html",
        " http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html ",
    ],
)
def test_variants_share_a_key(variant: str) -> None:
    assert url_key(variant) == url_key(BASE)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://en.changchun.gov.cn/xw/ccxw1/", "http://en.changchun.gov.cn/xw/ccxw1/index.html"),
        ("http://en.changchun.gov.cn/tpxw", "http://en.changchun.gov.cn/tpxw/"),
        ("http://a.gov.cn/list?b=2&a=1", "http://a.gov.cn/list?a=1&b=2"),
    ],
)
def test_directory_and_query_order_variants(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (BASE, BASE.replace("2383368", "2383369")),
        (BASE, BASE.replace("en.changchun", "jp.changchun")),
        ("http://a.gov.cn/list?page=1", "http://a.gov.cn/list?page=2"),
        ("http://a.gov.cn:8080/x", "http://a.gov.cn/x"),
    ],
)
def test_different_pages_stay_apart(a: str, b: str) -> None:
    assert url_key(a) != url_key(b)


def test_canonical_url_keeps_scheme_and_drops_noise() -> None:
    assert canonical_url("HTTPS://Wb.Beijing.gov.cn:443/en/index.html?utm_medium=x#a") == (
        "https://wb.beijing.gov.cn/en/"
    )
