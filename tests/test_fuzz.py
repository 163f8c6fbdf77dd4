"""Fuzzing: the config loader and the URL canonicalizer on arbitrary input (hypothesis), and
those and ``extract_article`` with coverage guidance (atheris, at the end).

The loader either returns a Config or raises ConfigError (one line for the user), never
anything else. The canonicalizer never raises on text a page can hold, and is idempotent:
its output is its own canonical form, so stored URLs and keys are stable.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.sources import Config, ConfigError, load_config
from scraper.urls import canonical_url, url_key
from tests.conftest import ROOT

VALID = """[settings]
download_timeout = 5

[[source]]
name = "ccfao"
title = "Changchun FAO"
homepage = "http://en.changchun.gov.cn/"
start_urls = ["http://en.changchun.gov.cn/xw/ccxw1/index.html"]
allowed_domains = ["en.changchun.gov.cn"]
article_patterns = ['/t\\d{8}_\\d+\\.html?$']
pagination = "trs"
profile = "ccfao"
timezone = "Asia/Shanghai"
schedule = { every = "6h", jitter = "10m" }
"""

# TOML-ish text: the valid file with lines dropped, swapped or mutated, and random text
_LINES = VALID.splitlines()
_VALUES = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True).map(repr),
    st.text(max_size=30).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', "") + '"'),
    st.sampled_from(
        ['"../../etc"', '"6x"', '"0s"', '{ cron = "* * *" }', "[]", "true", '"Nope/Zone"']
    ),
)
_KEYS = st.sampled_from(
    ["name", "title", "homepage", "start_urls", "allowed_domains", "article_patterns",
     "pagination", "profile", "timezone", "schedule", "download_timeout", "port",
     "concurrent_requests_per_domain", "feed_entries", "unknown"]
)  # fmt: skip


@st.composite
def toml_ish(draw: st.DrawFn) -> str:
    lines = list(_LINES)
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(["drop", "set", "dup", "garbage"]))
        index = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if action == "drop" and lines:
            del lines[index]
        elif action == "set":
            lines.insert(index, f"{draw(_KEYS)} = {draw(_VALUES)}")
        elif action == "dup" and lines:
            lines.insert(index, lines[index])
        else:
            lines.insert(index, draw(st.text(max_size=40)))
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(toml_ish(), st.text(max_size=200)))
def test_load_config_returns_a_config_or_raises_config_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sources.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            config = load_config(path)
        except ConfigError as exc:
            assert "\n" not in str(exc)
        else:
            assert isinstance(config, Config)


def test_the_unmutated_config_is_valid() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sources.toml"
        path.write_text(VALID, encoding="utf-8")
        assert load_config(path).sources[0].name == "ccfao"


_URLISH = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}{host}{port}{path}{query}",
    st.sampled_from(["http://", "https://", "HTTP://", "", "//", "ftp://", "javascript:"]),
    st.one_of(st.from_regex(r"[A-Za-z0-9.\-]{0,20}", fullmatch=True), st.text(max_size=12)),
    st.sampled_from(["", ":80", ":443", ":8080", ":", ":0"]),
    st.text(max_size=30).map(lambda t: "/" + t),
    st.one_of(st.just(""), st.text(max_size=20).map(lambda t: "?" + t)),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_URLISH, st.text(max_size=60)))
def test_canonical_url_is_idempotent_and_never_raises(url: str) -> None:
    canonical = canonical_url(url)
    key = url_key(url)
    assert canonical_url(canonical) == canonical
    assert url_key(canonical) == key


def test_canonical_url_of_a_hostless_url_with_a_fragment_is_a_fixed_point() -> None:
    """Found by atheris: the fragment went after the whitespace was stripped, leaving "\n"."""
    canonical = canonical_url("\x7f\x7f\x7f*\n#")
    assert canonical == "\x7f\x7f\x7f*"
    assert canonical_url(canonical) == canonical


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xef", "not UTF-8 text"),  # found by atheris: tomllib's UnicodeDecodeError escaped
        (b'name = "caf\xe9"', "not UTF-8 text"),  # a Latin-1 file
    ],
)
def test_a_config_that_is_not_utf8_is_a_config_error(tmp_path: Path, data: bytes, says: str):
    path = tmp_path / "sources.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match=says):
        load_config(path)


def test_a_config_path_that_is_a_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read it"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    "url", ["http://a:x/", "http://a:99999/", "http://[x/", "http://a\uff0fb/"]
)
def test_canonical_url_never_raises_on_malformed_netlocs(url: str) -> None:
    assert canonical_url(url) == url  # unparseable: kept as spelled
    assert url_key(url) == url.removeprefix("http:")


# -- atheris: coverage-guided, each target in its own process (tests/fuzz_targets.py) -------

SEED_PAGE = ROOT / "fixtures" / "sites" / "en.changchun.gov.cn" / "xw" / "ccxw1"


@pytest.mark.parametrize(
    ("target", "runs", "seeds"),
    [
        ("extract", 1500, [SEED_PAGE]),  # starts from the replica's article pages
        ("config", 10000, []),
        ("url", 20000, []),
    ],
)
def test_atheris_finds_nothing(tmp_path: Path, target: str, runs: int, seeds: list[Path]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for folder in seeds:
        for page in sorted(folder.rglob("t*.html"))[:8]:
            (corpus / page.name).write_bytes(page.read_bytes())
    command = [
        sys.executable, str(ROOT / "tests" / "fuzz_targets.py"), target, str(corpus),
        f"-runs={runs}", "-seed=1", "-max_len=65536", f"-artifact_prefix={tmp_path}/",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Done {runs} runs" in result.stderr
