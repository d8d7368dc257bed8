"""``POST /v1/answers``: admission (question length, rate limits, budgets), then the answer flow's
events as one JSON object or as Server-Sent Events."""

from __future__ import annotations

import time
from typing import Any

from litestar import MediaType, Request, Response, post
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Stream

from service.answers.request import AnswerRequest
from service.api import guards
from service.api.errors import BudgetExhaustedError, QuestionTooLongError, RateLimitedError, documented
from service.api.events import answer_body, observed
from service.api.openapi import ANSWER_SECURITY, AnswerOperation
from service.api.runtime import Runtime
from service.api.schemas import AnswerResponse
from service.api.sse import SSE_HEADERS, sse_bytes
from service.core.types import Client
from service.quotas.rate_limits import headers as limit_headers

DESCRIPTION = """Answer a customer question from the knowledge base.

Send `"stream": true` or `Accept: text/event-stream` for Server-Sent Events (status 200):

* `meta` — first: `conversation_id`, `message_id`, `language`, `mode` (`generative` | `extractive` |
  `cached` | `smalltalk` | `agent`: a person has the conversation, the one delta is the notice that
  the message was passed on), `model`, `kb_version`, `intent` {intent, confidence, language, source, scores},
  `handoff` (null or {reason, reasons, summary, intent, confidence, language, citations}),
  `citations` [{index, doc_id, title, source, section, score, similarity, quote}], in retrieval
  order: `score` is the ranking's own score (non-increasing with `index`; compare within one
  answer), `similarity` the cosine the relevance cut-off is compared with (compare across answers),
  `agent_messages` (the agents' messages since the customer's previous one, as on
  `GET /v1/conversations/{id}/messages`), `notices` (the assistant's notices since then, the same
  shape — a handoff that reached no one, a takeover given back — to show before the reply)
* `delta` — `{"text": "..."}`, in order; concatenated they are the answer
* `done` — last: `stop_reason` (`smalltalk` for a greeting, thanks or goodbye answered without
  retrieval), `usage` {input_tokens, output_tokens, cache_read_input_tokens,
  cache_creation_input_tokens, cost_usd}, `handoff`, `cache` (null | `exact` | `semantic`),
  `with_agent` (true: a person has the conversation now — listen on
  `GET /v1/conversations/{id}/events` for their replies; see docs/agents.md)
* `error` — instead of `done` when the model fails after text was sent: `code`, `message`,
  `retryable` (the text already sent stands)

Comment lines (`: keep-alive`) are sent while waiting upstream. Without streaming the same fields
come as one JSON object. Errors before the answer starts are HTTP statuses with a JSON body
`{"error": {code, message, retryable, details?}}`: 401 API key (checked first, before the body),
403 the key lacks the `answer` scope, 404 `conversation_not_found`, 415 a body that is not
`application/json`, 400 invalid request (also a body nested deeper than SERVICE_MAX_JSON_DEPTH),
413 body over 1 MB or question too long, 429 rate limit, daily budget or failed authentication flood
(`Retry-After`, `RateLimit-*`), 503 overloaded (`Retry-After`).
Send `conversation_id` (as returned in `meta`) to continue a conversation: an id this API key's
tenant does not hold — expired, another tenant's, or never issued — is a 404. Send `user` to apply
the per-end-user limit (case and spaces do not matter). The reply
language is `language`, else detected; one- or two-word messages and small talk take the
conversation's language first, and `Accept-Language` before the detector's guess.
"""

RESPONSES: dict[int, ResponseSpec] = {
    200: ResponseSpec(
        data_container=AnswerResponse,
        description="the answer as one JSON object; with streaming, `text/event-stream` (see above)",
        generate_examples=False,
    ),
    **documented(
        400,
        401,
        403,
        404,
        413,
        415,
        429,
        500,
        502,
        503,
        described={
            403: "the API key lacks the `answer` scope (`insufficient_scope`)",
            404: "`conversation_not_found`: a conversation_id this key's tenant does not hold",
            502: "the model failed and retrying will not help (JSON answers only; the upstream's error type)",
        },
    ),
}


async def admit(runtime: Runtime, client: Client, data: AnswerRequest) -> dict[str, str]:
    """Refuse what must not start (413, 429); the ``RateLimit-*`` headers of the response."""
    limit = runtime.settings.service.max_question_chars
    if len(data.question) > limit:
        raise QuestionTooLongError(limit)
    # the end user's pseudonym within the tenant: normalised (case, spaces) and hashed
    user = runtime.pseudonyms.user(client.name, data.user)
    decision = await runtime.limiter.check(client.key, user, tenant=client.name, rpm=client.limits.rpm)
    headers = limit_headers(decision)
    if not decision.allowed:
        raise RateLimitedError(decision, headers)
    budget = await runtime.budgets.check(client.key, client.limits)
    if not budget.allowed:
        raise BudgetExhaustedError(budget, headers)
    return headers


@post(
    "/v1/answers",
    summary="Answer a question",
    description=DESCRIPTION,
    status_code=200,
    guards=[guards.api_key_guard],
    dependencies={"client": Provide(guards.client, sync_to_thread=False)},
    responses=RESPONSES,
    security=ANSWER_SECURITY,
    operation_class=AnswerOperation,
)
async def answers(
    data: AnswerRequest, request: Request[Any, Any, Any], runtime: Runtime, client: Client
) -> Response[Any]:
    started = time.perf_counter()
    headers = await admit(runtime, client, data)
    prepared = await runtime.answers.prepare(data, client, request.headers.get("accept-language"))
    events = observed(prepared.events(), runtime.metrics, started)
    if data.stream or "text/event-stream" in request.headers.get("accept", ""):
        return Stream(
            sse_bytes(
                events,
                runtime.settings.service.keepalive_s,
            ),
            media_type="text/event-stream",
            headers={**SSE_HEADERS, **headers},
        )
    return Response(await answer_body(events), media_type=MediaType.JSON, headers=headers)
