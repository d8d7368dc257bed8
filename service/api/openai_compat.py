"""``POST /v1/chat/completions`` and ``GET /v1/models``: the OpenAI chat API over the answer flow.

One flow, two wire formats: a chat request becomes the ``AnswerRequest`` ``/v1/answers`` takes,
goes through the same admission (``service.api.answers.admit``), ``AnswerService.prepare`` and
measured events (``service.api.events.observed``), and leaves as chat completions
(``service.api.openai_wire``). Same API keys (``Authorization: Bearer``, ``api_key_guard``), same
statuses; errors in OpenAI's shape (``service.api.errors``).

The ``messages`` list:

* the last message must be the customer's (role ``user``): it is the question;
* ``system`` / ``developer`` messages are ignored — the answer's rules are the service's, a client
  cannot replace them (nor add to them: a frontend's default system prompt would otherwise steer
  every answer);
* earlier ``user`` / ``assistant`` turns are the history. With ``conversation_id`` (extra field)
  naming a stored conversation, the stored turns are the history and the listed ones are ignored.
  Without it (the OpenAI way: the client resends the whole history each time), listed turns that
  end with a reply this service sent continue that reply's conversation (its stored turns win, as
  with ``conversation_id``); other listed turns seed a new stored conversation (redacted like every
  stored turn) that the answer continues (``service.api.openai_threads``). Either way
  ``faqstream.conversation_id`` names the conversation.
* ``tool`` / ``function`` messages are ignored; non-text content parts are refused (400).

Options an answer cannot honour (``n`` > 1, ``logprobs``, JSON ``response_format``, a forced tool
call, audio) are refused with 400 naming the ``param`` (``service.api.openai_options``); sampling
parameters are accepted and ignored.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import MediaType, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Stream
from pydantic import ValidationError

from knowledge.errors import FaqstreamError
from service.answers.request import AnswerRequest
from service.api import guards
from service.api.answers import admit
from service.api.errors import documented
from service.api.events import answer_body, observed
from service.api.openai_options import ChatRequestError, refuse_unsupported
from service.api.openai_schemas import (
    MODEL_WITH_SOURCES,
    MODELS,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    ModelList,
)
from service.api.openai_threads import ChatThread, Speaker
from service.api.openai_wire import ChatChunks, completion
from service.api.runtime import Runtime
from service.api.sse import SSE_HEADERS, sse_bytes
from service.core.types import Client

log = logging.getLogger(__name__)
STARTED = int(time.time())


class ModelNotFoundError(FaqstreamError):
    status = 404
    code = "model_not_found"

    def __init__(self, model: str) -> None:
        super().__init__(f"the model {model!r} does not exist; GET /v1/models lists: {', '.join(MODELS)}")

    def body_details(self) -> dict[str, object] | None:
        return {"param": "model"}


def text_of(message: ChatMessage, position: int) -> str:
    """The message's text: a string, or its text parts joined; other parts are refused."""
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    parts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise ChatRequestError(
                f"only text content is supported, not {part.type!r}", f"messages[{position}]"
            )
        parts.append(part.text)
    return "\n".join(parts)


def conversation(messages: list[ChatMessage]) -> tuple[str, list[tuple[Speaker, str]]]:
    """The question (the last message, the customer's) and the earlier user/assistant turns."""
    last = len(messages) - 1
    if messages[last].role != "user":
        raise ChatRequestError("the last message must be the customer's (role 'user')", f"messages[{last}]")
    question = text_of(messages[last], last)
    if not question.strip():
        raise ChatRequestError("the last message is empty", f"messages[{last}]")
    history = [
        (m.role, text)
        for i, m in enumerate(messages[:last])
        if m.role in ("user", "assistant") and (text := text_of(m, i)).strip()
    ]
    return question, history


def answer_request(data: ChatCompletionRequest, question: str, conversation_id: str | None) -> AnswerRequest:
    try:
        return AnswerRequest(
            question=question,
            conversation_id=conversation_id,
            language=data.language,
            filters=data.filters,
            stream=data.stream,
            user=data.user,
        )
    except ValidationError as exc:
        raise ChatRequestError(exc.errors()[0]["msg"], "messages") from exc


@post(
    "/v1/chat/completions",
    summary="Answer a question (OpenAI chat completions)",
    description=__doc__,
    status_code=200,
    guards=[guards.api_key_guard],
    dependencies={"client": Provide(guards.client, sync_to_thread=False)},
    responses={
        200: ResponseSpec(
            data_container=ChatCompletion,
            description="one `chat.completion`; with `stream: true`, `chat.completion.chunk` "
            "Server-Sent Events ending with `data: [DONE]`",
            generate_examples=False,
        ),
        **documented(400, 401, 404, 413, 429, 500, 502, 503, openai=True),
    },
)
async def chat_completions(
    data: ChatCompletionRequest, request: Request[Any, Any, Any], runtime: Runtime, client: Client
) -> Response[Any]:
    started = time.perf_counter()
    if data.model not in MODELS:
        raise ModelNotFoundError(data.model)
    refuse_unsupported(data)
    question, history = conversation(data.messages)
    native = answer_request(data, question, data.conversation_id)
    headers = await admit(runtime, client, native)
    thread = ChatThread(runtime, client, data, question, history)
    if history:
        native = native.model_copy(update={"conversation_id": await thread.conversation_id()})
    prepared = await runtime.answers.prepare(native, client, request.headers.get("accept-language"))
    sources = data.sources or data.model == MODEL_WITH_SOURCES
    tag = data.conversation_id is None and runtime.settings.service.openai_reply_tag
    replies = thread.remembering(prepared.events(), sources=sources, tag=tag)
    events = observed(replies, runtime.metrics, started)
    if data.stream:
        include_usage = data.stream_options is not None and data.stream_options.include_usage
        chunks = ChatChunks(data.model, sources=sources, include_usage=include_usage, tag=tag)
        return Stream(
            sse_bytes(
                events,
                runtime.settings.service.keepalive_s,
                chunks,
            ),
            media_type="text/event-stream",
            headers={**SSE_HEADERS, **headers},
        )
    body = completion(await answer_body(events), data.model, sources=sources, tag=tag)
    return Response(body, media_type=MediaType.JSON, headers=headers)


@get(
    "/v1/models",
    summary="The models (OpenAI list models)",
    description="`faqstream` answers; `faqstream-sources` answers with a rendered Sources footer.",
    guards=[guards.api_key_guard],
    responses={**documented(401, openai=True)},
)
async def models() -> ModelList:
    return ModelList.model_validate(
        {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": STARTED, "owned_by": "faqstream"} for m in MODELS
            ],
        }
    )
