"""Entry HTML as it goes into a feed: sanitized again, links and images made absolute.

Extraction already sanitizes body HTML, but a feed is what readers render, so the last step
before it does not trust the store: it applies the same allow-list (no script, style, event
attributes, forms, iframes, ``javascript:`` URLs) and resolves relative ``href``/``src``
against the article's URL, since a reader has no base URL for them. XML-forbidden control
characters are dropped too.
"""

from __future__ import annotations

import nh3

from scraper.extract.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from scraper.xmlchars import strip_xml_forbidden

URL_SCHEMES = frozenset({"http", "https", "mailto"})
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "form", "embed"}
)


def entry_html(fragment: str, base_url: str) -> str:
    """``fragment`` safe to embed in a feed entry read at any address."""
    return nh3.clean(
        strip_xml_forbidden(fragment),
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        clean_content_tags=set(DROPPED_WITH_CONTENT - ALLOWED_TAGS),
        strip_comments=True,
        link_rel="noopener noreferrer",
        url_relative=("rewrite_with_base", base_url),
    ).strip()
