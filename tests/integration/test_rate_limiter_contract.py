"""The rate limiter contract, on the in-process and the Redis limiter (real Redis), one logical clock.

The Redis limiter normally reads the Redis server clock; here both take the test's clock, so the
same token arithmetic is checked to the token on both (``memory`` / ``redis``; ``-m "not redis"``
keeps the memory side). Random check sequences run on both at once must decide alike at every
step. The server clock, outages, the factory and two OS processes: ``test_limits.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from service.quotas import LimitSettings
from service.quotas.rate_limits import InProcessRateLimiter, RateLimiter, RedisRateLimiter, headers
from tests.contracts import BACKENDS, SEQUENCES, Clock, Tick, fresh_redis, run_on_both

pytestmark = pytest.mark.anyio

START = 1000.0

Factory = Callable[..., RateLimiter]


def limits(**overrides: Any) -> LimitSettings:
    """Limit settings independent of the environment: a key bucket of 5 at 60 rpm, nothing else."""
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
    return LimitSettings(**{**base, **overrides})


@pytest.fixture(params=BACKENDS)
async def make_limiter(request: pytest.FixtureRequest) -> AsyncIterator[Factory]:
    """``make(settings, clock, registry=None)``: a limiter of the parametrised kind."""
    if request.param == "memory":
        yield lambda settings, clock, registry=None: InProcessRateLimiter(
            settings, clock=clock, registry=registry
        )
        return
    async with fresh_redis("rate-limiter-contract") as (client, prefix):
        yield lambda settings, clock, registry=None: RedisRateLimiter(
            client, settings, prefix=prefix, clock=clock, registry=registry
        )


async def test_burst_then_refill_at_rpm(make_limiter: Factory) -> None:
    clock = Clock(START)
    limiter = make_limiter(limits(key_rpm=60, key_burst=5), clock)
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


async def test_fractional_rpm_and_default_burst(make_limiter: Factory) -> None:
    clock = Clock(START)
    limiter = make_limiter(limits(key_rpm=0.5, key_burst=0), clock)  # 1 per 120 s
    assert limiter.key_bucket is not None and limiter.key_bucket.capacity == 1
    assert (await limiter.check("k")).allowed
    refused = await limiter.check("k")
    assert refused.retry_after_s == 120
    clock.now += 119
    assert not (await limiter.check("k")).allowed
    clock.now += 1
    assert (await limiter.check("k")).allowed


async def test_headers_follow_the_draft(make_limiter: Factory) -> None:
    limiter = make_limiter(limits(key_rpm=60, key_burst=3, user_rpm=6, user_burst=2), Clock(START))
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


async def test_user_refusal_takes_no_key_token_and_users_are_scoped_by_key(make_limiter: Factory) -> None:
    limiter = make_limiter(limits(key_rpm=60, key_burst=10, user_rpm=1, user_burst=2), Clock(START))
    assert (await limiter.check("k", "alice")).allowed
    assert (await limiter.check("k", "alice")).allowed
    refused = await limiter.check("k", "alice")
    assert not refused.allowed and refused.tripped == "user" and refused.retry_after_s == 60
    key_state = next(s for s in refused.buckets if s.bucket.name == "key")
    assert key_state.remaining == 8  # two answered requests; the refused one took nothing
    assert (await limiter.check("k", "bob")).allowed  # another user of the same key
    assert (await limiter.check("other-key", "alice")).allowed  # same user id, other tenant


async def test_burst_is_the_capacity_of_each_bucket(make_limiter: Factory) -> None:
    limiter = make_limiter(limits(key_rpm=0.001, key_burst=3, user_rpm=0.001, user_burst=2), Clock(START))
    assert [(await limiter.check("k")).allowed for _ in range(4)] == [True, True, True, False]
    refused = await limiter.check("k", "u")
    assert not refused.allowed and refused.tripped == "key" and refused.remaining == 0
    assert refused.retry_after_s == 60_000
    other = [(await limiter.check("k2", "u")).allowed for _ in range(3)]
    assert other == [True, True, False]  # the user's bucket (2) runs out before the key's (3)
    assert (await limiter.check("k2")).allowed  # the key still has its third token


async def test_the_records_budget_is_a_bucket_apart_per_key(make_limiter: Factory) -> None:
    clock = Clock(START)
    limiter = make_limiter(limits(key_rpm=60, key_burst=2, records_rpm=60, records_burst=3), clock)
    reads = [await limiter.check_records("k", tenant="t") for _ in range(4)]
    assert [(r.allowed, r.remaining) for r in reads] == [(True, 2), (True, 1), (True, 0), (False, 0)]
    assert reads[-1].tripped == "records" and reads[-1].retry_after_s == 1
    assert headers(reads[0])["RateLimit-Policy"] == '60;w=60;burst=3;comment="records"'
    # reading spent nothing of the answers' bucket, and answering spends nothing of the reads'
    answers = [await limiter.check("k", tenant="t") for _ in range(3)]
    assert [a.allowed for a in answers] == [True, True, False] and answers[0].remaining == 1
    assert (await limiter.check_records("k2", tenant="t")).allowed  # another key of the tenant
    clock.now += 1  # one token back at 60 rpm
    assert (await limiter.check_records("k", tenant="t")).allowed
    assert not (await limiter.check_records("k", tenant="t")).allowed
    unlimited = make_limiter(limits(records_rpm=0), clock)
    assert all([(await unlimited.check_records("k")).limit is None for _ in range(10)])


async def test_disabled_limits_allow_everything_without_headers(make_limiter: Factory) -> None:
    limiter = make_limiter(limits(key_rpm=0, user_rpm=0), Clock(START))
    for _ in range(100):
        decision = await limiter.check("k", "u")
        assert decision.allowed and decision.limit is None
    assert headers(decision) == {}


async def test_refusals_are_counted(make_limiter: Factory) -> None:
    registry = CollectorRegistry()
    limiter = make_limiter(limits(key_rpm=60, key_burst=1), Clock(START), registry)
    for _ in range(4):
        await limiter.check("k")
    assert registry.get_sample_value("faqstream_rate_limited_total", {"limit": "key"}) == 3


# --- random check sequences, both limiters step by step -------------------------------------------


@dataclass(frozen=True)
class Check:
    key: str
    user: str | None


# Rates of 1/4, 1/2 and 1 token per second and ticks of quarter seconds keep every token count a
# binary fraction, so the Redis reply's 12 decimals are exact and both sides compare equal to the bit.
# (A bucket key's Redis expiry is at least 2 s of real time away; an example takes milliseconds.)
rpms = st.sampled_from([0.0, 15.0, 30.0, 60.0])
operations = st.one_of(
    st.builds(Check, st.sampled_from(["k1", "{k2}"]), st.sampled_from([None, "u1", "u2"])),
    st.builds(Tick, st.sampled_from([0.25, 0.5, 1.0, 2.75, 10.0])),
)


async def _step(limiter: RateLimiter, op: Check) -> object:
    return await limiter.check(op.key, op.user)


@pytest.mark.redis
@SEQUENCES
@given(
    ops=st.lists(operations, min_size=5, max_size=40),
    key_rpm=rpms,
    key_burst=st.integers(0, 3),
    user_rpm=rpms,
    user_burst=st.integers(0, 2),
)
def test_random_sequences_decide_alike_on_both_limiters(
    ops: list[object], key_rpm: float, key_burst: int, user_rpm: float, user_burst: int
) -> None:
    settings = limits(key_rpm=key_rpm, key_burst=key_burst, user_rpm=user_rpm, user_burst=user_burst)

    run_on_both(
        "rate-limiter-contract",
        ops,
        start=START,
        memory=lambda clock: InProcessRateLimiter(settings, clock=clock),
        redis=lambda client, prefix, clock: RedisRateLimiter(client, settings, prefix=prefix, clock=clock),
        step=_step,
    )
