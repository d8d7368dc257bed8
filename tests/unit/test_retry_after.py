"""The one Retry-After parser (service/core/retry_after.py), used by the Claude client and webhooks."""

from __future__ import annotations

from email.utils import formatdate

from service.core.retry_after import parse_retry_after, retry_after


def test_seconds_dates_and_garbage() -> None:
    assert parse_retry_after("120") == 120.0 and parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(formatdate(1030, usegmt=True), now=1000) == 30.0
    assert parse_retry_after(formatdate(900, usegmt=True), now=1000) == 0.0
    assert (
        parse_retry_after(None) is None
        and parse_retry_after("") is None
        and parse_retry_after("soon") is None
    )


def test_milliseconds_win_over_seconds() -> None:
    assert retry_after({"retry-after-ms": "250", "retry-after": "1"}) == 0.25
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "x", "retry-after": "2"}) == 2.0
    assert retry_after({}) is None and retry_after(None) is None
