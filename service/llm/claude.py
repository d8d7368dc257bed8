"""Claude through the official SDK (AsyncAnthropic): the one place that talks to the LLM.

SDK retries are off (``max_retries=0``): resilience belongs to one layer of our own, and nothing
may be retried once text has reached the customer. Vendor exceptions become ``UpstreamError``
(``UpstreamAuthError`` for rejected credentials), and every verdict on the key is reported to the
client's ``UpstreamStatus`` (service/llm/status.py).

Usage: every upstream request made with a ``Bill`` reports what it consumed to the client's
``UsageSink`` (service/llm/billing.py) exactly once, priced: a finished one its final usage; a
stream that failed or was closed after ``message_start`` (the upstream broke, the customer left)
the input and cache counts of ``message_start`` and the larger of the output the API reported and
the estimate of the text and tool input received so far. The report is a plain call in the stream's
``finally`` — nothing awaited — so a cancelled stream is charged too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Iterable
from typing import Any

import anthropic

from service.core.retry_after import retry_after_s
from service.core.tokens import estimate_tokens
from service.core.types import Usage
from service.llm.billing import Bill, UsageSink
from service.llm.errors import UpstreamAuthError, UpstreamError
from service.llm.interface import Blocks, Completed, Completion, Started, StreamEvent, TextDelta, ToolCall
from service.llm.pricing import PriceTable, PricingSettings, UnknownModelError
from service.llm.sse_frames import FrameParser
from service.llm.status import UpstreamState, UpstreamStatus
from service.llm.telemetry import sdk_open_telemetry
from service.settings.anthropic import AnthropicSettings

log = logging.getLogger(__name__)

_AUTH_STATUSES = {401, 403}
_AUTH_TYPES = {"authentication_error", "permission_error"}


_RETRYABLE_TYPES = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}


def _read_usage(fields: dict[str, Any], usage: Usage) -> None:
    """Copy the counters present in a ``usage`` object (message_delta carries only some)."""
    for name in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
        value = fields.get(name)
        if isinstance(value, int):
            setattr(usage, name, value)


def _consumed(usage: Usage) -> bool:
    """The upstream reported usage (``message_start`` arrived): the request is billed."""
    return bool(usage.input_tokens or usage.cache_read_input_tokens or usage.cache_creation_input_tokens)


def _tool_input(pieces: list[str]) -> dict[str, Any]:
    """A streamed tool input from its JSON pieces; {} when empty, cut off (max_tokens) or broken."""
    try:
        value = json.loads("".join(pieces) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _stream_error(data: str) -> UpstreamError:
    """An ``event: error`` frame sent after the response started (HTTP status was already 200)."""
    try:
        error = json.loads(data).get("error", {})
    except ValueError:
        error = {}
    kind = str(error.get("type") or "api_error")
    message = str(error.get("message") or "error event in the stream")
    cls = UpstreamAuthError if kind in _AUTH_TYPES else UpstreamError
    return cls(kind, f"Claude API error: {message}", retryable=kind in _RETRYABLE_TYPES)


def _translate(exc: Exception) -> UpstreamError:
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        kind = getattr(exc, "type", None) or (
            exc.body.get("error", {}).get("type") if isinstance(exc.body, dict) else None
        )
        retryable = status in {408, 409, 429, 500, 502, 503, 504, 529} or kind in _RETRYABLE_TYPES
        cls = UpstreamAuthError if status in _AUTH_STATUSES else UpstreamError
        return cls(
            str(kind or f"http_{status}"),
            f"Claude API error: {exc.message}",
            retryable=retryable,
            upstream_status=status,
            retry_after=retry_after_s(getattr(exc.response, "headers", None)),
        )
    if isinstance(exc, anthropic.APITimeoutError):
        return UpstreamError("upstream_timeout", "Claude API timed out", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return UpstreamError("upstream_unreachable", "Claude API unreachable", retryable=True)
    return UpstreamError(
        "upstream_failed", f"Claude stream failed: {type(exc).__name__}: {exc}", retryable=True
    )


class _StreamRead:
    """What one streamed reply has said so far, decoded from its SSE frames read by read: usage, stop
    reason, tool calls, whether ``message_stop`` came, and an ``error`` event."""

    def __init__(self) -> None:
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.completed = False
        self.calls: dict[int, tuple[str, str, list[str]]] = {}  # block index -> (id, name, JSON pieces)
        self.error: UpstreamError | None = None

    def frames(self, frames: Iterable[tuple[str, str]]) -> str:
        """Take in the frames of one read; return their text deltas joined (one ``TextDelta`` per
        read: tokens that arrived together travel the answer's layers and the wire as one). Text
        before an ``error`` frame is returned; the error waits in ``error``."""
        text: list[str] = []
        for event, data in frames:
            if event == "content_block_delta":
                body = json.loads(data)
                delta = body["delta"]
                kind = delta.get("type")
                if kind == "text_delta" and delta.get("text"):
                    text.append(delta["text"])
                elif kind == "input_json_delta" and body.get("index") in self.calls:
                    self.calls[body["index"]][2].append(str(delta.get("partial_json") or ""))
            elif event == "content_block_start":
                body = json.loads(data)
                block = body.get("content_block") or {}
                if block.get("type") == "tool_use":
                    index = body.get("index", len(self.calls))
                    self.calls[index] = (str(block.get("id") or ""), str(block.get("name") or ""), [])
            elif event == "message_start":
                _read_usage(json.loads(data)["message"]["usage"], self.usage)
            elif event == "message_delta":
                body = json.loads(data)
                self.stop_reason = body.get("delta", {}).get("stop_reason")
                _read_usage(body.get("usage") or {}, self.usage)
            elif event == "message_stop":
                self.completed = True
            elif event == "error":
                self.error = _stream_error(data)
                break
        return "".join(text)


class ClaudeClient:
    """The raw client: one HTTP request per call, no retries (``service.llm.interface.LLM``)."""

    def __init__(
        self,
        settings: AnthropicSettings,
        prices: PriceTable | None = None,
        status: UpstreamStatus | None = None,
        sink: UsageSink | None = None,
        read_pace_s: float = 0.0,
    ) -> None:
        assert settings.api_key is not None
        self.settings = settings
        self.read_pace_s = read_pace_s  # after a text delta, read the stream again this much later
        self.prices = prices or PriceTable(PricingSettings())
        self.status = status or UpstreamStatus()
        self.sink = sink  # where the usage of calls made with a ``Bill`` goes (ledger, budgets)
        timeout = anthropic.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        self._client = anthropic.AsyncAnthropic(
            api_key=settings.api_key.get_secret_value(),
            base_url=settings.base_url,
            max_retries=0,
            timeout=timeout,
            # aiohttp's C HTTP parser halves the client's CPU per streamed answer compared with the
            # default pure-Python transport (measured in docs/benchmarks.md).
            http_client=anthropic.DefaultAioHttpClient(timeout=timeout),
            open_telemetry=sdk_open_telemetry(),  # no spans that nothing collects
        )

    @property
    def model(self) -> str:
        return self.settings.model

    async def stream(
        self,
        system: Blocks,
        messages: Blocks,
        *,
        model: str | None = None,
        tools: Blocks | None = None,
        bill: Bill | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """``Started`` just before the first text (or the end of a reply without any), text deltas,
        then one ``Completed``. Closing the generator closes the upstream request.

        The SDK sends the request (auth, headers, base URL, timeouts, HTTP errors → exceptions); the
        event stream is read as raw SSE frames and only the fields used are decoded (see
        service/llm/sse_frames.py for why). With ``tools`` (tool choice ``auto``) the model may end its
        reply with ``tool_use`` blocks: ``content_block_start`` of type ``tool_use`` opens one, its
        input arrives as ``input_json_delta`` pieces, and the message stops with ``tool_use``; the
        calls come in ``Completed.tool_calls``. The text deltas of one read come as one ``TextDelta``,
        and after each the stream is read again ``read_pace_s`` later (``SERVICE_STREAM_PACE_S``, in the
        service 25 ms): the tokens that arrived meanwhile wait in the socket buffer and come as one
        delta. A token reaches the customer up to that much later than it could have (the first one
        never); every layer above — the resilient client, the answer stream, the metrics, the
        encoder, the framework, the server and the socket — handles a 40-token reply ~17 times
        instead of 40. What the request consumed is charged to ``bill`` however the stream ends.
        """
        read = _StreamRead()
        usage = read.usage
        started = False
        name = model or self.settings.model
        parser = FrameParser()
        ticket = self.status.ticket()
        extra: dict[str, Any] = {"tools": tools} if tools else {}
        received: list[str] = []  # the text deltas, for the output of a stream cut short
        try:
            async with self._client.messages.with_streaming_response.create(
                model=name,
                max_tokens=self.settings.max_tokens,
                system=system,  # type: ignore[arg-type]
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                **extra,
            ) as response:
                self.status.record(UpstreamState.OK, ticket)  # HTTP 200: the key was accepted
                async for chunk in response.iter_bytes():
                    text = read.frames(parser.feed(chunk))
                    if text:
                        if not started:
                            started = True
                            yield Started(name)
                        received.append(text)
                        yield TextDelta(text)
                        if self.read_pace_s:
                            await asyncio.sleep(self.read_pace_s)  # the next tokens gather meanwhile
                    if read.error is not None:
                        raise read.error
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except UpstreamError as exc:
            self._refused(exc, ticket)
            raise
        except Exception as exc:
            raise self._refused(_translate(exc), ticket) from exc
        else:
            if not read.completed:
                raise UpstreamError(
                    "upstream_incomplete", "Claude stream ended before message_stop", retryable=True
                )
            usage.cost_usd = self._cost(name, usage)
            tool_calls = tuple(
                ToolCall(tool, _tool_input(pieces), ident) for ident, tool, pieces in read.calls.values()
            )
            if not started:
                yield Started(name)
            yield Completed(read.stop_reason, usage, tool_calls)
        finally:
            if bill is not None and _consumed(usage):
                if not read.completed:  # cut short: the output is what was received
                    cut = [*received, *(piece for _, _, parts in read.calls.values() for piece in parts)]
                    output = max(usage.output_tokens, estimate_tokens("".join(cut)))
                    usage = usage.model_copy(update={"output_tokens": output})
                    usage.cost_usd = self._cost(name, usage)
                self._spent(bill, name, usage)

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
        """One non-streamed request (summaries, translations, routing), charged to ``bill``. Vendor
        errors → UpstreamError."""
        extra: dict[str, Any] = {}
        if tools is not None:
            extra["tools"] = tools
        if tool_choice is not None:
            extra["tool_choice"] = tool_choice
        if timeout_s is not None:
            extra["timeout"] = timeout_s
        ticket = self.status.ticket()
        try:
            message = await self._client.messages.create(
                model=model or self.settings.model,
                max_tokens=max_tokens or self.settings.max_tokens,
                system=system,  # type: ignore[arg-type]
                messages=messages,  # type: ignore[arg-type]
                **extra,
            )
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:
            raise self._refused(_translate(exc), ticket) from exc
        self.status.record(UpstreamState.OK, ticket)
        text = "".join(b.text for b in message.content if b.type == "text")
        tool_input = next(
            (dict(b.input) for b in message.content if b.type == "tool_use" and isinstance(b.input, dict)),
            None,
        )
        u = message.usage
        usage = Usage(
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_input_tokens=u.cache_read_input_tokens or 0,
            cache_creation_input_tokens=u.cache_creation_input_tokens or 0,
        )
        usage.cost_usd = self._cost(message.model, usage)
        if bill is not None:
            self._spent(bill, message.model, usage)
        return Completion(text, tool_input, message.stop_reason, usage, message.model)

    async def check(self, timeout_s: float) -> None:
        """Check the key with one cheap authenticated request, ``GET /v1/models?limit=1`` (free, no
        tokens, no model run), within ``timeout_s``. The verdict goes to ``status``: accepted → ok;
        401/403 → unauthorized; connection error or timeout → unreachable; any other answer (e.g. a
        gateway without the models endpoint) → unchecked. Raises the ``UpstreamError`` if any."""
        ticket = self.status.ticket()
        try:
            async with asyncio.timeout(timeout_s):
                await self._client.models.list(limit=1, timeout=timeout_s)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            error = UpstreamError(
                "upstream_timeout", f"Claude API did not answer within {timeout_s:g}s", retryable=True
            )
        except Exception as exc:
            error = _translate(exc)
        else:
            self.status.record(UpstreamState.OK, ticket)
            return
        if isinstance(error, UpstreamAuthError):
            state = UpstreamState.UNAUTHORIZED
        elif error.code in ("upstream_timeout", "upstream_unreachable"):
            state = UpstreamState.UNREACHABLE
        else:
            state = UpstreamState.UNCHECKED
        self.status.record(state, ticket, self._reason(error))
        raise error

    def _refused(self, error: UpstreamError, ticket: int) -> UpstreamError:
        """Report rejected credentials to ``status``; other failures say nothing about the key."""
        if isinstance(error, UpstreamAuthError):
            self.status.record(UpstreamState.UNAUTHORIZED, ticket, self._reason(error))
        return error

    def _reason(self, error: UpstreamError) -> str:
        where = str(self._client.base_url).rstrip("/")
        if error.upstream_status is not None:
            return f"HTTP {error.upstream_status} {error.code} from {where}"
        return f"{error.code}: {where}"

    def _spent(self, bill: Bill, model: str, usage: Usage) -> None:
        if self.sink is None:
            return
        try:
            self.sink.spent(bill, model, usage)
        except Exception:  # a broken sink must not fail the answer it is charging
            log.exception("usage of a %s call by key %s not charged", bill.purpose, bill.key_id)

    def _cost(self, model: str, usage: Usage) -> float:
        try:
            return self.prices.cost(model, usage)
        except UnknownModelError:  # the service checks its models at startup; others are unpriced
            return 0.0

    async def close(self) -> None:
        await self._client.close()
