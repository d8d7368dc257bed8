"""Pure pieces of the fake Anthropic Messages API: token counting, bodies, SSE events, prompt caching.

Nothing here does I/O; `fakes.anthropic_server` wires it to HTTP. Shapes follow the types of the
`anthropic` SDK (`anthropic/types/message.py`, `usage.py`, `raw_*_event.py`, `messages/message_batch*.py`).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_REPLY = (
    "Thanks for your question. Based on the policy [1], you can return an unused item within "
    "30 days of delivery for a full refund. Refunds are issued to the original payment method "
    "within 5 business days [2]. If you need more help, please contact our support team."
)

# Minimum cacheable prefix per model, matched by prefix of the model name (longest key wins).
# From Anthropic's prompt caching docs; claude-sonnet-4-6 is documented as 1024 but observed at 2048
# (anthropics/anthropic-sdk-python#1194), so the stricter observed value is used.
DEFAULT_MIN_CACHE_TOKENS: dict[str, int] = {
    "claude-opus-5": 512,
    "claude-fable-5": 512,
    "claude-mythos-5": 512,
    "claude-sonnet-5": 1024,
    "claude-opus-4-8": 1024,
    "claude-opus-4-7": 2048,
    "claude-opus-4-6": 4096,
    "claude-opus-4-5": 4096,
    "claude-opus-4-1": 1024,
    "claude-opus-4": 1024,
    "claude-sonnet-4-6": 2048,
    "claude-sonnet-4-5": 1024,
    "claude-sonnet-4": 1024,
    "claude-haiku-4-5": 4096,
    "claude-3-5-haiku": 2048,
    "claude-3-haiku": 2048,
    "sonnet": 2048,
    "haiku": 4096,
    "opus": 4096,
}
FALLBACK_MIN_CACHE_TOKENS = 1024
MAX_CACHE_BREAKPOINTS = 4
CACHE_LOOKBACK_BLOCKS = 20
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
_PIECE_RE = re.compile(rf"\s*(?:[{_CJK}]|[^\W{_CJK}]+|[^\w\s])|\s+")
_SKIP_KEYS = frozenset({"cache_control", "type", "data", "media_type", "id", "tool_use_id"})


class InvalidRequestError(ValueError):
    """A request the real API would answer with 400 invalid_request_error."""


def count_tokens(text: str) -> int:
    """Deterministic approximation: one token per word, per punctuation mark and per CJK character."""
    return len(_TOKEN_RE.findall(text))


def split_reply(text: str) -> list[str]:
    """Split a reply into word-ish stream deltas (leading whitespace kept) whose concatenation is `text`."""
    return _PIECE_RE.findall(text)


def new_id(prefix: str) -> str:
    return f"{prefix}_01{uuid.uuid4().hex[:22]}"


def min_cache_tokens_for(model: str, overrides: Mapping[str, int] | None = None) -> int:
    for table in (overrides or {}, DEFAULT_MIN_CACHE_TOKENS):
        if model in table:
            return table[model]
        keys = [k for k in table if model.startswith(k)] or [k for k in table if k in model]
        if keys:
            return table[max(keys, key=len)]
    return FALLBACK_MIN_CACHE_TOKENS


def error_body(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}


def validate_message_params(body: object) -> dict[str, Any]:
    """Check the fields the real API requires, raising `InvalidRequestError` with its style of message."""
    if not isinstance(body, dict):
        raise InvalidRequestError("Request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise InvalidRequestError("model: Field required")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise InvalidRequestError("max_tokens: Field required")
    if max_tokens < 1:
        raise InvalidRequestError("max_tokens: Input should be greater than or equal to 1")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("messages: Field required")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            raise InvalidRequestError(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if not isinstance(msg.get("content"), str | list):
            raise InvalidRequestError(f"messages.{i}.content: Field required")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise InvalidRequestError("system: Input should be a valid string or list")
    validate_tools(body)
    return body


# ---------------------------------------------------------------- tools

TOOL_NAME_PATTERN = "^[a-zA-Z0-9_-]{1,128}$"
_TOOL_NAME_RE = re.compile(TOOL_NAME_PATTERN)
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")


def validate_tools(body: Mapping[str, Any]) -> None:
    """`tools` and `tool_choice` as the real API checks them (client tools need an object schema)."""
    tools = body.get("tools")
    names: list[str] = []
    if tools is not None:
        if not isinstance(tools, list):
            raise InvalidRequestError("tools: Input should be a valid list")
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict):
                raise InvalidRequestError(f"tools.{i}: Input should be a valid dictionary")
            name = tool.get("name")
            if not isinstance(name, str) or not _TOOL_NAME_RE.match(name):
                raise InvalidRequestError(
                    f"tools.{i}.name: String should match pattern '{TOOL_NAME_PATTERN}'"
                )
            if tool.get("type") in (None, "custom"):  # a client tool; typed ones are server/built-in tools
                schema = tool.get("input_schema")
                if not isinstance(schema, dict):
                    raise InvalidRequestError(f"tools.{i}.custom.input_schema: Field required")
                if schema.get("type") != "object":
                    raise InvalidRequestError(f"tools.{i}.custom.input_schema.type: Input should be 'object'")
            if name in names:
                raise InvalidRequestError("tools: Tool names must be unique.")
            names.append(name)
    choice = body.get("tool_choice")
    if choice is None:
        return
    if not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICE_TYPES:
        raise InvalidRequestError(
            "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
        )
    if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
        raise InvalidRequestError("tool_choice.tool.name: Field required")
    if choice["type"] in ("any", "tool") and not names:
        raise InvalidRequestError("tool_choice: tool_choice may only be specified while providing tools.")
    if choice["type"] == "tool" and choice["name"] not in names:
        raise InvalidRequestError(f"tool_choice: Tool '{choice['name']}' not found in tools.")


def forced_tool(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The tool a reply must call: `tool_choice` `tool` names it, `any` takes the first; else None."""
    choice = body.get("tool_choice")
    tools = body.get("tools") or []
    if not isinstance(choice, dict) or not tools:
        return None
    if choice.get("type") == "tool":
        return next((t for t in tools if t.get("name") == choice.get("name")), None)
    if choice.get("type") == "any":
        return dict(tools[0])
    return None


