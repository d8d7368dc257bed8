"""The resilience layer against the fake Anthropic server, through the real SDK: faults in, outcomes out.

Waits are asserted through an injected sleep (what the layer asked to wait) and the fake's request
timestamps, breaker cool-downs through an injected clock — never through the test's wall time.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from fakes import DropMidStream, ErrorEvent, FakeAnthropic, SlowFirstByte, Status
from fakes import anthropic_protocol as proto
from service.llm.admission import AdmissionGate, OverloadedError
from service.llm.breaker import CircuitBreaker, CircuitState
from service.llm.claude import ClaudeClient
from service.llm.errors import UpstreamError
from service.llm.interface import Completed, Started, StreamEvent, TextDelta
from service.llm.policy import ResilienceSettings
from service.llm.resilient import LlmUnavailableError, ResilientClaude
from service.settings.anthropic import AnthropicSettings

T = TypeVar("T")
PRIMARY = "claude-sonnet-4-6"
FALLBACK = "claude-haiku-4-5"
SYSTEM: list[dict[str, Any]] = [{"type": "text", "text": "You answer customer questions."}]
QUESTION: list[dict[str, Any]] = [{"role": "user", "content": "How do I get a refund?"}]
REPLY = proto.DEFAULT_REPLY
PIECES = proto.split_reply(REPLY)


def policy(**overrides: Any) -> ResilienceSettings:
    """Tiny waits, generous timeouts: each test tightens what it exercises."""
    values: dict[str, Any] = {
        "max_attempts": 3,
        "max_total_s": 10.0,
        "backoff_base_s": 0.001,
        "backoff_max_s": 0.01,
        "jitter_s": 0.0,
        "first_token_timeout_s": 5.0,
        "idle_timeout_s": 5.0,
        "breaker_failures": 5,
        "breaker_cooldown_s": 30.0,
        "fallback_models": [FALLBACK],
        "pool_size": 4,
        "queue_size": 4,
        "queue_wait_s": 1.0,
    }
    return ResilienceSettings(**(values | overrides))


@dataclass
class ManualClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class RecordingSleep:
    """Records every wait the retry layer asks for; really sleeps only when ``real``."""

    real: bool = True
    calls: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(seconds if self.real else 0)


@dataclass
class Rig:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    clock: Callable[[], float] = time.monotonic
    sleep: RecordingSleep = field(default_factory=RecordingSleep)

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@dataclass
class Outcome:
    events: list[StreamEvent]
    error: UpstreamError | None

    @property
    def text(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, TextDelta))

    @property
    def started(self) -> Started:
        first = self.events[0]
        assert isinstance(first, Started)
        return first


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server
    assert server.server_errors == []


def drive(
    fake: FakeAnthropic, body: Callable[[ResilientClaude], Awaitable[T]], rig: Rig, **overrides: Any
) -> T:
    async def main() -> T:
        anthropic_settings = AnthropicSettings(
            api_key=SecretStr("test"), base_url=fake.base_url, model=PRIMARY, timeout_s=10
        )
        resilient = ResilientClaude(
            ClaudeClient(anthropic_settings),
            policy(**overrides),
            rig.registry,
            clock=rig.clock,
            sleep=rig.sleep,
        )
        try:
            return await body(resilient)
        finally:
            await resilient.close()

    return asyncio.run(main())


async def collect(resilient: ResilientClaude) -> Outcome:
    events: list[StreamEvent] = []
    try:
        async for event in resilient.stream(SYSTEM, QUESTION):
            events.append(event)
    except UpstreamError as exc:
        return Outcome(events, exc)
    return Outcome(events, None)


def models_asked(fake: FakeAnthropic) -> list[str]:
    return [r.body["model"] for r in fake.message_requests()]


def answered_in_full(outcome: Outcome) -> bool:
    return outcome.error is None and outcome.text == REPLY and isinstance(outcome.events[-1], Completed)


# ---------------------------------------------------------------- retries before the first token


def test_429_retry_after_ms_is_waited_before_the_retry(fake: FakeAnthropic) -> None:
    fake.script(Status(429, "rate_limit_error", "Rate limited", retry_after_ms=250))
    rig = Rig()
    outcome = drive(fake, collect, rig)

    assert answered_in_full(outcome)
    assert outcome.started == Started(PRIMARY, attempts=2, fallback=False)
    assert models_asked(fake) == [PRIMARY, PRIMARY]
    [waited] = rig.sleep.calls
    assert waited >= 0.25  # far above the 1-10 ms backoff: the header decided
    first, second = fake.message_requests()
    assert second.time - first.time >= 0.25
    assert rig.sample("faqstream_upstream_retries_total", model=PRIMARY, reason="rate_limit_error") == 1


def test_429_retry_after_seconds_is_honoured(fake: FakeAnthropic) -> None:
    fake.script(Status(429, "rate_limit_error", "Rate limited", retry_after=3))
    rig = Rig(sleep=RecordingSleep(real=False))
    outcome = drive(fake, collect, rig)

    assert answered_in_full(outcome)
    assert rig.sleep.calls == [pytest.approx(3.0)]
    assert models_asked(fake) == [PRIMARY, PRIMARY]


def test_retry_after_past_the_budget_gives_up_on_the_model_at_once(fake: FakeAnthropic) -> None:
    fake.script(Status(429, "rate_limit_error", "Rate limited", retry_after=60))
    rig = Rig(sleep=RecordingSleep(real=False))
    outcome = drive(fake, collect, rig, max_total_s=5.0)

    assert answered_in_full(outcome)
    assert rig.sleep.calls == []  # no sleeping past the budget
    assert models_asked(fake) == [PRIMARY, FALLBACK]
    assert outcome.started == Started(FALLBACK, attempts=2, fallback=True)
    assert rig.sample("faqstream_upstream_fallbacks_total", from_model=PRIMARY, to_model=FALLBACK) == 1


def test_500_then_success(fake: FakeAnthropic) -> None:
    fake.script(Status(500, "api_error", "Internal server error"))
    rig = Rig()
    outcome = drive(fake, collect, rig, backoff_base_s=0.02, backoff_max_s=0.05, jitter_s=0.01)

    assert answered_in_full(outcome)
    assert models_asked(fake) == [PRIMARY, PRIMARY]
    [waited] = rig.sleep.calls
    assert 0.02 <= waited <= 0.05
    assert rig.sample("faqstream_upstream_errors_total", model=PRIMARY, code="api_error") == 1
    assert rig.sample("faqstream_upstream_first_token_seconds_count", model=PRIMARY) == 1


def test_attempts_are_bounded(fake: FakeAnthropic) -> None:
    fake.script(*[Status(503, "api_error", "Unavailable")] * 5)
    rig = Rig(sleep=RecordingSleep(real=False))
    outcome = drive(fake, collect, rig, max_attempts=4, fallback_models=[])

    assert isinstance(outcome.error, LlmUnavailableError) and outcome.events == []
    assert models_asked(fake) == [PRIMARY] * 4
    assert len(rig.sleep.calls) == 3
    # Exponential: each wait at least the previous one (base 1 ms, doubling, capped at 10 ms).
    assert rig.sleep.calls == sorted(rig.sleep.calls) and rig.sleep.calls[0] < rig.sleep.calls[-1]


def test_slow_first_byte_beyond_first_token_timeout_is_retried(fake: FakeAnthropic) -> None:
    fake.script(SlowFirstByte(3.0))
    rig = Rig()
    outcome = drive(fake, collect, rig, first_token_timeout_s=0.3)

    assert answered_in_full(outcome)
    assert models_asked(fake) == [PRIMARY, PRIMARY]
    [gone] = fake.wait_for_disconnects(1)
    assert gone.request_index == 0 and gone.deltas_sent == 0
    assert (
        rig.sample("faqstream_upstream_retries_total", model=PRIMARY, reason="upstream_first_token_timeout")
        == 1
    )


def test_headers_without_text_also_count_against_the_first_token_timeout(fake: FakeAnthropic) -> None:
    fake.first_token_delay_s = 3.0  # status and message_start arrive at once, the first delta does not
    rig = Rig()
    outcome = drive(fake, collect, rig, first_token_timeout_s=0.2, max_attempts=2, fallback_models=[])

    assert isinstance(outcome.error, LlmUnavailableError) and outcome.events == []
    assert outcome.error.failures == [(PRIMARY, "upstream_first_token_timeout")]
    assert models_asked(fake) == [PRIMARY, PRIMARY]
    gone = fake.wait_for_disconnects(2)
    assert len(gone) == 2 and all(g.stream and g.deltas_sent == 0 for g in gone)


def test_an_empty_reply_is_started_and_completed(fake: FakeAnthropic) -> None:
    fake.reply = ""
    outcome = drive(fake, collect, Rig())

    assert outcome.error is None and outcome.text == ""
    assert [type(e) for e in outcome.events] == [Started, Completed]


# ---------------------------------------------------------------- after the first token: never retried


@pytest.mark.parametrize("reset", [False, True])
def test_drop_mid_stream_after_first_token_is_propagated_not_retried(
    fake: FakeAnthropic, reset: bool
) -> None:
    fake.script(DropMidStream(after_deltas=3, reset=reset))
    rig = Rig()
    outcome = drive(fake, collect, rig)

    assert outcome.text == "".join(PIECES[:3])
    assert isinstance(outcome.error, UpstreamError) and not isinstance(outcome.error, LlmUnavailableError)
    assert not any(isinstance(e, Completed) for e in outcome.events)
    assert models_asked(fake) == [PRIMARY]  # exactly one request: the partial text stands
    assert rig.sleep.calls == []


def test_error_event_mid_stream_is_propagated_not_retried(fake: FakeAnthropic) -> None:
    fake.script(ErrorEvent(after_deltas=2, error_type="overloaded_error", message="Overloaded"))
    rig = Rig()
    outcome = drive(fake, collect, rig)

    assert outcome.text == "".join(PIECES[:2])
    assert outcome.error is not None and outcome.error.code == "overloaded_error"
    assert models_asked(fake) == [PRIMARY]
    assert rig.sample("faqstream_upstream_errors_total", model=PRIMARY, code="overloaded_error") == 1


def test_idle_timeout_between_tokens(fake: FakeAnthropic) -> None:
    fake.token_delay_s = 3.0  # the first delta comes at once, the second would take 3 s
    rig = Rig()
    outcome = drive(fake, collect, rig, idle_timeout_s=0.2)

    assert outcome.text == PIECES[0]
    assert outcome.error is not None and outcome.error.code == "upstream_idle_timeout"
    assert models_asked(fake) == [PRIMARY]
    [gone] = fake.wait_for_disconnects(1)  # the upstream request was closed, not left running
    assert gone.stream and gone.deltas_sent == 1


# ---------------------------------------------------------------- breakers and fallback


def test_529_storm_opens_the_breaker_and_the_fallback_answers(fake: FakeAnthropic) -> None:
    clock = ManualClock()
    rig = Rig(clock=clock, sleep=RecordingSleep(real=False))
    fake.script(*[Status(529, "overloaded_error", "Overloaded")] * 3)
    state = "faqstream_upstream_circuit_state"

    async def body(resilient: ResilientClaude) -> None:
        storm = await collect(resilient)
        assert answered_in_full(storm)
        assert storm.started == Started(FALLBACK, attempts=4, fallback=True)
        assert models_asked(fake) == [PRIMARY] * 3 + [FALLBACK]  # whose model got each request
        assert resilient.breakers[PRIMARY].state is CircuitState.OPEN
        assert rig.sample(state, model=PRIMARY) == 2 and rig.sample(state, model=FALLBACK) == 0

        skipped = await collect(resilient)  # open: the primary is not even asked
        assert answered_in_full(skipped) and skipped.started.model == FALLBACK
        assert models_asked(fake)[4:] == [FALLBACK]
        assert rig.sample("faqstream_upstream_circuit_skips_total", model=PRIMARY) == 1

        clock.now += 30.0  # the cool-down is over: half-open, one probe goes through
        assert rig.sample(state, model=PRIMARY) == 1
        probe = await collect(resilient)
        assert answered_in_full(probe) and probe.started == Started(PRIMARY, attempts=1, fallback=False)
        assert resilient.breakers[PRIMARY].state is CircuitState.CLOSED
        assert rig.sample(state, model=PRIMARY) == 0

    drive(fake, body, rig, breaker_failures=3, max_attempts=3)


def test_failed_probe_reopens_the_breaker_without_retrying(fake: FakeAnthropic) -> None:
    clock = ManualClock()
    rig = Rig(clock=clock, sleep=RecordingSleep(real=False))
    fake.script(*[Status(529, "overloaded_error", "Overloaded")] * 2)

    async def body(resilient: ResilientClaude) -> None:
        await collect(resilient)  # 2 failures open the breaker, the fallback answers
        assert models_asked(fake) == [PRIMARY, PRIMARY, FALLBACK]
        clock.now += 31.0
        fake.script(Status(529, "overloaded_error", "Overloaded"))
        outcome = await collect(resilient)  # the probe meets the third 529
        assert answered_in_full(outcome) and outcome.started.model == FALLBACK
        assert models_asked(fake)[3:] == [PRIMARY, FALLBACK]  # one probe, no retry of it
        assert resilient.breakers[PRIMARY].state is CircuitState.OPEN

    drive(fake, body, rig, breaker_failures=2, max_attempts=3)


def test_all_models_down_raises_llm_unavailable(fake: FakeAnthropic) -> None:
    fake.script(*[Status(529, "overloaded_error", "Overloaded")] * 4)
    rig = Rig(sleep=RecordingSleep(real=False))
    outcome = drive(fake, collect, rig, max_attempts=2)

    error = outcome.error
    assert isinstance(error, LlmUnavailableError) and error.code == "llm_unavailable" and error.retryable
    assert error.failures == [(PRIMARY, "overloaded_error"), (FALLBACK, "overloaded_error")]
    assert outcome.events == []  # nothing reached the customer: the caller answers extractively
    assert models_asked(fake) == [PRIMARY, PRIMARY, FALLBACK, FALLBACK]
    assert rig.sample("faqstream_upstream_unavailable_total") == 1


def test_every_circuit_open_fails_at_once_with_the_time_to_the_first_probe(fake: FakeAnthropic) -> None:
    clock = ManualClock()
    rig = Rig(clock=clock, sleep=RecordingSleep(real=False))
    fake.script(*[Status(500, "api_error", "Internal server error")] * 2)

    async def body(resilient: ResilientClaude) -> None:
        await collect(resilient)  # one failure each opens both circuits (breaker_failures=1)
        clock.now += 4.0
        outcome = await collect(resilient)
        assert isinstance(outcome.error, LlmUnavailableError)
        assert outcome.error.failures == [(PRIMARY, "circuit_open"), (FALLBACK, "circuit_open")]
        assert outcome.error.retry_after == pytest.approx(6.0)

    drive(fake, body, rig, breaker_failures=1, breaker_cooldown_s=10.0, max_attempts=1)
    assert len(fake.message_requests()) == 2


def test_request_errors_propagate_without_retry_or_fallback(fake: FakeAnthropic) -> None:
    fake.script(Status(400, "invalid_request_error", "messages: bad"))
    rig = Rig()

    async def body(resilient: ResilientClaude) -> tuple[Outcome, CircuitBreaker]:
        return await collect(resilient), resilient.breakers[PRIMARY]

    outcome, breaker = drive(fake, body, rig)
    assert outcome.error is not None and outcome.error.code == "invalid_request_error"
    assert not isinstance(outcome.error, LlmUnavailableError) and outcome.error.upstream_status == 400
    assert models_asked(fake) == [PRIMARY]
    assert breaker.state is CircuitState.CLOSED and breaker.consecutive_failures == 0


def test_complete_retries_and_falls_back(fake: FakeAnthropic) -> None:
    fake.script(Status(500, "api_error", "Internal"))
    rig = Rig(sleep=RecordingSleep(real=False))

    async def body(resilient: ResilientClaude) -> tuple[str, str]:
        first = await resilient.complete("Be brief.", QUESTION, max_tokens=5)  # 500, then success
        fake.script(*[Status(529, "overloaded_error", "Overloaded")] * 2)
        second = await resilient.complete("Be brief.", QUESTION, max_tokens=5)  # 529 x2, then haiku
        return first.model, second.model

    assert drive(fake, body, rig, max_attempts=2) == (PRIMARY, FALLBACK)
    assert models_asked(fake) == [PRIMARY, PRIMARY, PRIMARY, PRIMARY, FALLBACK]


# ---------------------------------------------------------------- admission and cancellation


def test_overload_is_shed_with_a_pool_of_one_and_no_queue(fake: FakeAnthropic) -> None:
    rig = Rig()

    async def body(resilient: ResilientClaude) -> None:
        lease = await resilient.acquire()
        with pytest.raises(OverloadedError) as shed:
            await resilient.acquire()
        assert shed.value.retry_after_s >= 1
        with pytest.raises(OverloadedError):
            await resilient.acquire()
        assert fake.message_requests() == []  # shed before anything went upstream
        async with lease:  # the holder of the slot streams (the answer flow does the same)
            outcome = [e async for e in resilient.stream(SYSTEM, QUESTION)]
        assert isinstance(outcome[-1], Completed) and lease.released
        async with await resilient.acquire():
            assert resilient.gate.in_use == 1

    drive(fake, body, rig, pool_size=1, queue_size=0)
    assert rig.sample("faqstream_upstream_shed_total") == 2
    assert rig.sample("faqstream_upstream_inflight") == 0


def test_queued_request_gets_the_released_slot_or_is_shed_after_the_wait() -> None:
    async def main() -> None:
        gate = AdmissionGate(pool_size=1, queue_size=1, queue_wait_s=5.0)
        held = await gate.acquire()
        waiter = asyncio.create_task(gate.acquire())
        await asyncio.sleep(0.01)
        assert gate.queued == 1
        with pytest.raises(OverloadedError):  # the queue (of one) is full
            await gate.acquire()
        held.release()
        handed = await waiter
        assert gate.in_use == 1 and gate.queued == 0
        impatient = AdmissionGate(pool_size=1, queue_size=1, queue_wait_s=0.05)
        kept = await impatient.acquire()
        with pytest.raises(OverloadedError):
            await impatient.acquire()
        assert impatient.queued == 0 and impatient.shed == 1
        handed.release()
        kept.release()
        assert gate.in_use == 0 and impatient.in_use == 0

    asyncio.run(main())


def test_a_dropped_lease_frees_its_slot() -> None:
    async def main() -> None:
        gate = AdmissionGate(pool_size=1, queue_size=0, queue_wait_s=0)
        lease = await gate.acquire()
        del lease
        gc.collect()
        await asyncio.sleep(0)
        assert gate.in_use == 0
        (await gate.acquire()).release()

    asyncio.run(main())


@pytest.mark.parametrize("after_first_token", [False, True])
def test_cancelling_the_consumer_closes_upstream_and_releases_the_slot(
    fake: FakeAnthropic, after_first_token: bool
) -> None:
    if after_first_token:
        fake.token_delay_s = 0.5
    else:
        fake.first_token_delay_s = 3.0
    rig = Rig()

    async def body(resilient: ResilientClaude) -> None:
        seen: list[StreamEvent] = []
        first_text = asyncio.Event()

        async def consume() -> None:
            async with await resilient.acquire():  # the slot is the caller's, as in the answer flow
                async for event in resilient.stream(SYSTEM, QUESTION):
                    seen.append(event)
                    if isinstance(event, TextDelta):
                        first_text.set()

        task = asyncio.create_task(consume())
        if after_first_token:
            await asyncio.wait_for(first_text.wait(), 5)
        else:
            while not fake.message_requests():
                await asyncio.sleep(0.01)
        assert resilient.gate.in_use == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert resilient.gate.in_use == 0
        assert [type(e) for e in seen] == ([Started, TextDelta] if after_first_token else [])
        breaker = resilient.breakers[PRIMARY]
        assert breaker.state is CircuitState.CLOSED and breaker.consecutive_failures == 0

    drive(fake, body, rig)
    [gone] = fake.wait_for_disconnects(1)
    assert gone.stream and gone.deltas_sent == (1 if after_first_token else 0)
    assert models_asked(fake) == [PRIMARY]


def test_closing_the_stream_closes_upstream(fake: FakeAnthropic) -> None:
    fake.token_delay_s = 0.5
    rig = Rig()

    async def body(resilient: ResilientClaude) -> None:
        stream = resilient.stream(SYSTEM, QUESTION)
        assert isinstance(await anext(stream), Started)
        assert isinstance(await anext(stream), TextDelta)
        await stream.aclose()

    drive(fake, body, rig)
    [gone] = fake.wait_for_disconnects(1)
    assert gone.stream and gone.deltas_sent == 1


# ---------------------------------------------------------------- breaker rules and settings


def state_of(breaker: CircuitBreaker) -> CircuitState:
    return breaker.state  # a call, so that mypy does not keep the narrowed value across calls


def test_breaker_ignores_late_results_and_frees_a_stuck_probe() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker("m", failures=2, cooldown_s=10.0, clock=clock)
    early = breaker.allow()
    first, second = breaker.allow(), breaker.allow()
    assert early and first and second
    first.failure()
    second.failure()
    assert state_of(breaker) is CircuitState.OPEN and breaker.allow() is None
    early.success()  # started before the breaker opened: says nothing about now
    assert state_of(breaker) is CircuitState.OPEN

    clock.now += 10.0
    probe = breaker.allow()
    assert probe is not None and probe.probe and breaker.allow() is None  # one probe at a time
    clock.now += 10.0  # the probe never reported: another one may go
    stuck_free = breaker.allow()
    assert stuck_free is not None and stuck_free.probe
    stuck_free.release()  # the customer left: no verdict, the next caller probes
    again = breaker.allow()
    assert again is not None
    again.success()
    assert state_of(breaker) is CircuitState.CLOSED


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESILIENCE_FALLBACK_MODELS", " claude-sonnet-4-6, claude-haiku-4-5 ,")
    monkeypatch.setenv("RESILIENCE_QUEUE_SIZE", "0")
    settings = ResilienceSettings()
    assert settings.fallback_models == ["claude-sonnet-4-6", "claude-haiku-4-5"]
    assert settings.queue_size == 0
    monkeypatch.setenv("RESILIENCE_FALLBACK_MODELS", "")
    assert ResilienceSettings().fallback_models == []
    with pytest.raises(ValueError, match="backoff_max_s"):
        ResilienceSettings(backoff_base_s=2.0, backoff_max_s=1.0)


def test_the_primary_is_not_repeated_in_the_chain(fake: FakeAnthropic) -> None:
    async def body(resilient: ResilientClaude) -> tuple[str, ...]:
        return resilient.models

    assert drive(fake, body, Rig(), fallback_models=[PRIMARY, FALLBACK]) == (PRIMARY, FALLBACK)


def test_fast_failures_among_slow_healthy_streams_do_not_open_the_circuit() -> None:
    """Failures count as consecutive in start order: a request still out between two failures
    breaks the streak (a 529 comes back in ms, a healthy stream's success only at its end)."""
    clock = ManualClock()
    breaker = CircuitBreaker("m", failures=3, cooldown_s=10.0, clock=clock)
    permits = [breaker.allow() for _ in range(12)]
    assert all(p is not None for p in permits)
    for n in (1, 4, 7, 10):  # every third request fails fast; the others are still streaming
        permits[n].failure()  # type: ignore[union-attr]
    assert breaker.state is CircuitState.CLOSED
    for n in (0, 2, 3, 5, 6, 8, 9, 11):
        permits[n].success()  # type: ignore[union-attr]
    assert breaker.state is CircuitState.CLOSED


def test_a_storm_opens_the_circuit_even_when_failures_arrive_out_of_order() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker("m", failures=3, cooldown_s=10.0, clock=clock)
    permits = [breaker.allow() for _ in range(4)]
    for n in (1, 0, 2, 3):  # all fail; #1 reports before #0
        permits[n].failure()  # type: ignore[union-attr]
    assert breaker.state is CircuitState.OPEN
