"""Shared helpers of the feed tests: a one-source config and distinct generated articles."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scraper.extract.article import Article
from scraper.sources import Config, load_config

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:8080"
HOST = "http://en.changchun.gov.cn"


def one_source_config(tmp_path: Path, feed_entries: int = 50) -> Config:
    path = tmp_path / "sources.toml"
    path.write_text(
        f"""
[settings]
feed_entries = {feed_entries}

[[source]]
name = "ccfao"
title = "Changchun FAO"
homepage = "{HOST}/"
start_urls = ["{HOST}/xw/ccxw1/index.html"]
allowed_domains = ["en.changchun.gov.cn"]
article_patterns = ['/t\\d{{8}}_\\d+\\.html$']
language = "en"
""",
        encoding="utf-8",
    )
    return load_config(path)


def words(seed: int, count: int = 60) -> str:
    """Text no other seed shares a sentence with (so the store never merges two of them)."""
    out = []
    for k in range(count):
        digest = hashlib.sha1(f"{seed}:{k}".encode()).hexdigest()
        out.append(digest[: 4 + k % 5])
    return " ".join(out)


def article(
    i: int,
    channel: str | None = "Changchun News",
    published: datetime | None = None,
    **fields: object,
) -> Article:
    """Article number ``i``: its own URL, title and text; published ``i`` hours after 2020."""
    values: dict[str, object] = {
        "url": f"{HOST}/xw/ccxw1/202008/t20200801_{i}.html",
        "title": f"Report number {i} on {words(i, 3)}",
        "body": f"{words(i)}.\nSecond paragraph {words(i + 100000, 20)}.",
        "body_html": f"<p>{words(i)}.</p>",
        "published": published or datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=i),
        "source": "CCFAO",
        "channel": channel,
    }
    values.update(fields)
    return Article(**values)  # type: ignore[arg-type]
