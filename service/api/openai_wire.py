"""The answer's events as OpenAI chat completions: the second wire format of the one answer flow.

Every event is first serialised by ``service.api.events.event_payload`` (the native API's one
serialisation), then shaped here:

* streamed — ``ChatChunks`` turns each event into ``chat.completion.chunk`` frames: ``meta`` → the
  first chunk (``role``, the agents' messages since the customer's previous one as text, and the
  ``faqstream`` extra with conversation id, citations, language, mode, handoff so far); each
  ``delta`` → a ``content`` chunk; ``done`` → the Sources footer when asked, the last chunk
  (``finish_reason`` and the final ``faqstream`` extra: ``done``'s handoff replaces ``meta``'s),
  the usage chunk with ``stream_options.include_usage``, then ``[DONE]``; a ``Failed`` answer → a
  frame ``{"error": {…}}`` in OpenAI's shape (the SDK raises it), then ``[DONE]``.
* not streamed — ``completion`` shapes the native ``AnswerResponse`` as one ``chat.completion``.

Either way the assistant message's text is ``content``: the agents' messages (``relayed``), the
answer, the Sources footer when asked, and — for a client that sends no ``conversation_id``
(``SERVICE_OPENAI_REPLY_TAG``) — the reply's tag: its message id in zero-width characters, invisible
where the text is shown. It is the text the client shows and resends next turn
(``service.api.openai_threads`` remembers it): the tag makes two chats whose replies read alike
(the same greeting, a cached answer, a handoff notice) two transcripts, each tied to its own
conversation (a new user's trial: a chat that began with a cached answer lost its handoff).

``usage``: prompt tokens count the cached ones too (OpenAI's convention), with
``prompt_tokens_details.cached_tokens`` the cache reads; answers without a model call count 0.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from service.answers.events import Event, Failed
from service.api.errors import openai_error
from service.api.events import event_payload, failure
from service.core.languages import text_language
from service.web.texts import DEFAULT, page_texts

_CITED = re.compile(r"\[(\d{1,3})\]")
DONE_FRAME = b"data: [DONE]\n\n"


def usage(native: dict[str, Any]) -> dict[str, Any]:
    cached = int(native.get("cache_read_input_tokens", 0))
    prompt = int(native.get("input_tokens", 0)) + cached + int(native.get("cache_creation_input_tokens", 0))
    completion = int(native.get("output_tokens", 0))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def finish_reason(stop_reason: str | None) -> str:
    return "length" if stop_reason == "max_tokens" else "stop"


def wire_texts(language: str | None) -> dict[str, str]:
    """The web chat's texts (``service.web.texts``) for a reply in ``language``: the footer's title
    and the agents' labels read as the web chat reads them (a trial's Spanish and Portuguese chats
    ended in "Sources:" and relayed "Júlia (support team)"); English for a language without them."""
    texts = page_texts()
    key = text_language(language) if language else DEFAULT
    return texts.get(key) or texts[DEFAULT]


def sources_footer(answer: str, citations: list[dict[str, Any]], language: str | None = None) -> str:
    """A Markdown "Sources" list of the passages the answer cites (all given ones when it cites
    none by number), titled in ``language``; empty without citations."""
    cited = {int(n) for n in _CITED.findall(answer)}
    shown = [c for c in citations if c["index"] in cited] or citations
    if not shown:
        return ""
    lines = []
    for c in shown:
        where = " — ".join(part for part in (c["section"], c["source"]) if part)
        lines.append(f"[{c['index']}] {c['title']}" + (f" ({where})" if where else ""))
    return f"\n\n{wire_texts(language)['sources']}:\n" + "\n".join(lines)


def relayed(
    messages: Sequence[dict[str, Any]], notices: Sequence[dict[str, Any]] = (), language: str | None = None
) -> str:
    """The agents' messages as text before the reply, labelled as the web chat labels them (in
    ``language``), then the assistant's notices (its own words: no label)."""
    texts = wire_texts(language)
    labels = (
        texts["agent"].format(author=m["author"]) if m["author"] else texts["support_team"] for m in messages
    )
    agents = "".join(f"{label}: {m['text']}\n\n" for label, m in zip(labels, messages, strict=True))
    return agents + "".join(f"{n['text']}\n\n" for n in notices)


