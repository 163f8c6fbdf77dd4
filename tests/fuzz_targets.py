"""Coverage-guided fuzzing with atheris (libFuzzer): run as a script, one target at a time.

    python tests/fuzz_targets.py extract|config|url [libFuzzer flags, e.g. -runs=2000]

Each target feeds arbitrary bytes to a public entry point and checks its contract; any other
exception is a finding (atheris prints it and exits non-zero). ``tests/test_fuzz.py`` runs
every target for a bounded number of inputs; hypothesis covers the same code with generated
structure, atheris with coverage feedback from the instrumented govfeed modules.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["scraper"]):
    from scraper.extract import extract_article, get_profile
    from scraper.sources import ConfigError, load_config
    from scraper.urls import canonical_url, url_key

_TMP = Path(tempfile.mkdtemp(prefix="govfeed-fuzz-"))
_PROFILE = get_profile("ccfao")


def extract(data: bytes) -> None:
    """Never raises; dates it returns are zone-aware."""
    fdp = atheris.FuzzedDataProvider(data)
    with_profile = fdp.ConsumeBool()
    html = fdp.ConsumeBytes(fdp.remaining_bytes())
    article = extract_article(
        html, url="http://en.changchun.gov.cn/xw/t20200101_1.html",
        profile=_PROFILE if with_profile else None,
    )  # fmt: skip
    assert article.published is None or article.published.tzinfo is not None


def config(data: bytes) -> None:
    """A Config, or a ConfigError of one line; nothing else."""
    path = _TMP / "sources.toml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as exc:
        assert "\n" not in str(exc), str(exc)


def url(data: bytes) -> None:
    """Never raises; canonical form and key are their own fixed points."""
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(200)
    canonical = canonical_url(text)
    assert canonical_url(canonical) == canonical, (text, canonical)
    assert url_key(canonical) == url_key(text), text


TARGETS = {"extract": extract, "config": config, "url": url}

if __name__ == "__main__":
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()
