"""Pure article extraction: bytes + URL + site profile -> Article. No Scrapy, store or feedgen."""

from __future__ import annotations

from scraper.extract.article import Article, Image
from scraper.extract.profile import SiteProfile, get_profile, load_profiles, profile_for_url


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
    raise NotImplementedError("extraction is being written (issue 4)")


__all__ = [
    "Article",
    "Image",
    "SiteProfile",
    "extract_article",
    "get_profile",
    "load_profiles",
    "profile_for_url",
]
