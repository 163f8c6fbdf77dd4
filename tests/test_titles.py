"""Title choice between <title>/og:title and the visible headline, on small authored pages."""

from __future__ import annotations

import pytest

from scraper.extract import extract_article

URL = "https://www.ministry.example.de/news/energy.html"


def page(title: str, h1: str, og: str | None = None) -> str:
    meta = f'<meta property="og:title" content="{og}">' if og else ""
    return (
        f"<html><head><title>{title}</title>{meta}"
        '<meta property="og:site_name" content="Federal Ministry"></head><body>'
        f"<main><h1>{h1}</h1><p>{'The ministry funds research on the energy transition. ' * 8}"
        "</p></main></body></html>"
    )


def test_a_fuller_visible_headline_wins_over_a_shortened_title() -> None:
    html = page(
        "Energy Transition and Sustainable Business - Federal Ministry",
        "<span>Energy Transition, Mobility and Sustainable Business</span>"
        '<span class="aural">: </span><small class="topline">Research</small>',
    )
    assert (
        extract_article(html, URL).title == "Energy Transition, Mobility and Sustainable Business"
    )


def test_same_words_in_other_punctuation_keep_the_title_spelling() -> None:
    html = page("A lawyer's journey from adversity", "A lawyer\u2019s journey from adversity")
    assert extract_article(html, URL).title == "A lawyer's journey from adversity"


@pytest.mark.parametrize(
    "h1",
    [
        # more than twice the title's words: a teaser or a different heading, not the headline
        "Energy Transition and Business: how the ministry, the states and the cities plan "
        "the next ten years of grid, storage and hydrogen funding",
        # does not hold every word of the title
        "Energy Transition and Mobility",
    ],
)
def test_a_heading_that_is_not_the_headline_leaves_the_title(h1: str) -> None:
    html = page("Energy Transition and Sustainable Business - Federal Ministry", h1)
    assert extract_article(html, URL).title == "Energy Transition and Sustainable Business"
