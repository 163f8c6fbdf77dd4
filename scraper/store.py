"""The article store: govfeed's only memory between runs.

Every article is kept once. A page is matched to a stored article by its URL key first (so a
re-crawl or a URL variant updates it), then by content hash (so the copy of an article in a
second channel becomes one more URL of the same article). Each save is one transaction, so a
crawl killed at any point leaves a consistent store, and the next run resumes from it.

Schema changes are numbered migrations tracked in ``PRAGMA user_version``; a database newer
than this code is refused rather than misread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from scraper import fulltext
from scraper.extract.article import Article, Image
from scraper.fingerprint import (
    band_keys,
    content_hash,
    fingerprints,
    pack_signature,
    signature,
    similarity,
    title_similarity,
    unpack_signature,
)
from scraper.urls import canonical_url, identity_urls, same_site, url_key


class StoreError(RuntimeError):
    """The store cannot be used (unreadable, newer than this code, disk full, read-only)."""


class Outcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"  # known article whose title or body changed
    DUPLICATE = "duplicate"  # same article under one more URL
    UNCHANGED = "unchanged"  # known URL, same content


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One crawl of one source as recorded: its outcome type and its ``govfeed/`` stats."""

    id: int
    source: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    stats: dict[str, int]


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """A change of a source's health state (``previous`` is None for the first assessment)."""

    id: int
    source: str
    at: datetime
    state: str
    previous: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class SourceCounts:
    total: int
    recent: int  # first seen since the given time
    newest: datetime | None  # newest publication date (else first sighting)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    guid: str
    source: str
    url: str
    urls: tuple[str, ...]
    title: str
    published: datetime | None
    updated: datetime | None
    source_label: str | None
    lang: str | None
    channel: str | None
    authors: tuple[str, ...]
    images: tuple[Image, ...]
    body: str
    body_html: str
    content_hash: str
    first_seen: datetime
    last_seen: datetime


# Each migration is the SQL that takes the schema from version N to N+1.
_V1 = """
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            guid TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            title TEXT NOT NULL,
            published TEXT,
            updated TEXT,
            source_label TEXT,
            lang TEXT,
            channel TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            images TEXT NOT NULL DEFAULT '[]',
            body TEXT NOT NULL,
            body_html TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            sort_key TEXT NOT NULL
        );
        CREATE INDEX articles_by_source ON articles (source, sort_key DESC, guid);
        CREATE INDEX articles_by_time ON articles (sort_key DESC, guid);
        CREATE INDEX articles_by_hash ON articles (content_hash);
        CREATE TABLE article_urls (
            url_key TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles (id),
            first_seen TEXT NOT NULL
        );
        CREATE INDEX article_urls_by_article ON article_urls (article_id);
        CREATE TABLE article_versions (
            article_id INTEGER NOT NULL REFERENCES articles (id),
            seen_at TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            content_hash TEXT NOT NULL
        );
        CREATE TABLE dropped_pages (
            url_key TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            source TEXT NOT NULL,
            reason TEXT NOT NULL,
            seen_at TEXT NOT NULL
        );
        CREATE TABLE source_state (
            source TEXT PRIMARY KEY,
            backfilled_at TEXT
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            outcome TEXT NOT NULL,
            stats TEXT NOT NULL
        );
        CREATE INDEX runs_by_source ON runs (source, id);
        """


def _v2(db: sqlite3.Connection) -> None:
    """Near-duplicate index, conditional GET validators and the revisit schedule.

    Content hashes move to v2 (boilerplate lines dropped) and every stored article gets its
    signature and band keys, so an upgraded store dedupes exactly like a fresh one.
    """
    for statement in (
        "ALTER TABLE articles ADD COLUMN signature BLOB",
        "ALTER TABLE articles ADD COLUMN next_check TEXT",
        "CREATE INDEX articles_due ON articles (source, next_check)",
        "CREATE TABLE article_bands (band_key INTEGER NOT NULL, article_id INTEGER NOT NULL "
        "REFERENCES articles (id), PRIMARY KEY (band_key, article_id)) WITHOUT ROWID",
        "CREATE INDEX article_bands_by_article ON article_bands (article_id)",
        "CREATE TABLE list_pages (url_key TEXT PRIMARY KEY, url TEXT NOT NULL, "
        "source TEXT NOT NULL, etag TEXT, last_modified TEXT, fetched_at TEXT NOT NULL)",
    ):
        db.execute(statement)
    rows = db.execute("SELECT id, title, body, first_seen, last_seen FROM articles").fetchall()
    for row in rows:
        sig = signature(row["body"])
        first_seen = datetime.fromisoformat(row["first_seen"])
        last_seen = datetime.fromisoformat(row["last_seen"])
        db.execute(
            "UPDATE articles SET content_hash = ?, signature = ?, next_check = ? WHERE id = ?",
            (
                content_hash(row["title"], row["body"]),
                pack_signature(sig),
                _next_check(first_seen, last_seen),
                row["id"],
            ),
        )
        _index_bands(db, row["id"], lsh_keys(sig))


