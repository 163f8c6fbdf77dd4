"""Full-text search over stored articles: how text is indexed and how a user query is read.

The index is an SQLite FTS5 table over title and body with the ``unicode61`` tokenizer. On
its own, ``unicode61`` makes a whole run of Chinese (or Japanese) characters one token,
because CJK text has no spaces: ``德国总理访问长春`` would be one "word" that only the whole
sentence matches. The ``trigram`` tokenizer fixes that, but matches nothing for terms shorter
than three characters, and most Chinese words have two (德国, 外交, 日本); it also matches
English inside words (``art`` in ``party``). So the text is indexed with every CJK character
as a token of its own (``index_text`` spaces them out) and a CJK term in a query becomes a
phrase of its characters: ``德国`` matches exactly the text holding 德 directly followed by
国, however short, while Latin-script words keep word semantics (``German`` does not match
``Germany``; case and diacritics do not matter).

A query is a user's string: words, ``"quoted phrases"``, ``OR``, ``AND``, ``NOT``,
parentheses, a ``prefix*`` and ``title:``/``body:`` filters; words next to each other must
all occur. ``fts_query`` turns it into FTS5 syntax (every term quoted, so no user text is
read as an FTS5 operator) and ``check_query`` tries it on an empty in-memory index, so a bad
query is a ``QueryError`` with a message, at config load or in a request, never a crash.
"""

from __future__ import annotations

import re
import sqlite3

import numpy as np

INDEX_TABLE = "article_text"
TOKENIZER = "unicode61"
MAX_QUERY_CHARS = 500

# Han (with extensions and compatibility ideographs), kana, Hangul, CJK punctuation.
CJK_RANGES = (
    (0x3000, 0x303F), (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F),
)  # fmt: skip
_TOKEN = re.compile(r'\s*(?:(?P<phrase>"[^"]*"?)|(?P<paren>[()])|(?P<word>[^\s()"]+))')
_OPERATORS = {"OR", "AND", "NOT"}
_COLUMNS = ("title", "body")
_WORDLIKE = re.compile(r"\w")
_CHUNK = 1 << 20  # characters spaced at a time: memory stays a few times this, whatever the text
_SPACE = ord(" ")
_TABLE_END = 0x30000  # code point → is CJK, for all below; none above is
_IS_CJK = np.zeros(_TABLE_END, dtype=bool)
for _low, _high in CJK_RANGES:
    _IS_CJK[_low : _high + 1] = True


class QueryError(ValueError):
    """A full-text query that cannot be run; the message says why, in one line."""


def index_text(text: str, chunk: int = _CHUNK) -> str:
    """``text`` as it is indexed: every CJK character separated, so each is one token.

    Each run of CJK characters becomes " " + the characters joined by " " + " ". Done with
    numpy over the code points, a chunk at a time: twice as fast as a regex
    substitution on a long page, whose scan over a class with astral ranges is slow.
    """
    parts, after_cjk = [], False
    for start in range(0, len(text), chunk):
        part, after_cjk = _spaced(text[start : start + chunk], after_cjk)
        parts.append(part)
    return "".join(parts)


def _spaced(text: str, after_cjk: bool) -> tuple[str, bool]:
    """``text`` spaced out, and whether it ends in a CJK character. ``after_cjk``: the
    text before it did, so a run that goes on here does not open with a space again."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    cjk = np.take(_IS_CJK, np.minimum(points, _TABLE_END - 1))
    if not cjk.any():
        return text, False
    opens = cjk.copy()  # the first character of a run gets a space before it
    opens[1:] &= ~cjk[:-1]
    opens[0] &= not after_cjk
    ends = np.cumsum(1 + cjk.astype(np.int64) + opens)  # each character: [" "] c [" "]
    spaced = np.full(int(ends[-1]), _SPACE, dtype="<u4")
    spaced[ends - 1 - cjk] = points
    return spaced.tobytes().decode("utf-32-le", "surrogatepass"), bool(cjk[-1])


def _term(text: str, query: str) -> str:
    """One search term as a quoted FTS5 string (a phrase when it holds several tokens)."""
    if not _WORDLIKE.search(text):
        raise QueryError(f"bad full-text query {query!r}: {text!r} has no letters or digits")
    return '"' + index_text(text).replace('"', '""').strip() + '"'


def fts_query(query: str) -> str:
    """The FTS5 MATCH expression for a user's query; QueryError when it is empty or broken."""
    query = query.strip()
    if not query:
        raise QueryError("empty full-text query")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"full-text query longer than {MAX_QUERY_CHARS} characters")
    parts: list[str] = []
    for match in _TOKEN.finditer(query):
        if match["phrase"] is not None:
            phrase = match["phrase"]
            if len(phrase) < 2 or not phrase.endswith('"'):
                raise QueryError(f"bad full-text query {query!r}: unclosed quote")
            parts.append(_term(phrase[1:-1], query))
        elif match["paren"] is not None:
            parts.append(match["paren"])
        elif (word := match["word"]) is not None:
            if word in _OPERATORS:
                parts.append(word)
                continue
            column, _, rest = word.partition(":")
            prefix = ""
            if column.lower() in _COLUMNS and rest:
                prefix, word = f"{column.lower()} : ", rest
            star = "*" if word.endswith("*") and len(word) > 1 else ""
            parts.append(prefix + _term(word.rstrip("*") if star else word, query) + star)
    return " ".join(parts)


def check_query(query: str) -> str:
    """``query`` unchanged when it can run (tried on an empty index); QueryError otherwise."""
    expression = fts_query(query)
    db = sqlite3.connect(":memory:")
    try:
        create_index(db)
        db.execute(f"SELECT rowid FROM {INDEX_TABLE} WHERE {INDEX_TABLE} MATCH ?", (expression,))
    except sqlite3.OperationalError as exc:
        raise QueryError(f"bad full-text query {query!r}: {exc}") from None
    finally:
        db.close()
    return query


def create_index(db: sqlite3.Connection) -> None:
    """The FTS5 table; its rowid is the article's id.

    ``automerge`` 16 (default 4) lets more index segments pile up before FTS5 merges them
    while articles are added one by one: a quarter less time per insert in a crawl.
    """
    db.execute(f"CREATE VIRTUAL TABLE {INDEX_TABLE} USING fts5(title, body, tokenize={TOKENIZER})")
    db.execute(f"INSERT INTO {INDEX_TABLE} ({INDEX_TABLE}, rank) VALUES ('automerge', 16)")


def compact_index(db: sqlite3.Connection) -> None:
    """Merge the index into one segment, after many articles were indexed in one transaction.

    FTS5 keeps such a batch as one large segment on the lowest level, and its automerge then
    rewrites that segment together with every few one-article segments added later: saves
    grow slower with the store (5 ms instead of 1 ms an article at 20,000 bulk-indexed).
    Merged, the large segment moves out of their way.
    """
    db.execute(f"INSERT INTO {INDEX_TABLE} ({INDEX_TABLE}) VALUES ('optimize')")


def index_article(db: sqlite3.Connection, article_id: int, title: str, body: str) -> None:
    """Add or replace one article's entry, title and body already through ``index_text``
    (FTS5 has no upsert: delete, then insert)."""
    db.execute(f"DELETE FROM {INDEX_TABLE} WHERE rowid = ?", (article_id,))
    db.execute(
        f"INSERT INTO {INDEX_TABLE} (rowid, title, body) VALUES (?, ?, ?)",
        (article_id, title, body),
    )
