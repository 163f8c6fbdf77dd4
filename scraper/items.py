"""What the spider hands the pipelines (a fetched page, a failure) and what extraction makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scraper.extract.article import Article
from scraper.store import Derived


@dataclass(slots=True)
class FetchedPage:
    """An article page as downloaded; the extract pipeline turns it into an ArticleItem."""

    source: str  # the source's slug in sources.toml
    url: str
    body: bytes
    content_type: str  # the HTTP header, for its charset
    fetched_at: datetime  # aware; when the page was downloaded
    redirected_from: tuple[str, ...] = ()  # the URLs asked for that redirected here


@dataclass(slots=True)
class ArticleItem:
    source: str
    article: Article
    fetched_at: datetime
    derived: Derived | None = None  # what the store derives from the text, if known
    aliases: tuple[str, ...] = ()  # other URLs that led to this page (redirects)


@dataclass(slots=True)
class PageFailure:
    """A page that could not be fetched; permanent ones are remembered so they are not retried."""

    source: str
    url: str
    reason: str  # e.g. "http 404", "timeout", "dns"
    permanent: bool
    fetched_at: datetime
