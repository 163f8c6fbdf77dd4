"""Replay every fixture page against the expected JSON beside it; one test per page.

A case is ``fixtures/sites/<host>/<path>/<stem>.html`` (or ``.htm``) plus
``<stem>.expected.json``. Adding a case means adding those two files. A failure lists every
field that broke, not just the first. A profile without a fixture page fails too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scraper.extract import extract_article, get_profile, load_profiles

SITES = Path(__file__).resolve().parents[1] / "fixtures" / "sites"
EXPECTED = sorted(SITES.glob("**/*.expected.json"))


def _page_for(expected: Path) -> Path:
    stem = expected.name.removesuffix(".expected.json")
    for suffix in (".html", ".htm", ".shtml"):
        candidate = expected.with_name(stem + suffix)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no page beside {expected} (looked for {stem}.html/.htm/.shtml)")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _mismatches(spec: dict[str, Any], page: Path) -> list[str]:
    profile = get_profile(spec["profile"]) if spec.get("profile") else None
    art = extract_article(page.read_bytes(), url=spec["url"], profile=profile)
    problems: list[str] = []

    def check(field: str, got: object, want: object) -> None:
        if got != want:
            problems.append(f"{field}: got {got!r}, expected {want!r}")

    check("title", art.title, spec["title"])
    check("published", art.published.isoformat() if art.published else None, spec["published"])
    check("source", art.source, spec["source"])
    check("lang", art.lang, spec["lang"])
    for optional in ("channel", "date_evidence"):
        if optional in spec:
            check(optional, getattr(art, optional), spec[optional])
    body = _squash(art.body)
    start = _squash(spec["body_starts_with"])
    if not body.startswith(start):
        problems.append(f"body_starts_with: body starts {body[: len(start) + 40]!r}")
    for snippet in spec.get("body_contains", []):
        if _squash(snippet) not in body:
            problems.append(f"body_contains: missing {snippet!r}")
    for snippet in spec.get("body_excludes", []):
        if snippet in art.body:
            problems.append(f"body_excludes: found {snippet!r}")
    if "images" in spec:
        check("images", len(art.images), spec["images"])
    return problems


@pytest.mark.parametrize(
    "expected",
    EXPECTED,
    ids=[str(p.relative_to(SITES)).removesuffix(".expected.json") for p in EXPECTED],
)
def test_fixture_page(expected: Path) -> None:
    spec = json.loads(expected.read_text(encoding="utf-8"))
    problems = _mismatches(spec, _page_for(expected))
    assert not problems, f"{expected.relative_to(SITES)}:\n  " + "\n  ".join(problems)


def test_fixture_pages_exist() -> None:
    assert EXPECTED, f"no *.expected.json under {SITES}"


def _profiles_with_fixtures() -> set[str]:
    names = set()
    for path in EXPECTED:
        name = json.loads(path.read_text(encoding="utf-8")).get("profile")
        if name:
            names.add(name)
    return names


@pytest.mark.parametrize("name", sorted(load_profiles()))
def test_every_profile_has_a_fixture(name: str) -> None:
    assert name in _profiles_with_fixtures(), (
        f"profile {name!r} has no fixture page: add fixtures/sites/<host>/<path>.html and "
        'its .expected.json with "profile": ' + json.dumps(name)
    )
