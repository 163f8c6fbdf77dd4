"""The CCFAO profile on hand-made pages of its two templates (see notes/ccfao_layout.md)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from scraper.extract import extract_article, get_profile, profile_for_url

SH = ZoneInfo("Asia/Shanghai")

NEW = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "x">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>Sister Cities Meet Online - Changchun Foreign Affairs Office</title>
<meta name="ColumnName" content="Changchun News" />
<meta name="ArticleTitle" content="Sister Cities Meet Online" />
<meta name="PubDate" content="{pubdate}" />
<meta name="ContentSource" content="{source}" />
<meta name="Url" content="http://en.changchun.gov.cn/xw/ccxw1/202103/t20210305_9.html" />
</head><body>
<div class="header">Today is <script>document.write(new Date())</script> 2026-02-01</div>
<div class="main-content"><div class="article">
<h1 class="article-title">Sister Cities Meet Online</h1>
<div class="article-info">Updated : 2021-03-04<span class="source">Source : {source}</span>
<span class="fonts">【Fonts: <a href="javascript:doZoom(16)">A+</a> <a href="#">A</a>
<a href="#">A-</a></span> <a href="javascript:window.print()" class="print">Print</a></div>
<div class="article-content"><div class="TRS_Editor">
<p>Sister Cities Meet Online to Plan a Year of Exchanges &mdash; a longer headline variant</p>
<p>Officials of the two cities held a video call on Thursday.</p>
<p style="text-align: center"><img src="./W020210305_1.jpg" alt="call" /></p>
<p style="text-align: center">The video call in progress</p>
<p>They agreed to hold a joint photo exhibition in autumn.</p>
</div></div></div>
<div class="related"><h3>Related News</h3><ul>
<li><a href="../202102/t20210201_1.html">Other story</a><span>2021-02-01</span></li></ul></div>
</div>
<div class="footer"><p>Copyright © 2019 Changchun Foreign Affairs Office.</p></div>
</body></html>"""

OLD = """<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Delegation Visits Twin Town</title>
<meta name="ArticleTitle" content="Delegation Visits Twin Town">
<meta name="ColumnName" content="news">
</head><body>
<div id="top"><a href="../../../index.html">Home</a></div>
<div class="position">Your current location : <a href="../../../index.html">Home</a>&gt;&gt;
<a href="../../">News</a>&gt;&gt;<a href="../">news</a></div>
<div class="detail"><div class="detail-title">Delegation Visits Twin Town</div>
<div class="detail-content"><div class="TRS_Editor"><p>A delegation travelled to the twin
town in May 2018.</p><p>Both sides signed a memorandum.</p></div></div></div>
<div id="bottom">Copyright © 2018 Changchun</div>
</body></html>"""

NEW_URL = "http://en.changchun.gov.cn/xw/ccxw1/202103/t20210305_9.html"
OLD_URL = "http://en.changchun.gov.cn/news/xw/201805/t20180514_7.htm"


def test_profile_registered_for_host() -> None:
    profile = profile_for_url(NEW_URL)
    assert profile is not None and profile.name == "ccfao"


def test_new_template_fields() -> None:
    page = NEW.format(pubdate="2021-03-04 16:05", source="CCFAO")
    art = extract_article(page.encode(), NEW_URL, get_profile("ccfao"))
    assert art.title == "Sister Cities Meet Online"
    assert art.published == datetime(2021, 3, 4, 16, 5, tzinfo=SH)
    assert art.date_evidence == "meta:PubDate"
    assert art.source == "CCFAO"
    assert art.channel == "Changchun News"
    assert art.lang == "en"
    assert art.canonical_url == NEW_URL
    lines = art.body.split("\n")
    assert lines[0].startswith("Sister Cities Meet Online to Plan")  # longer variant kept
    assert lines[-1] == "They agreed to hold a joint photo exhibition in autumn."
    for junk in ("Fonts", "Print", "Updated", "Source :", "Related News", "Copyright", "Today"):
        assert junk not in art.body
    assert [i.src for i in art.images] == [
        "http://en.changchun.gov.cn/xw/ccxw1/202103/W020210305_1.jpg"
    ]
    assert art.images[0].caption == "The video call in progress"
    assert "<script" not in art.body_html and "<p>" in art.body_html


def test_new_template_empty_source_is_none() -> None:
    page = NEW.format(pubdate="2021-03-04 16:05", source="")
    art = extract_article(page, NEW_URL, get_profile("ccfao"))
    assert art.source is None
    assert any("source" in w for w in art.warnings)


def test_new_template_without_pubdate_uses_visible_label() -> None:
    page = NEW.format(pubdate="", source="CCFAO")
    art = extract_article(page, NEW_URL, get_profile("ccfao"))
    assert art.published == datetime(2021, 3, 4, tzinfo=SH)
    assert art.date_evidence == "label"
    assert art.published_raw == "2021-03-04"


def test_old_template_url_date_and_no_breadcrumb() -> None:
    art = extract_article(OLD.encode(), OLD_URL, get_profile("ccfao"))
    assert art.title == "Delegation Visits Twin Town"
    assert art.published == datetime(2018, 5, 14, tzinfo=SH)
    assert art.date_evidence == "url"
    assert art.source is None
    assert art.channel == "news"
    assert art.body.startswith("A delegation travelled to the twin town in May 2018.")
    assert "current location" not in art.body and "Copyright" not in art.body


def test_no_date_evidence_gives_none() -> None:
    page = OLD.encode()
    art = extract_article(
        page, "http://en.changchun.gov.cn/news/xw/about.htm", get_profile("ccfao")
    )
    assert art.published is None
    assert any(w.startswith("published") for w in art.warnings)


def test_a_long_block_that_starts_like_a_dropped_line_is_kept() -> None:
    """An editor's container that opens with its own "Updated :" line is still the article:
    drop_lines take out short furniture blocks, never the whole text."""
    story = "".join(f"<p>Paragraph {n} of the exchange programme report.</p>" for n in range(40))
    page = NEW.format(pubdate="2021-03-04 10:00", source="CCFAO").replace(
        '<div class="TRS_Editor">',
        f'<div class="TRS_Editor"><div class="box">Updated : 2021-03-04 {story}</div>',
    )
    art = extract_article(page.encode(), NEW_URL, get_profile("ccfao"))
    assert "Paragraph 39 of the exchange programme report." in art.body
    assert "Officials of the two cities held a video call on Thursday." in art.body