def schema_instance(schema: Mapping[str, Any]) -> Any:
    """A small value that satisfies a JSON schema: const/enum/default first, required fields only."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return schema_instance(schema[key][0])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties") or {}
        return {name: schema_instance(props.get(name) or {}) for name in schema.get("required") or []}
    if kind == "array":
        return [schema_instance(schema.get("items") or {}) for _ in range(int(schema.get("minItems", 0)))]
    if kind == "string":
        return "x" * int(schema.get("minLength", 0))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    return None


def default_tool_input(body: Mapping[str, Any], tool: Mapping[str, Any]) -> dict[str, Any]:
    """The fake's tool responder when none is configured: a minimal instance of the input schema."""
    value = schema_instance(tool.get("input_schema") or {"type": "object"})
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------- prompt blocks and caching


@dataclass(frozen=True)
class PromptBlock:
    key: str  # canonical JSON without cache_control, chained into the prefix hash
    tokens: int
    ttl: str | None  # "5m" / "1h" when this block carries a cache breakpoint


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in _SKIP_KEYS for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _block(tag: object, content: object, cache_control: object) -> PromptBlock:
    ttl: str | None = None
    if cache_control is not None:
        if not isinstance(cache_control, dict) or cache_control.get("type") != "ephemeral":
            raise InvalidRequestError("cache_control.type: Input should be 'ephemeral'")
        ttl = cache_control.get("ttl", "5m")
        if ttl not in TTL_SECONDS:
            raise InvalidRequestError("cache_control.ttl: Input should be '5m' or '1h'")
        if isinstance(content, dict) and content.get("type") == "text" and not content.get("text"):
            raise InvalidRequestError("cache_control cannot be set for empty text blocks")
    if isinstance(content, dict):
        content = {k: v for k, v in content.items() if k != "cache_control"}
    tokens = sum(count_tokens(s) for s in _strings(content))
    if isinstance(content, dict) and content.get("type") not in (None, "text"):
        tokens += 1
    key = json.dumps([tag, content], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return PromptBlock(key=key, tokens=tokens, ttl=ttl)


def prompt_blocks(body: Mapping[str, Any]) -> list[PromptBlock]:
    """The request flattened in cache order (tools, then system, then messages), one entry per block."""
    blocks: list[PromptBlock] = []
    for tool in body.get("tools") or []:
        blocks.append(_block("tool", tool, tool.get("cache_control") if isinstance(tool, dict) else None))
    system = body.get("system")
    if isinstance(system, str):
        blocks.append(_block("system", system, None))
    elif isinstance(system, list):
        for part in system:
            blocks.append(
                _block("system", part, part.get("cache_control") if isinstance(part, dict) else None)
            )
    for i, msg in enumerate(body.get("messages") or []):
        content = msg.get("content")
        parts = [content] if isinstance(content, str) else content
        for part in parts:
            cc = part.get("cache_control") if isinstance(part, dict) else None
            blocks.append(_block([i, msg.get("role")], part, cc))
    auto = body.get("cache_control")
    if auto is not None and blocks and blocks[-1].ttl is None:  # automatic caching: breakpoint on last block
        last = _block("auto", None, auto)
        blocks[-1] = PromptBlock(key=blocks[-1].key, tokens=blocks[-1].tokens, ttl=last.ttl)
    breakpoints = [b for b in blocks if b.ttl is not None]
    if len(breakpoints) > MAX_CACHE_BREAKPOINTS:
        raise InvalidRequestError(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {len(breakpoints)}."
        )
    seen_5m = False
    for b in breakpoints:
        if b.ttl == "1h" and seen_5m:
            raise InvalidRequestError("A ttl='1h' cache_control block must not come after a ttl='5m' block.")
        seen_5m = seen_5m or b.ttl == "5m"
    return blocks


def input_token_total(body: Mapping[str, Any]) -> int:
    return sum(b.tokens for b in prompt_blocks(body))


@dataclass(frozen=True)
class CacheUsage:
    input_tokens: int
    cache_read_input_tokens: int = 0
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0

    @property
    def cache_creation_input_tokens(self) -> int:
        return self.ephemeral_5m_input_tokens + self.ephemeral_1h_input_tokens


@dataclass
class PromptCache:
    """In-memory prompt cache keyed by (model, hash of prefix), entries written only at breakpoints."""

    entries: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)  # -> (expires, ttl)

    def apply(self, model: str, blocks: list[PromptBlock], min_tokens: int, now: float) -> CacheUsage:
        self.entries = {k: v for k, v in self.entries.items() if v[0] > now}
        cum: list[int] = []
        hashes: list[str] = []
        digest = hashlib.sha256(model.encode())
        for b in blocks:
            digest.update(b.key.encode())
            hashes.append(digest.copy().hexdigest())
            cum.append((cum[-1] if cum else 0) + b.tokens)
        total = cum[-1] if cum else 0
        bps = [i for i, b in enumerate(blocks) if b.ttl is not None]
        read_pos = -1
        for bp in bps:  # each breakpoint looks back up to 20 blocks for a previously written prefix
            for j in range(bp, max(-1, bp - CACHE_LOOKBACK_BLOCKS), -1):
                if (model, hashes[j]) in self.entries:
                    read_pos = max(read_pos, j)
                    break
        if read_pos >= 0:  # a hit refreshes the entry's lifetime
            _, hit_ttl = self.entries[(model, hashes[read_pos])]
            self.entries[(model, hashes[read_pos])] = (now + TTL_SECONDS[hit_ttl], hit_ttl)
        created = {"5m": 0, "1h": 0}
        covered = read_pos
        for bp in bps:
            ttl = blocks[bp].ttl
            if bp <= read_pos or ttl is None or cum[bp] < min_tokens:
                continue  # already cached, or too short to cache: silently not cached
            self.entries[(model, hashes[bp])] = (now + TTL_SECONDS[ttl], ttl)
            created[ttl] += cum[bp] - (cum[covered] if covered >= 0 else 0)
            covered = bp
        return CacheUsage(
            input_tokens=total - (cum[covered] if covered >= 0 else 0),
            cache_read_input_tokens=cum[read_pos] if read_pos >= 0 else 0,
            ephemeral_5m_input_tokens=created["5m"],
            ephemeral_1h_input_tokens=created["1h"],
        )


