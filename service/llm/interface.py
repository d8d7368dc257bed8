"""The one LLM interface: what the service asks of Claude, and what comes back.

``LLM`` has two calls. ``stream`` is the streamed answer: ``Started`` (which model answers) once the
reply has begun, then ``TextDelta``s, then one ``Completed`` (stop reason, usage, tool calls).
``complete`` is a one-shot request — translations, conversation summaries, LLM routing — whose
``Completion`` carries the text and the input of a forced tool call. Failures raise
``service.llm.errors.UpstreamError``.

Implementations: ``service.llm.claude.ClaudeClient`` (the raw client, one HTTP request per call),
``service.llm.resilient.ResilientClaude`` (retries, breakers, fallback around the raw client: every
production call goes through it) and ``fakes.llm.FakeLLM`` (scripted, in process, for tests).

Each call may carry a ``Bill`` (``service.llm.billing``): the caller its usage is charged to, and
what for. Implementations pass it down to the raw client, which reports every upstream request's
usage with it to its usage sink (ledger and budget).

``Slots`` is admission: a ``Lease`` on the upstream pool, taken by the answer flow before the first
byte is sent and held until its stream ends (``ResilientClaude.acquire``; an ``AdmissionGate`` is
one too). The calls themselves take no slot.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Protocol

from service.core.types import Usage
from service.llm.admission import Lease
from service.llm.billing import Bill

Blocks = list[dict[str, Any]]


@dataclass(frozen=True)
class Started:
    """First event of a stream, just before the first text (or the end of a reply without text):
    which model answers, after how many upstream requests in all."""

    model: str
    attempts: int = 1
    fallback: bool = False  # not the first model of the chain


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCall:
    """A ``tool_use`` block of a streamed reply. ``input`` is {} when its JSON was cut off or broken."""

    name: str
    input: dict[str, Any]
    id: str = ""


@dataclass(frozen=True)
class Completed:
    stop_reason: str | None
    usage: Usage
    tool_calls: tuple[ToolCall, ...] = ()  # the tools the model called, in block order

    def called(self, name: str) -> bool:
        return any(call.name == name for call in self.tool_calls)


StreamEvent = Started | TextDelta | Completed


@dataclass(frozen=True)
class Completion:
    """A whole (non-streamed) reply: its text, the input of a forced tool call if any, and usage."""

    text: str
    tool_input: dict[str, Any] | None
    stop_reason: str | None
    usage: Usage
    model: str


class LLM(Protocol):
    @property
    def model(self) -> str:
        """The model a call that names none is sent to."""
        ...

    def stream(
        self,
        system: Blocks,
        messages: Blocks,
        *,
        model: str | None = None,
        tools: Blocks | None = None,
        bill: Bill | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """``Started``, text deltas, one ``Completed``. Closing the generator ends the request (what
        it consumed is still charged to ``bill``)."""
        ...

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
        """One non-streamed request (``model`` None: the configured one), charged to ``bill``."""
        ...

    async def close(self) -> None: ...


class Slots(Protocol):
    async def acquire(self) -> Lease:
        """A slot on the upstream pool, or ``OverloadedError`` (HTTP 503)."""
        ...
