"""Failure types: each failed fetch and each run gets a type, not just "error"."""

from __future__ import annotations

import pytest

from scraper.failures import (
    FAILED_OUTCOMES,
    FailureType,
    RunOutcome,
    classify_run,
    failure_type,
    looks_like_challenge,
    moved_to,
)


@pytest.mark.parametrize(
    ("reason", "list_page", "expected"),
    [
        ("dns", True, FailureType.DOWN),
        ("connection refused", True, FailureType.DOWN),
        ("connection lost", False, FailureType.DOWN),
        ("timeout", True, FailureType.TIMEOUT),
        ("http 403", True, FailureType.BLOCKED),
        ("http 451", False, FailureType.BLOCKED),
        ("http 429", True, FailureType.BLOCKED),
        ("http 404", True, FailureType.MOVED),  # a list page gone: the CMS moved
        ("http 410", True, FailureType.MOVED),
        ("http 404", False, FailureType.GONE),  # one withdrawn article: the site is fine
        ("http 500", True, FailureType.SERVER_ERROR),
        ("http 503", False, FailureType.SERVER_ERROR),
        ("http 418", True, FailureType.ERROR),
        ("too large", False, FailureType.ERROR),
        ("truncated response", True, FailureType.ERROR),
    ],
)
def test_each_fetch_failure_has_a_type(reason: str, list_page: bool, expected: FailureType) -> None:
    assert failure_type(reason, list_page) is expected


def test_a_redirect_to_another_host_or_scheme_is_a_move() -> None:
    old = "http://en.changchun.gov.cn/xw/ccxw1/index.html"
    assert moved_to(old, "https://en.changchun.gov.cn/xw/ccxw1/index.html")
    assert moved_to(old, "http://english.changchun.gov.cn/news/index.html")
    assert not moved_to(old, "http://en.changchun.gov.cn/xw/ccxw1/index.htm")
    assert not moved_to(old, "http://EN.changchun.gov.cn/xw/ccxw1/")  # host case is no move


def test_a_challenge_page_is_told_from_an_empty_list() -> None:
    challenge = (
        "<html><head><title>Just a moment...</title></head><body>"
        '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></body></html>'
    )
    waf = "<html><body><p>请输入验证码后继续访问</p></body></html>"
    assert looks_like_challenge(challenge)
    assert looks_like_challenge(waf)
    assert not looks_like_challenge("<html><body><ul></ul><p>No news yet</p></body></html>")


# Stats as the spider and pipelines record them (keys without "govfeed/").
HEALTHY = {"list_pages": 10, "article_requests": 47, "articles/new": 45, "dropped/no body": 1}


@pytest.mark.parametrize(
    ("stats", "finish", "expected"),
    [
        (HEALTHY, "finished", RunOutcome.OK),
        ({"list_pages": 4, "list_pages_not_modified": 4}, "finished", RunOutcome.NO_NEW_ITEMS),
        ({"list_pages": 4, "articles/unchanged": 5}, "finished", RunOutcome.NO_NEW_ITEMS),
        ({"list_pages": 4, "articles/updated": 1}, "finished", RunOutcome.OK),
        (  # every list page answered 500 after retries
            {"list_errors/http 500": 4, "list_failures/server_error": 4},
            "finished",
            RunOutcome.SERVER_ERROR,
        ),
        ({"list_failures/down": 2}, "finished", RunOutcome.DOWN),
        ({"list_failures/timeout": 1, "list_pages": 3, "articles/new": 2}, "finished", "timeout"),
        (  # one channel's list page is 404: the run is a "moved", whatever else it stored
            {"list_failures/moved": 1, "list_pages": 6, "articles/new": 30},
            "finished",
            RunOutcome.MOVED,
        ),
        ({"list_failures/moved": 1, "list_failures/down": 2}, "finished", RunOutcome.DOWN),
        (  # list pages parse, none links an article
            {"list_pages": 4, "list_pages_without_articles": 4},
            "finished",
            RunOutcome.TEMPLATE_CHANGED,
        ),
        (  # one empty channel among four is not a template change
            {"list_pages": 4, "list_pages_without_articles": 1},
            "finished",
            RunOutcome.NO_NEW_ITEMS,
        ),
        (  # a challenge page: blocked, not a template change
            {"list_pages": 1, "list_pages_without_articles": 1, "list_failures/blocked": 1},
            "finished",
            RunOutcome.BLOCKED,
        ),
        (  # every new article timed out: the site is not answering
            {"list_pages": 1, "article_requests": 3, "failures/timeout": 3},
            "finished",
            RunOutcome.TIMEOUT,
        ),
        (  # some articles failed, others were stored: the run still worked
            {"list_pages": 1, "failures/timeout": 3, "articles/new": 2},
            "finished",
            RunOutcome.OK,
        ),
        ({"list_pages": 1, "failures/gone": 2}, "finished", RunOutcome.ERROR),
        ({"list_pages": 2, "articles/new": 3}, "shutdown", RunOutcome.INTERRUPTED),
    ],
)
def test_each_run_gets_one_outcome(stats: dict[str, int], finish: str, expected: str) -> None:
    assert classify_run(stats, finish) == expected


def test_only_runs_where_the_site_did_not_answer_properly_count_as_failed() -> None:
    assert RunOutcome.OK not in FAILED_OUTCOMES
    assert RunOutcome.NO_NEW_ITEMS not in FAILED_OUTCOMES
    assert RunOutcome.INTERRUPTED not in FAILED_OUTCOMES
    assert {RunOutcome.DOWN, RunOutcome.MOVED, RunOutcome.TEMPLATE_CHANGED} <= FAILED_OUTCOMES
