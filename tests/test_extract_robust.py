"""Property: extract_article never raises, whatever bytes or text it is given."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.extract import Article, extract_article, get_profile

PAGE = (
    '<html><head><meta charset="gb2312"><title>标题 - 网站</title>'
    '<meta name="PubDate" content="2020-08-03 09:12"></head><body>'
    '<div class="TRS_Editor"><p>正文第一段。</p><p>Second paragraph.</p></div>'
    "<div class='footer'>Copyright 2019</div></body></html>"
)
FRAGMENTS = st.sampled_from(
    ["<p>", "</p>", "<div class='TRS_Editor'>", "</div>", "<script>", "<!--", "-->", "<![CDATA[",
     "<meta name='PubDate' content='", "'>", "2020-13-45", "发布时间：", "来源：", "\x00", "\ufeff",
     "<?xml version='1.0' encoding='utf-8'?>", "<h1>", "</h1>", "&#xD800;", "&bogus;", "<img src='",
     "javascript:", "<title>", "Updated : ", "Source : ", "<time datetime='", "<br>"]
)  # fmt: skip


def _check(art: Article) -> None:
    assert isinstance(art, Article)
    assert art.published is None or art.published.tzinfo is not None
    assert isinstance(art.body, str) and isinstance(art.warnings, list)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes(data: bytes) -> None:
    _check(extract_article(data, "http://example.gov.cn/a/t20200101_1.html"))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=20)), max_size=60))
def test_random_markup(parts: list[str]) -> None:
    html = "".join(parts)
    _check(extract_article(html, "http://en.changchun.gov.cn/x.html", get_profile("ccfao")))
    _check(extract_article(html.encode("utf-8", "surrogatepass"), ""))


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(PAGE.encode("gb18030"))), st.sampled_from(
    ["gb18030", "utf-8", "utf-16", "cp1250", "latin-1"]
))  # fmt: skip
def test_truncated_and_misencoded(cut: int, encoding: str) -> None:
    data = PAGE.encode(encoding, "replace")[:cut]
    _check(extract_article(data, "http://www.shanxi.gov.cn/yw/t20200803_1.shtml"))
    _check(extract_article(data, "not a url", content_type="text/html; charset=bogus"))


def test_text_after_an_embed_or_a_video_source_is_kept() -> None:
    """libxml2 nests what follows an HTML5 void element inside it; the body lost it all."""
    paragraphs = [
        "The mayor met the delegation from the partner city at the city hall on Monday.",
        "Both sides agreed to widen exchanges in port logistics and green shipping.",
        "A video of the meeting was shown to students of the foreign languages school.",
        "The delegation will visit the automobile city and the forest park on Tuesday.",
    ]
    html = (
        "<html><head><title>Mayor meets delegation</title></head><body><h1>Mayor meets "
        f"delegation</h1><div class='TRS_Editor'><p>{paragraphs[0]}</p>"
        f'<embed src="/v/meeting.swf" width="400"><p>{paragraphs[1]}</p>'
        f'<video controls><source src="/v/a.mp4"><source src="/v/a.webm"></video>'
        f"<p>{paragraphs[2]}</p><p>{paragraphs[3]}<wbr>Done.</p></div></body></html>"
    )
    art = extract_article(html, url="http://www.example.gov.cn/news/t20261101_1.html")
    assert art.body.splitlines()[:3] == paragraphs[:3]
    assert paragraphs[3] in art.body and "Done." in art.body
    assert all(p in art.body_html for p in paragraphs)