# ---------------------------------------------------------------- replies, messages, events


@dataclass(frozen=True)
class ToolCall:
    id: str  # toolu_…
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """A scripted reply (what `FakeAnthropic(reply=...)` may give besides a string): `text`, then —
    when `tool` names a tool the request offers and `tool_choice` allows it (`auto`, the default) —
    a call of that tool with `tool_input`, sent as the real API sends a model's own tool call: a
    `text` block (only when there is text), then a `tool_use` block, stop reason `tool_use`; streamed
    as `text_delta`s at index 0, `content_block_stop`, `content_block_start` of the `tool_use` block
    at index 1, an empty `input_json_delta`, the input's JSON in pieces, `content_block_stop`,
    `message_delta` (stop reason `tool_use`). A request that does not offer the tool gets `text` only.
    """

    text: str = ""
    tool: str | None = None
    tool_input: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    pieces: list[str]  # one per output token / stream delta (text, or the tool input's JSON)
    stop_reason: str
    stop_sequence: str | None
    tool_call: ToolCall | None = None  # the reply ends with a `tool_use` block (its input is `pieces`)
    lead: list[str] = field(default_factory=list)  # with a tool call: text pieces of a text block before it

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def output_tokens(self) -> int:
        return max(1, len(self.lead) + len(self.pieces))

    @property
    def tool_index(self) -> int:
        """Index of the `tool_use` block (after the text block, if there is one)."""
        return 1 if self.lead else 0

    @property
    def last_index(self) -> int:
        return self.tool_index if self.tool_call is not None else 0


