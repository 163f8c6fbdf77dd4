"""The canary: a known article re-read each run; a changed title, date or source is drift."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scraper.canary import canary_drift
from scraper.extract import extract_article, get_profile
from scraper.sources import ConfigError, Source, load_config
from tests.conftest import ROOT, SITES

ZONE = ZoneInfo("Asia/Shanghai")


def configured() -> list[Source]:
    return [s for s in load_config(ROOT / "sources.toml").sources if s.canary is not None]


def page_of(url: str) -> Path:
    return SITES / re.sub(r"^https?://", "", url)


def test_every_configured_source_has_a_canary_in_the_replica() -> None:
    sources = load_config(ROOT / "sources.toml").sources
    assert [s.name for s in configured()] == [s.name for s in sources]
    for source in configured():
        assert source.canary is not None and page_of(source.canary.url).is_file(), source.name


@pytest.mark.parametrize("source", configured(), ids=lambda s: s.name)
def test_the_canary_matches_its_page_today(source: Source) -> None:
    assert source.canary is not None and source.profile is not None
    html = page_of(source.canary.url).read_bytes()
    article = extract_article(html, url=source.canary.url, profile=get_profile(source.profile))
    assert canary_drift(source.canary, article, ZONE) == []


def drifted(edit: dict[str, str]) -> list[str]:
    [ccfao] = [s for s in configured() if s.name == "ccfao"]
    assert ccfao.canary is not None
    html = page_of(ccfao.canary.url).read_text(encoding="utf-8")
    for old, new in edit.items():
        assert old in html, old
        html = html.replace(old, new)
    article = extract_article(html.encode(), url=ccfao.canary.url, profile=get_profile("ccfao"))
    return canary_drift(ccfao.canary, article, ZONE)


def test_a_removed_date_line_is_drift_in_the_date_only() -> None:
    assert drifted(
        {'<meta name="PubDate" content="2019-01-24 10:30" />\n': "", "Updated : 2019-01-24": ""}
    ) == ["published"]


def test_a_renamed_source_label_is_drift_in_the_source_only() -> None:
    assert drifted(
        {
            '<meta name="ContentSource" content="CCFAO" />': "",
            "Source : CCFAO": "Source : Xinhua",
        }
    ) == ["source"]


def test_a_redesigned_title_block_is_drift_in_the_title() -> None:
    title = (
        "Highlights of Changchun Foreign Affairs in 2018 for the Improvement of International "
        "Reputation of Spring City of Northeast China"
    )
    html_title = f"<title>{title} - Changchun Foreign Affairs Office</title>"
    assert "title" in drifted(
        {
            html_title: "<title>Changchun Foreign Affairs Office</title>",
            f'<meta name="ArticleTitle" content="{title}" />': "",
            f'<h1 class="article-title">{title}</h1>': "<h1>Changchun</h1>",
        }
    )


def test_a_canary_outside_the_source_is_a_config_error(tmp_path: Path) -> None:
    text = (ROOT / "sources.toml").read_text(encoding="utf-8")
    text = text.replace(
        'canary = { url = "http://en.changchun.gov.cn/xw/ccxw1/201901/t20190128_1787779.html"',
        'canary = { url = "http://en.changchun.gov.cn/xw/ccxw1/index.html"',
    )
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\(ccfao\).*canary: url is not an article URL"):
        load_config(path)


def test_a_canary_date_without_a_zone_is_a_config_error(tmp_path: Path) -> None:
    text = (ROOT / "sources.toml").read_text(encoding="utf-8")
    text = text.replace('published = "2019-01-24T10:30:00+08:00"', 'published = "2019-01-24"')
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\(ccfao\): field 'canary.published': .*time zone"):
        load_config(path)
