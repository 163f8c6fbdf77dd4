"""Body stage: the main content element to plain text, sanitized HTML and images.

Profile pages name their content element; other pages try government CMS containers
(TRS_Editor, #zoom ...) and then trafilatura's main-content extraction, which is one
component of the generic path, not the whole of it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html

from scraper.extract.article import Image
from scraper.extract.sanitize import sanitize_html
from scraper.extract.text import (
    INVISIBLE_TAGS,
    class_words,
    clean_space,
    is_decoy,
    select,
    text_lines,
)

# Content containers of Chinese government CMSs, ordered by how specific they are.
GOV_CONTAINERS = (
    ".TRS_Editor",
    ".TRS_UEDITOR",
    "#UCAP-CONTENT",
    "#zoom",
    ".pages_content",
    "#Zoom",
)
_ANY_GOV_CONTAINER = ", ".join(GOV_CONTAINERS)
MIN_CONTAINER_TEXT = 30
MIN_IMAGE_SIDE = 50
# class/tag words of a teaser box pointing to another page, ordered by how sure a match is.
TEASER_WORDS = ("teaser", "teasers", "inlineteaser", "linkbox")
_TEASER_SET = frozenset(TEASER_WORDS)
POINTER_LINK_DENSITY = 0.8
MAX_TRAILING_POINTERS = 4
_POINTER_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "dd", "dt", "td")
_FILENAME = re.compile(r"^[\w.-]+\.(?:jpe?g|png|gif|webp|bmp)$", re.I)


@dataclass(slots=True)
class Body:
    text: str = ""
    html: str = ""
    images: list[Image] = field(default_factory=list)
    method: str = "none"


def _compiled(patterns: list[str]) -> list[re.Pattern[str]]:
    out = []
    for raw in patterns:
        try:
            out.append(re.compile(raw))
        except re.error:
            continue
    return out


# ``drop_lines`` remove page furniture (an "Updated :" line, a font-size widget): a block of
# more text than this is content, never dropped whole even if it starts like furniture; and
# the long blocks (the whole article's container) need no cleaning to be skipped.
MAX_DROP_LINE = 1000


def _prune(el: etree._Element, remove: list[str], drop_lines: list[str]) -> None:
    """Remove invisible tags, profile-removed selectors and blocks matching drop_lines."""
    for child in list(el.iter()):
        invisible = not isinstance(child.tag, str) or child.tag in INVISIBLE_TAGS
        if invisible and child is not el:
            _drop_keep_tail(child)
    for css in remove:
        for child in select(el, css):
            if child is not el:
                _drop_keep_tail(child)
    patterns = _compiled(drop_lines)
    if patterns:
        for child in list(el.iter("p", "div", "span", "h1", "h2", "h3", "h4", "li", "td")):
            if child is el or child.getparent() is None:
                continue
            raw = child.text_content()
            if len(raw) > MAX_DROP_LINE:  # content, whatever its first words
                continue
            text = clean_space(raw)
            if text and any(p.search(text) for p in patterns):
                _drop_keep_tail(child)


def _drop_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if isinstance(el, lxml_html.HtmlElement):
        el.drop_tree()
        return
    tail = el.tail
    prev = el.getprevious()
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _caption(img: etree._Element) -> str | None:
    """figcaption, else a short centred line right after the image's block, else the alt."""
    for anc in img.iterancestors():
        if anc.tag == "figure":
            cap = anc.find(".//figcaption")
            if cap is not None and clean_space(cap.text_content()):
                return clean_space(cap.text_content())
            break
    block = img.getparent()
    if block is not None and block.tag in {"p", "div", "center"}:
        nxt = block.getnext()
        if nxt is not None and nxt.tag in {"p", "div", "center"} and nxt.find(".//img") is None:
            style = f"{nxt.get('style') or ''} {nxt.get('align') or ''}".lower()
            text = clean_space(nxt.text_content())
            if text and len(text) <= 200 and ("center" in style or nxt.tag == "center"):
                return text
    alt = clean_space(img.get("alt") or "")
    if alt and not _FILENAME.match(alt):
        return alt
    return None


def _size_ok(img: etree._Element) -> bool:
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().rstrip("px")
        if value.isdigit() and int(value) < MIN_IMAGE_SIDE:
            return False
    return True


def images_of(el: etree._Element, base_url: str) -> list[Image]:
    """Content images with absolute URLs and captions, in order, without duplicates."""
    seen: set[str] = set()
    out: list[Image] = []
    for img in el.iter("img"):
        src = (img.get("src") or img.get("data-src") or img.get("data-original") or "").strip()
        if not src or src.startswith("data:") or not _size_ok(img):
            continue
        try:
            absolute = urljoin(base_url, src)
        except ValueError:
            continue
        if absolute in seen:
            continue
        seen.add(absolute)
        out.append(Image(src=absolute, caption=_caption(img)))
    return out


def _absolutise(el: etree._Element, base_url: str) -> None:
    for node in el.iter("a", "img"):
        attr = "href" if node.tag == "a" else "src"
        value = node.get(attr)
        if node.tag == "img" and not value:
            value = node.get("data-src") or node.get("data-original")
        if value:
            try:
                node.set(attr, urljoin(base_url, value.strip()))
            except ValueError:
                node.attrib.pop(attr, None)


def _inner_html(el: etree._Element) -> str:
    parts = [el.text or ""]
    for child in el:
        parts.append(etree.tostring(child, encoding="unicode", method="html", with_tail=True))
    return "".join(parts)


