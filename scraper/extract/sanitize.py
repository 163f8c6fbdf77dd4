"""Stage: sanitizing the body HTML that goes into feeds (feed readers render it)."""

from __future__ import annotations

import nh3

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code",
        "em", "strong", "b", "i", "u", "sub", "sup", "a", "img", "figure", "figcaption",
        "table", "thead", "tbody", "tr", "td", "th", "caption", "hr", "dl", "dt", "dd",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def sanitize_html(fragment: str) -> str:
    """Only harmless tags and attributes; script/style content dropped with the tag."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        clean_content_tags={"script", "style", "noscript", "template", "iframe", "object"},
        strip_comments=True,
        link_rel="noopener noreferrer",
    ).strip()
