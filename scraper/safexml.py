"""The one way govfeed parses XML (feeds, sitemaps, a site's RSS): entities never expand.

lxml's default parser expands internal entities (a "billion laughs" document of a few hundred
bytes becomes gigabytes) and libxml2 can be asked to load external ones (``file:///etc/passwd``
or a URL). XML from a site is hostile input, so every parse goes through ``parse_xml``: no
entity is resolved, no DTD or network resource is loaded, huge-tree limits stay on, and a
document that declares entities at all is refused (feeds and sitemaps never need them).
"""

from __future__ import annotations

from lxml import etree


class XMLError(ValueError):
    """XML that govfeed will not use: not well-formed, or declaring entities."""


def _parser() -> etree.XMLParser:
    # A parser per call: lxml parsers keep state and are not to be shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def parse_xml(data: bytes) -> etree._Element:
    """The root element of ``data``; XMLError if it is malformed or declares any entity."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XMLError(f"not well-formed XML: {exc}") from None
    if root is None:
        raise XMLError("empty XML document")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None:
        names = [entity.name for entity in dtd.iterentities()]
        if names:
            raise XMLError(f"XML declares entities ({', '.join(names[:3])}): refused")
    return root
