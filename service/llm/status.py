"""What the Anthropic API last said about this process's credentials: ``upstream`` in /readyz and
the ``faqstream_upstream_status`` gauge.

``ClaudeClient`` (the one place that talks to the API) reports every verdict here: a request the
API accepted → ``ok``; a 401/403 (``UpstreamAuthError``) → ``unauthorized``; the start-up check
failing to connect or timing out → ``unreachable``. Other failures (429, 5xx, 529, timeouts during
an answer) say nothing about the key and leave the state as it is — the circuit breakers report
those. Verdicts are ordered by when their request *started*: a slow stream that began before the
key was revoked does not flip ``unauthorized`` back to ``ok`` when it finishes.

Each change of state is logged once (never the key itself).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from enum import StrEnum

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


class UpstreamState(StrEnum):
    NOT_CONFIGURED = "not_configured"  # no ANTHROPIC_API_KEY: extractive mode by choice
    UNCHECKED = "unchecked"  # a key is set, no verdict yet (check off or inconclusive)
    OK = "ok"
    UNAUTHORIZED = "unauthorized"
    UNREACHABLE = "unreachable"


class UpstreamStatus:
    """One per process, shared by its ``ClaudeClient``; read by /readyz and the gauge."""

    def __init__(self, *, configured: bool = True) -> None:
        self.state = UpstreamState.UNCHECKED if configured else UpstreamState.NOT_CONFIGURED
        self.reason: str | None = None  # what the latest verdict said (None when accepted)
        self._issued = 0
        self._latest = 0  # ticket of the request behind the current state

    def ticket(self) -> int:
        """Taken when a request starts; its verdict is dropped if a later-started one already spoke."""
        self._issued += 1
        return self._issued

    @property
    def generative(self) -> bool:
        """Whether answers can come from Claude (unchecked and unreachable count as yes: every
        answer still tries, with retries and fallback)."""
        return self.state not in (UpstreamState.NOT_CONFIGURED, UpstreamState.UNAUTHORIZED)

    @property
    def degraded(self) -> bool:
        return self.state in (UpstreamState.UNAUTHORIZED, UpstreamState.UNREACHABLE)

    def record(self, state: UpstreamState, ticket: int, reason: str | None = None) -> None:
        if ticket < self._latest or self.state is UpstreamState.NOT_CONFIGURED:
            return
        self._latest = ticket
        previous, self.state, self.reason = self.state, state, reason
        if state is previous and state is not UpstreamState.UNCHECKED:
            return
        if state is UpstreamState.UNAUTHORIZED:
            log.error(
                "the Anthropic API rejected ANTHROPIC_API_KEY (%s): every answer falls back to quoted "
                "passages and a handoff until the key is fixed (/readyz: upstream=unauthorized)",
                reason,
            )
        elif state is UpstreamState.UNREACHABLE:
            log.warning(
                "the Anthropic API is unreachable (%s): the key could not be checked; answers still "
                "try it and quote passages with a handoff while it stays unreachable",
                reason,
            )
        elif state is UpstreamState.UNCHECKED:
            log.warning("could not check ANTHROPIC_API_KEY (%s)", reason)
        elif previous is UpstreamState.UNCHECKED:
            log.info("the Anthropic API accepted ANTHROPIC_API_KEY")
        else:
            log.warning("the Anthropic API accepts ANTHROPIC_API_KEY again (was %s)", previous)


class UpstreamStatusCollector(Collector):
    """``faqstream_upstream_status{state}``: 1 for the current state, 0 for the others (at scrape time)."""

    def __init__(self, status: UpstreamStatus) -> None:
        self._status = status

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "faqstream_upstream_status",
            "What the Anthropic API last said about the key: 1 for the current state "
            "(ok, unauthorized, unreachable, unchecked, not_configured)",
            labels=["state"],
        )
        for state in UpstreamState:
            gauge.add_metric([state.value], 1 if state is self._status.state else 0)
        yield gauge