# The tag's two symbols: ZERO WIDTH SPACE and ZERO WIDTH NON-JOINER (no glyph, no joining effect).
_TAG_BITS = ("\u200b", "\u200c")
_TAG_HEX = 12  # of the message id: 48 bits, 48 characters
_TAG = re.compile("[\u200b\u200c]+$")


def reply_tag(message_id: str) -> str:
    """``message_id`` as invisible characters (see the module docstring)."""
    digits = message_id.removeprefix("msg_")[:_TAG_HEX]
    bits = "".join(f"{int(d, 16):04b}" for d in digits)
    return "".join(_TAG_BITS[int(b)] for b in bits)


def without_tag(text: str) -> str:
    """``text`` without a reply's tag (listed history that seeds a conversation: the model never sees it)."""
    return _TAG.sub("", text)


def content(fields: dict[str, Any], text: str, *, sources: bool, tag: bool = False) -> str:
    """The assistant message as the client receives it (streamed: the chunks' text, concatenated),
    from the answer's ``meta`` fields and its text."""
    language = fields.get("language")
    footer = sources_footer(text, fields["citations"], language) if sources else ""
    end = reply_tag(fields["message_id"]) if tag else ""
    agents = relayed(fields.get("agent_messages", []), fields.get("notices", []), language)
    return agents + text + footer + end


def _frame(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


class ChatChunks:
    """The SSE frames of one streamed chat completion, event by event (``sse_bytes``'s encoder)."""

    def __init__(self, model: str, *, sources: bool, include_usage: bool, tag: bool = False) -> None:
        self.model = model
        self.sources = sources
        self.tag = tag
        self.include_usage = include_usage
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.meta: dict[str, Any] = {}
        self.text: list[str] = []  # kept only for the Sources footer
        # A text chunk is this frame around the JSON string of its text (the hot path: one per delta).
        head, _, tail = _frame(self._chunk({"content": ""})).partition(b'{"content":""}')
        self._text_head, self._text_tail = head + b'{"content":', b"}" + tail

    def _chunk(
        self, delta: dict[str, Any], finish: str | None = None, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        if extra is not None:
            chunk["faqstream"] = extra
        return chunk

    def __call__(self, event: Event) -> bytes:
        name, data = event_payload(event)
        if name == "delta":
            if self.sources:
                self.text.append(data["text"])
            return self._text_head + json.dumps(data["text"], ensure_ascii=False).encode() + self._text_tail
        if name == "meta":
            self.meta = data
            first = {
                "role": "assistant",
                "content": relayed(data["agent_messages"], data["notices"], data.get("language")),
            }
            return _frame(self._chunk(first, extra=data))
        if name == "done":
            final = {**self.meta, **data}
            frames = []
            footer = (
                sources_footer("".join(self.text), final["citations"], final.get("language"))
                if self.sources
                else ""
            )
            if self.tag:
                footer += reply_tag(final["message_id"])
            if footer:
                frames.append(_frame(self._chunk({"content": footer})))
            frames.append(_frame(self._chunk({}, finish_reason(data["stop_reason"]), extra=final)))
            if self.include_usage:
                head = self._chunk({})
                frames.append(_frame({**head, "choices": [], "usage": usage(data["usage"])}))
            return b"".join(frames) + DONE_FRAME
        # error: the answer broke off after text was sent (the text already sent stands)
        assert isinstance(event, Failed)
        return _frame({"error": openai_error(failure(event))}) + DONE_FRAME


def completion(body: dict[str, Any], model: str, *, sources: bool, tag: bool = False) -> dict[str, Any]:
    """The native answer (``AnswerResponse`` as a dict) as one ``chat.completion``."""
    extra = {k: v for k, v in body.items() if k != "answer"}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content(body, body["answer"], sources=sources, tag=tag),
                },
                "finish_reason": finish_reason(body["stop_reason"]),
                "logprobs": None,
            }
        ],
        "usage": usage(body["usage"]),
        "faqstream": extra,
    }
