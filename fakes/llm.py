"""An in-process fake of ``service.llm.interface.LLM``: scripted replies, no HTTP.

Modelled on pydantic-ai's ``TestModel``/``FunctionModel``: a script of replies (or a function of the
call) stands in for Claude, so the answer flow, the translator, the summariser and the LLM router
run in unit tests as in production — the resilient layer included (``ResilientClaude(FakeLLM(...))``).

    llm = FakeLLM(LLMReply("Refunds take 5–10 days [1]."))
    llm.script(LLMFailure(overloaded()), LLMReply("", tool="passages_do_not_answer"))
    llm = FakeLLM(lambda call: LLMReply(call.question.upper()))

Each call takes the next scripted item; when the script is empty, ``default`` answers (a fixed text,
or the function given). ``stream`` yields ``Started``, the text in word-sized ``TextDelta``s, then
``Completed`` with the reply's tool call, stop reason and usage — or raises an ``LLMFailure``'s error
before the first token (``after=""``) or after streaming ``after``. ``complete`` returns the whole
reply (a tool call's input as ``tool_input``) or raises. Every call is recorded in ``calls``.

The HTTP fake (``fakes.anthropic_server``) stays for tests whose point is the protocol: the SDK, SSE
frames, headers, disconnects.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from service.core.types import Usage
from service.llm.billing import Bill
from service.llm.errors import UpstreamError
from service.llm.interface import Blocks, Completed, Completion, Started, StreamEvent, TextDelta, ToolCall

DEFAULT_MODEL = "claude-sonnet-4-6"
DEFAULT_TEXT = "You can return most items within 30 days of delivery [1]."


@dataclass(frozen=True)
class LLMReply:
    """What the model says: ``text``, then optionally a call of ``tool`` with ``tool_input``."""

    text: str = ""
    tool: str | None = None
    tool_input: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=lambda: Usage(input_tokens=100, output_tokens=20, cost_usd=0.001))
    stop_reason: str | None = None  # default: "tool_use" with a tool, else "end_turn"
    model: str | None = None  # default: the model asked for, else the fake's

    @property
    def stop(self) -> str:
        return self.stop_reason or ("tool_use" if self.tool else "end_turn")


@dataclass(frozen=True)
class LLMFailure:
    """The call fails with ``error``: before the first token (``after=""``), or after streaming
    ``after`` (a stream only; ``complete`` fails at once)."""

    error: UpstreamError
    after: str = ""


Item = LLMReply | LLMFailure | str
Responder = Callable[["Call"], Item]


@dataclass(frozen=True)
class Call:
    """One request as the fake received it."""

    kind: Literal["stream", "complete"]
    system: str | Blocks
    messages: Blocks
    model: str | None = None
    tools: Blocks | None = None
    tool_choice: dict[str, Any] | None = None
    max_tokens: int | None = None
    timeout_s: float | None = None
    bill: Bill | None = None  # who the call was to be charged to (the fake charges no one)

    @property
    def text(self) -> str:
        """All text of the last message (string content or its text blocks)."""
        content = self.messages[-1]["content"] if self.messages else ""
        if isinstance(content, str):
            return content
        return "\n".join(str(b.get("text", "")) for b in content if b.get("type") == "text")

    @property
    def system_text(self) -> str:
        if isinstance(self.system, str):
            return self.system
        return "\n".join(str(b.get("text", "")) for b in self.system)


def overloaded(retry_after: float | None = None) -> UpstreamError:
    """A transient upstream error as the client raises it for HTTP 529."""
    return UpstreamError(
        "overloaded_error", "Claude API error: Overloaded", retryable=True, upstream_status=529,
        retry_after=retry_after,
    )  # fmt: skip


def bad_request() -> UpstreamError:
    """An error no retry fixes (HTTP 400)."""
    return UpstreamError(
        "invalid_request_error", "Claude API error: bad request", retryable=False, upstream_status=400
    )


def pieces(text: str) -> list[str]:
    """``text`` as stream deltas: words with their trailing space (CJK: a few characters each)."""
    return (
        re.findall(r"\S+\s*|\s+", text) if " " in text else [text[i : i + 4] for i in range(0, len(text), 4)]
    )


class FakeLLM:
    """Implements ``service.llm.interface.LLM`` from a script."""

    def __init__(
        self,
        *script: Item,
        default: Item | Responder = DEFAULT_TEXT,
        model: str = DEFAULT_MODEL,
        delay_s: float = 0.0,
    ) -> None:
        self.model = model
        self.default = default
        self.delay_s = delay_s  # between deltas (lets a test cancel mid-stream)
        self.calls: list[Call] = []
        self.closed = False
        self._script: deque[Item | Responder] = deque(script)

    def script(self, *items: Item | Responder) -> None:
        self._script.extend(items)

    def _next(self, call: Call) -> LLMReply | LLMFailure:
        self.calls.append(call)
        item = self._script.popleft() if self._script else self.default
        if callable(item):
            item = item(call)
        return LLMReply(item) if isinstance(item, str) else item

    async def stream(
        self,
        system: Blocks,
        messages: Blocks,
        *,
        model: str | None = None,
        tools: Blocks | None = None,
        bill: Bill | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        item = self._next(Call("stream", system, messages, model, tools, bill=bill))
        await asyncio.sleep(0)
        if isinstance(item, LLMFailure) and not item.after:
            raise item.error
        text = item.after if isinstance(item, LLMFailure) else item.text
        yield Started(item.model if isinstance(item, LLMReply) and item.model else model or self.model)
        for piece in pieces(text) if text else []:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield TextDelta(piece)
        if isinstance(item, LLMFailure):
            raise item.error
        offered = {t.get("name") for t in tools or []}
        calls: tuple[ToolCall, ...] = ()
        if item.tool is not None and item.tool in offered:
            calls = (ToolCall(item.tool, dict(item.tool_input), "toolu_fake"),)
        stop = item.stop if calls or item.stop_reason else "end_turn"
        yield Completed(stop, item.usage.model_copy(), calls)

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
        call = Call("complete", system, messages, model, tools, tool_choice, max_tokens, timeout_s, bill)
        item = self._next(call)
        await asyncio.sleep(self.delay_s)
        if isinstance(item, LLMFailure):
            raise item.error
        tool_input = dict(item.tool_input) if item.tool else None
        answered = item.model or model or self.model
        return Completion(item.text, tool_input, item.stop, item.usage.model_copy(), answered)

    async def close(self) -> None:
        self.closed = True
