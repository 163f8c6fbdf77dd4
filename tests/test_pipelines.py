"""Pipeline stages on their own: normalize and validate."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scrapy.exceptions import DropItem

from scraper.extract.article import Article
from scraper.extract.text import clean_space
from scraper.items import ArticleItem
from scraper.normalize import clean_body, normalize
from scraper.pipelines import ValidatePipeline

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html"


def test_naive_dates_take_the_site_zone_and_aware_ones_are_converted() -> None:
    article = Article(
        url=URL,
        title="T",
        body="B",
        published=datetime(2020, 8, 3, 9, 12),  # as shown on the page, no zone
        updated=datetime(2020, 8, 4, 1, 0, tzinfo=UTC),
    )
    out = normalize(article, SHANGHAI, "en")
    assert out.published == datetime(2020, 8, 3, 9, 12, tzinfo=SHANGHAI)
    assert out.published.utcoffset().total_seconds() == 8 * 3600
    assert out.updated == datetime(2020, 8, 4, 9, 0, tzinfo=SHANGHAI)
    assert out.updated.tzinfo == SHANGHAI


def test_whitespace_and_control_characters() -> None:
    article = Article(
        url=URL,
        title="  Zhang\u3000Zhijun  Meets\x0b Consuls \n",
        source=" \u00a0 ",
        body="  First  paragraph.\u00a0\n\n\n\tSecond\x00 paragraph. \n  ",
        authors=["  ", " Li  Ming "],
    )
    out = normalize(article, SHANGHAI, "en")
    assert out.title == "Zhang Zhijun Meets Consuls"
    assert out.source is None  # an empty label is no source
    assert out.body == "First paragraph.\nSecond paragraph."
    assert out.authors == ["Li Ming"]
    assert out.lang == "en"  # the source's language when the page does not say


@given(st.text(alphabet=st.sampled_from([*"ab 中\n", "\xa0", "\u3000", "\t", "\u200b", "\x00"])))
def test_clean_space_collapses_every_kind_of_space_and_keeps_line_breaks(text: str) -> None:
    lines = text.translate({0x200B: " ", 0xFEFF: " "}).split("\n")
    expected = "\n".join(re.sub(r"\s+", " ", line).strip() for line in lines).strip()
    assert clean_space(text) == expected


def test_clean_body_keeps_paragraph_breaks() -> None:
    assert clean_body("a\n\n b \r\nc") == "a\nb\nc"


@pytest.mark.parametrize(
    ("title", "body", "reason"),
    [(None, "Text.", "no title"), ("Title", "", "no body"), ("", "", "no title")],
)
def test_pages_without_title_or_body_are_dropped_with_a_reason(
    title: str | None, body: str, reason: str
) -> None:
    item = ArticleItem("ccfao", Article(url=URL, title=title, body=body), datetime.now(UTC))
    with pytest.raises(DropItem, match=f"^{reason}$"):
        ValidatePipeline(SimpleNamespace()).process_item(item)
