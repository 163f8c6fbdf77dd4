"""Normalization of an extracted article: whitespace, XML-forbidden characters, time zones.

Scrapy-free, like extraction, so it can run in an extraction worker process.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

from scraper.extract.article import Article
from scraper.extract.text import clean_space
from scraper.xmlchars import strip_xml_forbidden


def clean_line(text: str) -> str:
    # printable text has no XML-forbidden character: skip the regex for nearly every line
    return clean_space(text if text.isprintable() else strip_xml_forbidden(text))


def clean_body(text: str) -> str:
    """One paragraph per line, inner whitespace collapsed, blank lines gone."""
    lines = (clean_line(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def in_zone(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A zone-aware time in the site's zone; a naive one is taken as the site's local time."""
    if value is None:
        return None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def normalize(article: Article, zone: ZoneInfo, language: str) -> Article:
    source = clean_line(article.source or "")
    return dataclasses.replace(
        article,
        title=clean_line(article.title or "") or None,
        source=source or None,
        body=clean_body(article.body),
        body_html=strip_xml_forbidden(article.body_html),
        published=in_zone(article.published, zone),
        updated=in_zone(article.updated, zone),
        lang=article.lang or language,
        authors=[a for a in (clean_line(a) for a in article.authors) if a],
    )