def complete(reply: str, body: Mapping[str, Any]) -> Completion:
    """Cut `reply` at the first requested stop sequence, then at `max_tokens` pieces."""
    stop_reason, stop_sequence = "end_turn", None
    hits = [(reply.find(s), s) for s in body.get("stop_sequences") or [] if isinstance(s, str) and s in reply]
    if hits:
        pos, stop_sequence = min(hits)
        reply, stop_reason = reply[:pos], "stop_sequence"
    pieces = split_reply(reply)
    max_tokens = int(body.get("max_tokens") or 0)
    if len(pieces) > max_tokens:
        pieces, stop_reason, stop_sequence = pieces[:max_tokens], "max_tokens", None
    return Completion(pieces=pieces, stop_reason=stop_reason, stop_sequence=stop_sequence)


def complete_tool_call(call: ToolCall, body: Mapping[str, Any]) -> Completion:
    """A forced tool call: its input streamed as JSON pieces, cut at `max_tokens` like text."""
    pieces = split_reply(json.dumps(call.input, ensure_ascii=False))
    stop_reason = "tool_use"
    max_tokens = int(body.get("max_tokens") or 0)
    if len(pieces) > max_tokens:
        pieces, stop_reason = pieces[:max_tokens], "max_tokens"
    return Completion(pieces=pieces, stop_reason=stop_reason, stop_sequence=None, tool_call=call)


def complete_with_tool(text: str, call: ToolCall, body: Mapping[str, Any]) -> Completion:
    """The model's own tool call after `text` (tool choice `auto`); `max_tokens` counts both, and
    a reply cut inside the text never reaches its tool call."""
    lead = split_reply(text)
    max_tokens = int(body.get("max_tokens") or 0)
    if len(lead) >= max_tokens and lead:
        return Completion(pieces=lead[:max_tokens], stop_reason="max_tokens", stop_sequence=None)
    tool = complete_tool_call(call, {"max_tokens": max_tokens - len(lead)})
    return Completion(tool.pieces, tool.stop_reason, None, tool_call=call, lead=lead)


def offered(body: Mapping[str, Any], tool: str) -> bool:
    """Whether a reply may call `tool`: the request offers it and `tool_choice` is not `none`."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "none":
        return False
    return any(isinstance(t, dict) and t.get("name") == tool for t in body.get("tools") or [])


def content_json(completion: Completion) -> dict[str, Any]:
    """The reply's last content block. A tool call cut by `max_tokens` has no parseable input: `{}`."""
    call = completion.tool_call
    if call is None:
        return {"type": "text", "text": completion.text}
    tool_input = call.input if completion.stop_reason == "tool_use" else {}
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input}


def content_blocks(completion: Completion) -> list[dict[str, Any]]:
    """Every content block of the reply: a text block before a tool call when the model wrote text."""
    lead = [{"type": "text", "text": "".join(completion.lead)}] if completion.lead else []
    return [*lead, content_json(completion)]


