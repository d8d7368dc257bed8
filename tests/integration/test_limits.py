"""Rate limits and daily budgets, what is specific to each backend: the in-process limiter forgetting
full buckets, the Redis server clock, outages (fail open or closed), factories, replicas and two OS
processes on one Redis, budget key expiry and the alert webhook. The contracts both backends share:
``test_rate_limiter_contract.py`` and ``test_budget_contract.py``."""

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
from service.quotas import LimitSettings, LimitStoreUnavailableError
from service.quotas.budgets import (
    BudgetAlerts,
    BudgetGuard,
    InProcessBudgetStore,
    RedisBudgetStore,
    build_budget_guard,
)
from service.quotas.rate_limits import InProcessRateLimiter, RedisRateLimiter, build_rate_limiter, headers
from tests.contracts import Clock
from tests.integration.test_rate_limiter_contract import limits
from tests.integration.test_webhooks import Receiver, receiver

__all__ = ["receiver"]  # the real HTTP receiver fixture, shared with the webhook tests

pytestmark = pytest.mark.anyio

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_in_process_buckets_are_forgotten_once_full_again() -> None:
    clock = Clock(1000.0)
    limiter = InProcessRateLimiter(limits(key_rpm=60, key_burst=5), clock=clock)
    for i in range(9):
        await limiter.check(f"k{i}")
    assert limiter.tracked == 9
    clock.now += 0.5
    await limiter.check("fresh")
    assert limiter.tracked == 10
    clock.now += 0.5  # the first nine refilled: 4 + 1 = 5, the same as no bucket
    assert limiter.tracked == 1


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


# --- Redis: the server clock, outages, the factory, two processes --------------------------------


async def test_redis_refill_uses_the_server_clock(redis: aioredis.Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, limits(key_rpm=1, key_burst=100), prefix=prefix)
    key = limiter.key(("k", "key", "k"))  # (tenant, kind, id): check("k") without a tenant
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
