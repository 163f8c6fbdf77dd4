"""URL identity: spellings of one page collapse, different pages stay apart."""

from __future__ import annotations

import pytest

from scraper.urls import canonical_url, identity_urls, url_key

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
        "http://en.changchun.gov.cn./xw/ccxw1/202008/t20200803_2383368.html",  # root dot
        "https://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html?from=timeline",
        "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html?"
        "from=singlemessage&isappinstalled=0",  # a WeChat share
        "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html?utm_medium=x&spm=a.b",
        "http://en.changchun.gov.cn/xw/ccxw1/202008/%74%32%30200803_2383368.html",  # escapes
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
        ("https://wb.beijing.gov.cn/en/express/", "http://wb.beijing.gov.cn/en/express/index.htm"),
        ("https://wb.beijing.gov.cn/en/express", "https://wb.beijing.gov.cn/en/express/"),
        ("http://www.a.gov.cn/news/default.htm", "http://www.a.gov.cn/news/"),
        ("http://www.a.gov.cn/news/index.shtml#p2", "https://WWW.A.GOV.CN:443/news"),
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
        # the two channels' copies of one Yanqing article are two URLs (the store merges them)
        (
            "https://wb.beijing.gov.cn/en/express/202507/t20250731_4163757.html",
            "https://wb.beijing.gov.cn/en/center_for_international_exchanges/conference/"
            "202507/t20250731_4163762.html",
        ),
        ("http://a.gov.cn/news/index.html", "http://a.gov.cn/news/index_1.html"),  # list page 2
        ("http://a.gov.cn/News/x.html", "http://a.gov.cn/news/x.html"),  # paths are case-exact
        ("http://a.gov.cn/x.html?id=1", "http://a.gov.cn/x.html"),  # a real parameter stays
    ],
)
def test_different_pages_stay_apart(a: str, b: str) -> None:
    assert url_key(a) != url_key(b)


def test_canonical_url_keeps_scheme_and_drops_noise() -> None:
    assert canonical_url("HTTPS://Wb.Beijing.gov.cn:443/en/index.html?utm_medium=x#a") == (
        "https://wb.beijing.gov.cn/en/"
    )


@pytest.mark.parametrize(
    ("url", "canonical", "expected"),
    [
        # a rel=canonical / government Url meta into the same site adds the declared URL
        (
            "https://wb.beijing.gov.cn/en/express/202507/t20250731_4163757.html?from=x",
            "http://wb.beijing.gov.cn/en/express/202507/t20250731_4163757.html",
            ["https://wb.beijing.gov.cn/en/express/202507/t20250731_4163757.html?from=x"],
        ),
        (
            "http://en.changchun.gov.cn/ztlm/twotpoocpocc/202008/t20200803_2383368.html",
            "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html",
            [
                "http://en.changchun.gov.cn/ztlm/twotpoocpocc/202008/t20200803_2383368.html",
                "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html",
            ],
        ),
        (  # www. and scheme differ, still the same site
            "https://a.gov.cn/x.html",
            "http://www.a.gov.cn/y.html",
            ["https://a.gov.cn/x.html", "http://www.a.gov.cn/y.html"],
        ),
        # a canonical on another site (syndication) is not this page's identity
        ("https://wb.beijing.gov.cn/en/x.html", "https://english.beijing.gov.cn/x.html", None),
        ("https://wb.beijing.gov.cn/en/x.html", None, None),
        ("https://wb.beijing.gov.cn/en/x.html", "", None),
    ],
)
def test_identity_urls(url: str, canonical: str | None, expected: list[str] | None) -> None:
    assert identity_urls(url, canonical) == (expected or [url])
