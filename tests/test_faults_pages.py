"""More faults through a real crawl: redirect loops, wrong or missing charsets, dead links.

One ``govfeed crawl`` of three sources at once through the fault server (tests/faultserver.py):
- ``loops``: articles that redirect to themselves, in a two-step loop, and down an endless
  chain of fresh URLs, next to a healthy one;
- ``charset``: Chinese articles encoded in GBK, served as ``charset=utf-8``, with no charset
  at all, and with only a ``<meta>`` saying gbk;
- ``gone``: a list page whose every article link answers 404.
Each fault must be recorded with a type (and a bounded number of requests), the Chinese text
must be stored as written, and no source's fault may touch another's articles.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_govfeed, source_toml
from tests.faultserver import Fault, FaultServer

NOW = "2026-11-20T10:00:00+08:00"
MAX_REDIRECTS = 20  # Scrapy's REDIRECT_MAX_TIMES
# Chinese text that is distinct in GBK and UTF-8 (a wrong decode cannot pass by chance)
TITLE = "长春市外办会见德国友好城市代表团"
PARAGRAPHS = [
    "十一月十八日，市外办主任会见了来访的德国代表团，双方就教育、文化和经贸合作深入交流。",
    "代表团表示，愿与长春在汽车产业、科技创新和青年交流等领域开展更多务实合作。",
    "会见结束后，代表团参观了长春国际汽车城和净月潭国家森林公园，并出席欢迎晚宴。",
]


def page(title: str, paragraphs: list[str], meta: str = "") -> str:
    """An article in the CCFAO (TRS) template, as text: the caller picks the encoding."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head>{meta}
