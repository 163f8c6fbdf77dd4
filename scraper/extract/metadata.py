"""Stage 2: structured metadata, parsed once per page.

Government CMSs (TRS WCM, Hanweb, Ucap) write ArticleTitle / PubDate / ContentSource /
ColumnName / Url meta tags; news sites write JSON-LD, OpenGraph and Dublin Core. All of it is
read here into one object so later stages only look values up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import html as lxml_html

# Ordered vocabularies: the first key with a non-empty value wins.
GOV_TITLE = ("articletitle",)
GOV_DATE = ("pubdate", "firstpublishedtime", "publishdate", "pubtime", "published")
GOV_SOURCE = ("contentsource", "source")
GOV_AUTHOR = ("author",)
GOV_CHANNEL = ("columnname",)
GOV_URL = ("url",)
OG_TITLE = ("og:title", "twitter:title")
DC_TITLE = ("dc.title", "dcterms.title")
OG_DATE = ("article:published_time", "og:article:published_time", "og:published_time")
DC_DATE = ("dcterms.issued", "dc.date.issued", "dc.date", "dcterms.date", "dcterms.created")
OTHER_DATE = (
    "datepublished",  # itemprop
    "date",
    "publish-date",
    "publish_date",
    "publication_date",
    "sailthru.date",
    "parsely-pub-date",
    "pdate",
    "displaydate",
    "dc.date.created",
    "originalpublicationdate",
    "article.published",
    "created",
)
MODIFIED = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "dc.date.modified",
    "last-modified",
)
AUTHOR = ("article:author", "dc.creator", "dcterms.creator", "byl", "sailthru.author")
LANG = ("content-language", "dc.language", "language", "og:locale")


@dataclass(slots=True)
class Metadata:
    meta: dict[str, list[str]] = field(default_factory=dict)  # lower-cased key -> contents
    jsonld: list[dict[str, Any]] = field(default_factory=list)
    title_tag: str | None = None
    canonical: str | None = None
    html_lang: str | None = None

    def first(self, keys: tuple[str, ...]) -> tuple[str, str] | None:
        """(key, value) of the first key in ``keys`` with a non-empty value."""
        for key in keys:
            for value in self.meta.get(key, ()):
                if value.strip():
                    return key, value.strip()
        return None

    def present(self, keys: tuple[str, ...]) -> tuple[str, str] | None:
        """Like ``first`` but also reports a key present with an empty value (as "")."""
        for key in keys:
            values = self.meta.get(key)
            if values is not None:
                non_empty = [v.strip() for v in values if v.strip()]
                return key, non_empty[0] if non_empty else ""
        return None

    def jsonld_value(self, *names: str) -> Any:
        """The first non-empty property among ``names`` of an article-like JSON-LD object."""
        for obj in self.jsonld:
            for name in names:
                value = obj.get(name)
                if value:
                    return value
        return None


_ARTICLE_TYPES = (
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "blogposting",
    "report",
    "webpage",
)


def _flatten(data: Any, out: list[dict[str, Any]]) -> None:
    if isinstance(data, list):
        for item in data[:50]:
            _flatten(item, out)
    elif isinstance(data, dict):
        if "@graph" in data:
            _flatten(data["@graph"], out)
        if "@type" in data:
            out.append(data)


def _type_rank(obj: dict[str, Any]) -> int:
    kinds = obj.get("@type")
    names = [str(k).lower() for k in (kinds if isinstance(kinds, list) else [kinds])]
    for rank, kind in enumerate(_ARTICLE_TYPES):
        if kind in names:
            return rank
    return len(_ARTICLE_TYPES)


def read_metadata(tree: lxml_html.HtmlElement) -> Metadata:
    """Meta tags, JSON-LD, <title>, canonical link and <html lang> of a parsed page."""
    md = Metadata()
    for el in tree.iter("meta"):
        key = el.get("name") or el.get("property") or el.get("itemprop") or el.get("http-equiv")
        content = el.get("content", el.get("value"))  # some CMSs write value=
        if key is None or content is None:
            continue
        md.meta.setdefault(key.strip().lower(), []).append(content)
    for el in tree.iter("time"):
        if el.get("itemprop", "").lower() in {"datepublished", "datemodified"}:
            value = el.get("datetime") or el.text_content()
            md.meta.setdefault(el.get("itemprop", "").lower(), []).append(value)
    found: list[dict[str, Any]] = []
    for el in tree.iter("script"):
        if "ld+json" not in (el.get("type") or "").lower() or not el.text:
            continue
        try:
            _flatten(json.loads(el.text.strip().rstrip(";")), found)
        except (ValueError, RecursionError):
            continue
    md.jsonld = sorted(
        (obj for obj in found if _type_rank(obj) < len(_ARTICLE_TYPES)), key=_type_rank
    )
    title = tree.find(".//title")
    if title is not None:
        md.title_tag = " ".join(title.text_content().split()) or None
    for el in tree.iter("link"):
        if "canonical" in (el.get("rel") or "").lower().split() and el.get("href"):
            md.canonical = el.get("href", "").strip()
            break
    root = tree.getroottree().getroot()
    md.html_lang = (root.get("lang") or root.get("xml:lang") or "").strip() or None
    return md


def jsonld_names(value: Any) -> list[str]:
    """Names from a JSON-LD author/publisher value (string, object or list of either)."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items[:20]:
        if isinstance(item, str) and item.strip():
            names.append(item.strip())
        elif isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip():
            names.append(item["name"].strip())
    return names
