"""How long an HTTP server asked us to wait: the one parser of ``Retry-After`` (and Anthropic's
``retry-after-ms``), for the Claude client and the webhook sender alike."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from datetime import UTC


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: delay-seconds (a number, never below 0) or an HTTP date
    (seconds from ``now``, never below 0); None if absent or invalid."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from response headers: ``retry-after-ms`` when sent (the Anthropic API's, more
    precise), else ``Retry-After``; None when neither is usable."""
    if headers is None:
        return None
    milliseconds = parse_retry_after(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    return parse_retry_after(headers.get("retry-after"), now=now)
