"""Dedupe at scale: per-article cost as the store grows, and near-duplicate precision/recall.

    .venv/bin/python bench/dedupe.py [--size 100000] [--seed 7]

Builds a store of synthetic articles (half English, half Chinese; Zipf-distributed words and
characters, so distinct articles share common phrases as real ones do) and reports:

* the cost of the dedupe check for one incoming article (``Store.stored_as``: URL key, exact
  hash, LSH candidates verified) and of a full ``Store.save`` when 1k, 10k and 100k articles
  are stored; it must stay flat. Beside it, the baseline a store without an index would pay:
  a brute-force scan comparing every stored signature.
* precision and recall of near-duplicate detection on mutated copies of stored articles
  (whitespace, added boilerplate, one sentence changed, channel moved), against distinct
  articles, some of them hard (same title, or same template lines and day). Beside it, the
  recall of exact hashing alone (whitespace-normalized, as the v1 store had).

The store is filled through ``Store.bulk_insert`` (one transaction, no duplicate check);
every measured article goes through ``save``, one transaction each.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scraper.extract.article import Article
from scraper.fingerprint import (
    normalize_text,
    signature,
    similarity,
    unpack_signature,
)
from scraper.store import SAME_TEXT, Outcome, Store

SOURCE = "bench"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
CHECKPOINTS = (1_000, 10_000, 100_000)
TIMED = 300  # fresh articles saved (and timed) at each checkpoint
SCANNED = 3  # brute-force scans at each checkpoint (each reads every signature)
PER_MUTATION = 500
NEGATIVES = 2_000
BOILERPLATE = [
    "Print",
    "Close",
    "【Fonts: A+ A A-",
    "fontSize: big middle small",
    "Date: 2025-05-01 Source: Foreign Affairs Office of Yanqing District",
    "Share to: WeChat Weibo",
    "【打印】 【关闭】",
    "【字体：大 中 小】",
    "Copyright © Foreign Affairs Office. All rights reserved.",
]


class Corpus:
    """Random English-like and Chinese-like text with Zipf word/character frequencies."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        syllables = [c + v for c in "bcdfghjklmnprstvwyz" for v in ("a", "e", "i", "o", "u")]
        words = {"".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(8000)}
        self.words = sorted(words)
        rng.shuffle(self.words)
        self.chars = [chr(c) for c in rng.sample(range(0x4E00, 0x7000), 3000)]
        self.word_weights = list(accumulate(1 / (r + 1) for r in range(len(self.words))))
        self.char_weights = list(accumulate(1 / (r + 1) for r in range(len(self.chars))))
        self.serial = 0

    def sentence(self, lang: str) -> str:
        if lang == "en":
            words = self.rng.choices(
                self.words, cum_weights=self.word_weights, k=self.rng.randint(8, 22)
            )
            return " ".join(words).capitalize() + "."
        chars = self.rng.choices(
            self.chars, cum_weights=self.char_weights, k=self.rng.randint(15, 40)
        )
        return "".join(chars) + "。"

    def title(self, lang: str) -> str:
        return self.sentence(lang).rstrip(".。")[:90]

    def article(self, lang: str | None = None) -> Article:
        lang = lang or self.rng.choice(("en", "zh"))
        self.serial += 1
        n = self.serial
        body = "\n".join(self.sentence(lang) for _ in range(self.rng.randint(5, 12)))
        return Article(
            url=f"https://fao.example.gov.cn/{lang}/news/2025{n % 12 + 1:02d}/t2025_{n}.html",
            title=self.title(lang),
            body=body,
            body_html="",
            published=T0 - timedelta(minutes=n),
            lang=lang,
        )


def mutate(corpus: Corpus, base: Article, kind: str, n: int) -> Article:
    """A copy of ``base`` under a new URL, changed as a re-post on a real site is."""
    rng = corpus.rng
    lines = base.body.split("\n")
    url = base.url.replace("/news/", f"/copy{n}/")
    if kind == "whitespace":
        body = "\n\n".join("  ".join(line.split(" ")) + "  " for line in lines)
    elif kind == "boilerplate":
        body = "\n".join([*rng.sample(BOILERPLATE, 2), *lines, *rng.sample(BOILERPLATE, 2)])
    elif kind == "one sentence changed":
        lines[rng.randrange(len(lines))] = corpus.sentence(base.lang or "en")
        body = "\n".join(lines)
    elif kind == "channel moved":
        url = base.url.replace("/news/", "/center_for_international_exchanges/conference/")
        body = base.body
    else:
        raise ValueError(kind)
    return Article(
        url=url, title=base.title, body=body, body_html="", published=base.published,
        lang=base.lang, channel=kind,
    )  # fmt: skip


def hard_negative(corpus: Corpus, base: Article, n: int) -> Article:
    """A different article that looks like ``base``: same title, or same template and day."""
    fresh = corpus.article(base.lang)
    if n % 2:  # a recurring title ("Weekly news") over a new text
        title, body = base.title, fresh.body
    else:  # same boilerplate lines and first sentence, the rest new
        title = fresh.title
        body = "\n".join([BOILERPLATE[4], base.body.split("\n")[0], fresh.body, BOILERPLATE[0]])
    return Article(
        url=fresh.url, title=title, body=body, body_html="", published=base.published,
        lang=base.lang,
    )  # fmt: skip


def v1_hash(article: Article) -> str:
    """The exact hash before near-duplicates: whitespace and case folded, nothing else."""
    text = f"{normalize_text(article.title or '')}\n{normalize_text(article.body)}"
    return hashlib.sha256(text.encode()).hexdigest()


