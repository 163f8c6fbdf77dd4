"""The evidence ladder: each field is filled by the first rung that has evidence for it.

Rungs, in order: site profile -> government meta tags -> JSON-LD / OpenGraph / Dublin Core ->
visible labels -> generic heuristics -> URL date (dates only, weakest). Every rung only fills
what is still empty, and a field left empty says why in ``warnings``.
"""

from __future__ import annotations

import contextlib
import copy
import re
from datetime import datetime, tzinfo
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from scraper.extract import metadata as mdv
from scraper.extract.article import Article, Image
from scraper.extract.body import Body, body_from_element, gov_container, trafilatura_body
from scraper.extract.dates import TLD_ZONES, FoundDate, parse_date, url_date, zone_named
from scraper.extract.decoding import decode_html
from scraper.extract.labels import apply_patterns, label_date, label_source
from scraper.extract.metadata import Metadata, jsonld_names, read_metadata
from scraper.extract.profile import SiteProfile
from scraper.extract.text import (
    class_words,
    clean_space,
    is_decoy,
    is_hidden,
    parse_html,
    select,
    text_lines,
)

# Separators between a headline and the site name in <title>, ordered by how often they are
# the site-name separator rather than part of a headline.
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", "_", " :: ", " » ", "－", " · ", "--", "-")
BREADCRUMB_WORDS = ("breadcrumb", "breadcrumbs", "crumb", "crumbs", "position", "location")
_BREADCRUMB_SET = frozenset(BREADCRUMB_WORDS)
_BREADCRUMB_SPLIT = re.compile(r"\s*(?:>>|»|›|>|/|→|\\)\s*")
_AUTHOR_SPLIT = re.compile(r"\s*(?:[,，、;；/]|\band\b|\bund\b)\s*")
_LANG_TAG = re.compile(r"^[a-z]{2,3}$")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"\w+")
MAX_DATE_SCAN_LINES = 8
MAX_HEURISTIC_LINE = 120
MAX_DATE_LINE_EXTRA = 16


class _Page:
    """One parsed page and the lazily computed views the rungs share."""

    def __init__(self, tree: etree._Element, url: str, profile: SiteProfile | None) -> None:
        self.tree = tree
        self.url = url
        self.profile = profile
        self.md: Metadata = read_metadata(tree)
        self.zone: tzinfo = _zone_for(profile, url, self.md)
        self._lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        """Visible lines of the page without furniture (footers, related lists, widgets)."""
        if self._lines is None:
            body = self.tree.find("body")
            self._lines = text_lines(body if body is not None else self.tree, skip_decoys=True)
        return self._lines

    def first_text(self, selectors: list[str]) -> tuple[str, etree._Element] | None:
        for css in selectors:
            for el in select(self.tree, css):
                text = clean_space(" ".join(text_lines(el)))
                if text:
                    return text, el
        return None


def _zone_for(profile: SiteProfile | None, url: str, md: Metadata) -> tzinfo:
    """Profile zone; else by the host's TLD; else Chinese pages Asia/Shanghai; else UTC."""
    if profile is not None:
        return zone_named(profile.timezone)
    host = (urlsplit(url).hostname or "") if url else ""
    tld = host.rsplit(".", 1)[-1].lower() if "." in host else ""
    if tld in TLD_ZONES:
        return zone_named(TLD_ZONES[tld])
    if (md.html_lang or "").lower().startswith("zh") or _HAN.search(md.title_tag or ""):
        return zone_named("Asia/Shanghai")
    return zone_named("UTC")


