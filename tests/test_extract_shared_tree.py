"""The generic path hands our parsed tree to trafilatura and htmldate without copying it
first (both copy a tree they are given); later stages read the same tree, so neither
library may change it."""

from __future__ import annotations

from lxml import etree

from scraper.extract.body import trafilatura_body
from scraper.extract.pipeline import _htmldate, _Page
from scraper.extract.text import parse_html

PAGE = """<html><head><title>Budget approved - City News</title>
<meta name="description" content="x"><script>var a = 1;</script></head>
<body><nav><a href="/">Home</a> &gt; <a href="/news">News</a></nav>
<article><h1>Budget approved</h1><p class="meta">Published 12 March 2024</p>
<p>The council approved the budget for next year after a long debate in the chamber.</p>
<p>Spending on schools rises by four percent, and road repairs get a new fund.</p>
<div class="related"><ul><li><a href="/a">Other story 2023-01-01</a></li></ul></div>
</article><footer>Copyright 2024</footer></body></html>"""


def test_trafilatura_and_htmldate_leave_the_tree_untouched() -> None:
    tree = parse_html(PAGE)
    assert tree is not None
    before = etree.tostring(tree)
    body = trafilatura_body(tree, "https://example.org/news/budget")
    found = _htmldate(_Page(tree, "https://example.org/news/budget", None))
    assert etree.tostring(tree) == before
    assert body is not None and "council approved the budget" in body.text
    assert found is not None and found.value.date().isoformat() == "2024-03-12"