def usage_json(usage: CacheUsage, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.ephemeral_5m_input_tokens,
            "ephemeral_1h_input_tokens": usage.ephemeral_1h_input_tokens,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def message_json(
    msg_id: str, model: str, completion: Completion | None, usage: CacheUsage, output_tokens: int
) -> dict[str, Any]:
    """A `Message`; with `completion=None` the `message_start` form (no content, no stop reason)."""
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [] if completion is None else content_blocks(completion),
        "stop_reason": None if completion is None else completion.stop_reason,
        "stop_sequence": None if completion is None else completion.stop_sequence,
        "usage": usage_json(usage, output_tokens),
    }


def sse(event: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


def _tool_start(tool_call: ToolCall, index: int) -> list[bytes]:
    """A tool_use block starts with empty `input`, then an empty JSON delta."""
    block = {"type": "tool_use", "id": tool_call.id, "name": tool_call.name, "input": {}}
    return [
        sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": block}),
        stream_delta("", tool=True, index=index),
    ]


def stream_head(
    msg_id: str, model: str, usage: CacheUsage, tool_call: ToolCall | None = None, *, lead: bool = False
) -> list[bytes]:
    """Up to the first delta: the first block opens (a text block, or a tool call without text)."""
    start = sse(
        "message_start", {"type": "message_start", "message": message_json(msg_id, model, None, usage, 1)}
    )
    if tool_call is None or lead:
        block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        return [start, sse("content_block_start", block), sse("ping", {"type": "ping"})]
    first, empty = _tool_start(tool_call, 0)
    return [start, first, sse("ping", {"type": "ping"}), empty]


def stream_deltas(completion: Completion) -> list[tuple[bytes, bool]]:
    """Between head and tail: (frame, is a delta). With text before a tool call, the text deltas,
    the text block's stop and the tool block's start (not deltas), then the tool input's deltas."""
    call = completion.tool_call
    if call is None or not completion.lead:
        return [(stream_delta(p, tool=call is not None), True) for p in completion.pieces]
    frames = [(stream_delta(p), True) for p in completion.lead]
    frames.append((sse("content_block_stop", {"type": "content_block_stop", "index": 0}), False))
    frames += [(frame, False) for frame in _tool_start(call, 1)]
    frames += [(stream_delta(p, tool=True, index=1), True) for p in completion.pieces]
    return frames


def stream_delta(text: str, *, tool: bool = False, index: int = 0) -> bytes:
    delta = (
        {"type": "input_json_delta", "partial_json": text} if tool else {"type": "text_delta", "text": text}
    )
    return sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def stream_tail(completion: Completion, usage: CacheUsage) -> list[bytes]:
    delta_usage = {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "output_tokens": completion.output_tokens,
    }
    return [
        sse("content_block_stop", {"type": "content_block_stop", "index": completion.last_index}),
        sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": completion.stop_reason, "stop_sequence": completion.stop_sequence},
                "usage": delta_usage,
            },
        ),
        sse("message_stop", {"type": "message_stop"}),
    ]


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


BATCH_EXPIRY_S = 86_400  # a batch that has not ended 24 h after creation expires
MAX_BATCH_REQUESTS = 100_000
CUSTOM_ID_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"
_CUSTOM_ID_RE = re.compile(CUSTOM_ID_PATTERN)


