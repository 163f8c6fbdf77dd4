"""Whether a crawl run failed, for the scheduler's back-off.

A run failed when its process did not exit cleanly, or when it exited but recorded no run or
a failed one in the store (the ``outcome`` of its ``runs`` row). Outcomes that say something
about the site (a failure type) belong in ``FAILED_OUTCOMES``; "shutdown" (a SIGTERM) is not
the site's fault and is not a failure.
"""

from __future__ import annotations

FAILED_OUTCOMES = frozenset({"failed"})


def crawl_failed(exit_status: int, recorded_outcome: str | None) -> bool:
    """``recorded_outcome``: the outcome this run stored, None when it stored no run at all."""
    return exit_status != 0 or recorded_outcome is None or recorded_outcome in FAILED_OUTCOMES
