"""The sources config (``sources.toml``): which sites to crawl, how, and when.

Loaded once and validated whole; any mistake is reported as one line naming the file, the
entry and the field, because a config error found mid-crawl would lose a run.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from scraper.canary import Canary
from scraper.extract.profile import load_profiles
from scraper.fulltext import check_query

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # used with fullmatch: "$" would pass "x\n"
# Names a source may not take: its feed files would land on those of another feed or folder.
RESERVED_NAMES = {
    "all": "the combined feed",
    "health": "the health feed",
    "search": "the search feed",
    "archive": "the archive folder",
}
RESERVED_PREFIX = "watch-"  # keyword watches' feeds
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ConfigError(ValueError):
    """A config file that cannot be used; the message is one line naming file, entry and field."""


def parse_duration(value: object) -> timedelta:
    """``"90s"``, ``"30m"``, ``"6h"``, ``"1d"`` (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(**{_UNITS[match[2]]: int(match[1])})
    raise ValueError(f"expected a duration such as '30m', '6h' or '1d', got {value!r}")


def _check_slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a slug (lower-case letters, digits, '-' and '_'; it names files)"
        )
    if value in RESERVED_NAMES:
        raise ValueError(f"{value!r} is reserved (it names {RESERVED_NAMES[value]})")
    if value.startswith(RESERVED_PREFIX):
        raise ValueError(f"{value!r} is reserved ({RESERVED_PREFIX}… names keyword watch feeds)")
    return value


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from None
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Slug = Annotated[str, AfterValidator(_check_slug)]
Zone = Annotated[str, AfterValidator(_check_zone)]
HttpUrl = Annotated[str, AfterValidator(_check_http_url)]
Regex = Annotated[str, AfterValidator(_check_regex)]


