"""Rate limits and daily budgets: in-process (injected clock) and real Redis, incl. two OS processes."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from datetime import UTC, date, datetime
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from service.notify.webhooks import WebhookSender, WebhookSettings
from service.quotas.budgets import (
    BudgetAlerts,
    BudgetGuard,
    BudgetStore,
    InProcessBudgetStore,
    RedisBudgetStore,
    build_budget_guard,
)
from service.quotas.rate_limits import (
    InProcessRateLimiter,
    LimitSettings,
    LimitStoreUnavailableError,
    RateLimiter,
    RedisRateLimiter,
    build_rate_limiter,
    headers,
)
from tests.integration.test_webhooks import Receiver, receiver

__all__ = ["receiver"]  # the real HTTP receiver fixture, shared with the webhook tests

pytestmark = pytest.mark.anyio

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limits(**overrides: Any) -> LimitSettings:
    base: dict[str, Any] = {
        "key_rpm": 60.0,
        "key_burst": 5,
        "user_rpm": 0.0,
        "user_burst": 0,
        "daily_tokens": 0,
        "daily_cost_usd": 0.0,
        "alert_thresholds": (0.5, 0.8, 1.0),
        "alert_webhook_url": None,
    }
    base.update(overrides)
    return LimitSettings(**base)


# --- token bucket arithmetic (in-process, logical clock) ---------------------------------------


async def test_burst_then_refill_at_rpm() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(limits(key_rpm=60, key_burst=5), clock=clock)
    for expected_remaining in [4, 3, 2, 1, 0]:
        decision = await limiter.check("k")
        assert decision.allowed and decision.remaining == expected_remaining
    refused = await limiter.check("k")
    assert not refused.allowed and refused.tripped == "key"
    assert (refused.limit, refused.remaining, refused.reset_s, refused.retry_after_s) == (5, 0, 5, 1)

    clock.now += 0.5  # half a token: still refused, one more second... rounded up
    half = await limiter.check("k")
    assert not half.allowed and half.retry_after_s == 1 and half.reset_s == 5
    clock.now += 0.5
    assert (await limiter.check("k")).allowed  # one token back after 1 s at 60 rpm
    assert not (await limiter.check("k")).allowed

    clock.now += 3600  # refills to the burst, never beyond
    results = [(await limiter.check("k")).allowed for _ in range(7)]
    assert results == [True] * 5 + [False] * 2


async def test_fractional_rpm_and_default_burst() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(limits(key_rpm=0.5, key_burst=0), clock=clock)  # 1 per 120 s
    assert limiter.key_bucket is not None and limiter.key_bucket.capacity == 1
    assert (await limiter.check("k")).allowed
    refused = await limiter.check("k")
    assert refused.retry_after_s == 120
    clock.now += 119
    assert not (await limiter.check("k")).allowed
    clock.now += 1
    assert (await limiter.check("k")).allowed


async def test_headers_follow_the_draft() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(limits(key_rpm=60, key_burst=3, user_rpm=6, user_burst=2), clock=clock)
    first = await limiter.check("k", "u")
    # the user bucket (2 - 1 = 1 left) is closer to running out than the key's (3 - 1 = 2)
    assert headers(first) == {
        "RateLimit-Limit": "2",
        "RateLimit-Remaining": "1",
        "RateLimit-Reset": "10",  # one token at 6 rpm = 10 s
        "RateLimit-Policy": '60;w=60;burst=3;comment="key", 6;w=60;burst=2;comment="user"',
    }
    await limiter.check("k", "u")
    refused = limiter.headers(await limiter.check("k", "u"))
    assert refused["Retry-After"] == "10" and refused["RateLimit-Remaining"] == "0"
    assert refused["RateLimit-Reset"] == "20"
    only_key = await limiter.check("k")  # no user id: only the key bucket applies
    assert headers(only_key)["RateLimit-Policy"] == '60;w=60;burst=3;comment="key"'
    assert "Retry-After" not in headers(only_key)


async def test_user_refusal_takes_no_key_token_and_users_are_scoped_by_key() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(limits(key_rpm=60, key_burst=10, user_rpm=1, user_burst=2), clock=clock)
    assert (await limiter.check("k", "alice")).allowed
    assert (await limiter.check("k", "alice")).allowed
    refused = await limiter.check("k", "alice")
    assert not refused.allowed and refused.tripped == "user" and refused.retry_after_s == 60
    key_state = next(s for s in refused.buckets if s.bucket.name == "key")
    assert key_state.remaining == 8  # two answered requests; the refused one took nothing
    assert (await limiter.check("k", "bob")).allowed  # another user of the same key
    assert (await limiter.check("other-key", "alice")).allowed  # same user id, other tenant


async def test_disabled_limits_allow_everything_without_headers() -> None:
    limiter = InProcessRateLimiter(limits(key_rpm=0, user_rpm=0))
    for _ in range(100):
        decision = await limiter.check("k", "u")
        assert decision.allowed and decision.limit is None
    assert headers(decision) == {}


async def test_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(limits(key_rpm=60, key_burst=5), clock=clock, sweep_every=10)
    for i in range(9):
        await limiter.check(f"k{i}")
    assert limiter.tracked == 9
    clock.now += 2  # refilled: 4 + 2 ≥ 5
    await limiter.check("fresh")  # the 10th check sweeps
    assert limiter.tracked == 1


async def test_refusals_are_counted() -> None:
    registry = CollectorRegistry()
    limiter = InProcessRateLimiter(limits(key_rpm=60, key_burst=1), clock=Clock(), registry=registry)
    for _ in range(4):
        await limiter.check("k")
    assert registry.get_sample_value("faqstream_rate_limited_total", {"limit": "key"}) == 3


def test_threshold_settings_parse_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIMITS_ALERT_THRESHOLDS", "0.8, 0.5,1.0")
    assert LimitSettings().alert_thresholds == (0.5, 0.8, 1.0)
    monkeypatch.setenv("LIMITS_ALERT_THRESHOLDS", "[0.9]")
    assert LimitSettings().alert_thresholds == (0.9,)
    monkeypatch.setenv("LIMITS_ALERT_THRESHOLDS", "")
    assert LimitSettings().alert_thresholds == ()
    monkeypatch.setenv("LIMITS_ALERT_THRESHOLDS", "0.5,0")
    with pytest.raises(ValidationError):
        LimitSettings()


# --- the same contract on Redis ----------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request: pytest.FixtureRequest, redis: aioredis.Redis, prefix: str) -> Any:
    def make(settings: LimitSettings) -> RateLimiter:
        if request.param == "memory":
            return InProcessRateLimiter(settings)
        return RedisRateLimiter(redis, settings, prefix=prefix)

    return make


async def test_contract_burst_is_the_capacity(make_limiter: Any) -> None:
    # 0.001 rpm: one token per 16.7 hours, so nothing refills while the test runs
    limiter = make_limiter(limits(key_rpm=0.001, key_burst=3, user_rpm=0.001, user_burst=2))
    assert [(await limiter.check("k")).allowed for _ in range(4)] == [True, True, True, False]
    refused = await limiter.check("k", "u")
    assert not refused.allowed and refused.tripped == "key" and refused.remaining == 0
    assert refused.retry_after_s == 60_000
    other = [(await limiter.check("k2", "u")).allowed for _ in range(3)]
    assert other == [True, True, False]  # the user's bucket (2) runs out before the key's (3)
    assert (await limiter.check("k2")).allowed  # the key still has its third token


async def test_redis_refill_uses_the_server_clock(redis: aioredis.Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, limits(key_rpm=1, key_burst=100), prefix=prefix)
    key = limiter.key(limiter.key_bucket, "k", None)  # type: ignore[arg-type]
    seconds, micros = await redis.time()
    # half a token left 600 s ago at 1 rpm: 10.5 tokens now (10.5 + up to 29 s of slack stays < 11)
    await redis.hset(key, mapping={"tokens": "0.5", "at": f"{seconds - 600}.{micros:06d}"})
    decision = await limiter.check("k")
    assert decision.allowed and decision.remaining == 9
    assert decision.reset_s == pytest.approx(5430, abs=30)  # (100 - 9.5) tokens at 1 per 60 s
    ttl = await redis.ttl(key)
    assert 5400 <= ttl <= 5432  # the key lives until the bucket would be full again


async def test_redis_unreachable_fails_open_or_closed() -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=2)
    try:
        open_limiter = RedisRateLimiter(dead, limits(fail_open=True))
        decision = await open_limiter.check("k")
        assert decision.allowed and headers(decision) == {}
        closed_limiter = RedisRateLimiter(dead, limits(fail_open=False))
        with pytest.raises(LimitStoreUnavailableError):
            await closed_limiter.check("k")
    finally:
        await dead.aclose()


async def test_factory_picks_the_backend(redis: aioredis.Redis) -> None:
    assert isinstance(build_rate_limiter(limits(), None), InProcessRateLimiter)
    assert isinstance(build_rate_limiter(limits(), redis), RedisRateLimiter)


def _hammer(prefix: str, barrier: Barrier, attempts: int, results: Any) -> None:
    """One OS process: ``attempts`` checks on the shared key as fast as it can."""

    async def run() -> int:
        client = aioredis.from_url(REDIS_URL)
        limiter = RedisRateLimiter(client, limits(key_rpm=0.001, key_burst=40), prefix=prefix)
        barrier.wait()
        allowed = 0
        for _ in range(attempts):
            allowed += (await limiter.check("shared-key")).allowed
        await client.aclose()
        return allowed

    results.put(asyncio.run(run()))


@pytest.mark.slow
async def test_two_processes_share_one_limit(prefix: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    workers = [ctx.Process(target=_hammer, args=(prefix, barrier, 150, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    counts = [await asyncio.to_thread(results.get, True, 120) for _ in workers]
    for worker in workers:
        await asyncio.to_thread(worker.join, 30)
        assert worker.exitcode == 0
    # 40 tokens, refill 0.001/min (none during the test): 40 in total, not 40 per process
    assert sum(counts) == 40
    assert all(c <= 40 for c in counts)


# --- daily budgets -----------------------------------------------------------------------------

# 2026-03-01 23:59:00 UTC: the next UTC day starts in 60 s
LATE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC).timestamp()


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest, redis: aioredis.Redis, prefix: str) -> Any:
    def make() -> BudgetStore:
        return InProcessBudgetStore() if request.param == "memory" else RedisBudgetStore(redis, prefix=prefix)

    return make


async def test_budget_refuses_when_used_up_until_the_next_utc_day(make_store: Any) -> None:
    clock = Clock(LATE)
    guard = BudgetGuard(limits(daily_tokens=1000, daily_cost_usd=1.0), make_store(), clock=clock)
    first = await guard.check("k")
    assert first.allowed and first.retry_after_s is None and first.day == date(2026, 3, 1)
    await guard.charge("k", 600, 0.10)
    assert (await guard.check("k")).allowed
    await guard.charge("k", 400, 0.10)  # exactly the token budget
    refused = await guard.check("k")
    assert not refused.allowed and refused.exhausted == "tokens" and refused.retry_after_s == 60
    assert refused.spend.tokens == 1000 and refused.spend.cost_usd == pytest.approx(0.2)
    assert (await guard.check("other")).allowed  # budgets are per key

    clock.now += 61  # a new UTC day, a new budget
    fresh = await guard.check("k")
    assert fresh.allowed and fresh.day == date(2026, 3, 2) and fresh.spend.tokens == 0


async def test_cost_budget(make_store: Any) -> None:
    guard = BudgetGuard(limits(daily_cost_usd=0.05), make_store(), clock=Clock(LATE - 3600))
    for _ in range(4):
        await guard.charge("k", 10, 0.0125)
    refused = await guard.check("k")
    assert not refused.allowed and refused.exhausted == "cost_usd" and refused.retry_after_s == 3660
    assert refused.tokens_limit is None and refused.cost_limit_usd == 0.05


async def test_alerts_fire_once_per_threshold(make_store: Any) -> None:
    registry = CollectorRegistry()
    guard = BudgetGuard(limits(daily_tokens=1000), make_store(), registry=registry, clock=Clock(LATE))
    fired = []
    for tokens in [400, 200, 100, 300, 100, 500]:
        fired.append([(a.budget, a.threshold) for a in await guard.charge("k", tokens, 0.0)])
    assert fired == [[], [("tokens", 0.5)], [], [("tokens", 0.8), ("tokens", 1.0)], [], []]
    for threshold in ["0.5", "0.8", "1"]:
        sample = {"budget": "tokens", "threshold": threshold}
        assert registry.get_sample_value("faqstream_budget_alerts_total", sample) == 1
    assert (await guard.charge("k2", 500, 0.0))[0].key_id == "k2"  # other keys alert on their own


async def test_alerts_fire_once_across_replicas(redis: aioredis.Redis, prefix: str) -> None:
    """Two guards on one Redis (two replicas), charging concurrently: each threshold fires once."""
    settings = limits(daily_tokens=1000, daily_cost_usd=2.0)
    guards = [
        BudgetGuard(settings, RedisBudgetStore(redis, prefix=prefix), clock=Clock(LATE)) for _ in range(2)
    ]
    results = await asyncio.gather(*(guards[i % 2].charge("k", 25, 0.05) for i in range(60)))
    fired = sorted((a.budget, a.threshold) for alerts in results for a in alerts)
    assert fired == sorted((b, t) for b in ("tokens", "cost_usd") for t in (0.5, 0.8, 1.0))
    spend = await guards[0].store.spent("k", date(2026, 3, 1))
    assert spend.tokens == 1500 and spend.cost_usd == pytest.approx(3.0)


async def test_budget_keys_expire(redis: aioredis.Redis, prefix: str) -> None:
    guard = BudgetGuard(limits(daily_tokens=10), RedisBudgetStore(redis, prefix=prefix), clock=Clock(LATE))
    await guard.charge("k", 10, 0.01)
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
    assert len(keys) == 5  # tokens, cost, and the three alert claims
    for key in keys:
        assert 86_400 < await redis.ttl(key) <= 86_460  # the rest of the day, plus one day


async def test_disabled_budgets_never_touch_the_store() -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=2)
    try:
        guard = BudgetGuard(limits(), RedisBudgetStore(dead))
        assert not guard.enabled
        assert (await guard.check("k")).allowed
        assert await guard.charge("k", 10**9, 10**6) == []
        enabled = BudgetGuard(limits(daily_tokens=5, fail_open=True), RedisBudgetStore(dead))
        assert (await enabled.check("k")).allowed  # unreachable store: fail open, logged
        strict = BudgetGuard(limits(daily_tokens=5, fail_open=False), RedisBudgetStore(dead))
        with pytest.raises(LimitStoreUnavailableError):
            await strict.check("k")
    finally:
        await dead.aclose()


async def test_alert_webhook_posts_to_a_real_receiver(receiver: Receiver) -> None:
    registry = CollectorRegistry()
    guard = build_budget_guard(
        limits(daily_cost_usd=1.0, alert_thresholds=(0.5,), alert_webhook_url=receiver.url),
        None,
        registry=registry,
        webhook_settings=WebhookSettings(backoff_initial_s=0.01, secret=None),
        clock=Clock(LATE),
    )
    assert isinstance(guard.alerts.webhook, WebhookSender)
    await guard.charge("k", 100, 0.6)
    await guard.aclose()
    (request,) = receiver.requests
    body = json.loads(request.body)
    assert body["type"] == "budget.alert"
    assert body["data"] == {
        "key_id": "k",
        "day": "2026-03-01",
        "budget": "cost_usd",
        "threshold": 0.5,
        "used": pytest.approx(0.6),
        "limit": 1.0,
    }
    assert (
        registry.get_sample_value(
            "faqstream_webhook_events_total", {"sender": "budget_alerts", "outcome": "delivered"}
        )
        == 1
    )


async def test_alerts_object_is_reusable() -> None:
    registry = CollectorRegistry()
    alerts = BudgetAlerts(registry)
    guard = BudgetGuard(limits(daily_tokens=2), InProcessBudgetStore(), alerts=alerts, clock=Clock(LATE))
    await guard.charge("k", 2, 0)
    assert (
        registry.get_sample_value("faqstream_budget_alerts_total", {"budget": "tokens", "threshold": "1"})
        == 1
    )
