"""When a quota's Redis store is unreachable: the error a refusal raises and the fail-open policy.

Rate limits and budgets share it: ``LIMITS_FAIL_OPEN`` (default true) lets requests through while
Redis is down, false refuses them (503 ``limits_unavailable``); either way one log line per 10 s.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from knowledge.errors import FaqstreamError

log = logging.getLogger(__name__)


class LimitStoreUnavailableError(FaqstreamError):
    """Redis (rate limits, budgets) is unreachable and ``LIMITS_FAIL_OPEN`` is false."""

    status = 503
    code = "limits_unavailable"
    retryable = True

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class StoreOutage:
    """What a limit or budget does when its Redis store is unreachable: one log line per 10 s during
    an outage (not one per request), then allow (``LIMITS_FAIL_OPEN``, the default) or refuse."""

    def __init__(self, store: str, *, fail_open: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.fail_open = fail_open
        self._clock = clock
        self._last_log = -math.inf

    def unreachable(self, exc: Exception, action: str, *, may_refuse: bool = True) -> None:
        """Log the failure; raise ``LimitStoreUnavailableError`` when this action must refuse."""
        refuse = may_refuse and not self.fail_open
        now = self._clock()
        if now - self._last_log > 10:
            self._last_log = now
            verdict = "refusing" if refuse else "allowing" if may_refuse else "not counted"
            log.error("%s store unreachable during %s (%s); %s", self.store, action, exc, verdict)
        if refuse:
            message = f"{self.store} store unreachable"
            raise LimitStoreUnavailableError(message, hint="check REDIS_URL") from exc
