"""Circuit breakers, one per Claude model: stop calling a model that keeps failing, probe it later.

A breaker is CLOSED while the model works. ``failures`` consecutive failed upstream requests (every
attempt counts, retries included) OPEN it: for ``cooldown_s`` nobody calls the model and callers go
straight to the next model in the chain. "Consecutive" is in the order requests *started*: a
request still in flight that started between two failures breaks the streak, so a burst of fast
failures (429/529 come back in milliseconds) among many slow, healthy streams (whose success is
only known at their end) does not open the circuit of a mostly healthy model.

After the cool-down it is HALF-OPEN: exactly one request (the probe) is let through; its success
closes the breaker, its failure opens it for another cool-down. A probe that never reports (its
caller vanished) frees the probe slot after another cool-down, so a breaker can never stay stuck.

Callers take a ``Permit`` before each request and report on it once: ``success()``, ``failure()``,
or ``release()`` when the request ended without a verdict (the customer went away). Only results of
requests admitted while CLOSED, or of the probe, move the state: a late success of a request that
started before the breaker opened does not close it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class CircuitState(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


# The value of the faqstream_upstream_circuit_state gauge: alert on > 0.
STATE_VALUE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class Permit:
    """Leave to make one upstream request; report its outcome once (later reports are ignored)."""

    __slots__ = ("_breaker", "_done", "probe", "seq")

    def __init__(self, breaker: CircuitBreaker, probe: bool, seq: int = 0) -> None:
        self._breaker = breaker
        self._done = False
        self.probe = probe
        self.seq = seq  # start order (0 for probes)

    def success(self) -> None:
        if not self._done:
            self._done = True
            self._breaker._on_success(self.probe, self.seq)

    def failure(self) -> None:
        if not self._done:
            self._done = True
            self._breaker._on_failure(self.probe, self.seq)

    def release(self) -> None:
        """The request ended without saying anything about the model's health."""
        if not self._done:
            self._done = True
            self._breaker._on_release(self.probe, self.seq)


class CircuitBreaker:
    def __init__(self, name: str, failures: int, cooldown_s: float, clock: Clock = time.monotonic) -> None:
        if failures < 1 or cooldown_s <= 0:
            raise ValueError("a breaker needs failures >= 1 and cooldown_s > 0")
        self.name = name
        self.threshold = failures
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._open = False  # OPEN or (after the cool-down) HALF_OPEN
        self._opened_at = 0.0
        self._opened_wall = 0.0
        self._failures = 0  # consecutive (in start order), while CLOSED
        self._probe_since: float | None = None
        self._seq = 0
        self._pending: dict[int, float] = {}  # seq -> start time of unreported CLOSED-state requests
        self._last_failure = 0  # seq of the latest failure in the streak

    @property
    def state(self) -> CircuitState:
        if not self._open:
            return CircuitState.CLOSED
        if self._clock() - self._opened_at >= self.cooldown_s:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    @property
    def opened_wall(self) -> float | None:
        """When the breaker last opened, as ``time.time()`` (for people: /readyz); None while CLOSED
        (HALF_OPEN counts as open)."""
        return self._opened_wall if self._open else None

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def retry_in(self) -> float:
        """Seconds until the breaker lets a probe through (0 when it would now)."""
        if not self._open:
            return 0.0
        now = self._clock()
        ready = self._opened_at + self.cooldown_s
        if self._probe_since is not None:
            ready = max(ready, self._probe_since + self.cooldown_s)
        return max(ready - now, 0.0)

    def available(self) -> bool:
        """Whether ``allow()`` would hand out a permit now (no side effect)."""
        return self.retry_in() == 0.0

    def allow(self) -> Permit | None:
        state = self.state
        if state is CircuitState.CLOSED:
            self._seq += 1
            self._pending[self._seq] = self._clock()
            return Permit(self, probe=False, seq=self._seq)
        if state is CircuitState.OPEN or not self.available():
            return None
        self._probe_since = self._clock()
        log.info("circuit %s half-open: probing", self.name)
        return Permit(self, probe=True)

    # outcomes, through Permit
    def _on_success(self, probe: bool, seq: int) -> None:
        self._pending.pop(seq, None)
        if probe:
            self._close()
        elif not self._open:
            self._failures = 0

    def _on_failure(self, probe: bool, seq: int) -> None:
        self._pending.pop(seq, None)
        if probe:
            self._trip("probe failed")
        elif not self._open:
            self._failures = 1 if self._pending_between(self._last_failure, seq) else self._failures + 1
            self._last_failure = max(self._last_failure, seq)
            if self._failures >= self.threshold:
                self._trip(f"{self._failures} consecutive failures")

    def _on_release(self, probe: bool, seq: int) -> None:
        self._pending.pop(seq, None)
        if probe:
            self._probe_since = None

    def _pending_between(self, a: int, b: int) -> bool:
        """Whether a request that started between two failures is still out (its verdict unknown).

        Requests unreported for longer than a cool-down are forgotten (their caller vanished)."""
        low, high = min(a, b), max(a, b)
        stale = self._clock() - self.cooldown_s
        for seq, started in list(self._pending.items()):
            if started < stale:
                del self._pending[seq]
            elif low < seq < high:
                return True
        return False

    def _trip(self, why: str) -> None:
        self._open = True
        self._opened_at = self._clock()
        self._opened_wall = time.time()
        self._probe_since = None
        self._failures = 0
        self._pending.clear()  # their verdicts no longer move the state
        log.warning("circuit %s open for %.1fs: %s", self.name, self.cooldown_s, why)

    def _close(self) -> None:
        if self._open:
            log.warning("circuit %s closed: probe succeeded", self.name)
        self._open = False
        self._probe_since = None
        self._failures = 0


class BreakerBoard:
    """One breaker per model, created on first use (the configured chain up-front)."""

    def __init__(
        self, failures: int, cooldown_s: float, clock: Clock = time.monotonic, models: Iterable[str] = ()
    ) -> None:
        self._failures = failures
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}
        for model in models:
            self[model]

    def __getitem__(self, model: str) -> CircuitBreaker:
        breaker = self._breakers.get(model)
        if breaker is None:
            breaker = CircuitBreaker(model, self._failures, self._cooldown_s, self._clock)
            self._breakers[model] = breaker
        return breaker

    def breakers(self) -> dict[str, CircuitBreaker]:
        return dict(self._breakers)

    def states(self) -> dict[str, CircuitState]:
        return {model: b.state for model, b in self._breakers.items()}


class CircuitStateCollector(Collector):
    """``faqstream_upstream_circuit_state{model}``, read at scrape time (0 closed, 1 half-open, 2 open)."""

    def __init__(self, board: BreakerBoard) -> None:
        self._board = board

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "faqstream_upstream_circuit_state",
            "Circuit breaker per Claude model: 0 closed, 1 half-open, 2 open",
            labels=["model"],
        )
        for model, state in sorted(self._board.states().items()):
            gauge.add_metric([model], STATE_VALUE[state])
        yield gauge
