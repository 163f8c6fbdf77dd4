"""Failure types: what went wrong with a fetch, and what a whole run amounts to.

The spider records each failed fetch under its type (``failures/<type>`` in the crawl stats,
``list_failures/<type>`` for list pages); at the end of a run ``classify_run`` turns the
stats into one outcome, stored with the run. Health (``feeds/health.py``) reads outcomes
only, so the vocabulary lives here, in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from urllib.parse import urlsplit


class FailureType(StrEnum):
    DOWN = "down"  # DNS failure, connection refused or lost: nobody answers
    TIMEOUT = "timeout"
    BLOCKED = "blocked"  # 403/451/429, or a challenge page instead of the content
    MOVED = "moved"  # a list page is 404/410, or redirects to another host or scheme
    GONE = "gone"  # an article page is 404/410 (withdrawn; the site itself is fine)
    SERVER_ERROR = "server_error"  # 5xx after retries
    TEMPLATE_CHANGED = "template_changed"  # list pages parse, but hold no article links
    ERROR = "error"  # anything else (too large, truncated, not HTML, …)


class RunOutcome(StrEnum):
    OK = "ok"  # new or updated articles stored
    NO_NEW_ITEMS = "no_new_items"  # the site answered; nothing new this time
    INTERRUPTED = "interrupted"  # stopped before the end (shutdown): says nothing of the site
    DOWN = "down"
    TIMEOUT = "timeout"
    BLOCKED = "blocked"
    MOVED = "moved"
    SERVER_ERROR = "server_error"
    TEMPLATE_CHANGED = "template_changed"
    ERROR = "error"


# Outcomes that count towards "failing"; the others are a site that answered (or no verdict).
FAILED_OUTCOMES = frozenset(RunOutcome) - {
    RunOutcome.OK,
    RunOutcome.NO_NEW_ITEMS,
    RunOutcome.INTERRUPTED,
}


def crawl_failed(exit_status: int, recorded_outcome: str | None) -> bool:
    """Whether a crawl run failed, for the scheduler's back-off: its process did not exit
    cleanly, or it recorded no run (``None``) or a failed one."""
    return exit_status != 0 or recorded_outcome is None or recorded_outcome in FAILED_OUTCOMES


# Reasons from ``scraper.spiders.site.failure_reason`` (other than "http NNN"), by type.
_REASON_TYPES: dict[str, FailureType] = {
    "dns": FailureType.DOWN,
    "connection refused": FailureType.DOWN,
    "connection lost": FailureType.DOWN,
    "timeout": FailureType.TIMEOUT,
}
BLOCKED_STATUSES = frozenset({401, 403, 429, 451})
MOVED_STATUSES = frozenset({404, 410})
_HTTP = re.compile(r"^http (\d{3})$")

# Words of anti-bot interstitials (Cloudflare, common Chinese WAFs) found in the first few KB
# of a page served instead of the content. Lower case; any one is enough.
CHALLENGE_MARKERS = (
    "cf-chl",
    "challenge-platform",
    "just a moment...",
    "attention required! | cloudflare",
    "captcha",
    "验证码",
    "安全验证",
    "访问验证",
    "waf拦截",
)


def failure_type(reason: str, list_page: bool) -> FailureType:
    """The type of one failed fetch, from the short reason the spider records."""
    if match := _HTTP.match(reason):
        status = int(match[1])
        if status in BLOCKED_STATUSES:
            return FailureType.BLOCKED
        if status in MOVED_STATUSES:
            return FailureType.MOVED if list_page else FailureType.GONE
        if status >= 500:
            return FailureType.SERVER_ERROR
        return FailureType.ERROR
    return _REASON_TYPES.get(reason, FailureType.ERROR)


def moved_to(requested: str, final: str) -> bool:
    """A redirect that lands on another host or URL scheme: the site (or its CMS) moved."""
    before, after = urlsplit(requested), urlsplit(final)
    return (before.scheme, before.hostname) != (after.scheme, after.hostname)


def looks_like_challenge(text: str) -> bool:
    """An anti-bot challenge page served in place of a list page (often with status 200)."""
    head = text[:8192].lower()
    return any(marker in head for marker in CHALLENGE_MARKERS)


def _dominant(counts: Mapping[str, int]) -> RunOutcome:
    """The most frequent failure type (ties: the first in FailureType order)."""
    order = list(FailureType)
    kind = max(counts, key=lambda k: (counts[k], -order.index(FailureType(k))))
    return RunOutcome.ERROR if kind == FailureType.GONE else RunOutcome(kind)


def classify_run(stats: Mapping[str, int], finish_reason: str) -> RunOutcome:
    """One outcome for a run, from its stats (keys without the ``govfeed/`` prefix).

    In order: a failed list page decides (the run could not see what is new); list pages
    that parse but link no article are a changed template; article fetches that all failed
    decide next; then a run that stopped early says nothing; else new items or none.
    """
    list_failures = _counts(stats, "list_failures/")
    if list_failures:
        return _dominant(list_failures)
    parsed = stats.get("list_pages", 0) - stats.get("list_pages_not_modified", 0)
    if parsed > 0 and stats.get("list_pages_without_articles", 0) >= parsed:
        return RunOutcome.TEMPLATE_CHANGED
    article_failures = _counts(stats, "failures/")
    fetched = sum(_counts(stats, "articles/").values()) + sum(_counts(stats, "dropped/").values())
    if article_failures and not fetched:
        return _dominant(article_failures)
    if finish_reason != "finished":
        return RunOutcome.INTERRUPTED
    if stats.get("articles/new", 0) or stats.get("articles/updated", 0):
        return RunOutcome.OK
    return RunOutcome.NO_NEW_ITEMS


def _counts(stats: Mapping[str, int], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix) and v > 0}
