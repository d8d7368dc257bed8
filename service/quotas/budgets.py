"""Daily budgets per API key (tokens and USD), and alerts as a budget fills up.

``BudgetGuard.check(key_id)`` before an answer refuses when today's token or cost budget is already
used up (``retry_after_s`` = seconds to the next UTC midnight, when the budget starts again);
``charge(key_id, tokens, cost)`` after the answer adds what it used. An answer that starts under
budget is never cut off, so a day can end slightly over budget by at most the answers in flight.

Each alert threshold (``LIMITS_ALERT_THRESHOLDS``, fractions of each budget) fires once per key,
budget and UTC day: a warning log line, ``faqstream_budget_alerts_total{budget,threshold}``, and a
``budget.alert`` webhook when ``LIMITS_ALERT_WEBHOOK_URL`` is set. In Redis the charge, the
threshold checks and the once-only claims (``SET NX``) run in one Lua script, so replicas neither
miss nor repeat an alert. Days are UTC days of this process's clock.

A key may carry its own budgets (``KeyLimits.daily_tokens`` / ``daily_cost_usd``, from
``faqstream keys create``): passed as ``limits``, each replaces the deployment's for that key.
"""

from __future__ import annotations

import abc
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from service.core.redis_keys import slot_key
from service.core.types import KeyLimits
from service.notify.webhooks import WebhookSender, WebhookSettings
from service.quotas.outage import StoreOutage
from service.quotas.settings import LimitSettings

log = logging.getLogger(__name__)

BudgetName = Literal["tokens", "cost_usd"]
DAY_S = 86_400


@dataclass(frozen=True)
class Spend:
    tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Threshold:
    """One alert level: ``budget`` reaching ``fraction`` of its daily limit (``level`` units)."""

    budget: BudgetName
    fraction: float
    level: float


@dataclass(frozen=True)
class BudgetDecision:
    allowed: bool
    exhausted: BudgetName | None  # the budget that refused
    day: date
    spend: Spend
    tokens_limit: int | None  # None = no token budget
    cost_limit_usd: float | None
    retry_after_s: int | None  # seconds to the next UTC day, when refused


@dataclass(frozen=True)
class BudgetAlert:
    key_id: str
    day: date
    budget: BudgetName
    threshold: float
    used: float
    limit: float

    def payload(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "day": self.day.isoformat(),
            "budget": self.budget,
            "threshold": self.threshold,
            "used": self.used,
            "limit": self.limit,
        }


class BudgetStore(abc.ABC):
    @abc.abstractmethod
    async def spent(self, key_id: str, day: date) -> Spend: ...

    @abc.abstractmethod
    async def charge(
        self, key_id: str, day: date, spend: Spend, thresholds: Sequence[Threshold], ttl_s: int
    ) -> tuple[Spend, list[Threshold]]:
        """Add ``spend``; return the day's totals and the thresholds this call was first to reach."""


class InProcessBudgetStore(BudgetStore):
    def __init__(self) -> None:
        self._spend: dict[tuple[str, date], Spend] = {}
        self._fired: set[tuple[str, date, BudgetName, float]] = set()
        self._day: date | None = None

    async def spent(self, key_id: str, day: date) -> Spend:
        return self._spend.get((key_id, day), Spend())

    async def charge(
        self, key_id: str, day: date, spend: Spend, thresholds: Sequence[Threshold], ttl_s: int
    ) -> tuple[Spend, list[Threshold]]:
        if self._day != day:  # a new day: forget the ones before yesterday
            self._day = day
            keep = day - timedelta(days=1)
            self._spend = {k: v for k, v in self._spend.items() if k[1] >= keep}
            self._fired = {f for f in self._fired if f[1] >= keep}
        old = self._spend.get((key_id, day), Spend())
        total = Spend(old.tokens + spend.tokens, old.cost_usd + spend.cost_usd)
        self._spend[(key_id, day)] = total
        fired = []
        for t in thresholds:
            used = total.tokens if t.budget == "tokens" else total.cost_usd
            claim = (key_id, day, t.budget, t.fraction)
            if used >= t.level and claim not in self._fired:
                self._fired.add(claim)
                fired.append(t)
        return total, fired


