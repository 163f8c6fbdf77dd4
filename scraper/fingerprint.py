"""Content fingerprints: an exact hash that decides "changed or not", and a near-duplicate
signature that finds the same article re-posted with small differences.

Both are computed from the *normalized* body: Unicode (NFKC), whitespace and case folded, and
boilerplate lines (print/close links, font-size widgets, share bars, info and copyright
lines) dropped, so a template tweak is neither an edit nor a different article.

The signature is a one-permutation MinHash (64 bins) over shingles of three tokens, where a
token is a single CJK character (CJK text has no spaces) or a run of other letters and
digits. Tokens are found and hashed with numpy over the text's code points, six times faster
than a regex and a hash per token on a long page. Its banded LSH keys (16 bands of 4 bins)
let the store find candidates with indexed look-ups: two texts with Jaccard similarity s
share a band with probability 1-(1-s^4)^16 (≈0.99 at s=0.7, ≈0.002 at s=0.2). Candidates
are then verified by the estimated similarity.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Sequence
from functools import cache

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
SIGNATURE_CHARS = 200_000  # the signature reads this much of a body at most: bounded memory
_CJK_RANGES = (
    (0x3040, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xAC00, 0xD7AF),
)
_CJK = "".join(f"{chr(low)}-{chr(high)}" for low, high in _CJK_RANGES)  # kana, hanzi, hangul
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")  # one CJK character, or a run of other alnums
_EMPTY = 0xFFFFFFFF
_FILL_STEP = 0x9E3779B1  # odd constant: densified bins differ from real ones by position
_GOLDEN = 0x9E3779B97F4A7C15
_M64 = (1 << 64) - 1
_BASE = 0x100000001B3  # odd, so invertible mod 2^64: token hashes come from prefix sums


_BOILERPLATE = re.compile("|".join(f"(?:{p.pattern})" for p in BOILERPLATE_LINES), re.I)


def is_boilerplate(line: str) -> bool:
    return _BOILERPLATE.fullmatch(line) is not None  # one pass for all patterns


def normalize_text(text: str) -> str:
    """NFKC, whitespace collapsed, case folded: differences no reader would call an edit."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()  # = re \s+


def normalize_body(body: str) -> str:
    """The body as fingerprints see it: normalized lines, boilerplate lines removed.

    ``normalize_text`` line by line, with NFKC and case folding done once for the whole body:
    neither maps across a line break nor makes one.
    """
    folded = unicodedata.normalize("NFKC", body).casefold()
    lines = (" ".join(line.split()) for line in folded.splitlines())
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
    tokens = _TOKEN.findall(normalized[:SIGNATURE_CHARS])
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


@cache
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Code point → kind (0 other, 1 letter or digit, 2 CJK), and the powers of ``_BASE``
    and of its inverse up to ``SIGNATURE_CHARS``. Built once per process (a fifth of a
    second: ``str.isalnum`` over every code point, which is what ``\\w`` minus ``_`` is)."""
    kinds = np.fromiter((chr(c).isalnum() for c in range(0x110000)), np.uint8, 0x110000)
    for low, high in _CJK_RANGES:
        kinds[low : high + 1] = 2
    powers = np.full(SIGNATURE_CHARS, _BASE, dtype=np.uint64)
    powers[0] = 1
    inverses = np.full(SIGNATURE_CHARS, pow(_BASE, -1, 1 << 64), dtype=np.uint64)
    inverses[0] = 1
    return kinds, np.cumprod(powers), np.cumprod(inverses)  # uint64 products wrap mod 2^64


def _mix(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: every input bit moves every output bit."""
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def token_hashes(text: str) -> np.ndarray:
    """A stable 64-bit hash per token of ``text`` (``_TOKEN.findall`` order), at most
    ``SIGNATURE_CHARS`` read: ``_mix`` of the polynomial hash of the token's code points,
    Σ c_k·B^(n-1-k) mod 2^64. Vectorized: with prefix sums S of c_k·B^-k, a token [s, e)
    hashes to (S[e] - S[s])·B^(e-1), all in numpy's wrapping uint64 arithmetic."""
    kinds_of, powers, inverses = _tables()
    points = np.frombuffer(text[:SIGNATURE_CHARS].encode("utf-32-le"), dtype="<u4")
    n = len(points)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    kinds = kinds_of[points]
    word = kinds == 1
    before = np.zeros(n, dtype=bool)
    before[1:] = word[:-1]
    after = np.zeros(n, dtype=bool)
    after[:-1] = word[1:]
    cjk = kinds == 2
    starts = np.flatnonzero(cjk | (word & ~before))
    ends = np.flatnonzero(cjk | (word & ~after)) + 1
    sums = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(points.astype(np.uint64) * inverses[:n], out=sums[1:])
    return _mix((sums[ends] - sums[starts]) * powers[ends - 1])


def _shingle_hashes(normalized: str) -> np.ndarray:
    """A stable 64-bit hash per shingle, folded from the token hashes: (a·G + b)·G + c mod
    2^64. Token hashes are uniform, so the fold is too, in its low bits (the bin) and high
    bits."""
    hashes = token_hashes(normalized)
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