def validate_batch_requests(body: object) -> list[dict[str, Any]]:
    """The checks `POST /v1/messages/batches` makes before accepting a batch (400 otherwise). Each
    request's `params` are validated later, while the batch is processed: a bad one is an `errored`
    result, not a refused batch."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise InvalidRequestError("requests: Field required")
    if len(requests) > MAX_BATCH_REQUESTS:
        raise InvalidRequestError(f"requests: List should have at most {MAX_BATCH_REQUESTS} items")
    seen: set[str] = set()
    for i, request in enumerate(requests):
        if not isinstance(request, dict):
            raise InvalidRequestError(f"requests.{i}: Input should be a valid dictionary")
        custom_id = request.get("custom_id")
        if not isinstance(custom_id, str):
            raise InvalidRequestError(f"requests.{i}.custom_id: Field required")
        if not _CUSTOM_ID_RE.match(custom_id):
            raise InvalidRequestError(
                f"requests.{i}.custom_id: String should match pattern '{CUSTOM_ID_PATTERN}'"
            )
        if "params" not in request:
            raise InvalidRequestError(f"requests.{i}.params: Field required")
        if custom_id in seen:
            raise InvalidRequestError(f"requests: custom_id {custom_id!r} is not unique within the batch")
        seen.add(custom_id)
    return requests


def batches_page(views: list[dict[str, Any]], query: Mapping[str, list[str]]) -> dict[str, Any]:
    """One page of `GET /v1/messages/batches` (`views` newest first), paged like the models list."""
    chosen, more = cursor_page(views, [v["id"] for v in views], query)
    return {
        "data": chosen,
        "has_more": more,
        "first_id": chosen[0]["id"] if chosen else None,
        "last_id": chosen[-1]["id"] if chosen else None,
    }


def batch_json(
    batch_id: str,
    *,
    created: float,
    ended: float | None,
    counts: Mapping[str, int],
    results_url: str | None,
    cancel_initiated: float | None = None,
) -> dict[str, Any]:
    status = (
        "ended" if ended is not None else ("canceling" if cancel_initiated is not None else "in_progress")
    )
    return {
        "id": batch_id,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {
            k: counts.get(k, 0) for k in ("processing", "succeeded", "errored", "canceled", "expired")
        },
        "created_at": rfc3339(created),
        "expires_at": rfc3339(created + BATCH_EXPIRY_S),
        "ended_at": None if ended is None else rfc3339(ended),
        "archived_at": None,
        "cancel_initiated_at": None if cancel_initiated is None else rfc3339(cancel_initiated),
        "results_url": results_url if ended is not None else None,
    }


# ---------------------------------------------------------------- models

# What `GET /v1/models` lists, newest first (ids as the service configures them).
DEFAULT_MODELS: tuple[str, ...] = (
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "claude-opus-4-1",
)
MAX_MODELS_PAGE = 1000


def model_json(model_id: str) -> dict[str, Any]:
    """A `ModelInfo` (`anthropic/types/model_info.py`). The release date is the epoch, which the API
    documents for "release date unknown"; the display name is derived from the id."""
    words = model_id.removeprefix("claude-").split("-")
    family = [w for w in words if not w.isdigit()]
    version = ".".join(w for w in words if w.isdigit() and len(w) < 8)
    display = " ".join(["Claude", *(w.capitalize() for w in family), version]).strip()
    return {
        "type": "model",
        "id": model_id,
        "display_name": display,
        "created_at": "1970-01-01T00:00:00Z",
        "lifecycle": "active",
        "deprecated_at": None,
        "retires_at": None,
    }


def _last(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def cursor_page(items: list[T], ids: list[str], query: Mapping[str, list[str]]) -> tuple[list[T], bool]:
    """One page of a list endpoint (`items` newest first, `ids` theirs) and whether more follow:
    `limit` (1..1000, default 20), cursors `after_id` (the items after it) / `before_id` (before it),
    as the SDK's `SyncPage` follows them."""
    raw = _last(query, "limit") or "20"
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidRequestError(f"limit: Input should be a valid integer, not {raw!r}") from None
    if not 1 <= limit <= MAX_MODELS_PAGE:
        raise InvalidRequestError(f"limit: Input should be between 1 and {MAX_MODELS_PAGE}")
    before, after = _last(query, "before_id"), _last(query, "after_id")
    if before is not None and after is not None:
        raise InvalidRequestError("Only one of before_id or after_id may be provided")
    if after is not None:
        start = ids.index(after) + 1 if after in ids else len(ids)
        return items[start : start + limit], start + limit < len(items)
    if before is not None:
        end = ids.index(before) if before in ids else 0
        return items[max(end - limit, 0) : end], end - limit > 0
    return items[:limit], limit < len(items)


def models_page(models: list[str], query: Mapping[str, list[str]]) -> dict[str, Any]:
    """One page of `GET /v1/models` (see `cursor_page`)."""
    chosen, more = cursor_page(models, models, query)
    return {
        "data": [model_json(m) for m in chosen],
        "has_more": more,
        "first_id": chosen[0] if chosen else None,
        "last_id": chosen[-1] if chosen else None,
    }
