"""Content fingerprints: a stable, versioned hash that decides "same text or not"."""

from __future__ import annotations

import hashlib
import re
import unicodedata

HASH_VERSION = "v1"
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, whitespace collapsed, case folded: differences no reader would call an edit."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def content_hash(title: str, body: str) -> str:
    """Versioned hash of title and body; a new version means a new normalization."""
    digest = hashlib.sha256(f"{normalize_text(title)}\n{normalize_text(body)}".encode())
    return f"{HASH_VERSION}:{digest.hexdigest()}"
