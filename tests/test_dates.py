"""Date parsing table: every format the issue lists, plus URL dates and plausibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from scraper.extract.dates import is_plausible, parse_date, url_date
from scraper.extract.labels import label_date, label_source

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Updated : 2020-08-17", datetime(2020, 8, 17, tzinfo=SH)),
        ("Updated:Jan 08,2021 10:28 AM", datetime(2021, 1, 8, 10, 28, tzinfo=SH)),
        ("Updated:Jan 08,2021 10:28 PM", datetime(2021, 1, 8, 22, 28, tzinfo=SH)),
        ("Jun 11,2019 17:12 PM", datetime(2019, 6, 11, 17, 12, tzinfo=SH)),
        ("Dec 01,2020 12:05 AM", datetime(2020, 12, 1, 0, 5, tzinfo=SH)),
        ("Time:2014-09-22 14:43:00", datetime(2014, 9, 22, 14, 43, tzinfo=SH)),
        ("2006-08-31 15:16:56 GDFAO", datetime(2006, 8, 31, 15, 16, 56, tzinfo=SH)),
        ("Date: 2024-03-11", datetime(2024, 3, 11, tzinfo=SH)),
        ("2020年10月04日 20:30", datetime(2020, 10, 4, 20, 30, tzinfo=SH)),
        ("发布时间：2020年10月4日", datetime(2020, 10, 4, tzinfo=SH)),
        ("2020.10.04", datetime(2020, 10, 4, tzinfo=SH)),
        ("2020/10/04 08:00", datetime(2020, 10, 4, 8, 0, tzinfo=SH)),
        (
            "2020-08-17T09:12:00+08:00",
            datetime(2020, 8, 17, 9, 12, tzinfo=timezone(timedelta(hours=8))),
        ),
        ("2016-12-23T16:42:59-05:00", datetime(2016, 12, 23, 21, 42, 59, tzinfo=UTC)),
        ("2019-03-01T10:00:00Z", datetime(2019, 3, 1, 10, 0, tzinfo=UTC)),
        ("2019-03-01T10:00:00.123+0100", datetime(2019, 3, 1, 9, 0, tzinfo=UTC)),
        ("December 23, 2016", datetime(2016, 12, 23, tzinfo=SH)),
        ("Fri, 23 Dec 2016 16:42:59 -0500", datetime(2016, 12, 23, 21, 42, 59, tzinfo=UTC)),
        ("22.09.2014", datetime(2014, 9, 22, tzinfo=SH)),
        ("3. März 2021", datetime(2021, 3, 3, tzinfo=SH)),
    ],
)
def test_parse_date(text: str, expected: datetime) -> None:
    found = parse_date(text, SH)
    assert found is not None
    assert found.value == expected
    assert found.value.tzinfo is not None


@pytest.mark.parametrize(
    "text", ["", "no date here", "2020-13-45", "Copyright 2019", "1899-01-01", "tel 0431-12345678"]
)
def test_parse_date_rejects(text: str) -> None:
    assert parse_date(text, SH) is None


def test_zone_applies_only_to_naive_dates() -> None:
    naive = parse_date("2020-08-17 09:12", SH)
    aware = parse_date("2020-08-17T09:12:00Z", SH)
    assert naive is not None and naive.value.utcoffset() == timedelta(hours=8)
    assert aware is not None and aware.value.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("url", "day"),
    [
        ("http://en.changchun.gov.cn/news/xw/201811/t20181107_2062473.htm", (2018, 11, 7)),
        ("http://www.eguangzhou.gov.cn/2023-09/26/c_925039.htm", (2023, 9, 26)),
        ("https://example.org/2016/12/24/weekly-address", (2016, 12, 24)),
        ("http://www.gdfao.gov.cn/english/gdfao_en/nameandfunction/200609150050.htm", None),
        ("http://bb.chineseembassy.org/eng/zgyw/t1453724.htm", None),
        ("http://english.gz.gov.cn/gzgoven/s3709/201008/787554.shtml", None),
        ("not a url", None),
    ],
)
def test_url_date(url: str, day: tuple[int, int, int] | None) -> None:
    found = url_date(url, SH)
    assert (found.value.timetuple()[:3] if found else None) == day


def test_plausibility_bounds() -> None:
    assert is_plausible(datetime(2020, 1, 1, tzinfo=UTC))
    assert not is_plausible(datetime(1970, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("lines", "day", "label"),
    [
        (["Updated : 2020-08-17Source : CCFAO【Fonts: A+ A A- Print"], (2020, 8, 17), "Updated"),
        (["Article From:          Time:2014-09-22 14:43:00"], (2014, 9, 22), "Time"),
        (["时间：2019-09-18 06:23来源：山西日报"], (2019, 9, 18), "时间"),
        (["来源: | 发布时间: 2018-05-17 | 浏览次数:"], (2018, 5, 17), "发布时间"),
        (["Date:2018-06-06            source:"], (2018, 6, 6), "Date"),
    ],
)
def test_label_date(lines: list[str], day: tuple[int, int, int], label: str) -> None:
    found = label_date(lines, SH)
    assert found is not None
    assert found[0].value.timetuple()[:3] == day
    assert found[1] == label


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("Updated : 2020-08-17Source : CCFAO【Fonts: A+ A A- Print", "CCFAO"),
        ("Updated : 2020-08-17Source : 【Fonts: A+ A A- Print", ""),
        ("Article From:          Time:2014-09-22 14:43:00", ""),
        ("Date:2018-06-06            source:", ""),
        ("时间：2019-09-18 06:23来源：山西日报", "山西日报"),
        ("来源: | 发布时间: 2018-05-17 | 浏览次数:", ""),
        ("信息来源：省发改委", "省发改委"),
        (
            "Source: Beijing Foreign Affairs Office fontSize: big middle small",
            "Beijing Foreign Affairs Office",
        ),
    ],
)
def test_label_source(line: str, value: str) -> None:
    found = label_source([line])
    assert found is not None
    assert found[0] == value


def test_label_source_absent() -> None:
    assert label_source(["The resources of the province were discussed."]) is None
