"""A source's canary: one known article with its expected extraction, re-read on every run.

New articles cannot tell us the extraction went wrong (we do not know what they should say);
a page we checked by hand can. When the site changes its template, the canary's title, date
or source label come out different — template drift, caught before readers see wrong entries.
The expectation is data in ``sources.toml``; the comparison is pure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from scraper.extract.article import Article


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("published needs a time zone, e.g. 2019-01-24T10:30:00+08:00")
    return value


class Canary(BaseModel):
    """``canary = { url = "…", title = "…", published = "…+08:00", source = "…" }``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://")
    title: str = Field(min_length=1)
    published: Annotated[datetime, AfterValidator(_aware)]
    source: str | None = None  # the source label the page shows ("CCFAO"); None: not checked


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def canary_drift(canary: Canary, article: Article, zone: ZoneInfo) -> list[str]:
    """The fields of ``article`` that differ from the canary's expectation (empty: no drift).

    Whitespace does not count; a date without a zone is read in the site's ``zone``, as the
    pipeline does; a missing body is drift too (the page no longer yields an article).
    """
    drift = []
    if _squash(article.title) != _squash(canary.title):
        drift.append("title")
    published = article.published
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=zone)
    if published != canary.published:
        drift.append("published")
    if canary.source is not None and _squash(article.source) != _squash(canary.source):
        drift.append("source")
    if not article.body.strip():
        drift.append("body")
    return drift