class Schedule(BaseModel):
    """When a source is crawled: every fixed interval, or by a crontab line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: Duration | None = None
    cron: str | None = None
    jitter: Duration = timedelta(0)
    run_at_start: bool = True

    @model_validator(mode="after")
    def _one_trigger(self) -> Schedule:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' or 'cron'")
        if self.every is not None and self.every < timedelta(seconds=1):
            raise ValueError("'every' must be at least 1s")
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(self.cron)
            except ValueError as exc:
                raise ValueError(f"bad crontab {self.cron!r}: {exc}") from None
        return self


class Source(BaseModel):
    """One site: where its lists start, which links are articles, how to read and page them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Slug
    title: str = Field(min_length=1)
    homepage: HttpUrl
    start_urls: list[HttpUrl] = Field(min_length=1)
    allowed_domains: list[str] = Field(min_length=1)
    article_patterns: list[Regex] = Field(min_length=1)
    pagination: Literal["trs", "next-link", "none"] = "trs"
    next_page_selector: str | None = None  # CSS for the "next" link when pagination = next-link
    profile: str | None = None  # extraction profile name; None = generic path
    timezone: Zone = "Asia/Shanghai"
    language: str = "en"
    schedule: Schedule = Schedule(every=timedelta(hours=6))
    canary: Canary | None = None  # a known article re-read every run (scraper/canary.py)

    @model_validator(mode="after")
    def _consistent(self) -> Source:
        if self.profile is not None and self.profile not in load_profiles():
            known = ", ".join(sorted(load_profiles())) or "none"
            raise ValueError(f"profile: unknown profile {self.profile!r} (known: {known})")
        for url in [self.homepage, *self.start_urls]:
            host = urlsplit(url).hostname or ""
            if not any(host == d or host.endswith("." + d) for d in self.allowed_domains):
                raise ValueError(f"start_urls: {url!r} is outside allowed_domains")
        if self.canary is not None and not self.is_article_url(self.canary.url):
            raise ValueError("canary: url is not an article URL of this source")
        if self.pagination == "next-link" and not self.next_page_selector:
            raise ValueError("next_page_selector: required when pagination = 'next-link'")
        return self

    def is_article_url(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        if not any(host == d or host.endswith("." + d) for d in self.allowed_domains):
            return False
        return any(re.search(pattern, url) for pattern in self.article_patterns)


class Settings(BaseModel):
    """Process-wide settings: politeness, feed size, server port."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = "govfeed/0.1 (+https://github.com/govfeed/govfeed)"
    concurrent_requests_per_domain: int = Field(default=2, ge=1, le=16)
    download_delay: float = Field(default=1.0, ge=0)
    download_timeout: float = Field(default=30.0, gt=0)
    feed_entries: int = Field(default=50, ge=1, le=10000)
    port: int = Field(default=8080, ge=0, le=65535)
    max_concurrent_crawls: int = Field(default=2, ge=1)
    # processes that extract pages while the crawl downloads; unset: one per spare core (max 4)
    extract_workers: int | None = Field(default=None, ge=0, le=32)
    # articles saved per store transaction: fewer commits; a kill loses at most one batch,
    # whose pages are fetched again by the next run
    store_batch: int = Field(default=8, ge=1, le=1000)
    # after k failed runs in a row a source's next run waits base * 2**(k-1) more, at most max
    backoff_base: Duration = timedelta(minutes=30)
    backoff_max: Duration = timedelta(hours=24)
    # on SIGTERM, crawls in flight get this long to finish their writes before they are killed
    shutdown_grace: Duration = timedelta(seconds=60)


class HealthSettings(BaseModel):
    """``[health]``: when a source counts as failing, silent or degraded (feeds/health.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failing_after: int = Field(default=3, ge=1)  # consecutive failed runs
    silent_factor: float = Field(default=4.0, gt=1)  # silent after this many usual gaps…
    silent_floor: Duration = timedelta(days=7)  # …and never sooner than this
    missing_jump: float = Field(default=0.3, gt=0, le=1)  # rise in the share of bad new pages


class Watch(BaseModel):
    """A keyword watch: a full-text query over every source, published as feed ``watch-<name>``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Slug
    query: Annotated[str, AfterValidator(check_query)]
    title: str | None = None  # feed title; default "govfeed watch: <query>"

    @property
    def slug(self) -> str:
        return f"watch-{self.name}"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: Settings = Settings()
    sources: list[Source] = Field(default_factory=list, alias="source")
    health: HealthSettings = HealthSettings()
    watches: list[Watch] = Field(default_factory=list, alias="watch")

    @model_validator(mode="after")
    def _unique_watches(self) -> Config:
        names = [w.name for w in self.watches]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"duplicate watch name {dupes[0]!r}")
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"duplicate source name {source.name!r}")
            seen.add(source.name)
        return self

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"unknown source {name!r} (configured: {known})")


def _describe(error: ErrorDetails, data: dict[str, Any]) -> str:
    """'source[0] (ccfao): field start_urls: reason' from one pydantic error."""
    loc = list(error["loc"])
    where = ""
    if loc and loc[0] in ("source", "watch") and len(loc) > 1 and isinstance(loc[1], int):
        index, table = loc[1], str(loc[0])
        entries = data.get(table) or []
        name = (
            entries[index].get("name")
            if index < len(entries) and isinstance(entries[index], dict)
            else None
        )
        if name and not (isinstance(name, str) and SLUG.fullmatch(name)):
            name = repr(name)  # a newline or control character must not break the one line
        where = f"[[{table}]] #{index + 1}" + (f" ({name})" if name else "")
        loc = loc[2:]
    elif loc:
        where = f"[{loc[0]}]"
        loc = loc[1:]
    field = ".".join(str(part) for part in loc if not str(part).startswith("function-"))
    message = error["msg"].removeprefix("Value error, ")
    parts = [p for p in (where, f"field '{field}'" if field else "") if p]
    return ": ".join([*parts, message])


def load_config(path: Path | str) -> Config:
    """Read and validate ``sources.toml``; raise ConfigError with a one-line message."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:  # a folder, no permission, …
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:  # tomllib reads UTF-8 only
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}): {exc.reason}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{path}: {_describe(first, data)}{more}") from None
