"""Safe slugs for channel feeds: a channel name becomes a file name inside the feeds folder.

A channel name is data from a crawled page (any script, any punctuation, possibly hostile:
``../../etc``). Only ``[a-z0-9-]`` survive, so a slug can never leave the feeds folder; a
name with no such characters (``ニュース``) gets a stable hash instead.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")  # one path segment of a channel feed
_RUNS = re.compile(r"[^a-z0-9]+")
MAX_WORDS_CHARS = 60


def _hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:8]


def channel_slug(name: str) -> str:
    """``"Changchun News"`` → ``changchun-news``; no ASCII letters → ``channel-<hash>``."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = _RUNS.sub("-", folded).strip("-")[:MAX_WORDS_CHARS].strip("-")
    return words or f"channel-{_hash(name)}"


def channel_slugs(names: Iterable[str]) -> dict[str, str]:
    """A slug per channel name of one source, unique among them.

    Names that fold to the same slug (``News`` and ``news``) are told apart by a hash suffix
    on all but the first in sorted order, so the usual case keeps a readable URL.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(set(names)):
        slug = channel_slug(name)
        if slug in taken:
            slug = f"{slug[:MAX_WORDS_CHARS]}-{_hash(name)}"
        out[name] = slug
        taken.add(slug)
    return out
