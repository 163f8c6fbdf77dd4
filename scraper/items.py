"""What the spider hands the pipelines: one extracted page and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scraper.extract.article import Article


@dataclass(slots=True)
class ArticleItem:
    source: str  # the source's slug in sources.toml
    article: Article
    fetched_at: datetime  # aware; when the page was downloaded


@dataclass(slots=True)
class PageFailure:
    """A page that could not be fetched; permanent ones are remembered so they are not retried."""

    source: str
    url: str
    reason: str  # e.g. "http 404", "timeout", "dns"
    permanent: bool
    fetched_at: datetime
