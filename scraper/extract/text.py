"""Tree helpers shared by the stages: visible text as lines, decoy pruning, CSS selection."""

from __future__ import annotations

import re
from functools import lru_cache

from cssselect import SelectorError
from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "center", "dd", "details",
        "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
        "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li",
        "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
        "td", "tfoot", "th", "thead", "tr", "ul", "caption", "option", "title", "img",
    }
)  # fmt: skip
INVISIBLE_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "select", "textarea", "button", "svg",
     "iframe", "object", "embed", "input", "map", "canvas"}
)  # fmt: skip

# class/id words of page furniture that holds decoy dates and titles, ordered by how sure a
# match is. Matched as whole words of the class/id (split on -, _, space, camelCase).
DECOY_WORDS = (
    "footer", "foot", "copyright", "related", "relate", "recommend", "xgwz", "xgxw", "xglj",
    "sidebar", "comment", "comments", "share", "bdshare", "jiathis", "pager", "pagination",
    "breadcrumb", "breadcrumbs", "crumb", "crumbs", "position", "location", "nav", "navbar",
    "menu", "topbar", "toolbar", "widget", "advert", "ads", "banner", "newsletter", "social",
    "hot", "rank", "bottom", "friendlink", "links", "tags", "subscribe", "cookie", "modal",
    "popup", "side", "latest", "print", "fonts", "fontsize", "font", "zihao", "today",
    "weather", "search",
)  # fmt: skip
_DECOY_SET = frozenset(DECOY_WORDS)
# Whole class tokens of text kept only for screen readers (a hidden site name in an <h1>, a
# ": " between kicker and headline), ordered by how common they are.
HIDDEN_CLASSES = (
    "aural", "visuallyhidden", "visually-hidden", "sr-only", "screen-reader-text",
    "element-invisible", "u-visually-hidden", "offscreen", "a11y-hidden", "hide-text",
)  # fmt: skip
_HIDDEN_SET = frozenset(HIDDEN_CLASSES)
_WORD_SPLIT = re.compile(r"[\s_\-]+|(?<=[a-z])(?=[A-Z])")


_ZERO_WIDTH = {0x200B: " ", 0xFEFF: " "}


def clean_space(text: str) -> str:
    """Collapse runs of spaces (incl. NBSP, ideographic and zero-width space) and trim; line
    breaks stay. ``str.split`` does the work: several times faster than a regex on long text.

    Printable text holds no whitespace but " " (nor a zero-width space), so printable text
    without a double, leading or trailing space is clean already, as most lines are.
    """
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    if "\u200b" in text or "\ufeff" in text:
        text = text.translate(_ZERO_WIDTH)
    if "\n" not in text:
        return " ".join(text.split())
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


def class_words(el: etree._Element) -> frozenset[str]:
    """Lower-cased words of an element's class and id."""
    cls, ident = el.get("class"), el.get("id")
    if not cls and not ident:
        return frozenset()
    return _words(f"{cls or ''} {ident or ''}")


@lru_cache(maxsize=8192)  # a page repeats a few dozen class names over hundreds of elements
def _words(raw: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD_SPLIT.split(raw) if w)


def is_decoy(el: etree._Element) -> bool:
    """Page furniture (footer, related list, widget ...) by class/id or tag."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in {"footer", "nav", "aside"}:
        return True
    return not class_words(el).isdisjoint(_DECOY_SET)


def is_hidden(el: etree._Element) -> bool:
    """Text meant for screen readers only, or hidden outright (hidden / aria-hidden)."""
    if el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true":
        return True
    return bool(set((el.get("class") or "").lower().split()) & _HIDDEN_SET)


def text_lines(root: etree._Element, *, skip_decoys: bool = False) -> list[str]:
    """Visible text of ``root``, one line per block, whitespace collapsed, empties dropped.

    Attributes (alt, title) are never read, so decoy dates in them cannot leak in.
    """
    parts: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    skipped: set[int] = set()
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else None
        if event == "start":
            if tag is None:  # comment / processing instruction: its text is not visible
                walker.skip_subtree()
                continue
            if el is not root and (
                tag in INVISIBLE_TAGS or (skip_decoys and el is not root and is_decoy(el))
            ):
                skipped.add(id(el))
                walker.skip_subtree()
                continue
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if el.text:
                parts.append(el.text if tag == "pre" else el.text.replace("\n", " "))
        else:
            if tag is not None and id(el) not in skipped and tag in BLOCK_TAGS:
                parts.append("\n")
            if el is not root and el.tail:
                parts.append(el.tail.replace("\n", " "))
    lines = (clean_space(line) for line in "".join(parts).split("\n"))
    return [line for line in lines if line]


@lru_cache(maxsize=512)
def _selector(css: str) -> CSSSelector | None:
    try:
        return CSSSelector(css, translator="html")
    except (SelectorError, ValueError, SyntaxError):
        return None


def select(root: etree._Element, css: str) -> list[etree._Element]:
    """Elements matching ``css`` (an invalid selector matches nothing)."""
    sel = _selector(css)
    if sel is None:
        return []
    try:
        return list(sel(root))
    except (ValueError, etree.XPathError):
        return []


# Comments and processing instructions are dropped at parse time: they are never visible, and
# left in the tree they split text runs, which made trafilatura (handed our tree) lose
# paragraphs it finds when it parses the same page itself. (A parser per call: lxml parsers
# must not be shared between threads, and building one is cheap.)


def parse_html(text: str) -> lxml_html.HtmlElement | None:
    """An lxml tree, or None when there is nothing parseable."""
    if not text.strip():
        return None
    # lxml refuses str input with an XML encoding declaration, and NULs truncate the parse.
    text = text.replace("\x00", "")
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text, count=1)
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True)
    parser.set_element_class_lookup(_HTML_CLASSES)
    try:
        tree = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        try:
            tree = lxml_html.fragment_fromstring(text, create_parent="div", parser=parser)
        except (etree.ParserError, ValueError):
            return None
    for el in list(tree.iter(*_UNKNOWN_VOID)):
        if len(el) or el.text:
            _hoist(el)
    return tree


# lxml.html's own parser picks each element's class in Python (a call per element touched);
# this lookup runs in C and gives every element lxml.html's methods (text_content, drop_tree).
_HTML_CLASSES = etree.ElementDefaultClassLookup(
    element=lxml_html.HtmlElement,
    comment=lxml_html.HtmlComment,
    pi=lxml_html.HtmlProcessingInstruction,
    entity=lxml_html.HtmlEntity,
)


# HTML5 void elements libxml2 (an HTML 4 parser) does not know: it nests all that follows one
# inside it, so dropping an old Flash <embed> dropped the rest of the article with it.
_UNKNOWN_VOID = ("embed", "source", "track", "wbr", "keygen")


def _hoist(el: lxml_html.HtmlElement) -> None:
    """Move what the parser nested inside a void element back after it, in order."""
    parent = el.getparent()
    if parent is None:
        return
    children = list(el)
    index = parent.index(el)
    text, tail = el.text, el.tail
    el.text = None
    el.tail = text
    for offset, child in enumerate(children, 1):
        parent.insert(index + offset, child)  # moves it
    last = children[-1] if children else el
    last.tail = ((last.tail or "") + (tail or "")) or None
