"""The daily budget contract, on the in-process and the Redis budget store (real Redis).

``BudgetGuard`` over each ``BudgetStore`` (``memory`` / ``redis``; ``-m "not redis"`` keeps the memory
side), on one logical clock; random charge/check sequences across UTC midnights run on both at once
must give the same decisions and alerts at every step. Replicas, key expiry, outages and the alert
webhook: ``test_limits.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from service.quotas.budgets import BudgetGuard, BudgetStore, InProcessBudgetStore, RedisBudgetStore, Spend
from tests.contracts import BACKENDS, SEQUENCES, Clock, Tick, fresh_redis, run_on_both
from tests.integration.test_rate_limiter_contract import limits

pytestmark = pytest.mark.anyio

# 2026-03-01 23:59:00 UTC: the next UTC day starts in 60 s
LATE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC).timestamp()


@pytest.fixture(params=BACKENDS)
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], BudgetStore]]:
    if request.param == "memory":
        yield InProcessBudgetStore
        return
    async with fresh_redis("budget-contract") as (client, prefix):
        yield lambda: RedisBudgetStore(client, prefix=prefix)


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


async def test_alerts_start_again_on_a_new_day(make_store: Any) -> None:
    clock = Clock(LATE)
    guard = BudgetGuard(limits(daily_tokens=10, alert_thresholds=(1.0,)), make_store(), clock=clock)
    assert [a.day for a in await guard.charge("k", 10, 0.0)] == [date(2026, 3, 1)]
    assert await guard.charge("k", 10, 0.0) == []
    clock.now += 60
    assert [a.day for a in await guard.charge("k", 10, 0.0)] == [date(2026, 3, 2)]


async def test_store_totals_and_claims(make_store: Any) -> None:
    """The store alone: totals per key and day, each threshold claimed by the first charge to reach it."""
    store = make_store()
    day = date(2026, 3, 1)
    assert await store.spent("k", day) == Spend()
    guard = BudgetGuard(limits(daily_tokens=100, daily_cost_usd=1.0), store, clock=Clock(LATE))
    total, reached = await store.charge("k", day, Spend(60, 0.25), guard.thresholds, 3600)
    assert (total.tokens, total.cost_usd) == (60, 0.25)
    assert [(t.budget, t.fraction) for t in reached] == [("tokens", 0.5)]
    total, reached = await store.charge("k", day, Spend(40, 0.75), guard.thresholds, 3600)
    assert (total.tokens, total.cost_usd) == (100, 1.0)
    assert sorted((t.budget, t.fraction) for t in reached) == sorted(
        [("tokens", 0.8), ("tokens", 1.0), ("cost_usd", 0.5), ("cost_usd", 0.8), ("cost_usd", 1.0)]
    )
    assert (await store.spent("k", day)).tokens == 100 and (await store.spent("k2", day)).tokens == 0


# --- random charge/check sequences, both stores step by step --------------------------------------


@dataclass(frozen=True)
class Charge:
    key: str
    tokens: int
    cost: float


@dataclass(frozen=True)
class Check:
    key: str


# Costs in eighths of a dollar add up exactly in both Python floats and Redis INCRBYFLOAT.
operations = st.one_of(
    st.builds(
        Charge,
        st.sampled_from(["k1", "{k2}"]),
        st.integers(0, 120),
        st.sampled_from([0.0, 0.125, 0.25, 0.375]),
    ),
    st.builds(Check, st.sampled_from(["k1", "{k2}"])),
    st.builds(Tick, st.sampled_from([30.0, 3600.0, 43_200.0])),
)


async def _step(guard: BudgetGuard, op: object) -> object:
    match op:
        case Charge(key, tokens, cost):
            return await guard.charge(key, tokens, cost)
        case Check(key):
            return await guard.check(key)
    raise AssertionError(op)


@pytest.mark.redis
@SEQUENCES
@given(
    ops=st.lists(operations, min_size=5, max_size=40),
    daily_tokens=st.sampled_from([0, 100, 250]),
    daily_cost=st.sampled_from([0.0, 0.5, 1.0]),
    thresholds=st.sampled_from([(0.5, 0.8, 1.0), (1.0,), (0.25, 2.0)]),
)
def test_random_sequences_decide_and_alert_alike_on_both_stores(
    ops: list[object], daily_tokens: int, daily_cost: float, thresholds: tuple[float, ...]
) -> None:
    settings = limits(daily_tokens=daily_tokens, daily_cost_usd=daily_cost, alert_thresholds=thresholds)

    run_on_both(
        "budget-contract",
        ops,
        start=LATE - 7200,
        memory=lambda clock: BudgetGuard(settings, InProcessBudgetStore(), clock=clock),
        redis=lambda client, prefix, clock: BudgetGuard(
            settings, RedisBudgetStore(client, prefix=prefix), clock=clock
        ),
        step=_step,
    )