KINDS = ("whitespace", "boilerplate", "one sentence changed", "channel moved")


def stored_article(store: Store, article_id: int) -> Article:
    row = store._db.execute(
        "SELECT url, title, body, published, lang FROM articles WHERE id = ?", (article_id,)
    ).fetchone()
    return Article(
        url=row["url"], title=row["title"], body=row["body"], body_html="",
        published=datetime.fromisoformat(row["published"]), lang=row["lang"],
    )  # fmt: skip


def vm_steps(store: Store, articles: list[Article]) -> float:
    """SQLite virtual-machine instructions per dedupe check: flat if every step is indexed."""
    count = 0

    def tick() -> int:
        nonlocal count
        count += 1
        return 0

    store._db.set_progress_handler(tick, 1)
    for article in articles:
        store.stored_as(SOURCE, article)
    store._db.set_progress_handler(None, 1)
    return count / len(articles)


def brute_force_seconds(store: Store, articles: list[Article]) -> float:
    """Baseline: find a near duplicate by comparing against every stored signature."""
    start = time.perf_counter()
    for article in articles:
        sig = signature(article.body)
        for (blob,) in store._db.execute("SELECT signature FROM articles"):
            if similarity(sig, unpack_signature(blob)) >= SAME_TEXT:
                break
    return (time.perf_counter() - start) / len(articles)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=CHECKPOINTS[-1])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    checkpoints = [c for c in CHECKPOINTS if c <= args.size]
    rng = random.Random(args.seed)
    corpus = Corpus(rng)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.sqlite3") as store:
        print(f"dedupe cost per incoming article ({TIMED} fresh articles at each size)")
        print(
            f"{'stored':>8} {'check (LSH)':>12} {'full save':>10} {'brute-force check':>18} "
            f"{'ratio':>6} {'SQL steps':>9}"
        )
        stored = 0
        for checkpoint in checkpoints:
            fresh = (corpus.article() for _ in range(checkpoint - stored))
            stored += store.bulk_insert(SOURCE, fresh, T0)
            timed = [corpus.article() for _ in range(TIMED)]
            start = time.perf_counter()
            found = [store.stored_as(SOURCE, a) for a in timed]
            check = (time.perf_counter() - start) / TIMED
            assert found == [None] * TIMED, "a fresh article matched a stored one"
            start = time.perf_counter()
            outcomes = [store.save(SOURCE, a, T0) for a in timed]
            per_save = (time.perf_counter() - start) / TIMED
            stored += TIMED
            assert all(o is Outcome.NEW for o in outcomes), "a fresh article was merged"
            scan = brute_force_seconds(store, timed[:SCANNED])
            steps = vm_steps(store, timed[:20])
            print(
                f"{checkpoint:>8,} {check * 1e6:>9,.0f} µs {per_save * 1e6:>7,.0f} µs "
                f"{scan * 1e6:>15,.0f} µs {scan / check:>5,.0f}x {steps:>9,.0f}"
            )
        print("(check: URL key, exact hash, LSH candidates verified; full save adds the insert")
        print(" and commit; brute force: the same check comparing every stored signature;")
        print(" SQL steps: SQLite VM instructions of one check, the machine-independent cost)")

        ids = rng.sample(range(1, stored + 1), len(kinds := KINDS) * PER_MUTATION + NEGATIVES)
        bases = [stored_article(store, article_id) for article_id in ids]
        positives: dict[str, list[Article]] = {kind: [] for kind in kinds}
        base_hash: dict[str, str] = {}
        for i, base in enumerate(bases[: len(kinds) * PER_MUTATION]):
            kind = kinds[i % len(kinds)]
            copy = mutate(corpus, base, kind, i)
            positives[kind].append(copy)
            base_hash[copy.url] = v1_hash(base)
        negatives = [corpus.article() for _ in range(NEGATIVES // 2)]
        negatives += [
            hard_negative(corpus, base, n)
            for n, base in enumerate(bases[len(kinds) * PER_MUTATION :][: NEGATIVES // 2])
        ]

        print(f"\nnear-duplicate detection ({stored:,} stored; one source, worst case)")
        print(f"{'mutation':<22} {'copies':>6} {'recall':>7} {'exact-hash (v1) recall':>23}")
        true_pos = false_neg = 0
        for kind in kinds:
            found = sum(store.save(SOURCE, c, T0) is Outcome.DUPLICATE for c in positives[kind])
            exact = sum(v1_hash(c) == base_hash[c.url] for c in positives[kind])
            true_pos += found
            false_neg += len(positives[kind]) - found
            n = len(positives[kind])
            print(f"{kind:<22} {n:>6} {found / n:>7.3f} {exact / n:>23.3f}")
        false_pos = sum(store.save(SOURCE, a, T0) is Outcome.DUPLICATE for a in negatives)
        precision = true_pos / (true_pos + false_pos)
        recall = true_pos / (true_pos + false_neg)
        print(
            f"{'all':<22} {true_pos + false_neg:>6} {recall:>7.3f}   "
            f"(distinct articles: {len(negatives)}, half of them hard; merged wrongly: "
            f"{false_pos})"
        )
        print(f"precision {precision:.3f} (target ≥ 0.99)   recall {recall:.3f} (target ≥ 0.95)")
    print(f"\nbench time {time.perf_counter() - began:.0f} s")
    return 0 if precision >= 0.99 and recall >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
