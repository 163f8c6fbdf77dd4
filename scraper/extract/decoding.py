"""Stage 1: bytes to text.

A declared charset is a hint, not a fact: most saved pages that declare gb2312/gbk are stored
as UTF-8, so a strict UTF-8 decode is tried before any declared legacy charset. Only when the
bytes are not valid UTF-8 do the HTTP and meta declarations (then charset detection) decide.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
# Declared names whose real-world use is a superset: decode with the superset.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
}


def _normalise(name: str | None) -> str | None:
    """A codec name Python knows, or None."""
    if not name:
        return None
    name = name.strip().lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charsets(data: bytes, content_type: str | None) -> list[str]:
    """HTTP charset first, then the first meta charset in the head, as codec names."""
    found: list[str] = []
    if content_type:
        m = _HTTP_CHARSET.search(content_type)
        if m and (name := _normalise(m.group(1))):
            found.append(name)
    m2 = _META_CHARSET.search(data[:4096])
    if m2 and (name := _normalise(m2.group(1).decode("ascii", "ignore"))):
        found.append(name)
    return found


def decode_html(data: bytes | str, content_type: str | None = None) -> tuple[str, str]:
    """Text and the codec used. Never raises: the last resort is UTF-8 with replacement."""
    if isinstance(data, str):
        return data.lstrip("\ufeff"), "str"
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, "replace"), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # A page cut mid-character is still UTF-8: tolerate a bad tail only.
        if exc.start >= len(data) - 3 and exc.start > 0:
            return data.decode("utf-8", "replace"), "utf-8"
    for name in declared_charsets(data, content_type):
        if name in {"utf-8", "utf-16", "utf-32"}:
            continue  # already failed, or a lie (a byte page cannot be UTF-16 without a BOM)
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, "replace"), best.encoding
    return data.decode("utf-8", "replace"), "utf-8"