_V3_HEALTH = """
        CREATE TABLE health_events (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            at TEXT NOT NULL,
            state TEXT NOT NULL,
            previous TEXT,
            reason TEXT NOT NULL
        );
        CREATE INDEX health_events_by_source ON health_events (source, id);
        """  # each change of a source's health state (feeds/health.py), the health feed's entries


def _v4(db: sqlite3.Connection) -> None:
    """Full-text index over title and body (keyword watches, search), filled from the store."""
    fulltext.create_index(db)
    for row in db.execute("SELECT id, title, body FROM articles").fetchall():
        fulltext.index_article(
            db, row["id"], fulltext.index_text(row["title"]), fulltext.index_text(row["body"])
        )
    fulltext.compact_index(db)  # indexed in one go: merged, so later saves stay cheap


def _v5(db: sqlite3.Connection) -> None:
    """WebSub subscriptions: one row per verified (topic, callback), until its lease ends."""
    db.execute(
        "CREATE TABLE websub_subscriptions (topic TEXT NOT NULL, callback TEXT NOT NULL, "
        "secret TEXT, lease_seconds INTEGER NOT NULL, expires_at TEXT NOT NULL, "
        "verified_at TEXT NOT NULL, PRIMARY KEY (topic, callback))"
    )


def _v6(db: sqlite3.Connection) -> None:
    """Signatures from the vectorized tokenizer (a word touching a CJK character no longer
    swallows it): recomputed with their band keys, so old and new articles compare."""
    db.execute("DELETE FROM article_bands")
    for row in db.execute("SELECT id, body FROM articles").fetchall():
        sig = signature(row["body"])
        db.execute(
            "UPDATE articles SET signature = ? WHERE id = ?", (pack_signature(sig), row["id"])
        )
        _index_bands(db, row["id"], lsh_keys(sig))


Migration = str | Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = [_V1, _v2, _V3_HEALTH, _v4, _v5, _v6]
SCHEMA_VERSION = len(MIGRATIONS)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the store keeps only zone-aware times")
    return value.isoformat()


