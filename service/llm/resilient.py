"""Upstream resilience around ``ClaudeClient``: retries, timeouts, circuit breakers, fallback, admission.

``ResilientClaude.stream`` is the one retry layer (the SDK's own retries are off). For each model of
the chain (``ANTHROPIC_MODEL`` then ``RESILIENCE_FALLBACK_MODELS``) it makes up to ``max_attempts``
requests within ``max_total_s``, retrying only retryable failures (408/409/429/5xx/529, connection
errors, timeouts) with exponential backoff and jitter, never sooner than the upstream's
Retry-After — and giving up on the model at once when that wait would overrun the budget. A request
that shows no text within ``first_token_timeout_s`` counts as a retryable timeout. Retries stop at
the first token: from then on the text belongs to the customer, so a failure (dropped connection,
``error`` event, no token for ``idle_timeout_s``) ends the stream with an ``UpstreamError``.

A model whose circuit is open is skipped; when every model failed or is open the call raises
``LlmUnavailableError`` (code ``llm_unavailable``): the caller answers extractively with a handoff.
Errors that another attempt or model cannot fix (400 invalid request, 401/403 credentials, 413)
propagate as they are. See docs/resilience.md.

Admission is separate: ``acquire`` hands out a ``Lease`` on the pool (``RESILIENCE_POOL_SIZE``
answers streaming at once, a short queue, then ``OverloadedError``). The answer flow takes one
before the first byte and holds it until its stream ends. ``stream`` and ``complete`` take no slot
themselves: the one-shot calls (translation and LLM routing before an answer, the summary after
it) are short, bounded by their own timeouts, and made on behalf of an answer that holds — or is
about to take, or has just released — its own slot; counting them too would let a customer's
answer be shed because of its own translation.

``bill=`` (``service.llm.billing``) goes with every request of the call, retries and fallbacks
included: the raw client charges each one that consumed tokens to it, once.

``model=`` picks the first model of the chain for one call (the translator's, summariser's or
router's cheap model), followed by ``RESILIENCE_FALLBACK_MODELS``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from service.llm.admission import AdmissionGate, Lease, OverloadedError
from service.llm.billing import Bill
from service.llm.breaker import BreakerBoard, Clock, Permit
from service.llm.errors import UpstreamError
from service.llm.idle import IdleWatch
from service.llm.interface import LLM, Blocks, Completed, Completion, Started, StreamEvent, TextDelta
from service.llm.metrics import ResilienceMetrics
from service.llm.policy import ResilienceSettings, RetryBudget, is_model_failure

log = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


class LlmUnavailableError(UpstreamError):
    """Every model of the chain failed or has its circuit open."""

    def __init__(self, failures: list[tuple[str, str]], retry_after: float | None) -> None:
        summary = ", ".join(f"{model}: {code}" for model, code in failures) or "no models configured"
        super().__init__(
            "llm_unavailable",
            f"Claude is unavailable ({summary})",
            retryable=True,
            upstream_status=None,
            retry_after=retry_after,
        )
        self.failures = failures  # (model, error code or "circuit_open"), in the order tried


class _CircuitOpenError(Exception):
    """Internal: the model's breaker refused the request (never retried, falls through to the next)."""


@dataclass
class _Opened:
    """A stream past its first event: what the retry phase hands to the relay."""

    model: str
    events: AsyncGenerator[StreamEvent, None]
    first: TextDelta | Completed
    permit: Permit
    idle: IdleWatch | None = field(default=None, repr=False)  # created at the first wait


