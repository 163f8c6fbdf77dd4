"""Score govfeed's extraction and trafilatura (+htmldate) side by side on ../shared/corpus.

Both extractors get the same bytes and URL; each source is scored with its upstream metric
(MANIFEST.md): token precision/recall/F1 for bodies, with/without segments for
trafilatura-eval, exact day for dates, exact title/source for labelled pages. Prints one
table per source, a government-pages group, and pages per second for both (after an
untimed warm-up of the date parser both share).

    .venv/bin/python bench/extraction.py [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scraper.extract import extract_article, get_profile, profile_for_url  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "fixtures" / "sites"
_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+"
)


@dataclass
class Case:
    source: str
    key: str
    url: str
    html: bytes
    gov: bool = False
    body: str | None = None  # reference body text (token F1)
    with_: list[str] | None = None  # trafilatura-eval segments
    without: list[str] | None = None
    title: str | None = None
    date: str | None = None  # "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" as displayed
    has_source: bool = False
    source_value: str | None = None
    profile: str | None = None


@dataclass
class Result:
    title: str | None
    date: str | None  # "YYYY-MM-DD HH:MM" local or "YYYY-MM-DD"
    source: str | None
    body: str
    seconds: float


@dataclass
class Score:
    n: int = 0
    seconds: float = 0.0
    prf: list[tuple[float, float, float]] = field(default_factory=list)
    seg: Counter[str] = field(default_factory=Counter)
    exact: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _is_gov_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return bool(re.search(r"\.gov(\.[a-z]{2})?$|\.gv\.at$|\.gouv\.fr$|\.bund\.de$", host))


def load_cases(limit: int | None) -> Iterator[Case]:
    aeb = json.loads((CORPUS / "article-extraction-benchmark/ground-truth.json").read_text())
    for key, item in list(aeb.items())[:limit]:
        html = _read(CORPUS / f"article-extraction-benchmark/html/{key}.html.gz")
        yield Case("article-extraction-benchmark", key, item["url"], html, body=item["articleBody"])
    fundus = json.loads((CORPUS / "fundus/ground-truth.json").read_text())
    for key, item in list(fundus.items())[:limit]:
        gt = item["ground_truth"]
        body = gt.get("body") or {}
        parts = list(body.get("summary") or [])
        for section in body.get("sections") or []:
            parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
        date = (gt.get("publishing_date") or "")[:10] or None
        yield Case(
            "fundus", key, item["url"], _read(CORPUS / "fundus" / key),
            body="\n".join(parts), title=gt.get("title"), date=date,
        )  # fmt: skip
    magic = json.loads((CORPUS / "magic-html-bench/ground-truth.json").read_text())
    for key, item in list(magic.items())[:limit]:
        if not item["content"]:
            continue
        yield Case(
            "magic-html-bench", key, item["url"], _read(CORPUS / "magic-html-bench" / key),
            gov=_is_gov_host(item["url"]), body=item["content"],
        )  # fmt: skip
    dates = json.loads((CORPUS / "htmldate-eval/dates.json").read_text())
    for key, item in list(dates.items())[:limit]:
        yield Case(
            "htmldate-eval", key, item["url"], _read(CORPUS / "htmldate-eval" / key),
            gov="gov" in item["tags"], date=item["date"],
        )  # fmt: skip
    evald = json.loads((CORPUS / "trafilatura-eval/evaldata.json").read_text())
    for key, item in list(evald.items())[:limit]:
        yield Case(
            "trafilatura-eval", key, item["url"], _read(CORPUS / "trafilatura-eval" / key),
            gov="gov" in item.get("selection_tags", []), with_=item.get("with") or [],
            without=item.get("without") or [], title=item.get("title") or None,
            date=item.get("date") or None,
        )  # fmt: skip
    gne = json.loads((CORPUS / "gne-zh/labels.json").read_text())
    for key, item in gne.items():
        yield Case(
            "gne-zh", key, item.get("url") or "", _read(CORPUS / "gne-zh" / key), gov=True,
            title=item["title"], date=item["publish_date"], has_source=True,
            source_value=item["source"],
        )  # fmt: skip
    white = json.loads((CORPUS / "whitehouse-archives-postlight/labels.json").read_text())
    for key, item in white.items():
        date = (item.get("published") or "")[:10] or None
        if date is None and item.get("display_date"):
            date = datetime.strptime(item["display_date"], "%B %d, %Y").date().isoformat()
        yield Case(
            "whitehouse", key, item["url"], _read(CORPUS / "whitehouse-archives-postlight" / key),
            gov=True, title=item.get("title"), date=date,
        )  # fmt: skip
    for path in sorted(FIXTURES.glob("**/*.expected.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        stem = path.name.removesuffix(".expected.json")
        page = next(
            (
                p
                for p in (path.with_name(stem + s) for s in (".html", ".htm", ".shtml"))
                if p.exists()
            ),
            None,
        )
        if page is None:
            continue
        published = spec.get("published")
        yield Case(
            "fao-replica (profiled)", str(path.relative_to(FIXTURES)), spec["url"],
            page.read_bytes(), title=spec["title"],
            date=published[:16].replace("T", " ") if published else "none",
            has_source=True, source_value=spec["source"], profile=spec.get("profile"),
        )  # fmt: skip


def _local(value: datetime | None, case: Case) -> str | None:
    if value is None:
        return None
    if case.source in {"gne-zh", "fao-replica (profiled)"}:
        return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    return value.strftime("%Y-%m-%d %H:%M")


def run_govfeed(case: Case) -> Result:
    profile = get_profile(case.profile) if case.profile else profile_for_url(case.url)
    start = time.perf_counter()
    art = extract_article(case.html, case.url, profile)
    seconds = time.perf_counter() - start
    return Result(art.title, _local(art.published, case), art.source, art.body, seconds)


def run_trafilatura(case: Case) -> Result:
    import trafilatura

    start = time.perf_counter()
    doc = trafilatura.bare_extraction(
        case.html, url=case.url or None, with_metadata=True, include_comments=False
    )
    seconds = time.perf_counter() - start
    if doc is None:
        return Result(None, None, None, "", seconds)
    return Result(doc.title, doc.date, None, doc.text or "", seconds)


def _tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text.lower()))


def prf(got: str, want: str) -> tuple[float, float, float]:
    g, w = _tokens(got), _tokens(want)
    common = sum((g & w).values())
    p = common / sum(g.values()) if g else 0.0
    r = common / sum(w.values()) if w else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _norm_title(text: str | None) -> str:
    # separator punctuation at the edges is dropped: bmbf.de's label starts with the ": " of
    # a screen-reader-only span
    return re.sub(r"\s+", " ", text or "").strip(" :|-")


def _date_match(got: str | None, want: str) -> bool:
    if want == "none":
        return got is None
    if got is None:
        return False
    return got[:10] == want[:10]  # exact day, as upstream


def score(case: Case, res: Result, sc: Score) -> None:
    sc.n += 1
    sc.seconds += res.seconds
    if case.body is not None:
        sc.prf.append(prf(res.body, case.body))
    if case.with_ is not None:
        for seg in case.with_:
            sc.seg["tp" if seg in res.body else "fn"] += 1
        for seg in case.without or []:
            sc.seg["fp" if seg in res.body else "tn"] += 1
    if case.title:
        sc.exact["title"].append(_norm_title(res.title) == _norm_title(case.title))
    if isinstance(case.date, str) and case.date:
        sc.exact["date"].append(_date_match(res.date, case.date))
    if case.has_source:
        sc.exact["source"].append((res.source or None) == (case.source_value or None))


def _row(name: str, sc: Score) -> list[str]:
    cells = [name, str(sc.n)]
    if sc.prf:
        p, r, f = (statistics.mean(x[i] for x in sc.prf) for i in range(3))
        cells.append(f"P {p:.3f} R {r:.3f} F1 {f:.3f}")
    elif sc.seg:
        tp, fn, fp, tn = (sc.seg[k] for k in ("tp", "fn", "fp", "tn"))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        acc = (tp + tn) / max(1, tp + fn + fp + tn)
        cells.append(f"P {p:.3f} R {r:.3f} F1 {f:.3f} acc {acc:.3f}")
    else:
        cells.append("-")
    for key in ("title", "date", "source"):
        vals = sc.exact.get(key)
        cells.append(f"{sum(vals) / len(vals):.3f} ({sum(vals)}/{len(vals)})" if vals else "-")
    cells.append(f"{sc.n / sc.seconds:.1f}" if sc.seconds else "-")
    return cells


def print_table(title: str, rows: list[list[str]]) -> None:
    header = ["extractor", "pages", "body", "title", "date", "source", "pages/s"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}")
    for r in [header, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def _print_misses(case: Case, res: Result) -> None:
    if isinstance(case.date, str) and case.date and not _date_match(res.date, case.date):
        print(f"DATE {case.source} {case.key} got {res.date} want {case.date}")
    if case.title and _norm_title(res.title) != _norm_title(case.title):
        print(f"TITLE {case.source} {case.key} got {res.title!r} want {case.title!r}")
    if case.has_source and (res.source or None) != (case.source_value or None):
        print(f"SOURCE {case.key} got {res.source!r} want {case.source_value!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="pages per source")
    parser.add_argument("--misses", action="store_true", help="list govfeed date/title misses")
    parser.add_argument("--only", default=None, help="comma-separated source folders to run")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import logging

    logging.disable(logging.CRITICAL)
    import htmldate

    extractors: dict[str, Callable[[Case], Result]] = {
        "govfeed": run_govfeed,
        "trafilatura": run_trafilatura,
    }
    # Untimed warm-up: dateparser (behind htmldate's extensive search, used by both extractors)
    # compiles its locale tables on its first call, several seconds once per process, which
    # would otherwise be charged to whichever extractor happens to reach it first.
    from htmldate.extractors import external_date_parser

    external_date_parser("warm-up 2019", "%Y-%m-%d")
    scores: dict[tuple[str, str], Score] = defaultdict(Score)
    htmldate_score: dict[str, Score] = defaultdict(Score)
    only = set(args.only.split(",")) if args.only else None
    for case in load_cases(args.limit):
        if only and case.source not in only:
            continue
        for name, fn in extractors.items():
            res = fn(case)
            score(case, res, scores[(case.source, name)])
            if case.gov:
                score(case, res, scores[("government pages", name)])
            if args.misses and name == "govfeed":
                _print_misses(case, res)
        if case.source == "htmldate-eval":
            start = time.perf_counter()
            found = htmldate.find_date(case.html, url=case.url, original_date=True)
            res = Result(None, found, None, "", time.perf_counter() - start)
            score(case, res, htmldate_score[case.source])
            if case.gov:
                score(case, res, htmldate_score["government pages"])
    sources = sorted({s for s, _ in scores} - {"government pages"})
    for source in [*sources, "government pages"]:
        rows = [_row(name, scores[(source, name)]) for name in extractors]
        if source in htmldate_score:
            rows.append(_row("htmldate", htmldate_score[source]))
        print_table(source, rows)
    total = {name: Score() for name in extractors}
    for (source, name), sc in scores.items():
        if source != "government pages":
            total[name].n += sc.n
            total[name].seconds += sc.seconds
    print("\n## speed (all pages)")
    for name, sc in total.items():
        print(f"- {name}: {sc.n} pages in {sc.seconds:.1f}s = {sc.n / sc.seconds:.1f} pages/s")


if __name__ == "__main__":
    main()
