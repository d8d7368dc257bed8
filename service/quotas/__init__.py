"""Quotas a request must be within before any work: rate limits and daily budgets per API key.

``rate_limits``: token buckets per API key and per end user (``RateLimiter``, in-process or Redis,
``build_rate_limiter``) and the ``RateLimit-*`` headers. ``budgets``: tokens and USD per key and UTC
day (``BudgetGuard`` over a ``BudgetStore``, in-process or Redis, ``build_budget_guard``) with alerts
as a budget fills up. ``settings``: ``LIMITS_*``. ``outage``: what both do when Redis is unreachable.
"""

from __future__ import annotations

from service.quotas.budgets import BudgetGuard, BudgetStore, build_budget_guard
from service.quotas.outage import LimitStoreUnavailableError
from service.quotas.rate_limits import LimitDecision, RateLimiter, build_rate_limiter, headers
from service.quotas.settings import LimitSettings

__all__ = [
    "BudgetGuard",
    "BudgetStore",
    "LimitDecision",
    "LimitSettings",
    "LimitStoreUnavailableError",
    "RateLimiter",
    "build_budget_guard",
    "build_rate_limiter",
    "headers",
]
