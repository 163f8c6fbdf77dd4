"""Visible labels: "发布日期：", "Updated :", "Source : CCFAO", "Article From:" ...

Labels are read from the page's visible lines (never from alt/title attributes) with page
furniture (footers, related lists, widgets) left out. Vocabularies are ordered: a label
earlier in the list wins over a later one wherever it appears on the page.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from scraper.extract.dates import FoundDate, parse_date

_NOT_CJK = r"(?<![\u4e00-\u9fff])"
_NOT_LATIN = r"(?<![A-Za-zÀ-ÿ])"

DATE_LABELS: tuple[str, ...] = (
    "发布日期", "发布时间", "发表时间", "发表日期", "发稿时间", "发文日期", "公开日期",
    "上传时间", "更新时间", "更新日期", "录入时间", "成文日期",
    _NOT_CJK + "日期", _NOT_CJK + "时间",
    "Published on", "Published", "Release Date", "Released", "Posted on", "Posted",
    "Updated", "Date", "Time",
    "Veröffentlicht am", "Veröffentlicht", "Erscheinungsdatum", "Datum", "Stand", "Publié le",
)  # fmt: skip
SOURCE_LABELS: tuple[str, ...] = (
    "信息来源", "文章来源", "稿件来源", "新闻来源", "内容来源", _NOT_CJK + "来源", "稿源",
    "Article From", "Source", "Quelle",
)  # fmt: skip

_SEP = r"\s*[:：]\s*"


def _compile(label: str, colon_required: bool) -> re.Pattern[str]:
    ascii_label = label.isascii() or label.startswith("Ver") or label.startswith("Publi")
    prefix = _NOT_LATIN if ascii_label else ""
    sep = _SEP if colon_required else r"\s*[:：]?\s*"
    return re.compile(prefix + label + sep, re.I if ascii_label else 0)


# Date labels may omit the colon ("Updated 2020-08-17", "Posted on May 5, 2019").
_DATE_RES = tuple(_compile(label, colon_required=False) for label in DATE_LABELS)
_SOURCE_RES = tuple(_compile(label, colon_required=True) for label in SOURCE_LABELS)

# Where a source value ends: a gap, a bracket or bar, or the next label glued on.
_SOURCE_END = re.compile(
    r"\s{2,}|[|｜【\[（(／]|\s/\s"
    r"|\s*(?:作者|发布|时间|日期|字号|浏览|点击|阅读|编辑|责任编辑|分享|打印|关闭|访问量)"
    r"|\s*(?<![A-Za-z])(?:Updated|Date|Time|Author|Editor|Fonts?|fontSize|Print|Views?|Hits)"
    r"\s*[:：]"
)
MAX_LABEL_LINE = 240
MAX_SOURCE_LEN = 60


def label_date(lines: list[str], zone: tzinfo) -> tuple[FoundDate, str] | None:
    """(date, label) from the first label in vocabulary order followed by a date."""
    short = [line for line in lines if len(line) <= MAX_LABEL_LINE]
    for label, pattern in zip(DATE_LABELS, _DATE_RES, strict=True):
        for line in short:
            for m in pattern.finditer(line):
                rest = line[m.end() : m.end() + 80]
                found = parse_date(rest, zone)
                if found is not None and found.start <= 1:
                    return found, label.replace(_NOT_CJK, "")
    return None


def label_source(lines: list[str]) -> tuple[str, str] | None:
    """(value, label) of the first source label; value "" when the label is shown empty."""
    short = [line for line in lines if len(line) <= MAX_LABEL_LINE]
    for label, pattern in zip(SOURCE_LABELS, _SOURCE_RES, strict=True):
        for line in short:
            m = pattern.search(line)
            if m is None:
                continue
            rest = line[m.end() :]
            end = _SOURCE_END.search(rest)
            value = (rest[: end.start()] if end else rest).strip(" ,;，；:：.")
            if len(value) > MAX_SOURCE_LEN:
                continue
            return value, label.replace(_NOT_CJK, "")
    return None


def apply_patterns(patterns: list[str], text: str, group: str) -> str | None:
    """The named ``group`` (or whole match) of the first matching regex; "" if it matched empty."""
    for raw in patterns:
        try:
            pattern = re.compile(raw, re.M)
        except re.error:
            continue
        m = pattern.search(text)
        if m is None:
            continue
        value = m.groupdict().get(group)
        if value is None:
            value = m.group(0)
        return value.strip()
    return None
