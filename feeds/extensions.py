"""feedgen extensions: RFC 5005 archive markers and links, and govfeed's provenance element.

feedgen writes only the Atom links it knows into RSS (``rel="self"``), and has no element for
``fh:archive`` or for our provenance; these extensions add them to the XML tree it builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from scraper.xmlchars import strip_xml_forbidden

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
PROVENANCE_NS = "tag:govfeed,2026:ns/provenance/1"  # ours: where and when an entry was seen


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class HistoryExtension(BaseExtension):
    """Feed-level: ``<fh:archive/>`` on archive documents, and the links RSS lacks.

    Links are ``(rel, href)`` pairs; Atom feeds get theirs from feedgen itself, RSS channels
    get them here as ``atom:link`` elements (the same way RSS carries ``rel="self"``).
    """

    def __init__(self) -> None:
        self.is_archive = False
        self.rss_links: list[tuple[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        if self.is_archive:
            etree.SubElement(feed, f"{{{HISTORY_NS}}}archive")
        return feed

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed[0]
        for rel, href in self.rss_links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", rel=rel, href=href)
        if self.is_archive:
            etree.SubElement(channel, f"{{{HISTORY_NS}}}archive")
        return feed


class ProvenanceFeedExtension(BaseExtension):
    def extend_ns(self) -> dict[str, str]:
        return {"gf": PROVENANCE_NS}


class ProvenanceExtension(BaseEntryExtension):
    """Entry-level ``<gf:provenance>``: every URL the article was seen at, its first
    sighting and its content hash, so a reader can check where a text came from."""

    def __init__(self) -> None:
        self.urls: Sequence[str] = ()
        self.first_seen: datetime | None = None
        self.content_hash = ""

    def extend_ns(self) -> dict[str, str]:
        return {"gf": PROVENANCE_NS}

    def _element(self, parent: etree._Element) -> etree._Element:
        node = etree.SubElement(parent, f"{{{PROVENANCE_NS}}}provenance")
        if self.first_seen is not None:
            etree.SubElement(node, f"{{{PROVENANCE_NS}}}firstSeen").text = rfc3339(self.first_seen)
        etree.SubElement(node, f"{{{PROVENANCE_NS}}}contentHash").text = self.content_hash
        for url in self.urls:
            etree.SubElement(node, f"{{{PROVENANCE_NS}}}seenAt").text = strip_xml_forbidden(url)
        return parent

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        return self._element(entry)

    def extend_rss(self, entry: etree._Element) -> etree._Element:
        return self._element(entry)
