"""Bodies of the OpenAI-compatible API (``service.api.openai_compat``), also its OpenAPI schema.

The request accepts what OpenAI's chat-completions clients send. Sampling parameters
(``temperature``, ``max_tokens``, ``top_p``, ``stop``, ``seed``…) are accepted and ignored (the
answer's rules decide them). The options whose promise an answer cannot keep are declared here so
that ``service.api.openai_options`` can refuse them by name (400, ``param``): ``n`` other than 1,
``logprobs``, a ``response_format`` other than text, a ``tool_choice`` or ``function_call`` that
forces a call, audio output. ``tools`` and ``functions`` on their own are accepted: the model may
always answer without calling one, and here it always does. faqstream's own fields ride along as
extra body fields (``extra_body=`` in the ``openai`` SDK): ``conversation_id``, ``language``,
``filters``, ``sources``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.schema import LANGUAGE_SCHEMA, LanguageCode, SearchFilters

MODEL = "faqstream"
MODEL_WITH_SOURCES = "faqstream-sources"  # the same answers with a rendered "Sources" footer
MODELS = (MODEL, MODEL_WITH_SOURCES)


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_call_id, …: accepted, unused

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenAI's sampling parameters: accepted, ignored

    model: str = Field(description="`faqstream`, or `faqstream-sources` for a rendered Sources footer")
    messages: list[ChatMessage] = Field(
        min_length=1,
        max_length=500,
        description="the last message (role `user`) is the question; earlier user/assistant turns are "
        "the history when no stored conversation is named; `system`/`developer` messages are ignored",
    )
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(default=None, description="one choice only: 1 (or absent)")
    logprobs: bool | None = Field(default=None, description="not supported: false (or absent)")
    top_logprobs: int | None = Field(default=None, description="not supported: 0 (or absent)")
    response_format: dict[str, Any] | None = Field(
        default=None, description='`{"type": "text"}` only: an answer is prose with citations'
    )
    tools: list[dict[str, Any]] | None = Field(
        default=None, description="accepted, never called (the answer is the only output)"
    )
    tool_choice: str | dict[str, Any] | None = Field(
        default=None, description="`auto` or `none`; a forced call is refused"
    )
    functions: list[dict[str, Any]] | None = Field(default=None, description="as `tools` (deprecated)")
    function_call: str | dict[str, Any] | None = Field(
        default=None, description="`auto` or `none`, as `tool_choice` (deprecated)"
    )
    modalities: list[str] | None = Field(default=None, description='`["text"]` only')
    audio: dict[str, Any] | None = Field(default=None, description="not supported (text answers only)")
    user: str | None = Field(
        default=None, min_length=1, max_length=128, description="end-user id: the per-user rate limit"
    )
    conversation_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="faqstream extra: continue this stored conversation (its stored turns are the history)",
    )
    language: LanguageCode | None = Field(
        default=None,
        description="faqstream extra: the reply language (ISO 639-1; pt-BR → pt)",
        json_schema_extra=LANGUAGE_SCHEMA,
    )
    filters: SearchFilters | None = Field(default=None, description="faqstream extra: search filters")
    sources: bool = Field(default=False, description="faqstream extra: append a rendered Sources footer")


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: dict[str, int]


class ChatChoice(BaseModel):
    index: int
    message: dict[str, Any] = Field(description='{"role": "assistant", "content": …}')
    finish_reason: str
    logprobs: None = None


class ChatCompletion(BaseModel):
    """The non-streamed answer; streamed, the same as ``chat.completion.chunk`` frames."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    faqstream: dict[str, Any] = Field(
        description="the native answer's fields: conversation_id, message_id, language, mode, model, "
        "citations, handoff, intent, cache, stop_reason, usage, kb_version"
    )


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(description="invalid_request_error, authentication_error, rate_limit_error, …")
    param: str | None = Field(description="the request field at fault, when known")
    code: str | None = Field(description="faqstream's machine code (the native API's `error.code`)")


class OpenAIErrorBody(BaseModel):
    """The body of every error response of the OpenAI-compatible routes."""

    error: OpenAIErrorDetail
