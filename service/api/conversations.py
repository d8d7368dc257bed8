"""``GET /v1/conversations/{conversation_id}`` (scope ``answer`` or ``agent``: the customer's
client, or the helpdesk handling the conversation) and ``POST /v1/feedback`` (scope ``answer``): a
conversation's durable record and the customer's feedback on a reply (``service.records``).

Both take a token of the key's records budget (``service.api.records_limits``, 429 when spent),
not of its answers'. Both are tenant-scoped like ``POST /v1/answers``: a conversation id this key's
tenant does not hold — another tenant's, or never recorded — is the same 404
``conversation_not_found``. Feedback takes a thumbs (``up`` | ``down``), a rating (1–5), or
both, and an optional comment (redacted before it is stored, at most 2000 characters); at least
one of thumbs and rating is required.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import get, post
from litestar.di import Provide
from litestar.openapi.spec import OpenAPI, OpenAPIType, Schema
from litestar.params import Parameter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from service.api import guards
from service.api.errors import documented
from service.api.openapi import ANSWER_SECURITY, DocumentedOperation
from service.api.records_limits import records_limit
from service.api.runtime import Runtime
from service.core.types import Client
from service.records.store import COMMENT_MAX_CHARS, RecordsDisabledError, RecordStore
from service.records.views import ConversationView, FeedbackView

ID_MAX_CHARS = 128  # as AnswerRequest.conversation_id


def _only_int(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON Schema: 3.0 is an integer
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    return value


# A JSON integer and nothing else ("3", 3.5, true are refused), whatever Litestar's strictness.
JsonInt = Annotated[int, BeforeValidator(_only_int)]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=ID_MAX_CHARS, description="as returned in `meta`")
    message_id: str = Field(
        min_length=1, max_length=ID_MAX_CHARS, description="the reply's `message_id` (as returned in `meta`)"
    )
    thumbs: Literal["up", "down"] | None = Field(
        default=None, description="at least one of thumbs and rating"
    )
    rating: JsonInt | None = Field(default=None, ge=1, le=5, description="1 (worst) to 5 (best)")
    comment: str | None = Field(
        default=None,
        max_length=COMMENT_MAX_CHARS,
        description="free text; personal data is redacted before it is stored",
    )

    @model_validator(mode="after")
    def _something_given(self) -> FeedbackRequest:
        if self.thumbs is None and self.rating is None:
            raise ValueError("give thumbs (up or down), a rating (1-5), or both")
        return self


def document_feedback(document: OpenAPI) -> None:
    """What Litestar cannot infer from ``FeedbackRequest``: thumbs or rating (or both) is required,
    and each is given by its value (left out, not null, when not given)."""
    schemas = document.components.schemas if document.components else None
    schema = (schemas or {})["FeedbackRequest"]
    properties = schema.properties or {}
    properties["thumbs"] = Schema(
        type=OpenAPIType.STRING, enum=["up", "down"], description="thumbs up or down"
    )
    properties["rating"] = Schema(
        type=OpenAPIType.INTEGER, minimum=1, maximum=5, description="1 (worst) to 5 (best)"
    )
    schema.any_of = [Schema(required=["thumbs"]), Schema(required=["rating"])]


def _records(runtime: Runtime) -> RecordStore:
    if runtime.storage.records is None:
        raise RecordsDisabledError()
    return runtime.storage.records


_NOT_HELD = "`conversation_not_found`: a conversation_id this key's tenant does not hold; `records_disabled`"
_DEPENDENCIES = {"client": Provide(guards.client, sync_to_thread=False)}


@get(
    "/v1/conversations/{conversation_id:str}",
    summary="A conversation's record",
    description="The conversation as recorded: state (`bot` or `agent`), language, started and updated "
    "times, and its messages oldest first — the customer's (redacted) and the replies with mode, model, "
    "citations, handoff reason, status (`complete`, `broken`, `abandoned`) and the latest feedback. "
    "A key with the `answer` scope (the customer's client) or the `agent` scope (the helpdesk reading "
    "the transcript of a conversation it handles); either way its own tenant's conversations only.",
    guards=[guards.reader_guard, records_limit],
    dependencies=_DEPENDENCIES,
    responses=documented(
        400,
        401,
        403,
        404,
        429,
        500,
        503,
        described={404: _NOT_HELD, 403: "the key has neither the `answer` nor the `agent` scope"},
    ),
    security=ANSWER_SECURITY,
    operation_class=DocumentedOperation,
)
async def conversation(
    conversation_id: Annotated[str, Parameter(min_length=1, max_length=ID_MAX_CHARS)],
    runtime: Runtime,
    client: Client,
) -> ConversationView:
    return await _records(runtime).conversation(client.name, conversation_id)


@post(
    "/v1/feedback",
    summary="Feedback on a reply",
    description="Thumbs (`up` | `down`), a rating (1–5) or both, and an optional comment (at most "
    f"{COMMENT_MAX_CHARS} characters, redacted before it is stored) on a reply of one of this tenant's "
    "conversations. 201 with the stored feedback; 404 `conversation_not_found` or `message_not_found`.",
    status_code=201,
    guards=[guards.api_key_guard, records_limit],
    dependencies=_DEPENDENCIES,
    responses=documented(
        400,
        401,
        403,
        404,
        413,
        415,
        429,
        500,
        503,
        described={404: _NOT_HELD + "; `message_not_found`: the conversation holds no such message_id"},
    ),
    security=ANSWER_SECURITY,
    operation_class=DocumentedOperation,
)
async def give_feedback(data: FeedbackRequest, runtime: Runtime, client: Client) -> FeedbackView:
    return await _records(runtime).feedback(
        client.name,
        data.conversation_id,
        data.message_id,
        thumbs=data.thumbs,
        rating=data.rating,
        comment=data.comment,
    )
