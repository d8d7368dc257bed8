"""Whether the Anthropic SDK should build OpenTelemetry spans for our calls.

The SDK starts a span per API call and fills its attributes (server, request, model, headers) even
when nothing collects them: with only ``opentelemetry-api`` installed — faqstream's own install —
the global tracer provider is the API's no-op proxy, and each answer paid ~0.07 ms of CPU for a
span that goes nowhere (measured against the fake API, 300 streamed requests). So spans are built
only where someone collects them: when the process has a real tracer provider (an operator who
installed the OpenTelemetry SDK and configured it, e.g. with ``opentelemetry-instrument``), or when
the operator set one of the SDK's own ``ANTHROPIC_OPEN_TELEMETRY*`` variables (the SDK then decides
from them, as it documents).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from opentelemetry import trace

_NO_OP = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)


def sdk_open_telemetry(
    provider: trace.TracerProvider | None = None, environ: Mapping[str, str] | None = None
) -> Literal[False] | None:
    """The SDK client's ``open_telemetry`` option: None (the SDK's default, from its environment
    variables) when traces are collected or the operator chose through those variables; False
    (no spans) when the tracer provider is the no-op one."""
    env = os.environ if environ is None else environ
    if any(name.startswith("ANTHROPIC_OPEN_TELEMETRY") for name in env):
        return None
    current = provider if provider is not None else trace.get_tracer_provider()
    return False if isinstance(current, _NO_OP) else None
