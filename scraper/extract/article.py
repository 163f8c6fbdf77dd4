"""The extraction result: what one article page says about itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Image:
    src: str  # absolute URL
    caption: str | None = None


@dataclass(slots=True)
class Article:
    """Fields of one article page, as found; ``None`` means "no evidence", never a guess."""

    url: str
    title: str | None = None
    published: datetime | None = None  # always time-zone aware when set
    updated: datetime | None = None
    published_raw: str | None = None  # the date string as seen on the page
    date_evidence: str | None = None  # which rung of the ladder gave the date, e.g. "meta:PubDate"
    source: str | None = None  # issuing body as shown ("CCFAO", "山西日报")
    body: str = ""  # plain text, one paragraph per line
    body_html: str = ""  # main content as sanitized HTML
    lang: str | None = None
    authors: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    canonical_url: str | None = None  # rel=canonical / government Url meta, if on the same site
    channel: str | None = None  # ColumnName meta or breadcrumb leaf
    warnings: list[str] = field(default_factory=list)  # why a field is missing
