"""Site profiles: per-site (or per-CMS-template) extraction knowledge, kept as data.

Each profile is a TOML file in ``scraper/profiles/``. Every field rule is an ordered list:
the first selector or pattern that yields a non-empty value wins, and the generic cascade
fills whatever the profile leaves empty.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

PROFILE_DIR = Path(__file__).resolve().parent.parent / "profiles"


class SiteProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    hosts: list[str] = Field(default_factory=list)  # hosts this profile applies to
    timezone: str = "Asia/Shanghai"  # zone for dates shown without one
    lang: str | None = None
    title: list[str] = Field(default_factory=list)  # CSS selectors, in priority order
    date: list[str] = Field(default_factory=list)  # CSS selectors whose text holds the date
    source: list[str] = Field(default_factory=list)  # CSS selectors whose text holds the source
    body: list[str] = Field(default_factory=list)  # CSS selectors of the main content
    remove: list[str] = Field(default_factory=list)  # CSS selectors stripped from the body
    # Regexes over the text of the ``date`` / ``source`` elements (or, with no selector, over
    # the page's visible lines); the named group "date" / "source" is the value.
    date_patterns: list[str] = Field(default_factory=list)
    source_patterns: list[str] = Field(default_factory=list)
    drop_lines: list[str] = Field(default_factory=list)  # regexes: body blocks to drop
    channel: list[str] = Field(default_factory=list)  # CSS selectors; the last match's text
    authors: list[str] = Field(default_factory=list)  # CSS selectors of author names
    url_date: bool = True  # may the URL date stand in when the page shows none?


@cache
def load_profiles(directory: Path = PROFILE_DIR) -> dict[str, SiteProfile]:
    """All profiles by name; a malformed file raises naming the file."""
    profiles: dict[str, SiteProfile] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        try:
            profile = SiteProfile(**data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        profiles[profile.name] = profile
    return profiles


def get_profile(name: str) -> SiteProfile:
    """The profile called ``name``; KeyError lists the known names."""
    profiles = load_profiles()
    if name not in profiles:
        raise KeyError(f"unknown profile {name!r} (known: {', '.join(sorted(profiles))})")
    return profiles[name]


def profile_for_url(url: str) -> SiteProfile | None:
    """The profile whose ``hosts`` include the URL's host, if any."""
    host = (urlsplit(url).hostname or "").lower()
    for profile in load_profiles().values():
        if host in profile.hosts:
            return profile
    return None