class ResilientClaude:
    def __init__(
        self,
        client: LLM,
        settings: ResilienceSettings,
        registry: CollectorRegistry | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.client = client
        self.settings = settings
        self.models: tuple[str, ...] = tuple(dict.fromkeys([client.model, *settings.fallback_models]))
        self._clock = clock
        self._sleep = sleep
        self.breakers = BreakerBoard(
            settings.breaker_failures, settings.breaker_cooldown_s, clock, self.models
        )
        self.gate = AdmissionGate(settings.pool_size, settings.queue_size, settings.queue_wait_s)
        self.metrics = ResilienceMetrics(registry, self.gate, self.breakers)

    @property
    def model(self) -> str:
        return self.models[0]

    # ------------------------------------------------------------ admission
    async def acquire(self) -> Lease:
        """An upstream slot, or ``OverloadedError`` at once (queue full) or after ``queue_wait_s``."""
        try:
            return await self.gate.acquire()
        except OverloadedError:
            self.metrics.shed.inc()
            raise

    def chain(self, model: str | None = None) -> tuple[str, ...]:
        """The models one call tries in order: ``model`` (default: ANTHROPIC_MODEL), then the fallbacks."""
        if model is None:
            return self.models
        return tuple(dict.fromkeys([model, *self.settings.fallback_models]))

    # ------------------------------------------------------------ streaming
    async def stream(
        self,
        system: Blocks,
        messages: Blocks,
        *,
        model: str | None = None,
        tools: Blocks | None = None,
        bill: Bill | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """``Started``, then text deltas, then one ``Completed``.

        Closing the generator, or cancelling its consumer, closes the upstream request. Takes no
        pool slot: the caller holds one (``acquire``).
        """
        chain = self.chain(model)
        opened: _Opened | None = None
        try:
            opened, attempts = await self._open_chain(chain, system, messages, tools, bill)
            yield Started(opened.model, attempts, opened.model != chain[0])
            event = opened.first
            while True:  # from here on nothing is retried: the text is the customer's
                if isinstance(event, Completed):
                    opened.permit.success()  # before the yield: the consumer may stop at Completed
                    yield event
                    return
                yield event
                event = await self._next(opened)
        except BaseException as exc:
            if opened is not None:
                self._settle(opened.permit, opened.model, exc)
            raise
        finally:
            if opened is not None:
                if opened.idle is not None:
                    opened.idle.close()
                await opened.events.aclose()

    async def _open_chain(
        self,
        chain: tuple[str, ...],
        system: Blocks,
        messages: Blocks,
        tools: Blocks | None = None,
        bill: Bill | None = None,
    ) -> tuple[_Opened, int]:
        attempts = [0]

        async def attempt(model: str, budget: RetryBudget) -> _Opened:
            attempts[0] += 1
            return await self._open(model, system, messages, budget, tools=tools, bill=bill)

        opened = await self._over_chain(chain, attempt)
        return opened, attempts[0]

    async def _open(
        self,
        model: str,
        system: Blocks,
        messages: Blocks,
        budget: RetryBudget,
        *,
        tools: Blocks | None = None,
        bill: Bill | None = None,
    ) -> _Opened:
        """One request, up to its first event (text, or the end of a reply without text); the raw
        client's own ``Started`` is dropped (this layer sends one for the whole chain)."""
        permit = self._permit(model)
        events = self.client.stream(system, messages, model=model, tools=tools, bill=bill)
        timeout = max(min(self.settings.first_token_timeout_s, budget.remaining()), 0.0)
        started = self._clock()
        try:
            try:
                async with asyncio.timeout(timeout):
                    first = await anext(events)
                    while isinstance(first, Started):
                        first = await anext(events)
            except TimeoutError:
                raise UpstreamError(
                    "upstream_first_token_timeout",
                    f"Claude {model} sent no text within {timeout:.2f}s",
                    retryable=True,
                ) from None
            except StopAsyncIteration:
                raise _incomplete(model) from None
        except BaseException as exc:
            await events.aclose()
            self._settle(permit, model, exc)
            raise
        self.metrics.first_token.labels(model).observe(max(self._clock() - started, 0.0))
        return _Opened(model, events, first, permit)

    async def _next(self, opened: _Opened) -> TextDelta | Completed:
        if opened.idle is None:
            opened.idle = IdleWatch(self.settings.idle_timeout_s)
        try:
            with opened.idle.waiting():
                event = await anext(opened.events)
                while isinstance(event, Started):
                    event = await anext(opened.events)
                return event
        except TimeoutError:
            raise UpstreamError(
                "upstream_idle_timeout",
                f"Claude {opened.model} sent nothing for {self.settings.idle_timeout_s:.1f}s",
                retryable=True,
            ) from None
        except StopAsyncIteration:
            raise _incomplete(opened.model) from None

    # ------------------------------------------------------------ non-streamed
    async def complete(
        self,
        system: str | Blocks,
        messages: Blocks,
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        tools: Blocks | None = None,
        tool_choice: dict[str, Any] | None = None,
        timeout_s: float | None = None,
        bill: Bill | None = None,
    ) -> Completion:
        """``ClaudeClient.complete`` with the same retries, breakers and fallback (no first-token rule;
        each attempt is bounded by what is left of the model's budget). Takes no pool slot."""

        async def attempt(model: str, budget: RetryBudget) -> Completion:
            permit = self._permit(model)
            try:
                try:
                    async with asyncio.timeout(max(budget.remaining(), 0.0)):
                        result = await self.client.complete(
                            system,
                            messages,
                            model=model,
                            max_tokens=max_tokens,
                            tools=tools,
                            tool_choice=tool_choice,
                            timeout_s=timeout_s,
                            bill=bill,
                        )
                except TimeoutError:
                    raise UpstreamError(
                        "upstream_timeout", f"Claude {model} did not answer in time", retryable=True
                    ) from None
            except BaseException as exc:
                self._settle(permit, model, exc)
                raise
            permit.success()
            return result

        return await self._over_chain(self.chain(model), attempt)

    # ------------------------------------------------------------ shared machinery
    async def _over_chain(
        self, chain: tuple[str, ...], attempt: Callable[[str, RetryBudget], Awaitable[T]]
    ) -> T:
        """Each model in turn, with retries, skipping open circuits; ``LlmUnavailableError`` at the end."""
        failures: list[tuple[str, str]] = []
        last: UpstreamError | None = None
        for model in chain:
            if not self.breakers[model].available():
                self.metrics.circuit_skips.labels(model).inc()
                failures.append((model, "circuit_open"))
                continue
            budget = RetryBudget(self.settings, model, self.breakers, self._clock)
            retrying = AsyncRetrying(
                retry=retry_if_exception(lambda e: isinstance(e, UpstreamError) and e.retryable),
                stop=budget.stop,
                wait=budget.wait,
                sleep=self._sleep,
                before_sleep=self._before_sleep(model),
                reraise=True,
            )
            try:
                result: T = await retrying(attempt, model, budget)
            except _CircuitOpenError:
                self.metrics.circuit_skips.labels(model).inc()
                failures.append((model, "circuit_open"))
                continue
            except UpstreamError as exc:
                if not is_model_failure(exc):
                    raise
                failures.append((model, exc.code))
                last = exc
                log.warning("Claude %s failed (%s): trying the next model", model, exc.code)
                continue
            if model != chain[0]:
                self.metrics.fallbacks.labels(chain[0], model).inc()
            return result
        self.metrics.unavailable.inc()
        if last is None:  # every circuit open: the first probe is the earliest chance
            retry_after: float | None = min((self.breakers[m].retry_in() for m in chain), default=None)
        else:
            retry_after = last.retry_after
        log.error("Claude unavailable: %s", failures)
        raise LlmUnavailableError(failures, retry_after) from last

    def _permit(self, model: str) -> Permit:
        permit = self.breakers[model].allow()
        if permit is None:
            raise _CircuitOpenError(model)
        return permit

    def _settle(self, permit: Permit, model: str, exc: BaseException) -> None:
        """Report a request that ended in ``exc`` to the breaker and the metrics."""
        if isinstance(exc, UpstreamError):
            self.metrics.errors.labels(model, exc.code).inc()
            if is_model_failure(exc):
                permit.failure()
            else:
                permit.success()  # the upstream answered; the request itself was refused
        else:
            permit.release()  # cancelled or closed by the consumer: no verdict on the model

    def _before_sleep(self, model: str) -> Callable[[RetryCallState], None]:
        def note(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            code = exc.code if isinstance(exc, UpstreamError) else type(exc).__name__
            self.metrics.retries.labels(model, code).inc()
            log.warning(
                "Claude %s failed (%s), attempt %d; retrying in %.2fs",
                model,
                code,
                state.attempt_number,
                state.upcoming_sleep,
            )

        return note

    async def close(self) -> None:
        await self.client.close()


def _incomplete(model: str) -> UpstreamError:
    return UpstreamError(
        "upstream_incomplete", f"Claude {model} stream ended without a final message", retryable=True
    )
