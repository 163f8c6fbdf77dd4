"""sources.toml: the shipped file is valid, and every kind of mistake is one clear line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scraper.sources import ConfigError, load_config, parse_duration
from tests.conftest import ROOT, run_govfeed

GOOD = """
[[source]]
name = "ccfao"
title = "Changchun FAO"
homepage = "http://en.changchun.gov.cn/"
start_urls = ["http://en.changchun.gov.cn/xw/ccxw1/index.html"]
allowed_domains = ["en.changchun.gov.cn"]
article_patterns = ['/t\\d{8}_\\d+\\.html?$']
profile = "ccfao"
schedule = { every = "6h", jitter = "5m" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_valid() -> None:
    config = load_config(ROOT / "sources.toml")
    ccfao = config.source("ccfao")
    assert ccfao.timezone == "Asia/Shanghai"
    assert len(ccfao.start_urls) == 4
    assert ccfao.is_article_url("http://en.changchun.gov.cn/xw/ccxw1/202008/t20200803_2383368.html")
    assert ccfao.is_article_url("http://en.changchun.gov.cn/news/xw/201811/t20181107_2062473.htm")
    assert not ccfao.is_article_url("http://en.changchun.gov.cn/xw/ccxw1/index_1.html")
    assert not ccfao.is_article_url("http://evil.example.com/xw/t20200803_2383368.html")


def test_good_entry_parses(tmp_path: Path) -> None:
    source = load_config(write(tmp_path, GOOD)).sources[0]
    assert source.schedule.every == timedelta(hours=6)
    assert source.schedule.jitter == timedelta(minutes=5)
    assert source.pagination == "trs"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('name = "ccfao"', 'name = "../../etc"', "field 'name': '../../etc' is not a slug"),
        ("start_urls = [", 'start_urls = ["ftp://x.gov.cn/",', "field 'start_urls.0'"),
        ("article_patterns = ['", "article_patterns = ['(", "field 'article_patterns.0': bad reg"),
        ('schedule = { every = "6h"', 'schedule = { every = "often"', "field 'schedule.every'"),
        ('every = "6h"', 'every = "6h", cron = "0 * * * *"', "exactly one of 'every' or 'cron'"),
        ('every = "6h"', 'cron = "not a crontab"', "bad crontab"),
        ('profile = "ccfao"', 'profile = "nope"', "unknown profile 'nope'"),
        ('profile = "ccfao"', 'timezone = "Mars/Olympus"', "unknown time zone 'Mars/Olympus'"),
        ('title = "Changchun FAO"\n', "", "field 'title': Field required"),
        ('profile = "ccfao"', 'proflie = "ccfao"', "field 'proflie': Extra inputs"),
        ('allowed_domains = ["en.changchun.gov.cn"]', 'allowed_domains = ["x.org"]', "outside"),
    ],
)
def test_malformed_entry_is_one_line_naming_the_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: [[source]] #1 (")
    assert expected in message


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "\n[[source]\n")
    with pytest.raises(ConfigError, match=r"sources.toml: not valid TOML"):
        load_config(path)


def test_duplicate_names_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duplicate source name 'ccfao'"):
        load_config(write(tmp_path, GOOD + GOOD))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("1d", timedelta(days=1)),
        (45, timedelta(seconds=45)),
    ],
)
def test_durations(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_cli_reports_malformed_config_without_traceback(tmp_path: Path, data_dir: Path) -> None:
    path = write(tmp_path, GOOD.replace('"6h"', '"sometimes"'))
    result = run_govfeed("sources", data=data_dir, config=path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "field 'schedule.every'" in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_lists_valid_sources(data_dir: Path) -> None:
    result = run_govfeed("sources", data=data_dir)
    assert result.returncode == 0, result.stderr
    assert "ccfao" in result.stdout
    assert "valid" in result.stdout