# KEYS[1] tokens, KEYS[2] cost, KEYS[3..] one claim key per threshold.
# ARGV: tokens, cost, ttl, then per threshold: budget (t|c) and level.
# Returns {tokens total, cost total (string), indexes (1-based) of thresholds claimed now...}.
_CHARGE_LUA = """
local tokens = redis.call('INCRBY', KEYS[1], ARGV[1])
local cost = tonumber(redis.call('INCRBYFLOAT', KEYS[2], ARGV[2]))
local ttl = tonumber(ARGV[3])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
local out = {tokens, string.format('%.10f', cost)}
for i = 3, #KEYS do
  local budget = ARGV[2 * i - 2]
  local level = tonumber(ARGV[2 * i - 1])
  local used = cost
  if budget == 't' then used = tokens end
  if used >= level and redis.call('SET', KEYS[i], '1', 'NX', 'EX', ttl) then
    out[#out + 1] = i - 2
  end
end
return out
"""


class RedisBudgetStore(BudgetStore):
    """Counters per key and UTC day, shared by all replicas; keys expire a day after their day."""

    def __init__(self, redis: Redis, *, prefix: str = "faqstream:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._charge = redis.register_script(_CHARGE_LUA)

    def _key(self, key_id: str, day: date, *parts: str) -> str:
        # one hash tag per key and day: the script's keys share a Redis Cluster slot
        return slot_key(f"{self.prefix}budget:", f"{key_id}:{day.isoformat()}", *parts)

    async def spent(self, key_id: str, day: date) -> Spend:
        tokens, cost = await self.redis.mget(
            [self._key(key_id, day, "tokens"), self._key(key_id, day, "cost")]
        )
        return Spend(int(tokens or 0), float(cost or 0.0))

    async def charge(
        self, key_id: str, day: date, spend: Spend, thresholds: Sequence[Threshold], ttl_s: int
    ) -> tuple[Spend, list[Threshold]]:
        keys = [self._key(key_id, day, "tokens"), self._key(key_id, day, "cost")]
        args: list[str | int] = [spend.tokens, repr(float(spend.cost_usd)), ttl_s]
        for t in thresholds:
            keys.append(self._key(key_id, day, "alert", t.budget, f"{t.fraction:g}"))
            args += ["t" if t.budget == "tokens" else "c", repr(float(t.level))]
        reply = await self._charge(keys=keys, args=args)
        total = Spend(int(reply[0]), float(reply[1]))
        return total, [thresholds[int(i) - 1] for i in reply[2:]]


class BudgetAlerts:
    """Where a reached threshold goes: the log, a Prometheus counter, and an optional webhook."""

    def __init__(
        self, registry: CollectorRegistry | None = None, webhook: WebhookSender | None = None
    ) -> None:
        self.webhook = webhook
        self.counter = Counter(
            "faqstream_budget_alerts_total",
            "Daily budget thresholds reached (once per key, budget, threshold and day)",
            ["budget", "threshold"],
            registry=registry if registry is not None else CollectorRegistry(),
        )

    def emit(self, alert: BudgetAlert) -> None:
        log.warning(
            "budget alert: key %s reached %.0f%% of its daily %s budget (%s of %s) on %s",
            alert.key_id,
            alert.threshold * 100,
            alert.budget,
            f"{alert.used:g}",
            f"{alert.limit:g}",
            alert.day.isoformat(),
        )
        self.counter.labels(alert.budget, f"{alert.threshold:g}").inc()
        if self.webhook is not None:
            self.webhook.send("budget.alert", alert.payload())

    async def aclose(self) -> None:
        if self.webhook is not None:
            await self.webhook.aclose()


class BudgetGuard:
    def __init__(
        self,
        settings: LimitSettings,
        store: BudgetStore,
        *,
        alerts: BudgetAlerts | None = None,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        registry = registry if registry is not None else CollectorRegistry()
        self.alerts = alerts if alerts is not None else BudgetAlerts(registry)
        self._clock = clock
        self.tokens_limit = settings.daily_tokens or None
        self.cost_limit = settings.daily_cost_usd or None
        self.thresholds = self._thresholds(self.tokens_limit, self.cost_limit)
        self._refused = Counter(
            "faqstream_budget_refusals_total",
            "Requests refused because a daily budget was used up",
            ["budget"],
            registry=registry,
        )
        self._outage = StoreOutage("budget", fail_open=settings.fail_open)

    def _thresholds(self, tokens_limit: int | None, cost_limit: float | None) -> list[Threshold]:
        thresholds: list[Threshold] = []
        for fraction in self.settings.alert_thresholds:
            if tokens_limit is not None:
                thresholds.append(Threshold("tokens", fraction, fraction * tokens_limit))
            if cost_limit is not None:
                thresholds.append(Threshold("cost_usd", fraction, fraction * cost_limit))
        return thresholds

    def limits_for(self, limits: KeyLimits | None) -> tuple[int | None, float | None, list[Threshold]]:
        """(tokens limit, cost limit, thresholds) of a key: its own where it has them."""
        if limits is None or (limits.daily_tokens is None and limits.daily_cost_usd is None):
            return self.tokens_limit, self.cost_limit, self.thresholds
        tokens = limits.daily_tokens if limits.daily_tokens is not None else self.tokens_limit
        cost = limits.daily_cost_usd if limits.daily_cost_usd is not None else self.cost_limit
        return tokens, cost, self._thresholds(tokens, cost)

    @property
    def enabled(self) -> bool:
        return self.tokens_limit is not None or self.cost_limit is not None

    def today(self) -> tuple[date, int]:
        """The current UTC day and the whole seconds until the next one starts (at least 1)."""
        now = self._clock()
        day = datetime.fromtimestamp(now, UTC).date()
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        return day, max(math.ceil(midnight.timestamp() - now), 1)

    async def check(self, key_id: str, limits: KeyLimits | None = None) -> BudgetDecision:
        """Refuse when today's token or cost budget for ``key_id`` is already used up."""
        day, to_midnight = self.today()
        tokens_limit, cost_limit, _ = self.limits_for(limits)
        if tokens_limit is None and cost_limit is None:
            return BudgetDecision(True, None, day, Spend(), None, None, None)
        try:
            spend = await self.store.spent(key_id, day)
        except (RedisError, OSError) as exc:
            self._outage.unreachable(exc, "check")
            spend = Spend()
        exhausted: BudgetName | None = None
        if tokens_limit is not None and spend.tokens >= tokens_limit:
            exhausted = "tokens"
        elif cost_limit is not None and spend.cost_usd >= cost_limit:
            exhausted = "cost_usd"
        if exhausted is not None:
            self._refused.labels(exhausted).inc()
        return BudgetDecision(
            exhausted is None,
            exhausted,
            day,
            spend,
            tokens_limit,
            cost_limit,
            to_midnight if exhausted is not None else None,
        )

    async def charge(
        self, key_id: str, tokens: int, cost_usd: float, *, limits: KeyLimits | None = None
    ) -> list[BudgetAlert]:
        """Add an answer's usage to today's totals; returns the alerts it raised (already emitted)."""
        tokens_limit, cost_limit, thresholds = self.limits_for(limits)
        if tokens_limit is None and cost_limit is None:
            return []
        day, to_midnight = self.today()
        try:
            total, reached = await self.store.charge(
                key_id, day, Spend(tokens, cost_usd), thresholds, to_midnight + DAY_S
            )
        except (RedisError, OSError) as exc:
            self._outage.unreachable(exc, "charge", may_refuse=False)
            return []
        alerts = []
        for t in reached:
            used = float(total.tokens) if t.budget == "tokens" else total.cost_usd
            limit = float((tokens_limit if t.budget == "tokens" else cost_limit) or 0)
            alert = BudgetAlert(key_id, day, t.budget, t.fraction, used, limit)
            self.alerts.emit(alert)
            alerts.append(alert)
        return alerts

    async def aclose(self) -> None:
        await self.alerts.aclose()


def build_budget_guard(
    settings: LimitSettings,
    redis: Redis | None,
    *,
    prefix: str = "faqstream:",
    registry: CollectorRegistry | None = None,
    webhook_settings: WebhookSettings | None = None,
    clock: Callable[[], float] = time.time,
) -> BudgetGuard:
    """Redis-backed when a client is given, in-process otherwise; alerts POSTed when configured."""
    store: BudgetStore = InProcessBudgetStore() if redis is None else RedisBudgetStore(redis, prefix=prefix)
    registry = registry if registry is not None else CollectorRegistry()
    webhook = None
    if settings.alert_webhook_url is not None:
        webhook = WebhookSender(
            settings.alert_webhook_url, webhook_settings, name="budget_alerts", registry=registry
        )
    return BudgetGuard(
        settings, store, alerts=BudgetAlerts(registry, webhook), registry=registry, clock=clock
    )
