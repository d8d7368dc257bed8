"""How long a server asked us to wait: ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

One parser for every HTTP client of the service (webhooks; the Claude client can use it for its
responses too). Which statuses are worth a retry stays with each client: they differ by API.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from datetime import UTC


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return max(number, 0.0) if math.isfinite(number) else None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: delay-seconds or an HTTP date; None if absent/invalid."""
    if value is None or not value.strip():
        return None
    if (seconds := _number(value.strip())) is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def retry_after_s(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """The wait a response's headers ask for: ``retry-after-ms`` first (Anthropic sends it), then
    ``Retry-After``. ``headers`` must look names up case-insensitively (httpx's ``Headers`` do)."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None and (value := _number(millis)) is not None:
        return value / 1000
    return parse_retry_after(headers.get("retry-after"), now=now)
