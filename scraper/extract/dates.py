"""Date parsing (what a string says) kept apart from plausibility (whether to believe it).

Formats are those seen on government pages: ISO 8601 with or without offset, "2020-08-17",
"2020.10.04", "2020年10月04日 20:30", "Jan 08,2021 10:28 AM", "Jun 11,2019 17:12 PM" (24-hour
clock followed by a redundant PM), "December 23, 2016", "23 Dec 2016 16:42:59 -0500",
"22.09.2014" and German month names. A string without a zone takes the caller's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

MIN_YEAR = 1990  # before the web sites we read existed
MAX_YEAR = 2100

# Month names, ordered: longer spellings first so "June" is not read as "Jun" + "e".
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("january", "januar", "jänner", "janvier", "jan"),
        ("february", "februar", "février", "feb", "févr"),
        ("march", "märz", "maerz", "mars", "mar", "mär"),
        ("april", "avril", "apr", "avr"),
        ("may", "mai"),
        ("june", "juni", "juin", "jun"),
        ("july", "juli", "juillet", "jul", "juil"),
        ("august", "août", "aug"),
        ("september", "septembre", "sept", "sep"),
        ("october", "oktober", "octobre", "oct", "okt"),
        ("november", "novembre", "nov"),
        ("december", "dezember", "décembre", "dec", "dez", "déc"),
    ),
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _number
_MONTH_RE = "|".join(sorted((re.escape(n) for n in _MONTHS), key=len, reverse=True))

_TIME = (
    r"(?:(?:[T\s,]|\s*at\s*|\s*um\s*)+(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})"
    r"(?:\s*[:：分]\s*(?P<S>\d{2})(?:[.,]\d+)?)?\s*(?:秒)?"
    r"(?:\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)(?![a-z]))?"
    r"(?:\s*(?:Uhr\b)?\s*(?P<tz>Z(?![a-z])|(?:GMT|UTC)?\s?[+-]\d{2}:?\d{2}(?!\d)))?)?"
)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ymd",
        re.compile(
            r"(?<![\d.])(?P<y>(?:19|20)\d{2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
            r"(?![\d])" + _TIME
        ),
    ),
    (
        "cjk",
        re.compile(
            r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?" + _TIME
        ),
    ),
    (
        "mdy",
        re.compile(
            r"(?<![a-z])(?P<mon>" + _MONTH_RE + r")\.?\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*,?\s*"
            r"(?P<y>(?:19|20)\d{2})(?!\d)" + _TIME,
            re.I,
        ),
    ),
    (
        "dmy_name",
        re.compile(
            r"(?<!\d)(?P<d>\d{1,2})(?:st|nd|rd|th)?\.?\s*(?P<mon>" + _MONTH_RE + r")\.?,?\s+"
            r"(?P<y>(?:19|20)\d{2})(?!\d)" + _TIME,
            re.I,
        ),
    ),
    (
        "dmy",
        re.compile(
            r"(?<![\d.])(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>(?:19|20)\d{2})(?![\d])" + _TIME
        ),
    ),
    (
        "mdy_slash",
        re.compile(
            r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>(?:19|20)\d{2})(?![\d/])" + _TIME
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class FoundDate:
    value: datetime  # time-zone aware
    raw: str  # the matched text as seen
    has_time: bool
    start: int  # offset of the match in the searched string


def _offset(text: str) -> tzinfo | None:
    text = text.replace("GMT", "").replace("UTC", "").strip()
    if not text:
        return None
    if text in {"Z", "z"}:
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if len(digits) != 4 or not digits.isdigit():
        return None
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _build(kind: str, m: re.Match[str], zone: tzinfo) -> tuple[datetime, bool] | None:
    groups = m.groupdict()
    month = _MONTHS.get(groups["mon"].lower()) if groups.get("mon") else int(groups["m"])
    if month is None:
        return None
    day, year = int(groups["d"]), int(groups["y"])
    if kind == "mdy_slash" and month > 12 >= day:
        month, day = day, month
    hour = minute = second = 0
    has_time = groups.get("H") is not None
    if has_time:
        hour, minute = int(groups["H"]), int(groups["M"])
        second = int(groups["S"]) if groups.get("S") else 0
        ampm = (groups.get("ampm") or "").lower()
        if ampm.startswith("p") and hour < 12:
            hour += 12  # "17:12 PM" is already 24-hour: left as is
        elif ampm.startswith("a") and hour == 12:
            hour = 0
    tz = _offset(groups["tz"]) if groups.get("tz") else None
    try:
        value = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    if tz is None:
        return value.replace(tzinfo=zone), has_time
    return value.replace(tzinfo=tz), has_time


def find_dates(text: str, zone: tzinfo = UTC) -> list[FoundDate]:
    """Every date in ``text`` in reading order (overlapping readings keep the earliest start)."""
    found: list[FoundDate] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            built = _build(kind, m, zone)
            if built is None:
                continue
            value, has_time = built
            found.append(FoundDate(value, m.group(0).strip(" ,T"), has_time, m.start()))
    found.sort(key=lambda f: (f.start, -len(f.raw)))
    result: list[FoundDate] = []
    end = -1
    for item in found:
        if item.start >= end:
            result.append(item)
            end = item.start + len(item.raw)
    return result


def parse_date(text: str | None, zone: tzinfo = UTC) -> FoundDate | None:
    """The first plausible date in ``text``, or None."""
    if not text or len(text) > 2000:
        text = (text or "")[:2000]
    for item in find_dates(text, zone):
        if is_plausible(item.value):
            return item
    return None


def is_plausible(value: datetime) -> bool:
    """Dates outside the era of web publishing are template junk or typos."""
    return MIN_YEAR <= value.year <= MAX_YEAR


_URL_DATES: tuple[re.Pattern[str], ...] = (
    re.compile(r"/t(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})_\d+"),  # TRS t-number
    re.compile(r"/(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})[-/](?P<d>\d{2})(?:/|[-_]|\.|$)"),
    re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/"),
    re.compile(r"/(?P<y>(?:19|20)\d{2})(?P<m>\d{2})/(?P<d>\d{2})/"),
)


def url_date(url: str, zone: tzinfo = UTC) -> FoundDate | None:
    """The date written in the URL path (weak evidence: it is often the filing day)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for pattern in _URL_DATES:
        m = pattern.search(path)
        if not m:
            continue
        try:
            value = datetime(int(m["y"]), int(m["m"]), int(m["d"]), tzinfo=zone)
        except ValueError:
            continue
        if is_plausible(value):
            return FoundDate(value, m.group(0), False, m.start())
    return None


def zone_named(name: str | None) -> tzinfo:
    """A ZoneInfo for ``name``; UTC when the name is unknown (never raises)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return UTC


# Zone for pages without a profile, by the host's last label: a naive date on a German
# ministry page means German time. Unknown TLDs (.com, .org) get UTC.
TLD_ZONES: dict[str, str] = {
    "cn": "Asia/Shanghai",
    "hk": "Asia/Hong_Kong",
    "tw": "Asia/Taipei",
    "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul",
    "de": "Europe/Berlin",
    "at": "Europe/Vienna",
    "ch": "Europe/Zurich",
    "fr": "Europe/Paris",
    "uk": "Europe/London",
    "gov": "America/New_York",
    "ru": "Europe/Moscow",
    "in": "Asia/Kolkata",
    "sg": "Asia/Singapore",
}
