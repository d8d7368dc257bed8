"""The Anthropic SDK builds OpenTelemetry spans only where something collects them
(service/llm/telemetry.py)."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, Tracer

from service.llm.telemetry import sdk_open_telemetry


class CollectingProvider(trace.TracerProvider):
    """An operator's tracer provider (the OpenTelemetry SDK's would export the spans)."""

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: object = None,
    ) -> Tracer:
        return NoOpTracer()


def test_no_spans_when_nothing_collects_them() -> None:
    assert sdk_open_telemetry(trace.ProxyTracerProvider(), environ={}) is False
    assert sdk_open_telemetry(trace.NoOpTracerProvider(), environ={}) is False


def test_the_sdk_default_when_a_tracer_provider_collects() -> None:
    assert sdk_open_telemetry(CollectingProvider(), environ={}) is None


def test_the_operators_own_sdk_variables_decide() -> None:
    names: Sequence[str] = ("ANTHROPIC_OPEN_TELEMETRY", "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE")
    for name in names:
        assert sdk_open_telemetry(trace.ProxyTracerProvider(), environ={name: "true"}) is None


def test_this_process_has_no_tracer_provider_so_the_service_builds_no_spans() -> None:
    assert sdk_open_telemetry(environ={}) is False  # opentelemetry-api alone: the no-op proxy
