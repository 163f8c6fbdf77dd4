"""Crawl throughput and memory: a bare Scrapy spider vs govfeed's full pipeline, side by side.

Generates a synthetic TRS-like site in a temp folder (article pages of about 40 KB of mixed
English and Chinese text, list pages of 20 links paged by ``createPageHTML`` as on
en.changchun.gov.cn), serves it with ``scraper.replay.ReplayServer`` in this process, and
crawls it through that server, each crawl in its own subprocess (its CPU time and peak RSS
come from ``os.wait4``):

(a) a bare spider following the same links (list pages, pager, article links), counting
    responses; (b) ``govfeed crawl --proxy`` (extraction, normalize/validate, dedupe, store).

Then a re-crawl of the unchanged site (request counts: article fetches must be 0, list pages
answered 304), and a crawl of a site a tenth the size for peak memory (target: the full crawl
within 1.2x of it).

    .venv/bin/python bench/crawl.py [--pages N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOST = "en.bench.gov.cn"
CHANNEL = "xw/ccxw1"
PER_LIST = 20
ARTICLE_PATTERN = r"/t\d{8}_\d+\.html$"
TARGET_RATIO = 0.6
MEMORY_RATIO = 1.2

_EN_WORDS = (  # noqa: SIM905 (a sentence of words reads better than a column)
    "the city foreign affairs office delegation cooperation exchange province "
    "government meeting friendship visit trade investment culture education tourism "
    "international forum agreement development economic partner enterprise project "
    "youth science technology service policy consulate embassy mayor leader talks "
    "signed expo annual northeast asia port railway airport festival heritage "
    "hospital university students of and to in for with on at by from during about "
    "new more year work plan support"
).split()
_ZH_CHARS = (
    "长春市外事办公室代表团合作交流省政府会议友好访问贸易投资文化教育旅游国际论坛协议发展经济"
    "伙伴企业项目青年科学技术服务政策领事馆大使市长领导会谈签署博览会年度东北亚港口铁路机场节日"
    "遗产医院大学学生的和在与对于从中新更多年工作计划支持推动加强深化务实领域开展举办出席表示"
)
_CSS = "\n".join(f".c{i} {{ margin: {i}px; padding: {i % 7}px; }}" for i in range(60))


def _english(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choices(_EN_WORDS, k=words))
    return text[0].upper() + text[1:] + "."


def _chinese(rng: random.Random, chars: int) -> str:
    return "".join(rng.choices(_ZH_CHARS, k=chars)) + "。"


def _article_path(n: int) -> tuple[str, date]:
    day = date(2020, 1, 1) + timedelta(days=n // 3)
    return f"{CHANNEL}/{day:%Y%m}/t{day:%Y%m%d}_{1_000_000 + n}.html", day


def _page(title: str, head: str, main: str, depth: int) -> str:
    up = "../" * depth
    nav = "".join(
        f'<li><a href="{up}{c}/">{c.title()}</a></li>' for c in ("xw/ccxw1", "tpxw", "ztlm")
    )
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{title} - Bench Foreign Affairs Office</title>
<meta name="SiteName" content="Bench Foreign Affairs Office" />
<meta name="ColumnName" content="Bench News" />
{head}<style type="text/css">
{_CSS}
</style>
</head>
<body>
<div class="header"><div class="logo"><a href="{up}index.html">Bench FAO</a></div>
<ul class="nav"><li><a href="{up}index.html">Home</a></li>{nav}</ul></div>
<div class="main-content">
{main}
</div>
<div class="footer"><p>Copyright © 2019 Bench Foreign Affairs Office. All Rights Reserved.</p></div>
</body></html>
"""


def _article(rng: random.Random, n: int, pages: int) -> tuple[str, str, str]:
    path, day = _article_path(n)
    title = f"{_english(rng, 8)[:-1]} {n}"
    paragraphs = []
    size = 0
    while size < 36_000:  # about 40 KB with the template, Chinese at 3 bytes a character
        para = _english(rng, rng.randint(40, 90)) if rng.random() < 0.6 else _chinese(rng, 150)
        paragraphs.append(f"<p>{para}</p>")
        size += len(para.encode())
    related = "".join(
        f'<li><a href="../../../{_article_path(m)[0]}">Related story {m}</a></li>'
        for m in rng.sample(range(pages), k=min(4, pages))
    )
    head = (
        f'<meta name="ArticleTitle" content="{title}" />\n'
        f'<meta name="PubDate" content="{day:%Y-%m-%d} 09:30" />\n'
        f'<meta name="Url" content="http://{HOST}/{path}" />\n'
    )
    main = f"""<div class="article">
<h1 class="article-title">{title}</h1>
<div class="article-info">Updated : {day:%Y-%m-%d}<span class="source">Source : FAO</span></div>
<div class="article-content" id="zoom"><div class="TRS_Editor">{"".join(paragraphs)}</div></div>
</div>
<div class="related"><h3>Related News</h3><ul>{related}</ul></div>"""
    return path, title, _page(title, head, main, 4)


