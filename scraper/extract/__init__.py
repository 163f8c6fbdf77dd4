"""Pure article extraction: bytes + URL + site profile -> Article. No Scrapy, store or feedgen."""

from __future__ import annotations

import logging

from scraper.extract.article import Article, Image
from scraper.extract.pipeline import run
from scraper.extract.profile import SiteProfile, get_profile, load_profiles, profile_for_url

log = logging.getLogger(__name__)


def extract_article(
    html: bytes | str,
    url: str,
    profile: SiteProfile | None = None,
    *,
    content_type: str | None = None,
) -> Article:
    """Extract one article page. Never raises; missing fields are explained in ``warnings``.

    ``content_type`` is the HTTP Content-Type header, whose charset is one decoding hint.
    """
    try:
        return run(html, url, profile, content_type)
    except Exception as exc:  # the one boundary guard: a page must never stop a crawl
        log.exception("extraction failed for %s", url)
        return Article(url=url, warnings=[f"extraction failed: {type(exc).__name__}: {exc}"])


__all__ = [
    "Article",
    "Image",
    "SiteProfile",
    "extract_article",
    "get_profile",
    "load_profiles",
    "profile_for_url",
]