<title>{title}</title>
<meta name="ArticleTitle" content="{title}" />
<meta name="PubDate" content="2026-11-18 09:30" />
</head><body>
<div class="article"><h1 class="article-title">{title}</h1>
<div class="article-info">Updated : 2026-11-18<span class="source">Source :</span></div>
<div class="article-content"><div class="TRS_Editor">{body}</div></div></div>
</body></html>"""


def english(n: int) -> bytes:
    words = f"The office met a delegation from partner city number {n} to discuss trade."
    return page(f"Healthy story {n}", [words] * 4).encode()


def listing(paths: list[str]) -> bytes:
    return "".join(f'<a href="{p}">story</a><br>' for p in paths).encode()


def article(prefix: str, n: int) -> str:
    return f"/{prefix}/202611/t202611{n:02d}_{n}.html"


SELF = article("loops", 1)  # redirects to itself
PING, PONG = article("loops", 2), "/loops/pong.html"  # 302 to each other
CHAIN = article("loops", 3)  # → /loops/chain/1 → /loops/chain/2 → … never the same URL
LOOP_OK = article("loops", 4)
GBK_SAID_UTF8 = article("charset", 1)
GBK_UNDECLARED = article("charset", 2)
GBK_META_ONLY = article("charset", 3)
CHARSET_UTF8 = article("charset", 4)  # the control: UTF-8 said and sent, another story
OTHER_TITLE = "吉林省外办举办中日青少年交流活动"
OTHER = [
    "活动期间，来自日本的四十名中学生与长春学生一同学习书法、剪纸和中国传统音乐。",
    "省外办负责人表示，青少年交流是增进两国人民相互理解的重要桥梁，将持续举办。",
]
GONE = [article("gone", n) for n in (1, 2, 3)]

GBK = page(TITLE, PARAGRAPHS).encode("gbk")
ROUTES: dict[str, Fault] = {
    "/loops/index.html": Fault(body=listing([SELF, PING, CHAIN, LOOP_OK])),
    SELF: Fault("redirect", 301, location=f"http://loops.example.gov.cn{SELF}"),
    PING: Fault("redirect", 302, location=PONG),
    PONG: Fault("redirect", 302, location=PING),
    CHAIN: Fault("redirect", 302, location="/loops/chain/1"),
    **{
        f"/loops/chain/{i}": Fault("redirect", 302, location=f"/loops/chain/{i + 1}")
        for i in range(1, 3 * MAX_REDIRECTS)
    },
    LOOP_OK: Fault(body=english(4)),
    "/charset/index.html": Fault(
        body=listing([GBK_SAID_UTF8, GBK_UNDECLARED, GBK_META_ONLY, CHARSET_UTF8])
    ),
    GBK_SAID_UTF8: Fault(body=GBK, content_type="text/html; charset=utf-8"),
    GBK_UNDECLARED: Fault(body=GBK, content_type="text/html"),
    GBK_META_ONLY: Fault(
        body=page(TITLE, PARAGRAPHS, '<meta charset="gbk">').encode("gbk"),
        content_type="text/html",
    ),
    CHARSET_UTF8: Fault(body=page(OTHER_TITLE, OTHER).encode()),
    "/gone/index.html": Fault(body=listing(GONE)),  # and no route for them: 404
}


def config(tmp: Path) -> Path:
    sources = "".join(
        source_toml(
            name,
            name,
            f"{name}.example.gov.cn",
            f"/{name}/index.html",
            profile='"ccfao"',
            language='"zh"',
        )
        for name in ("loops", "charset", "gone")
    )
    path = tmp / "sources.toml"
    path.write_text("[settings]\ndownload_timeout = 5\n" + sources, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    """One crawl of the three sources: (data folder, the crawl's output, requests per path)."""
    tmp = tmp_path_factory.mktemp("pages")
    data = tmp / "data"
    with FaultServer(ROUTES) as server:
        result = run_govfeed(
            "crawl", "--proxy", server.proxy_url, "--now", NOW, "--no-feeds",
            data=data, config=config(tmp), timeout=90,
        )  # fmt: skip
        requests = server.requests
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return data, result, requests


def query(data: Path, sql: str, *args: object) -> list[tuple]:
    db = sqlite3.connect(data / "govfeed.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def run_stats(data: Path, source: str) -> tuple[str, dict[str, int]]:
    outcome, stats = query(data, "SELECT outcome, stats FROM runs WHERE source = ?", source)[0]
    return outcome, json.loads(stats)


def summary(result, source: str) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith(f"{source}:"))


def test_redirect_loops_are_recorded_failures_after_a_bounded_number_of_requests(
    crawled,
) -> None:
    data, result, requests = crawled
    _, stats = run_stats(data, "loops")
    assert stats.get("errors/redirect loop") == 2, stats  # SELF and PING ⇄ PONG
    assert stats.get("errors/too many redirects") == 1, stats  # the endless chain
    line = summary(result, "loops")
    assert "redirect loop x2" in line and "too many redirects x1" in line, line
    # every failure has a type a health check can read, and the healthy page was stored
    assert stats.get("failures/error") == 3, stats
    assert query(data, "SELECT title FROM articles WHERE source = 'loops'") == [
        ("Healthy story 4",)
    ]
    # bounded: a loop is noticed when it closes; the chain stops at Scrapy's limit
    assert requests[SELF] == 1
    assert requests[PING] == 1 and requests[PONG] == 1
    chain = sum(n for path, n in requests.items() if path.startswith("/loops/chain/"))
    assert chain == MAX_REDIRECTS, chain
    # a redirect loop is worth another try next run (a site mid-migration), so not "dropped"
    assert query(data, "SELECT url FROM dropped_pages WHERE source = 'loops'") == []


@pytest.mark.parametrize(
    "path", [GBK_SAID_UTF8, GBK_UNDECLARED, GBK_META_ONLY], ids=["said-utf8", "none", "meta"]
)
def test_gbk_pages_with_a_wrong_or_missing_charset_are_stored_as_written(
    crawled, path: str
) -> None:
    data, _, _ = crawled
    rows = query(data, "SELECT title, body FROM article_urls JOIN articles a ON a.id = "
                 "article_id WHERE article_urls.url LIKE ?", f"%{path}")  # fmt: skip
    assert len(rows) == 1, rows
    title, body = rows[0]
    assert title == TITLE
    assert body.splitlines() == PARAGRAPHS
    assert "\ufffd" not in title + body


def test_the_three_gbk_copies_are_one_article_and_the_utf8_page_another(crawled) -> None:
    data, result, _ = crawled
    rows = query(data, "SELECT title FROM articles WHERE source = 'charset'")
    assert sorted(rows) == sorted([(TITLE,), (OTHER_TITLE,)])  # decoded alike: one text
    assert "2 new" in summary(result, "charset") and "0 errors" in summary(result, "charset")


def test_a_list_page_whose_links_all_404_records_each_and_touches_nothing_else(
    crawled,
) -> None:
    data, result, requests = crawled
    outcome, stats = run_stats(data, "gone")
    assert stats.get("errors/http 404") == len(GONE), stats
    assert stats.get("failures/gone") == len(GONE), stats
    assert "http 404 x3" in summary(result, "gone")
    dropped = query(data, "SELECT url, reason FROM dropped_pages WHERE source = 'gone'")
    assert sorted(dropped) == sorted((f"http://gone.example.gov.cn{p}", "http 404") for p in GONE)
    assert all(requests[p] == 1 for p in GONE)  # a 404 is final: no retries
    assert query(data, "SELECT count(*) FROM articles WHERE source = 'gone'") == [(0,)]
    assert outcome != "ok"  # nothing stored: the run says so
    # the other sources of the same run stored their articles
    counts = dict(query(data, "SELECT source, count(*) FROM articles GROUP BY source"))
    assert counts == {"loops": 1, "charset": 2}


@pytest.mark.parametrize(
    ("chain", "location", "loop"),
    [
        (["http://a.gov.cn/x.html"], "http://a.gov.cn/x.html", True),
        (["http://a.gov.cn/x.html"], "/x.html#top", True),  # a fragment is the same page
        (["http://a.gov.cn/x.html", "http://a.gov.cn/y.html"], "x.html", True),
        (["http://a.gov.cn/x.html"], "https://a.gov.cn/x.html", False),  # to https: fine
        (["http://a.gov.cn/x.html"], "http://a.gov.cn/x.html?page=2", False),
        (["http://a.gov.cn/x.html"], "http://www.a.gov.cn/x.html", False),
    ],
)
def test_a_redirect_loop_is_a_url_already_in_the_chain(
    chain: list[str], location: str, loop: bool
) -> None:
    from scrapy import Request
    from scrapy.http import Response

    from scraper.middlewares import RedirectLoop, RedirectLoopMiddleware

    request = Request(chain[-1], meta={"redirect_urls": chain[:-1]} if chain[:-1] else {})
    response = Response(request.url, status=302, headers={"Location": location})
    middleware = RedirectLoopMiddleware()
    if loop:
        with pytest.raises(RedirectLoop):
            middleware.process_response(request, response)
    else:
        assert middleware.process_response(request, response) is response
    # a list page's 304 and other answers are never redirects
    assert middleware.process_response(request, Response(request.url, status=304)).status == 304


def test_a_redirected_article_link_is_known_next_run_and_not_fetched_again(
    tmp_path: Path,
) -> None:
    """The store keeps the URL asked for beside the one answered, so a link that redirects
    (an http→https move, a renamed page) is fetched once, not on every run."""
    moved, final = article("moved", 1), "/moved/202611/t20261101_1_new.html"
    routes = {
        "/moved/index.html": Fault(body=listing([moved])),
        moved: Fault("redirect", 301, location=final),
        final: Fault(body=english(1)),
    }
    path = tmp_path / "sources.toml"
    path.write_text(
        config(tmp_path).read_text(encoding="utf-8").replace("loops", "moved"), encoding="utf-8"
    )
    data = tmp_path / "data"
    with FaultServer(routes) as server:
        for _ in range(2):
            result = run_govfeed(
                "crawl", "moved", "--proxy", server.proxy_url, "--now", NOW, "--no-feeds",
                data=data, config=path, timeout=90,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr[-3000:]
        requests = dict(server.requests)
    assert requests[moved] == 1 and requests[final] == 1, requests
    assert requests["/moved/index.html"] == 2
    urls = {row[0] for row in query(data, "SELECT url FROM article_urls")}
    assert urls == {f"http://moved.example.gov.cn{p}" for p in (moved, final)}
    assert query(data, "SELECT count(*) FROM articles") == [(1,)]