def _safe_urlsplit(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


# ---------------------------------------------------------------- title


def _site_names(page: _Page) -> list[str]:
    """Names a <title> tail may carry: og:site_name, application-name, the host's label."""
    names = [*page.md.meta.get("og:site_name", []), *page.md.meta.get("sitename", [])]
    names += page.md.meta.get("application-name", [])
    host = _safe_urlsplit(page.url)
    labels = [x for x in host.split(".") if x]
    if len(labels) >= 2:
        names += [labels[-2], host]
    return names


def _is_site_name(part: str, names: set[str]) -> bool:
    low = part.lower()
    return low in names or low.replace(" ", "").replace("-", "") in names


def _strip_site_tail(title: str, site_names: list[str], *, only_names: bool = False) -> str:
    """Drop " - Site name" tails; keep the headline part.

    With ``only_names`` a part is dropped only when it is one of the site's names (a visible
    heading is already the headline; only a glued-on site name is removed).
    """
    names = {clean_space(n).lower() for n in site_names if n}
    for sep in TITLE_SEPARATORS:
        if sep not in title:
            continue
        if sep == "-" and not re.search(r"[\u4e00-\u9fff]-|-[\u4e00-\u9fff]", title):
            continue  # a bare hyphen only separates in CJK titles
        parts = [p.strip() for p in title.split(sep) if p.strip()]
        if len(parts) < 2:
            continue
        kept = [p for p in parts if not _is_site_name(p, names)]
        if kept and len(kept) < len(parts):
            return sep.join(kept) if len(kept) > 1 else kept[0]
        if only_names:
            continue
        longest = max(parts, key=len)
        head = parts[0]
        return head if len(head) >= 0.4 * len(title.replace(sep, "")) else longest
    return title


def _heading_text(el: etree._Element) -> str:
    """Visible text of a heading: no <style>/<script>, no screen-reader-only parts."""
    work = copy.deepcopy(el)
    for child in list(work.iter()):
        if (
            child is not work
            and isinstance(child, lxml_html.HtmlElement)
            and (is_hidden(child) or child.tag == "small")  # <small>: a kicker or topline
            and child.getparent() is not None
        ):
            child.drop_tree()  # keeps the tail text
    return clean_space(" ".join(text_lines(work)))


def _headings(page: _Page) -> list[str]:
    out: list[str] = []
    for tag in ("h1", "h2"):
        for el in page.tree.iter(tag):
            if is_decoy(el) or is_hidden(el):
                continue
            if any(is_decoy(a) or is_hidden(a) for a in el.iterancestors()):
                continue
            text = _heading_text(el)
            if 4 <= len(text) <= 300:
                out.append(text)
        if out:
            break
    return out


def _agreement(
    references: list[str], headings: list[str], site_names: list[str] | None = None
) -> str | None:
    """The headline on which a visible heading and a title reference agree.

    A heading inside a reference (" - Site" tail) or a reference inside a heading (a kicker
    such as "Press releases:" before the headline) both count; the pair where the shared
    text covers most of the longer one wins, earlier references first on ties. Failing
    those, a heading holding every word of a reference (3 words or more) and more, at most
    twice as many, is the headline in its visible, fuller wording (a <title> often shortens
    it); with the same words only, the reference's spelling stands.
    """
    best: tuple[float, str] | None = None
    for reference in references:
        ref = clean_space(reference)
        if not ref:
            continue
        ref_words = set(_WORD.findall(_strip_site_tail(ref, site_names or []).casefold()))
        for heading in headings:
            if heading == ref:
                score, text = 1.0, heading
            elif len(heading) >= 8 and heading in ref:
                score, text = len(heading) / len(ref), heading
            elif len(ref) >= 8 and ref in heading:
                score, text = len(ref) / len(heading), ref
            elif (
                len(ref_words) >= 3
                and ref_words < (words := set(_WORD.findall(heading.casefold())))
                and len(words) <= 2 * len(ref_words)
            ):
                score, text = 0.5 * len(ref_words) / len(words), heading
            else:
                continue
            if best is None or score > best[0]:
                best = (score, text)
    return best[1] if best else None


def _title(page: _Page, art: Article) -> None:
    md = page.md
    if page.profile and (found := page.first_text(page.profile.title)):
        art.title = found[0]
        return
    if gov := md.first(mdv.GOV_TITLE):
        art.title = clean_space(gov[1])
        return
    site_names = _site_names(page)
    structured = md.jsonld_value("headline", "name") if md.jsonld else None
    if not isinstance(structured, str):
        structured = None
    og = md.first(mdv.OG_TITLE + mdv.DC_TITLE)
    candidates = [c for c in (structured, og[1] if og else None) if c]
    headings = _headings(page)
    tag_title = md.title_tag or ""
    # A visible heading that is (part of) the structured or <title> title is the headline.
    if agreed := _agreement([*candidates, tag_title], headings, site_names):
        art.title = _strip_site_tail(agreed, site_names, only_names=True)
        return
    if candidates:
        art.title = _strip_site_tail(clean_space(candidates[0]), site_names)
        return
    if tag_title:
        art.title = _strip_site_tail(tag_title, site_names)
        return
    if headings:
        art.title = headings[0]
        return
    art.warnings.append("title: no profile selector, meta, heading or <title>")


# ---------------------------------------------------------------- dates


def _set_date(art: Article, found: FoundDate, evidence: str, raw: str | None = None) -> None:
    art.published = found.value
    art.published_raw = raw if raw is not None else found.raw
    art.date_evidence = evidence


def _profile_date(page: _Page) -> FoundDate | None:
    profile = page.profile
    if profile is None or not (profile.date or profile.date_patterns):
        return None
    texts: list[str] = []
    for css in profile.date:
        for el in select(page.tree, css):
            texts.append(clean_space(" ".join(text_lines(el))))
    if not profile.date:
        texts = page.lines
    for text in texts:
        if profile.date_patterns:
            value = apply_patterns(profile.date_patterns, text, "date")
            if value and (found := parse_date(value, page.zone)):
                return found
        elif found := parse_date(text, page.zone):
            return found
    return None


def _meta_date(page: _Page, keys: tuple[str, ...]) -> tuple[FoundDate, str, str] | None:
    for key in keys:
        for value in page.md.meta.get(key, ()):
            if found := parse_date(value.strip(), page.zone):
                return found, key, value.strip()
    return None


_META_EVIDENCE = {
    "pubdate": "meta:PubDate",
    "firstpublishedtime": "meta:firstpublishedtime",
    "publishdate": "meta:PublishDate",
}


def _time_element_date(page: _Page) -> FoundDate | None:
    """The first <time datetime> outside page furniture."""
    for el in page.tree.iter("time"):
        if any(is_decoy(a) for a in el.iterancestors()):
            continue
        value = el.get("datetime") or el.text_content()
        if found := parse_date(value, page.zone):
            return found
    return None


def _headline_date(page: _Page, title: str | None) -> FoundDate | None:
    """A short line that is mostly a date, within a few lines under the headline."""
    lines = page.lines
    start = None
    if title:
        for i, line in enumerate(lines):
            if title in line or (len(line) >= 8 and line in title):
                start = i
                break
    if start is None:
        return None
    for line in lines[start + 1 : start + 1 + MAX_DATE_SCAN_LINES]:
        found = parse_date(line, page.zone) if len(line) <= MAX_HEURISTIC_LINE else None
        # Only a line that is mostly the date: a dated headline of a list or a sentence
        # that mentions an event day is not the publication date.
        if found is not None and len(line) - len(found.raw) <= MAX_DATE_LINE_EXTRA:
            return found
    return None


def _heuristic_date(page: _Page, title: str | None) -> FoundDate | None:
    """A <time datetime> outside furniture, else a short dated line just under the title."""
    return _time_element_date(page) or _headline_date(page, title)


def _htmldate(page: _Page) -> FoundDate | None:
    """htmldate's text and markup search, for pages no profile describes.

    The URL is withheld: a URL date is our weakest rung and must not win through it.
    """
    try:
        import htmldate
    except ImportError:  # pragma: no cover - declared dependency
        return None
    try:
        # htmldate copies a tree it is handed before pruning it: no copy of ours needed.
        value = htmldate.find_date(page.tree, extensive_search=True, original_date=True)
    except (ValueError, TypeError, AttributeError, etree.LxmlError, RecursionError):
        return None
    return parse_date(value, page.zone) if value else None


def _heuristics(page: _Page, title: str | None) -> tuple[FoundDate, str] | None:
    """htmldate's day (pages without a profile) refined by our own dated line's time."""
    ours = _heuristic_date(page, title)
    theirs = _htmldate(page) if page.profile is None else None
    if theirs is not None and not (ours and ours.value.date() == theirs.value.date()):
        # htmldate may land on the modification date; a published date of ours that is
        # earlier than that date is the more plausible one.
        modified = _modified(page)
        if not (
            ours and modified and theirs.value.date() == modified.date() and ours.value < modified
        ):
            return theirs, "heuristic:htmldate"
    return (ours, "heuristic") if ours else None


def _modified(page: _Page) -> datetime | None:
    if modified := _meta_date(page, mdv.MODIFIED):
        return modified[0].value
    jm = page.md.jsonld_value("dateModified")
    if isinstance(jm, str) and (found := parse_date(jm, page.zone)):
        return found.value
    return None


def _checked_meta(
    page: _Page, title: str | None, keys: tuple[str, ...], evidence: str | None
) -> tuple[FoundDate, str, str] | None:
    """(date, evidence, raw) from loosely named meta keys (dc.date, date ...), unless the page
    shows another day right under the headline: those keys often carry the creation time."""
    found = _meta_date(page, keys)
    if found is None:
        return None
    near = _headline_date(page, title)
    if near is not None and near.value.date() != found[0].value.astimezone(page.zone).date():
        return near, "headline", near.raw
    return found[0], evidence or f"meta:{found[1]}", found[2]


def _dates(page: _Page, art: Article) -> None:
    md = page.md
    if found := _profile_date(page):
        _set_date(art, found, "profile")
    elif gov := _meta_date(page, mdv.GOV_DATE):
        _set_date(art, gov[0], _META_EVIDENCE.get(gov[1], f"meta:{gov[1]}"), gov[2])
    elif (
        (jd := md.jsonld_value("datePublished", "dateCreated"))
        and isinstance(jd, str)
        and (found := parse_date(jd, page.zone))
    ):
        _set_date(art, found, "jsonld", jd)
    elif og := _meta_date(page, mdv.OG_DATE):
        _set_date(art, og[0], "opengraph", og[2])
    elif dc := _checked_meta(page, art.title, mdv.DC_DATE, "dublincore"):
        _set_date(art, *dc)
    elif other := _checked_meta(page, art.title, mdv.OTHER_DATE, None):
        _set_date(art, *other)
    elif labelled := label_date(page.lines, page.zone):
        _set_date(art, labelled[0], "label")
    elif guessed := _heuristics(page, art.title):
        _set_date(art, guessed[0], guessed[1])
    elif (page.profile is None or page.profile.url_date) and (found := url_date(art.url)):
        found = FoundDate(found.value.replace(tzinfo=page.zone), found.raw, False, 0)
        _set_date(art, found, "url")
    else:
        art.warnings.append("published: no date in profile, meta, labels, page or URL")
    art.updated = _modified(page)


# ---------------------------------------------------------------- source, authors, channel


def _source(page: _Page, art: Article) -> None:
    profile = page.profile
    if profile and (profile.source or profile.source_patterns):
        texts = [t for css in profile.source for el in select(page.tree, css)
                 if (t := clean_space(" ".join(text_lines(el))))]  # fmt: skip
        if not profile.source:
            texts = page.lines
        for text in texts:
            value = (
                apply_patterns(profile.source_patterns, text, "source")
                if (profile.source_patterns)
                else text
            )
            if value is not None:
                if value:
                    art.source = value
                    return
                break  # shown empty: fall through to meta, which may still name it
    gov = page.md.present(mdv.GOV_SOURCE)
    if gov and gov[1]:
        art.source = clean_space(gov[1])
        return
    labelled = label_source(page.lines)
    if labelled is not None:
        art.source = labelled[0] or None
        if not labelled[0]:
            art.warnings.append(f"source: label {labelled[1]!r} is empty")
        return
    if gov is not None:
        art.warnings.append("source: ContentSource meta is empty")
        return
    art.warnings.append("source: no source label or meta")


def _authors(page: _Page, art: Article) -> None:
    names: list[str] = []
    if page.profile:
        for css in page.profile.authors:
            names += [clean_space(el.text_content()) for el in select(page.tree, css)]
    if not names and (gov := page.md.first(mdv.GOV_AUTHOR)):
        names = _AUTHOR_SPLIT.split(gov[1])
    if not names:
        names = jsonld_names(page.md.jsonld_value("author", "creator"))
    if not names and (other := page.md.first(mdv.AUTHOR)):
        names = _AUTHOR_SPLIT.split(other[1])
    seen: list[str] = []
    for name in names:
        name = clean_space(name)
        if name and not name.startswith("http") and len(name) <= 80 and name not in seen:
            seen.append(name)
    art.authors = seen


def _breadcrumb_leaf(page: _Page) -> str | None:
    selectors = list(page.profile.channel) if page.profile else []
    for css in selectors:
        els = select(page.tree, css)
        if els:
            text = clean_space(els[-1].text_content())
            if text:
                return _BREADCRUMB_SPLIT.split(text)[-1] or None
    for el in page.tree.iter("div", "nav", "p", "span", "ol", "ul"):
        if class_words(el) & _BREADCRUMB_SET:
            links = [clean_space(a.text_content()) for a in el.iter("a")]
            links = [x for x in links if x]
            if links:
                return links[-1]
    return None


def _channel(page: _Page, art: Article) -> None:
    if page.profile and page.profile.channel and (leaf := _breadcrumb_leaf(page)):
        art.channel = leaf
    elif gov := page.md.first(mdv.GOV_CHANNEL):
        art.channel = clean_space(gov[1])
    elif section := page.md.first(("article:section",)):
        art.channel = clean_space(section[1])
    else:
        art.channel = _breadcrumb_leaf(page)


# ---------------------------------------------------------------- lang, canonical, body


def _detect_lang(text: str) -> str | None:
    """Script-based guess: kana -> ja, hangul -> ko, han -> zh; Latin by stop words."""
    sample = text[:3000]
    if not sample:
        return None
    kana = len(re.findall(r"[\u3040-\u30ff]", sample))
    hangul = len(re.findall(r"[\uac00-\ud7af]", sample))
    han = len(re.findall(r"[\u4e00-\u9fff]", sample))
    if kana > 10:
        return "ja"
    if hangul > 10:
        return "ko"
    if han > 20:
        return "zh"
    words = re.findall(r"[a-zäöüß]+", sample.lower())
    scores = {
        "en": sum(w in {"the", "and", "of", "to", "is", "in", "that"} for w in words),
        "de": sum(w in {"der", "die", "und", "das", "ist", "nicht", "mit"} for w in words),
        "fr": sum(w in {"le", "la", "les", "et", "des", "est", "une"} for w in words),
    }
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 3 else None


def _lang(page: _Page, art: Article) -> None:
    if page.profile and page.profile.lang:
        art.lang = page.profile.lang
        return
    for raw in (page.md.html_lang, (page.md.first(mdv.LANG) or ("", ""))[1]):
        tag = (raw or "").replace("_", "-").split("-")[0].strip().lower()
        if _LANG_TAG.match(tag):
            art.lang = tag
            return
    art.lang = _detect_lang(art.body or " ".join(page.lines[:50]))
    if art.lang is None:
        art.warnings.append("lang: not declared and not recognisable")


def _canonical(page: _Page, art: Article) -> None:
    own = _safe_urlsplit(art.url)
    candidates = [page.md.canonical]
    if gov := page.md.first(mdv.GOV_URL):
        candidates.append(gov[1])
    if og := page.md.first(("og:url",)):
        candidates.append(og[1])
    for candidate in candidates:
        if not candidate:
            continue
        try:
            absolute = urljoin(art.url, candidate.strip())
        except ValueError:
            continue
        if absolute.startswith(("http://", "https://")) and _safe_urlsplit(absolute) == own:
            art.canonical_url = absolute
            return


def _body(page: _Page, art: Article) -> None:
    profile = page.profile
    body: Body | None = None
    remove = list(profile.remove) if profile else []
    drop = list(profile.drop_lines) if profile else []
    if profile:
        for css in profile.body:
            els = select(page.tree, css)
            if els:
                body = body_from_element(
                    els[0], art.url, remove=remove, drop_lines=drop, method="profile"
                )
                if body.text:
                    break
        if body is not None and not body.text:
            # The profile recognised its template but the content element is empty (a
            # withdrawn document leaves such a shell): the rest of the page is navigation,
            # so no generic fallback may turn it into a "body".
            art.warnings.append("body: the profile's content element is empty")
            return
    if body is None or not body.text:
        container = gov_container(page.tree)
        if container is not None:
            body = body_from_element(
                container, art.url, remove=remove, drop_lines=drop, method="container"
            )
    if body is None or not body.text:
        body = trafilatura_body(page.tree, art.url)
    if body is None or not body.text:
        art.warnings.append("body: no main content found")
        return
    art.body, art.body_html, art.images = body.text, body.html, body.images
    if profile is None and not art.images and (og := page.md.first(("og:image",))):
        with contextlib.suppress(ValueError):
            art.images = [Image(src=urljoin(art.url, og[1]))]


def run(
    html: bytes | str, url: str, profile: SiteProfile | None, content_type: str | None
) -> Article:
    art = Article(url=url)
    text, _encoding = decode_html(html, content_type)
    tree = parse_html(text)
    if tree is None:
        art.warnings.append("page: empty or not HTML")
        return art
    page = _Page(tree, url, profile)
    _title(page, art)
    _dates(page, art)
    _source(page, art)
    _authors(page, art)
    _channel(page, art)
    _canonical(page, art)
    _body(page, art)
    _lang(page, art)
    return art
