"""An OPML 2.0 subscription list of every feed, for importing them all into a reader at once.

One outline per source (holding its feed and its channel feeds), then the combined feed.
Each feed is listed once, by its Atom URL, so an import does not subscribe three times.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from feeds.render import FeedInfo
from scraper.xmlchars import strip_xml_forbidden as _x


def _feed_outline(parent: etree._Element, info: FeedInfo) -> None:
    attrs = {
        "type": "rss",  # OPML 2.0 uses "rss" for any syndication feed
        "text": _x(info.title),
        "title": _x(info.title),
        "xmlUrl": info.url("atom"),
        "htmlUrl": info.homepage,
    }
    if info.lang:
        attrs["language"] = info.lang
    etree.SubElement(parent, "outline", attrs)


def render_opml(infos: Sequence[FeedInfo], title: str = "govfeed feeds") -> bytes:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    groups: dict[str, etree._Element] = {}
    for info in infos:
        if info.source is None:
            _feed_outline(body, info)
            continue
        if info.source not in groups:
            groups[info.source] = etree.SubElement(body, "outline", text=_x(info.title))
        _feed_outline(groups[info.source], info)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
