"""URL identity: which spellings of a URL name the same page.

``url_key`` is what the store indexes: the canonical URL without its scheme, so the http and
https answers of one site, default ports, ``index.html`` and tracking parameters all collapse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

TRACKING_PARAMS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "utm_id",
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "spm",
    "from",
    "share_token",
    "isappinstalled",  # added by WeChat when an article is shared
)
_INDEX_PAGE = re.compile(r"/(?:index|default)\.(?:html?|shtml|php|jsp|aspx?)$", re.I)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=4096)  # a page's URL is canonicalized several times on its way to the store
def canonical_url(url: str) -> str:
    """The one spelling of ``url`` that govfeed stores and links to.

    A URL without a host, or whose host or port cannot be parsed (``http://[x/``,
    ``http://a:99999/``), keeps its own spelling minus the fragment: a link on a hostile page
    must not stop a crawl.
    """
    url = url.strip()
    try:
        return _canonical(url)
    except ValueError:
        return url.split("#", 1)[0].strip()  # "x\n#y" is "x": its own canonical form too


def _canonical(url: str) -> str:
    if not urlsplit(url).hostname:
        raise ValueError(f"no host in {url!r}")
    url = url_query_cleaner(url, TRACKING_PARAMS, remove=True, keep_fragments=False)
    url = canonicalize_url(url, keep_fragments=False)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    netloc = host if parts.port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{parts.port}"
    path = _INDEX_PAGE.sub("/", parts.path) or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


@lru_cache(maxsize=4096)
def url_key(url: str) -> str:
    """Identity of a page for dedupe: canonical URL minus scheme and trailing slash."""
    canonical = canonical_url(url)
    try:
        parts = urlsplit(canonical)
    except ValueError:  # unparseable: its own spelling, scheme dropped, is its identity
        return "//" + canonical.split("://", 1)[-1]
    path = parts.path.rstrip("/") or "/"
    return f"//{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are on one host (ignoring scheme, case and a leading ``www.``)."""

    def host(u: str) -> str:
        try:
            return (urlsplit(u).hostname or "").lower().removeprefix("www.")
        except ValueError:
            return ""

    return bool(host(url)) and host(url) == host(other)


def identity_urls(url: str, canonical: str | None, aliases: Iterable[str] = ()) -> list[str]:
    """The URLs a page is known under: its own, plus its declared canonical and the URLs that
    redirected to it, when on the same site, each once.

    A ``rel=canonical`` or government ``Url`` meta pointing to another host is a syndication
    hint, not identity, so it is ignored; so is a redirect from another host.
    """
    urls, keys = [url], {url_key(url)}
    for other in [canonical or "", *aliases]:
        if other and same_site(url, other) and (key := url_key(other)) not in keys:
            urls.append(other)
            keys.add(key)
    return urls