def _listing(index: int, count: int, items: list[tuple[str, str]]) -> str:
    links = "\n".join(
        f'<li><a href="./{path.removeprefix(CHANNEL + "/")}" target="_blank">{title}</a></li>'
        for path, title in items
    )
    pager = f'createPageHTML({count}, {index}, "index", "html");'
    main = (
        f'<div class="list"><div class="list-content"><ul>\n{links}\n</ul>\n'
        f'<div class="page"><script type="text/javascript">{pager}</script></div></div></div>'
    )
    return _page("Bench News", "", main, 2)


def generate(root: Path, pages: int, seed: int = 7) -> list[str]:
    """Write the site under ``root/HOST``; return its start URLs."""
    rng = random.Random(seed)
    site = root / HOST
    items = []
    for n in range(pages):
        path, title, html = _article(rng, n, pages)
        file = site / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(html, encoding="utf-8")
        items.append((path, title))
    items.reverse()  # newest first, as list pages show them
    count = max(1, -(-pages // PER_LIST))
    for index in range(count):
        name = "index.html" if index == 0 else f"index_{index}.html"
        chunk = items[index * PER_LIST : (index + 1) * PER_LIST]
        (site / CHANNEL / name).write_text(_listing(index, count, chunk), encoding="utf-8")
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /search/\n", encoding="utf-8")
    return [f"http://{HOST}/{CHANNEL}/index.html"]


def write_config(path: Path, start_urls: list[str]) -> None:
    urls = ", ".join(f'"{u}"' for u in start_urls)
    path.write_text(
        f"""[settings]
download_timeout = 30

[[source]]
name = "bench"
title = "Bench Foreign Affairs Office"
homepage = "http://{HOST}/"
start_urls = [{urls}]
allowed_domains = ["{HOST}"]
article_patterns = ['{ARTICLE_PATTERN}']
pagination = "trs"
profile = "ccfao"
timezone = "Asia/Shanghai"
language = "en"
""",
        encoding="utf-8",
    )


# -- (a) the bare spider, run in a child process ---------------------------------------------


def bare_crawl(proxy: str, start_urls: list[str]) -> None:
    import re

    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response, TextResponse

    from scraper.settings import crawl_settings
    from scraper.sources import Settings
    from scraper.spiders.site import trs_next_page

    article = re.compile(ARTICLE_PATTERN)

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self) -> Any:
            for url in start_urls:
                yield scrapy.Request(url, callback=self.parse_listing)

        def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
            assert isinstance(response, TextResponse)
            for href in response.css("a::attr(href)").getall():
                url = response.urljoin(href)
                if article.search(url):
                    yield scrapy.Request(url, callback=self.parse_article)
            next_url = trs_next_page(response)
            if next_url:
                yield scrapy.Request(next_url, callback=self.parse_listing)

        def parse_article(self, response: Response) -> None:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("bare/articles")

    with tempfile.TemporaryDirectory() as tmp:
        settings = crawl_settings(Settings(), Path(tmp) / "unused.sqlite3", proxy)
        settings.update({"ITEM_PIPELINES": {}, "LOG_LEVEL": "WARNING"})
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(BareSpider)
        process.crawl(crawler)
        process.start()
        stats = crawler.stats.get_stats() if crawler.stats else {}
    print(f"responses {stats.get('downloader/response_count', 0)}")


# -- measuring child processes -----------------------------------------------------------------


@dataclass
class Run:
    label: str
    wall: float
    cpu: float
    max_rss_mb: float
    responses: int
    output: str

    @property
    def pages_per_s(self) -> float:
        return self.responses / self.wall if self.wall else 0.0


def measure(label: str, command: list[str], responses: Any) -> Run:
    """Run ``command``; its wall time, CPU seconds and peak RSS from ``os.wait4``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    if process.returncode != 0:
        raise SystemExit(f"{label} failed ({process.returncode}):\n{output[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(label, wall, cpu, usage.ru_maxrss / 1024, responses(output), output)


def govfeed_command(config: Path, data: Path, proxy: str) -> list[str]:
    return [
        sys.executable, "-m", "cli", "--config", str(config), "--data", str(data),
        "crawl", "--proxy", proxy, "--no-feeds",
    ]  # fmt: skip


def govfeed_pages(output: str) -> int:
    import re

    match = re.search(r"bench: (\d+) pages fetched", output)
    if not match:
        raise SystemExit(f"no crawl summary in:\n{output[-3000:]}")
    return int(match[1])


def last_run(data: Path) -> dict[str, Any]:
    import json

    db = sqlite3.connect(data / "govfeed.sqlite3")
    try:
        row = db.execute("SELECT outcome, stats FROM runs ORDER BY id DESC").fetchone()
    finally:
        db.close()
    return {"outcome": row[0], **json.loads(row[1])}


def kind(url: str) -> str:
    if url.endswith("/robots.txt"):
        return "robots.txt"
    return "article" if "/t" in url.rsplit("/", 1)[-1][:2] else "list page"


def main() -> int:
    from scraper.replay import ReplayServer

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pages", type=int, default=5000, help="article pages (default %(default)s)")
    p.add_argument("--keep", action="store_true", help="keep the generated site and stores")
    p.add_argument("--bare-child", nargs=2, metavar=("PROXY", "START"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.bare_child:
        bare_crawl(args.bare_child[0], [args.bare_child[1]])
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="govfeed-bench-"))
    try:
        return run_bench(tmp, args.pages, ReplayServer)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_bench(tmp: Path, pages: int, server: Any) -> int:
    started = time.perf_counter()
    full, small = tmp / "site", tmp / "site-small"
    start_urls = generate(full, pages)
    generate(small, max(1, pages // 10))
    size = sum(f.stat().st_size for f in (full / HOST).rglob("t*.html")) / pages
    lists = len(list((full / HOST / CHANNEL).glob("index*.html")))
    print(
        f"site: {pages} articles (mean {size / 1024:.1f} KB), {lists} list pages; "
        f"generated in {time.perf_counter() - started:.1f}s on {os.cpu_count()} CPUs"
    )
    config = tmp / "sources.toml"
    write_config(config, start_urls)
    bare_cmd = [sys.executable, __file__, "--bare-child"]

    def responses(output: str) -> int:
        return int(output.rsplit("responses ", 1)[1].split()[0])

    with server(full) as replay:
        bare = measure("bare spider", [*bare_cmd, replay.proxy_url, start_urls[0]], responses)
        data = tmp / "data"
        full_run = measure(
            "govfeed", govfeed_command(config, data, replay.proxy_url), govfeed_pages
        )
        first = last_run(data)
        before = replay.requests
        again = measure("re-crawl", govfeed_command(config, data, replay.proxy_url), govfeed_pages)
        second = last_run(data)
        after = replay.requests
    with server(small) as replay:
        small_run = measure(
            f"govfeed, {max(1, pages // 10)} pages",
            govfeed_command(config, tmp / "data-small", replay.proxy_url),
            govfeed_pages,
        )

    print()
    header = ("pages", "wall s", "pages/s", "CPU ms/page", "peak RSS MB")
    print(
        f"{'crawl':<24}"
        + "".join(f"{h:>{w}}" for h, w in zip(header, (7, 9, 9, 13, 13), strict=True))
    )
    for run in (bare, full_run, again, small_run):
        print(
            f"{run.label:<24}{run.responses:>7}{run.wall:>9.1f}{run.pages_per_s:>9.1f}"
            f"{1000 * run.cpu / max(run.responses, 1):>13.2f}{run.max_rss_mb:>13.1f}"
        )
    ratio = full_run.pages_per_s / bare.pages_per_s
    print()
    print(f"first crawl: outcome {first['outcome']}, {first.get('articles/new', 0)} new articles")
    print(
        f"govfeed / bare pages/s: {ratio:.2f} "
        f"(target >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'MISSED'})"
    )
    recrawl: Counter[str] = Counter()
    for url, n in after.items():
        recrawl[kind(url)] += n - before.get(url, 0)
    articles = recrawl.get("article", 0)
    not_modified = second.get("list_pages_not_modified", 0)
    print(
        f"re-crawl requests: {dict(recrawl)}; list pages answered 304: {not_modified}/"
        f"{second.get('list_pages', 0)}; article fetches {articles} "
        f"(target 0: {'met' if articles == 0 else 'MISSED'})"
    )
    memory = full_run.max_rss_mb / small_run.max_rss_mb
    print(
        f"peak RSS {pages} vs {max(1, pages // 10)} pages: {memory:.2f}x "
        f"(target <= {MEMORY_RATIO}: {'met' if memory <= MEMORY_RATIO else 'MISSED'})"
    )
    print(f"total bench time {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
