"""Which OpenAI chat options the answer flow honours, ignores or refuses (``ChatRequestError``, 400
in OpenAI's shape with ``param`` naming the option, as OpenAI answers an unsupported value).

An option is refused when an answer would break its promise: more than one choice (``n``), token
log probabilities (``logprobs``, ``top_logprobs``), JSON output (``response_format`` ``json_object``
or ``json_schema``), a forced tool or function call (``tool_choice`` / ``function_call`` ``required``
or naming one), audio output (``modalities`` with ``audio``, ``audio``). It is accepted when its
promise holds: ``tools`` and ``functions`` only offer the model a call it may always decline (here
it always does: the answer is the only output), and the sampling parameters (``temperature``,
``max_tokens``, ``stop``, ``seed``…) are the answer's rules' to decide. docs/service.md lists them.
"""

from __future__ import annotations

from typing import Any

from knowledge.errors import FaqstreamError
from service.api.openai_schemas import ChatCompletionRequest

CALLS_LEFT_TO_THE_MODEL = ("auto", "none")


class ChatRequestError(FaqstreamError):
    """A chat request the answer flow cannot take (400), naming the field at fault."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param

    def body_details(self) -> dict[str, object] | None:
        return {"param": self.param}


class UnsupportedOptionError(ChatRequestError):
    """An OpenAI option whose value the service cannot honour (400 ``unsupported_value``)."""

    code = "unsupported_value"


def _forces_a_call(choice: str | dict[str, Any] | None) -> bool:
    return choice is not None and choice not in CALLS_LEFT_TO_THE_MODEL


def refuse_unsupported(data: ChatCompletionRequest) -> None:
    """Raise ``UnsupportedOptionError`` for the first option set to a value no answer can keep."""
    if data.n is not None and data.n != 1:
        raise UnsupportedOptionError(f"only n=1 is supported (one answer per request), got n={data.n}", "n")
    if data.logprobs:
        raise UnsupportedOptionError(
            "logprobs are not supported; send logprobs: false or leave it out", "logprobs"
        )
    if data.top_logprobs:
        raise UnsupportedOptionError("top_logprobs is not supported (no log probabilities)", "top_logprobs")
    kind = (data.response_format or {}).get("type", "text")
    if kind != "text":
        raise UnsupportedOptionError(
            f"response_format {kind!r} is not supported: answers are text with citations", "response_format"
        )
    if _forces_a_call(data.tool_choice):
        raise UnsupportedOptionError(
            "tool calls are not supported: tool_choice may be 'auto' or 'none' (no tool is ever called)",
            "tool_choice",
        )
    if _forces_a_call(data.function_call):
        raise UnsupportedOptionError(
            "function calls are not supported: function_call may be 'auto' or 'none'", "function_call"
        )
    if data.modalities is not None and set(data.modalities) - {"text"}:
        raise UnsupportedOptionError(
            "only text output is supported: modalities must be ['text']", "modalities"
        )
    if data.audio is not None:
        raise UnsupportedOptionError("audio output is not supported", "audio")
