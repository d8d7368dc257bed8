"""Prometheus series of the upstream resilience layer (registered on the registry it is given)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from service.llm.admission import AdmissionGate
from service.llm.breaker import BreakerBoard, CircuitStateCollector


class ResilienceMetrics:
    """Prometheus series of this layer; unregistered (still counting) when no registry is given."""

    def __init__(self, registry: CollectorRegistry | None, gate: AdmissionGate, board: BreakerBoard) -> None:
        self.retries = Counter(
            "faqstream_upstream_retries_total",
            "Claude requests retried, by model and the error that caused it",
            ["model", "reason"],
            registry=registry,
        )
        self.errors = Counter(
            "faqstream_upstream_errors_total",
            "Failed Claude requests (every attempt, mid-stream failures included), by model and code",
            ["model", "code"],
            registry=registry,
        )
        self.circuit_skips = Counter(
            "faqstream_upstream_circuit_skips_total",
            "Calls that skipped a model because its circuit was open",
            ["model"],
            registry=registry,
        )
        self.fallbacks = Counter(
            "faqstream_upstream_fallbacks_total",
            "Answers served by a fallback model instead of the first of the chain",
            ["from_model", "to_model"],
            registry=registry,
        )
        self.unavailable = Counter(
            "faqstream_upstream_unavailable_total",
            "Calls for which every model of the chain failed (llm_unavailable)",
            registry=registry,
        )
        self.first_token = Histogram(
            "faqstream_upstream_first_token_seconds",
            "Claude request start to first text, successful attempts",
            ["model"],
            registry=registry,
            buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20),
        )
        self.shed = Counter(
            "faqstream_upstream_shed_total", "Answers refused with 503: no upstream slot", registry=registry
        )
        inflight = Gauge("faqstream_upstream_inflight", "Upstream slots in use", registry=registry)
        inflight.set_function(lambda: gate.in_use)
        queued = Gauge("faqstream_upstream_queued", "Answers waiting for an upstream slot", registry=registry)
        queued.set_function(lambda: gate.queued)
        if registry is not None:
            registry.register(CircuitStateCollector(board))