def _utc_key(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _health_event(row: sqlite3.Row) -> HealthEvent:
    return HealthEvent(
        id=row["id"],
        source=row["source"],
        at=datetime.fromisoformat(row["at"]),
        state=row["state"],
        previous=row["previous"],
        reason=row["reason"],
    )


# Verification of near-duplicate candidates (estimated Jaccard similarity of shingles).
# Text alone is not enough: a template page reused with a new title and the old text is a
# new article (and short bodies of picture news look alike), so the title must agree too.
SAME_TEXT = 0.8  # text this similar, with a similar title: the same article
SIMILAR_TITLE = 0.5  # (title trigram Jaccard: a retitled copy keeps most of its words)
SAME_TITLE_TEXT = 0.5  # text this similar with (almost) the same title: lightly edited
SAME_TITLE = 0.8  # (a typo fixed in the title keeps it above this)
MAX_CANDIDATES = 50  # a bound on one look-up, whatever the store's size
# Known articles are refetched this long after first seen, to catch corrections.
REVISIT_AFTER = (timedelta(days=1), timedelta(days=7), timedelta(days=30))


def _next_check(first_seen: datetime, checked_at: datetime) -> str | None:
    """The next revisit after ``checked_at`` on the decaying schedule; None when done."""
    for step in REVISIT_AFTER:
        if first_seen + step > checked_at:
            return _utc_key(first_seen + step)
    return None


def _blank(sig: tuple[int, ...]) -> bool:
    return len(set(sig)) == 1  # no shingles at all (a body of boilerplate only)


def lsh_keys(sig: tuple[int, ...]) -> tuple[int, ...]:
    """The signature's band keys; none for a blank one (no shingles: nothing to match)."""
    return () if _blank(sig) else tuple(band_keys(sig))


def _index_bands(db: sqlite3.Connection, article_id: int, keys: Sequence[int]) -> None:
    db.executemany(
        "INSERT OR IGNORE INTO article_bands (band_key, article_id) VALUES (?, ?)",
        [(key, article_id) for key in keys],
    )


def make_guid(source: str, url: str) -> str:
    """A tag URI fixed at first sighting: readers key entries on it, so it never changes."""
    digest = hashlib.sha1(url_key(url).encode()).hexdigest()[:20]
    return f"tag:govfeed,2026:{source}:{digest}"


class Derived(NamedTuple):
    """What the store computes from an article's text before writing it. Pure CPU work, so a
    crawl does it in its extraction workers (``scraper.extract_pool``), off the event loop."""

    content_hash: str
    signature: tuple[int, ...]
    bands: tuple[int, ...]  # its LSH band keys
    index_title: str  # title and body as the full-text index takes them
    index_body: str


def derive(article: Article) -> Derived:
    digest, sig = fingerprints(article.title or "", article.body)
    title, body = fulltext.index_text(article.title or ""), fulltext.index_text(article.body)
    return Derived(digest, sig, lsh_keys(sig), title, body)


class Store:
    """SQLite-backed article store. Open with ``Store(path)``; close or use as a context."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._batched = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA busy_timeout = 30000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA cache_size = -32000")  # 32 MB: index pages stay in memory
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    # -- lifecycle ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        if self._version() == SCHEMA_VERSION:
            return
        with self._transaction():  # re-read under the write lock: another process may migrate
            version = self._version()
            for number in range(version, SCHEMA_VERSION):
                migration = MIGRATIONS[number]
                if callable(migration):
                    migration(self._db)
                else:
                    for statement in migration.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number + 1}")

    def _version(self) -> int:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema v{version} is newer than this govfeed "
                f"(v{SCHEMA_VERSION}); upgrade govfeed"
            )
        return version

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Writes inside join one transaction: all of them are committed, or none.

        A crawl saves its articles a batch at a time: one commit (and one full-text index
        segment) per batch instead of per article. A kill loses at most the batch, whose
        pages are not known yet and so are fetched again.
        """
        with self._transaction():
            self._batched = True
            try:
                yield
            finally:
                self._batched = False

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self._batched:  # inside ``batch``: its transaction commits or rolls back
            yield self._db
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: {exc}") from exc
        try:
            yield self._db
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:  # disk full, read-only, I/O: nothing half-written
            self._rollback()
            raise StoreError(f"{self.path}: cannot write: {exc}") from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already (it does on a full disk)."""
        if self._db.in_transaction:
            # if even that fails the connection is unusable; the journal undoes it on reopen
            with contextlib.suppress(sqlite3.DatabaseError):
                self._db.execute("ROLLBACK")

    def integrity_check(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    # -- what the spider asks ----------------------------------------------------------------

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        """The subset of ``urls`` already stored as an article or recorded as dropped."""
        by_key = {url_key(u): u for u in urls}
        if not by_key:
            return set()
        marks = ",".join("?" * len(by_key))
        keys = list(by_key)
        rows = self._db.execute(
            f"SELECT url_key FROM article_urls WHERE url_key IN ({marks}) "
            f"UNION SELECT url_key FROM dropped_pages WHERE url_key IN ({marks})",
            keys + keys,
        ).fetchall()
        return {by_key[row[0]] for row in rows}

    def backfilled(self, source: str) -> bool:
        row = self._db.execute(
            "SELECT backfilled_at FROM source_state WHERE source = ?", (source,)
        ).fetchone()
        return bool(row and row[0])

    def mark_backfilled(self, source: str, at: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO source_state (source, backfilled_at) VALUES (?, ?) "
                "ON CONFLICT (source) DO UPDATE SET backfilled_at = excluded.backfilled_at",
                (source, _iso(at)),
            )

    # -- what the pipeline writes ------------------------------------------------------------

    def save(
        self,
        source: str,
        article: Article,
        fetched_at: datetime,
        derived: Derived | None = None,
        aliases: Sequence[str] = (),
    ) -> Outcome:
        """Store one extracted article in one transaction and say what it was.

        Matching, cheapest first, each an indexed look-up: a URL the article is known under
        (a re-crawl: unchanged, or an edit), the exact content hash (a verbatim copy under a
        new URL), then near-duplicate candidates sharing an LSH band, verified by similarity
        and title. A copy becomes one more URL of the stored article. ``derived`` is
        ``derive(article)`` when the caller already has it.
        ``aliases`` are URLs that redirected to the page: on the same site they are URLs of
        the article too, so the link asked for is known next time and not fetched again.
        """
        if not article.title or not article.body:
            raise ValueError("an article needs a title and a body to be stored")
        urls = identity_urls(article.url, article.canonical_url, aliases)
        keys = [url_key(u) for u in urls]
        derived = derived or derive(article)
        seen = _iso(fetched_at)
        marks = ",".join("?" * len(keys))
        with self._transaction() as db:
            row = self._known(db, keys)
            if row is not None:
                article_id = row["id"]
                outcome = self._update(db, row, article, derived, fetched_at)
            else:
                copy_of = self._copy_of(db, source, article.title, derived)
                if copy_of is not None:
                    article_id, outcome = copy_of, Outcome.DUPLICATE
                    db.execute("UPDATE articles SET last_seen = ? WHERE id = ?", (seen, article_id))
                else:
                    article_id, outcome = self._insert(db, source, article, derived, fetched_at)
            for url, key in zip(urls, keys, strict=True):
                db.execute(
                    "INSERT OR IGNORE INTO article_urls (url_key, url, article_id, first_seen) "
                    "VALUES (?, ?, ?, ?)",
                    (key, canonical_url(url), article_id, seen),
                )
            db.execute(f"DELETE FROM dropped_pages WHERE url_key IN ({marks})", keys)
        return outcome

    def bulk_insert(self, source: str, articles: Iterable[Article], fetched_at: datetime) -> int:
        """Insert many new articles in one transaction, without the duplicate check: for
        imports and benchmarks that fill a store fast. Returns how many were inserted.

        The full-text index is merged afterwards (``fulltext.compact_index``), or every later
        one-article save would pay for rewriting the batch's large segment.
        """
        count = 0
        with self._transaction() as db:
            for article in articles:
                article_id, _ = self._insert(db, source, article, derive(article), fetched_at)
                for url in identity_urls(article.url, article.canonical_url):
                    db.execute(
                        "INSERT OR IGNORE INTO article_urls (url_key, url, article_id, "
                        "first_seen) VALUES (?, ?, ?, ?)",
                        (url_key(url), canonical_url(url), article_id, _iso(fetched_at)),
                    )
                count += 1
            fulltext.compact_index(db)
        return count

    def stored_as(self, source: str, article: Article) -> int | None:
        """The id of the stored article this page is (by URL, exact or near copy), or None.

        The read-only half of ``save``: the dedupe check on its own, for the benchmark.
        """
        keys = [url_key(u) for u in identity_urls(article.url, article.canonical_url)]
        row = self._known(self._db, keys)
        if row is not None:
            return int(row["id"])
        digest, sig = fingerprints(article.title or "", article.body)
        prints = Derived(digest, sig, lsh_keys(sig), "", "")  # the check reads no index text
        return self._copy_of(self._db, source, article.title, prints)

    @staticmethod
    def _known(db: sqlite3.Connection, keys: list[str]) -> sqlite3.Row | None:
        marks = ",".join("?" * len(keys))
        row: sqlite3.Row | None = db.execute(
            f"SELECT a.id, a.content_hash, a.first_seen FROM article_urls u JOIN articles a "
            f"ON a.id = u.article_id WHERE u.url_key IN ({marks}) LIMIT 1",
            keys,
        ).fetchone()
        return row

    def _copy_of(
        self,
        db: sqlite3.Connection,
        source: str,
        title: str | None,
        derived: Derived,
    ) -> int | None:
        """An article stored under other URLs with the same text (exact, then near)."""
        match = db.execute(
            "SELECT id FROM articles WHERE content_hash = ? ORDER BY id LIMIT 1",
            (derived.content_hash,),
        ).fetchone()
        if match is not None:
            return int(match["id"])
        return self._near_duplicate(db, source, title or "", derived)

    def _near_duplicate(
        self, db: sqlite3.Connection, source: str, title: str, derived: Derived
    ) -> int | None:
        """The stored article of ``source`` this text is a near copy of, if any.

        Candidates come from the band index (no scan); each is verified: very similar text
        is the same article; fairly similar text is only with the same title, so two reports
        on one template and day stay apart.
        """
        keys, sig = derived.bands, derived.signature
        if not keys:
            return None
        marks = ",".join("?" * len(keys))
        # CROSS JOIN keeps the band index as the outer loop: with a plain join or IN, SQLite
        # may walk every article of the source instead (a scan that grows with the store).
        rows = db.execute(
            f"SELECT DISTINCT a.id, a.title, a.signature FROM article_bands b "
            f"CROSS JOIN articles a ON a.id = b.article_id "
            f"WHERE b.band_key IN ({marks}) AND a.source = ? LIMIT {MAX_CANDIDATES}",
            [*keys, source],
        ).fetchall()
        best: tuple[float, int] | None = None
        for row in rows:
            score = similarity(sig, unpack_signature(row["signature"]))
            titles = title_similarity(row["title"], title)
            accepted = (score >= SAME_TEXT and titles >= SIMILAR_TITLE) or (
                score >= SAME_TITLE_TEXT and titles >= SAME_TITLE
            )
            if accepted and (best is None or score > best[0]):
                best = (score, row["id"])
        return best[1] if best else None

    def _insert(
        self,
        db: sqlite3.Connection,
        source: str,
        article: Article,
        derived: Derived,
        fetched_at: datetime,
    ) -> tuple[int, Outcome]:
        digest, sig = derived.content_hash, derived.signature
        url = canonical_url(article.canonical_url or article.url)
        if article.canonical_url and not same_site(article.canonical_url, article.url):
            url = canonical_url(article.url)
        cursor = db.execute(
            "INSERT INTO articles (guid, source, url, title, published, updated, source_label, "
            "lang, channel, authors, images, body, body_html, content_hash, first_seen, "
            "last_seen, sort_key, signature, next_check) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                make_guid(source, url),
                source,
                url,
                article.title,
                _iso(article.published),
                _iso(article.updated),
                article.source,
                article.lang,
                article.channel,
                json.dumps(article.authors, ensure_ascii=False),
                json.dumps([[i.src, i.caption] for i in article.images], ensure_ascii=False),
                article.body,
                article.body_html,
                digest,
                _iso(fetched_at),
                _iso(fetched_at),
                _utc_key(article.published or fetched_at),
                pack_signature(sig),
                _next_check(fetched_at, fetched_at),
            ),
        )
        assert cursor.lastrowid is not None
        _index_bands(db, cursor.lastrowid, derived.bands)
        fulltext.index_article(db, cursor.lastrowid, derived.index_title, derived.index_body)
        return cursor.lastrowid, Outcome.NEW

    def _update(
        self,
        db: sqlite3.Connection,
        row: sqlite3.Row,
        article: Article,
        derived: Derived,
        fetched_at: datetime,
    ) -> Outcome:
        """A re-crawl of a known URL: unchanged, or an edit (version row, ``updated`` set)."""
        digest, sig = derived.content_hash, derived.signature
        article_id, seen = row["id"], _iso(fetched_at)
        next_check = _next_check(datetime.fromisoformat(row["first_seen"]), fetched_at)
        if row["content_hash"] == digest:
            db.execute(
                "UPDATE articles SET last_seen = ?, next_check = ? WHERE id = ?",
                (seen, next_check, article_id),
            )
            return Outcome.UNCHANGED
        db.execute(
            "INSERT INTO article_versions (article_id, seen_at, title, body, content_hash) "
            "SELECT id, last_seen, title, body, content_hash FROM articles WHERE id = ?",
            (article_id,),
        )
        db.execute(
            "UPDATE articles SET title = ?, body = ?, body_html = ?, source_label = ?, "
            "content_hash = ?, updated = ?, last_seen = ?, images = ?, signature = ?, "
            "next_check = ? WHERE id = ?",
            (
                article.title,
                article.body,
                article.body_html,
                article.source,
                digest,
                _iso(article.updated) or seen,
                seen,
                json.dumps([[i.src, i.caption] for i in article.images], ensure_ascii=False),
                pack_signature(sig),
                next_check,
                article_id,
            ),
        )
        db.execute("DELETE FROM article_bands WHERE article_id = ?", (article_id,))
        _index_bands(db, article_id, derived.bands)
        fulltext.index_article(db, article_id, derived.index_title, derived.index_body)
        return Outcome.UPDATED

    def versions(self, article_id: int) -> list[tuple[datetime, str]]:
        """Earlier (seen_at, title) of an article, oldest first: the record of its edits."""
        rows = self._db.execute(
            "SELECT seen_at, title FROM article_versions WHERE article_id = ? ORDER BY rowid",
            (article_id,),
        ).fetchall()
        return [(datetime.fromisoformat(r["seen_at"]), r["title"]) for r in rows]

    # -- re-crawl policy ---------------------------------------------------------------------

    def due_for_revisit(self, source: str, now: datetime, limit: int = 500) -> list[str]:
        """Article URLs of ``source`` whose next check (1, 7, 30 days after first seen) is due.

        The spider refetches these to catch edits; everything else known is left alone.
        """
        rows = self._db.execute(
            "SELECT url FROM articles WHERE source = ? AND next_check <= ? "
            "ORDER BY next_check, id LIMIT ?",
            (source, _utc_key(now), limit),
        ).fetchall()
        return [row["url"] for row in rows]

    def list_validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) of a list page as last fully processed, for a conditional GET."""
        row = self._db.execute(
            "SELECT etag, last_modified FROM list_pages WHERE url_key = ?", (url_key(url),)
        ).fetchone()
        return (row["etag"], row["last_modified"]) if row else (None, None)

    def save_list_validators(
        self, source: str, validators: dict[str, tuple[str | None, str | None]], at: datetime
    ) -> None:
        """Remember list pages' validators; only call after every article they list is stored,
        or a crash would turn unstored articles into a 304 next time."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO list_pages (url_key, url, source, etag, last_modified, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url_key) DO UPDATE SET "
                "etag = excluded.etag, last_modified = excluded.last_modified, "
                "fetched_at = excluded.fetched_at",
                [
                    (url_key(url), canonical_url(url), source, etag, modified, _iso(at))
                    for url, (etag, modified) in validators.items()
                ],
            )

    def record_dropped(self, source: str, url: str, reason: str, at: datetime) -> None:
        """Remember a page that is not an article, so incremental crawls do not refetch it."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO dropped_pages (url_key, url, source, reason, seen_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (url_key) DO UPDATE SET "
                "reason = excluded.reason, seen_at = excluded.seen_at",
                (url_key(url), canonical_url(url), source, reason, _iso(at)),
            )
            row = db.execute(
                "SELECT a.id, a.first_seen FROM article_urls u JOIN articles a "
                "ON a.id = u.article_id WHERE u.url_key = ?",
                (url_key(url),),
            ).fetchone()
            if row is not None:  # a stored article that is gone now: do not ask every run
                next_check = _next_check(datetime.fromisoformat(row["first_seen"]), at)
                db.execute(
                    "UPDATE articles SET next_check = ? WHERE id = ?", (next_check, row["id"])
                )

    def record_run(
        self,
        source: str,
        started_at: datetime,
        finished_at: datetime,
        outcome: str,
        stats: dict[str, int],
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs (source, started_at, finished_at, outcome, stats) "
                "VALUES (?, ?, ?, ?, ?)",
                (source, _iso(started_at), _iso(finished_at), outcome, json.dumps(stats)),
            )

    # -- what the feeds read -----------------------------------------------------------------

    def count(self, source: str | None = None) -> int:
        if source is None:
            return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])
        return int(
            self._db.execute(
                "SELECT count(*) FROM articles WHERE source = ?", (source,)
            ).fetchone()[0]
        )

    def latest(self, source: str | None = None, limit: int = 50) -> list[StoredArticle]:
        """Newest first (by publication time, else first sighting), ties broken by guid."""
        where, args = ("WHERE source = ?", [source]) if source else ("", [])
        rows = self._db.execute(
            f"SELECT * FROM articles {where} ORDER BY sort_key DESC, guid LIMIT ?",
            [*args, limit],
        ).fetchall()
        return self._hydrate(rows)

    def _hydrate(self, rows: list[sqlite3.Row]) -> list[StoredArticle]:
        urls: dict[int, list[str]] = {row["id"]: [] for row in rows}
        if urls:
            marks = ",".join("?" * len(urls))
            for url_row in self._db.execute(
                f"SELECT article_id, url FROM article_urls WHERE article_id IN ({marks}) "
                "ORDER BY first_seen, url",
                list(urls),
            ):
                urls[url_row["article_id"]].append(url_row["url"])
        return [
            StoredArticle(
                id=row["id"],
                guid=row["guid"],
                source=row["source"],
                url=row["url"],
                urls=tuple(urls[row["id"]]),
                title=row["title"],
                published=_dt(row["published"]),
                updated=_dt(row["updated"]),
                source_label=row["source_label"],
                lang=row["lang"],
                channel=row["channel"],
                authors=tuple(json.loads(row["authors"])),
                images=tuple(Image(src, caption) for src, caption in json.loads(row["images"])),
                body=row["body"],
                body_html=row["body_html"],
                content_hash=row["content_hash"],
                first_seen=_dt(row["first_seen"]) or datetime.min.replace(tzinfo=UTC),
                last_seen=_dt(row["last_seen"]) or datetime.min.replace(tzinfo=UTC),
            )
            for row in rows
        ]

    # -- what health and the status page read ------------------------------------------------

    def runs(self, source: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Recorded runs, newest first (of one source, or of all)."""
        where, args = ("WHERE source = ?", [source]) if source else ("", [])
        rows = self._db.execute(
            f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", [*args, limit]
        ).fetchall()
        return [
            RunRecord(
                id=row["id"],
                source=row["source"],
                started_at=datetime.fromisoformat(row["started_at"]),
                finished_at=datetime.fromisoformat(row["finished_at"]),
                outcome=row["outcome"],
                stats=json.loads(row["stats"]),
            )
            for row in rows
        ]

    def run_counts(self) -> dict[tuple[str, str], int]:
        """How many runs each (source, outcome) has had: the metrics' run counter."""
        rows = self._db.execute(
            "SELECT source, outcome, count(*) FROM runs GROUP BY source, outcome"
        ).fetchall()
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def publication_times(self, source: str, limit: int = 500) -> list[datetime]:
        """When the newest ``limit`` articles of ``source`` appeared (published, else first
        seen), newest first: the history health learns a source's usual gap from."""
        rows = self._db.execute(
            "SELECT coalesce(published, first_seen) FROM articles WHERE source = ? "
            "ORDER BY sort_key DESC LIMIT ?",
            (source, limit),
        ).fetchall()
        return [datetime.fromisoformat(row[0]) for row in rows]

    def source_counts(self, since: datetime) -> dict[str, SourceCounts]:
        """Per source: articles stored, those first seen since ``since``, the newest date."""
        rows = self._db.execute(
            # julianday compares instants across offsets; with max(), SQLite takes the bare
            # column from the row holding the max: the newest article's own date and zone
            "SELECT source, count(*), sum(julianday(first_seen) >= julianday(?)), "
            "max(sort_key), coalesce(published, first_seen) FROM articles GROUP BY source",
            (_iso(since),),
        ).fetchall()
        return {
            row[0]: SourceCounts(
                total=int(row[1]),
                recent=int(row[2] or 0),
                newest=datetime.fromisoformat(row[4]) if row[4] else None,
            )
            for row in rows
        }

    def record_health(
        self, source: str, state: str, previous: str | None, reason: str, at: datetime
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO health_events (source, at, state, previous, reason) "
                "VALUES (?, ?, ?, ?, ?)",
                (source, _iso(at), state, previous, reason),
            )

    def health_events(self, source: str | None = None, limit: int = 100) -> list[HealthEvent]:
        """State changes, newest first."""
        where, args = ("WHERE source = ?", [source]) if source else ("", [])
        rows = self._db.execute(
            f"SELECT * FROM health_events {where} ORDER BY id DESC LIMIT ?", [*args, limit]
        ).fetchall()
        return [_health_event(row) for row in rows]

    def health_states(self) -> dict[str, HealthEvent]:
        """Each source's current state: its latest health event."""
        rows = self._db.execute(
            "SELECT * FROM health_events WHERE id IN "
            "(SELECT max(id) FROM health_events GROUP BY source)"
        ).fetchall()
        return {row["source"]: _health_event(row) for row in rows}

    # -- full-text search (keyword watches) --------------------------------------------------

    def search(self, query: str, limit: int = 50) -> list[StoredArticle]:
        """Articles matching a user's full-text query, newest first like ``latest``.

        Raises ``fulltext.QueryError`` for an empty or malformed query.
        """
        expression = fulltext.fts_query(query)
        try:
            rows = self._db.execute(
                f"SELECT a.* FROM {fulltext.INDEX_TABLE} f JOIN articles a ON a.id = f.rowid "
                f"WHERE {fulltext.INDEX_TABLE} MATCH ? ORDER BY a.sort_key DESC, a.guid LIMIT ?",
                (expression, limit),
            ).fetchall()
        except sqlite3.OperationalError as exc:  # FTS5 syntax errors surface here
            raise fulltext.QueryError(f"bad full-text query {query!r}: {exc}") from None
        return self._hydrate(rows)

    # -- WebSub subscriptions ----------------------------------------------------------------

    def save_subscription(
        self, topic: str, callback: str, secret: str | None, lease_seconds: int, at: datetime
    ) -> None:
        """Record a verified subscription (a renewal replaces secret and lease)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO websub_subscriptions (topic, callback, secret, lease_seconds, "
                "expires_at, verified_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret, "
                "lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at, "
                "verified_at = excluded.verified_at",
                (
                    topic,
                    callback,
                    secret,
                    lease_seconds,
                    _utc_key(at + timedelta(seconds=lease_seconds)),
                    _iso(at),
                ),
            )

    def delete_subscription(self, topic: str, callback: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM websub_subscriptions WHERE topic = ? AND callback = ?",
                (topic, callback),
            )
        return cursor.rowcount > 0

    def subscriptions(self, topic: str, now: datetime) -> list[tuple[str, str | None]]:
        """(callback, secret) of every subscription to ``topic`` whose lease has not ended."""
        rows = self._db.execute(
            "SELECT callback, secret FROM websub_subscriptions WHERE topic = ? AND expires_at > ? "
            "ORDER BY callback",
            (topic, _utc_key(now)),
        ).fetchall()
        return [(row["callback"], row["secret"]) for row in rows]

    # -- what the per-channel and archived feeds read (read-only) ----------------------------

    def channels(self, source: str) -> list[str]:
        """The channels (list page sections) articles of ``source`` were found in, sorted."""
        rows = self._db.execute(
            "SELECT DISTINCT channel FROM articles WHERE source = ? AND channel IS NOT NULL "
            "AND channel != '' ORDER BY channel",
            (source,),
        ).fetchall()
        return [row["channel"] for row in rows]

    def latest_in(
        self, source: str | None, channel: str | None, limit: int = 50
    ) -> list[StoredArticle]:
        """Like ``latest``, restricted to one channel of a source when ``channel`` is given."""
        if channel is None:
            return self.latest(source, limit)
        rows = self._db.execute(
            "SELECT * FROM articles WHERE source = ? AND channel = ? "
            "ORDER BY sort_key DESC, guid LIMIT ?",
            (source, channel, limit),
        ).fetchall()
        return self._hydrate(rows)

    def history(self, source: str | None, channel: str | None = None) -> list[tuple[int, str]]:
        """(id, guid) of every article of a source (or channel, or all), in storing order.

        Ids only grow, so a prefix of this list never changes when articles arrive: archive
        pages cut from it in fixed sizes stay the same once full.
        """
        where, args = "", []
        if source is not None:
            where, args = "WHERE source = ?", [source]
            if channel is not None:
                where, args = "WHERE source = ? AND channel = ?", [source, channel]
        rows = self._db.execute(f"SELECT id, guid FROM articles {where} ORDER BY id", args)
        return [(row["id"], row["guid"]) for row in rows]

    def articles_by_id(self, ids: Iterable[int]) -> list[StoredArticle]:
        """The stored articles with these ids, in the order given (unknown ids are skipped)."""
        wanted = list(ids)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self._db.execute(f"SELECT * FROM articles WHERE id IN ({marks})", wanted).fetchall()
        by_id = {a.id: a for a in self._hydrate(rows)}
        return [by_id[i] for i in wanted if i in by_id]
