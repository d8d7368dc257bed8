"""The one Retry-After parser (service/core/retry_after.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx

from service.core.retry_after import parse_retry_after, retry_after_s


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("") is None and parse_retry_after("nan") is None
    assert parse_retry_after("-3") == 0.0
    past = format_datetime(datetime.fromtimestamp(500, UTC), usegmt=True)
    assert parse_retry_after(past, now=1000) == 0.0
    future = format_datetime(datetime.fromtimestamp(1042, UTC), usegmt=True)
    assert parse_retry_after(future, now=1000) == 42.0


def test_retry_after_from_headers() -> None:
    assert retry_after_s(None) is None
    assert retry_after_s(httpx.Headers({})) is None
    assert retry_after_s(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after_s(httpx.Headers({"retry-after-ms": "1500", "retry-after": "2"})) == 1.5
    assert retry_after_s(httpx.Headers({"retry-after-ms": "soon", "retry-after": "2"})) == 2.0
