"""Content fingerprints: an exact hash that decides "changed or not", and a near-duplicate
signature that finds the same article re-posted with small differences.

Both are computed from the *normalized* body: Unicode (NFKC), whitespace and case folded, and
boilerplate lines (print/close links, font-size widgets, share bars, info and copyright
lines) dropped, so a template tweak is neither an edit nor a different article.

The signature is a one-permutation MinHash (64 bins) over shingles of three tokens, where a
token is a word in spaced languages and a single character in CJK text (which has no
spaces). Its banded LSH keys (16 bands of 4 bins) let the store find candidates with indexed
look-ups: two texts with Jaccard similarity s share a band with probability 1-(1-s^4)^16
(≈0.99 at s=0.7, ≈0.002 at s=0.2). Candidates are then verified by the estimated similarity.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Sequence

import numpy as np

HASH_VERSION = "v2"  # v2: boilerplate lines dropped before hashing

# Whole lines that templates add around the text; order does not matter, any match drops the
# line. Anchored and short-bounded, so a sentence that merely starts with "Source" survives.
BOILERPLATE_LINES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.I)
    for p in (
        r"(print|close|close window|back to top|top|print this page|\[print\]|\[close\])",
        r"【?\s*(fonts?|font ?size|字体|字号)\s*[:：].{0,30}",
        r"(share( to| this)?|分享到|扫一扫.{0,10})\s*[:：]?.{0,40}",
        r"(打印|关闭|关闭窗口|返回顶部|【打印】|【关闭】|打印本页)",
        r"((date|updated|release time|source|editor|发布时间|来源|日期|责任编辑|编辑)"
        r"\s*[:：].{0,80}){1,3}",
        r"(copyright|©|版权所有).{0,200}",
        r"(related( news| links)?|相关(新闻|链接))\s*[:：]?",
    )
)

SIGNATURE_BINS = 64
BANDS = 16
ROWS = SIGNATURE_BINS // BANDS
SHINGLE = 3
_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"  # one CJK char
    r"|[^\W_]+",  # or one word of letters/digits
)
_EMPTY = 0xFFFFFFFF
_FILL_STEP = 0x9E3779B1  # odd constant: densified bins differ from real ones by position
_GOLDEN = 0x9E3779B97F4A7C15
_M64 = (1 << 64) - 1


_BOILERPLATE = re.compile("|".join(f"(?:{p.pattern})" for p in BOILERPLATE_LINES), re.I)


def is_boilerplate(line: str) -> bool:
    return _BOILERPLATE.fullmatch(line) is not None  # one pass for all patterns


def normalize_text(text: str) -> str:
    """NFKC, whitespace collapsed, case folded: differences no reader would call an edit."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()  # = re \s+


def normalize_body(body: str) -> str:
    """The body as fingerprints see it: normalized lines, boilerplate lines removed."""
    lines = (normalize_text(line) for line in body.splitlines())
    return "\n".join(line for line in lines if line and not is_boilerplate(line))


def content_hash(title: str, body: str) -> str:
    """Versioned hash of title and body; a new version means a new normalization."""
    return _hash(title, normalize_body(body))


def _hash(title: str, normalized_body: str) -> str:
    text = f"{normalize_text(title)}\n{normalized_body}"
    return f"{HASH_VERSION}:{hashlib.sha256(text.encode()).hexdigest()}"


def fingerprints(title: str, body: str) -> tuple[str, tuple[int, ...]]:
    """``content_hash`` and ``signature`` at once, normalizing the body only once."""
    normalized = normalize_body(body)
    return _hash(title, normalized), _signature(normalized)


def shingles(text: str) -> set[str]:
    """Runs of three tokens (words, or CJK characters); a shorter text is one shingle."""
    return _shingles(normalize_body(text))


def _shingles(normalized: str) -> set[str]:
    tokens = _TOKEN.findall(normalized)
    if len(tokens) <= SHINGLE:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}


def signature(body: str) -> tuple[int, ...]:
    """One-permutation MinHash of the body's shingles: 64 bins of 32-bit minima.

    One stable 64-bit hash per shingle (not Python's salted ``hash``: signatures are stored);
    its low bits pick the bin, its high bits compete for the bin's minimum. Empty bins are
    filled from the next non-empty bin (rotation densification), so short texts still compare.
    """
    return _signature(normalize_body(body))


class _TokenHashes(dict[str, int]):
    """Token → stable 64-bit hash, computed once per token (tokens repeat, a lot). Bounded:
    emptied when it grows past ``_TOKEN_CACHE`` entries, so a long crawl holds no more."""

    def __missing__(self, token: str) -> int:
        if len(self) >= _TOKEN_CACHE:
            self.clear()
        value = self[token] = int.from_bytes(
            hashlib.blake2b(token.encode(), digest_size=8).digest(), "little"
        )
        return value


_TOKEN_CACHE = 1 << 17
_token_hashes = _TokenHashes()


def _shingle_hashes(normalized: str) -> np.ndarray:
    """A stable 64-bit hash per shingle, folded from the token hashes: (a·G + b)·G + c mod
    2^64. Token hashes are uniform, so the fold is too, in its low bits (the bin) and high
    bits. Vectorized: numpy's uint64 arithmetic wraps mod 2^64, as the fold wants."""
    hashes = np.fromiter(
        map(_token_hashes.__getitem__, _TOKEN.findall(normalized)), dtype=np.uint64
    )
    if len(hashes) < SHINGLE:
        x = 0
        for h in hashes.tolist():
            x = (x * _GOLDEN + h) & _M64
        return np.array([x] if len(hashes) else [], dtype=np.uint64)
    g = np.array(_GOLDEN, dtype=np.uint64)
    return (hashes[:-2] * g + hashes[1:-1]) * g + hashes[2:]


def _signature(normalized: str) -> tuple[int, ...]:
    hashes = _shingle_hashes(normalized)
    minima = np.full(SIGNATURE_BINS, _EMPTY, dtype=np.uint64)
    np.minimum.at(minima, (hashes % SIGNATURE_BINS).astype(np.intp), hashes >> np.uint64(32))
    bins = minima.tolist()
    if all(v == _EMPTY for v in bins):
        return tuple(bins)
    filled = list(bins)
    for i in range(SIGNATURE_BINS):
        step = 0
        while bins[(i + step) % SIGNATURE_BINS] == _EMPTY:
            step += 1
        if step:
            filled[i] = (bins[(i + step) % SIGNATURE_BINS] + step * _FILL_STEP) & 0xFFFFFFFF
    return tuple(filled)


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / SIGNATURE_BINS


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of two titles' character trigrams: a fixed typo barely moves it."""

    def grams(title: str) -> set[str]:
        text = " ".join(_TOKEN.findall(normalize_text(title)))
        return {text[i : i + 3] for i in range(max(1, len(text) - 2))}

    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb)


def band_keys(sig: Sequence[int]) -> list[int]:
    """One signed 64-bit key per band (SQLite INTEGER), the band's number mixed in."""
    keys = []
    for band in range(BANDS):
        rows = sig[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(struct.pack(f"<B{ROWS}I", band, *rows), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def pack_signature(sig: Sequence[int]) -> bytes:
    return struct.pack(f"<{SIGNATURE_BINS}I", *sig)


def unpack_signature(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{SIGNATURE_BINS}I", blob)
