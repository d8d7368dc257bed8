"""The policy of the upstream resilience layer: its settings, which failures count, the retry budget.

``RetryBudget`` supplies tenacity's wait and stop rules for one model: exponential backoff with
jitter, never sooner than the upstream's Retry-After; stop after ``max_attempts``, when the
model's circuit opens, or when the next wait would overrun ``max_total_s`` — at once, rather than
sleeping past the budget.
"""

from __future__ import annotations

import logging
import random
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode
from tenacity import RetryCallState, wait_exponential_jitter

from knowledge.settings import _config
from service.llm.breaker import BreakerBoard, CircuitState, Clock
from service.llm.errors import UpstreamError

log = logging.getLogger(__name__)


class ResilienceSettings(BaseSettings):
    model_config = _config("RESILIENCE_")

    max_attempts: int = Field(default=3, ge=1, le=10, description="requests per model before falling back")
    max_total_s: float = Field(
        default=15.0, gt=0, description="per model: first request until the first token (or reply)"
    )
    backoff_base_s: float = Field(default=0.5, ge=0, description="first retry wait; doubles per retry")
    backoff_max_s: float = Field(default=4.0, ge=0)
    jitter_s: float = Field(default=0.5, ge=0, description="random extra wait, 0..jitter_s")
    first_token_timeout_s: float = Field(default=8.0, gt=0, description="request start to first text")
    idle_timeout_s: float = Field(default=20.0, gt=0, description="longest gap between text deltas")
    breaker_failures: int = Field(default=5, ge=1, description="consecutive failures that open a circuit")
    breaker_cooldown_s: float = Field(
        default=30.0, gt=0, description="open circuit: skip the model this long"
    )
    fallback_models: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["claude-haiku-4-5"],
        description="tried in order after ANTHROPIC_MODEL; comma-separated, empty = none",
    )
    pool_size: int = Field(default=64, ge=1, description="answers streaming from Claude at once")
    queue_size: int = Field(default=64, ge=0, description="answers waiting for a slot; more are shed")
    queue_wait_s: float = Field(default=2.0, ge=0, description="longest wait for a slot before 503")

    @field_validator("fallback_models", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value

    @model_validator(mode="after")
    def _backoff_bounds(self) -> ResilienceSettings:
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError("backoff_max_s must be at least backoff_base_s")
        return self


def is_model_failure(exc: BaseException) -> bool:
    """A failure of the model or the service (retry, count against the breaker, fall back).

    Anything else is the request's own fault or ours (bad request, credentials): no other attempt
    or model would do better, so it propagates unchanged.
    """
    return isinstance(exc, UpstreamError) and (exc.retryable or exc.upstream_status == 404)


class RetryBudget:
    """Stop rule and wait rule of one model's retries (tenacity callables)."""

    def __init__(self, settings: ResilienceSettings, model: str, board: BreakerBoard, clock: Clock) -> None:
        self.settings = settings
        self.model = model
        self.board = board
        self.clock = clock
        self.deadline = clock() + settings.max_total_s
        self._backoff = wait_exponential_jitter(
            initial=settings.backoff_base_s, max=settings.backoff_max_s, jitter=settings.jitter_s
        )

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def wait(self, state: RetryCallState) -> float:
        delay = float(self._backoff(state))
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, UpstreamError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after + random.uniform(0, self.settings.jitter_s))
        return delay

    def stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.settings.max_attempts:
            return True
        if self.board[self.model].state is CircuitState.OPEN:
            return True
        if state.upcoming_sleep >= self.remaining():
            log.warning(
                "Claude %s: next retry would wait %.2fs, past the %.2fs left; giving up on it",
                self.model,
                state.upcoming_sleep,
                max(self.remaining(), 0.0),
            )
            return True
        return False