def body_from_element(
    el: etree._Element,
    base_url: str,
    *,
    remove: list[str] | None = None,
    drop_lines: list[str] | None = None,
    method: str,
) -> Body:
    """Text, sanitized HTML and images of a content element (a pruned copy; input untouched)."""
    work = copy.deepcopy(el)
    _prune(work, remove or [], drop_lines or [])
    images = images_of(work, base_url)
    _absolutise(work, base_url)
    text = "\n".join(text_lines(work))
    return Body(text, sanitize_html(_inner_html(work)), images, method)


def gov_container(tree: etree._Element) -> etree._Element | None:
    """The first government-CMS content container holding real text, if any."""
    if not select(tree, _ANY_GOV_CONTAINER):  # one pass over a page of another CMS
        return None
    for css in GOV_CONTAINERS:
        for el in select(tree, css):
            if len(clean_space(el.text_content())) >= MIN_CONTAINER_TEXT and not any(
                is_decoy(a) for a in el.iterancestors()
            ):
                return el
    return None


# trafilatura's output tree uses TEI-like tags; map them back to HTML for body_html.
_TEI_TO_HTML = {
    "head": "h3",
    "list": "ul",
    "item": "li",
    "quote": "blockquote",
    "lb": "br",
    "row": "tr",
    "cell": "td",
    "hi": "em",
    "ref": "a",
    "graphic": "img",
    "code": "code",
    "del": "s",
}


def _tei_to_html(body: etree._Element) -> str:
    work = copy.deepcopy(body)
    for node in work.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag in _TEI_TO_HTML:
            node.tag = _TEI_TO_HTML[node.tag]
        if node.tag == "a" and node.get("target"):
            node.set("href", node.attrib.pop("target"))
        if node.tag == "ul" and node.get("rend") == "ol":
            node.tag = "ol"
    return _inner_html(work)


def _is_link(el: etree._Element) -> bool:
    """<a href>, or a custom element acting as one (<pp-link href>); an <article href> that
    a script makes clickable is not a link."""
    tag = el.tag if isinstance(el.tag, str) else ""
    return el.get("href") is not None and (tag == "a" or "-" in tag)


def _link_density(el: etree._Element) -> float:
    total = len(clean_space(el.text_content()))
    if not total:
        return 0.0
    linked = sum(len(clean_space(a.text_content())) for a in el.iterdescendants() if _is_link(a))
    return linked / total


def _is_pointer(el: etree._Element) -> bool:
    """A block that only points elsewhere: link text, or part of a teaser box."""
    if _link_density(el) >= POINTER_LINK_DENSITY:
        return True
    for node in (el, *el.iterancestors()):
        if node.tag == "body":
            break
        if _is_link(node):
            return True
        tag_words = set(str(node.tag).lower().split("-")) if isinstance(node.tag, str) else set()
        if (class_words(node) | tag_words) & _TEASER_SET:
            return True
    return False


def _blocks_showing(tree: etree._Element, text: str) -> list[etree._Element]:
    """Block elements whose whole visible text is ``text``, found from the text nodes that
    hold its first word (no full-tree text_content() walk)."""
    head = text.split(" ", 1)[0][:40]
    if not head:
        return []
    try:
        nodes = tree.xpath("//text()[contains(., $head)]", head=head)
    except (etree.XPathError, ValueError):
        return []
    found: list[etree._Element] = []
    for node in nodes[:50]:
        el = node.getparent() if hasattr(node, "getparent") else None
        for _ in range(8):
            if el is None or not isinstance(el.tag, str):
                break
            if el.tag in _POINTER_BLOCKS:
                content = clean_space(el.text_content())
                if content == text:
                    if all(el is not f for f in found):
                        found.append(el)
                    break
                if len(content) > len(text):
                    break
            el = el.getparent()
    return found


def trailing_pointers(lines: list[str], tree: etree._Element) -> int:
    """How many of the last lines are links or teasers in the page ("Read more", a download,
    a related-topic box) rather than article text: every block showing the line must be one."""
    count = 0
    for line in reversed(lines[-MAX_TRAILING_POINTERS:]):
        text = line.removeprefix("- ")
        blocks = _blocks_showing(tree, text)
        if not blocks or not all(_is_pointer(el) for el in blocks):
            break
        count += 1
    return count if count < len(lines) else 0


def trafilatura_body(tree: etree._Element, url: str) -> Body | None:
    """Main content by trafilatura on a copy of our tree (metadata off: we do our own)."""
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - declared dependency
        return None
    try:
        # trafilatura copies a tree it is handed (lxml's copy is deep): no copy of ours needed.
        doc = trafilatura.bare_extraction(
            tree,
            url=url or None,
            include_comments=False,
            with_metadata=False,
            include_tables=True,
        )
    except (ValueError, TypeError, AttributeError, etree.LxmlError, RecursionError):
        return None
    if doc is None or isinstance(doc, dict):
        return None
    text = (doc.text or "").strip()
    if not text:
        return None
    lines = [line for line in (clean_space(x) for x in text.split("\n")) if line]
    if cut := trailing_pointers(lines, tree):
        dropped = set(lines[-cut:])
        lines = lines[:-cut]
        if doc.body is not None:
            for child in reversed(list(doc.body)):
                if clean_space("".join(child.itertext())) not in dropped:
                    break
                doc.body.remove(child)
    html = _tei_to_html(doc.body) if doc.body is not None else ""
    return Body("\n".join(lines), sanitize_html(html), [], "trafilatura")
