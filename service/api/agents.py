"""The agent takeover API (``service.agents``): a helpdesk posts agents' replies and hands
conversations back; the customer's client reads those replies live or by polling.

For the helpdesk — a database key with the ``agent`` scope (``faqstream keys create --scope
agent``); the key's tenant is the only one whose conversations it reaches:

* ``POST /v1/conversations/{id}/agent-messages`` ``{text, author?}`` → 201 the stored message; 409
  ``conversation_with_bot`` while the assistant has the conversation.
* ``POST /v1/conversations/{id}/takeover`` → a person has it (without waiting for a handoff).
* ``POST /v1/conversations/{id}/handback`` → the assistant answers it again.

For the customer's client — the key it asks questions with (``answer`` scope):

* ``GET /v1/conversations/{id}/events?after=<message_id>`` — Server-Sent Events: ``state``
  ``{state}`` first and on every change (``{state: "bot", message}`` when a takeover lapsed: the
  assistant's notice, also in the first one while the client has not seen it — ``notice_of``),
  ``agent_message`` (the message as the poll shows it, SSE ``id`` its message id) for the agents'
  messages after ``after`` and then as they are posted, ``notice`` (the same shape) for the
  assistant's notice that a handoff reached no one; ``: keep-alive`` comments in between.
  Open until the client leaves.
* ``GET /v1/conversations/{id}/messages?after=<message_id>`` — the poll: ``state`` and the stored
  messages after ``after`` (all kept ones when ``after`` is absent or no longer kept).

Both read the conversation on the customer's behalf (``Takeover.for_customer``): a takeover past its
reply deadline (``AGENTS_REPLY_TIMEOUT_S``) is given back first, and the stream checks again at each
keep-alive after the deadline — the process that made the handoff may be gone. The stream reads the
deadline again at each change of hands it relays (``state``), so one opened while the assistant had
the conversation watches a later takeover's deadline too.

An id the tenant does not hold is a 404 ``conversation_not_found`` everywhere.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Parameter
from litestar.response import Stream
from pydantic import BaseModel, ConfigDict, Field

from service.agents.events import ConversationEvent, EventKind
from service.agents.takeover import Takeover, shown
from service.api import guards
from service.api.errors import documented
from service.api.records_limits import records_limit
from service.api.runtime import Runtime
from service.api.sse import KEEPALIVE, SSE_HEADERS
from service.conversations.store import (
    Conversation,
    ConversationNotFoundError,
    ConversationState,
    SessionStoreError,
    Turn,
    conversation_key,
)
from service.core.types import Client

log = logging.getLogger(__name__)

MAX_AGENT_MESSAGE_CHARS = 8000
# ?after=<message_id>: what the client has already seen
After = Annotated[str | None, Parameter(query="after", description="the last message id the client has")]


async def agent_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A key with the ``agent`` scope: 401 without a valid key, 403 with one of another kind (never open)."""
    await guards.identify(connection, "agent")


CLIENT = {"client": Provide(guards.client, sync_to_thread=False)}
DESCRIBED = {
    403: "the key lacks the route's scope: `agent` for the helpdesk's routes, `answer` for the customer's",
    404: "`conversation_not_found`: an id this key's tenant does not hold (expired, another's, never issued)",
    409: "`conversation_with_bot`: the assistant has the conversation; take it over first",
}
# The routes' callers: a helpdesk's agent-scope key, or the customer's client with its answer-scope key.
# Each takes a token of the key's records budget (service.api.records_limits) after its key check.
HELPDESK: dict[str, Any] = {"guards": [agent_guard, records_limit], "dependencies": CLIENT}
CUSTOMER: dict[str, Any] = {"guards": [guards.api_key_guard, records_limit], "dependencies": CLIENT}


class AgentMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_AGENT_MESSAGE_CHARS, description="the reply")
    author: str | None = Field(default=None, max_length=200, description="shown to the customer")


class ShownMessage(BaseModel):
    message_id: str | None
    role: str = Field(description="customer | assistant | agent")
    text: str = Field(description="as stored: redacted")
    author: str | None
    language: str
    at: str


class Posted(BaseModel):
    conversation_id: str
    message: ShownMessage


class StateBody(BaseModel):
    conversation_id: str
    state: ConversationState


class Messages(BaseModel):
    conversation_id: str
    state: ConversationState
    messages: list[ShownMessage]


def takeover_of(runtime: Runtime) -> Takeover:
    """The service's ``Takeover`` (``build_runtime`` always gives the answer flow one)."""
    takeover = runtime.answers.deps.takeover
    assert takeover is not None
    return takeover


def after(conversation: Conversation, message_id: str | None) -> list[Turn]:
    """The stored turns after the last one with ``message_id`` (all kept ones when it is not kept)."""
    turns = conversation.turns
    if message_id is not None:
        for n in range(len(turns) - 1, -1, -1):
            if turns[n].message_id == message_id:
                return turns[n + 1 :]
    return turns


def _shown(turns: list[Turn]) -> list[ShownMessage]:
    return [ShownMessage.model_validate(shown(t)) for t in turns]


@post(
    "/v1/conversations/{conversation_id:str}/agent-messages",
    summary="Post an agent's reply to the customer",
    status_code=201,
    **HELPDESK,
    responses=documented(400, 401, 403, 404, 409, 429, 503, described=DESCRIBED),
)
async def agent_messages(
    conversation_id: str, data: AgentMessage, runtime: Runtime, client: Client
) -> Posted:
    turn = await takeover_of(runtime).agent_message(client, conversation_id, data.text, data.author)
    return Posted(conversation_id=conversation_id, message=ShownMessage.model_validate(shown(turn)))


@post(
    "/v1/conversations/{conversation_id:str}/takeover",
    summary="A person takes the conversation over (the assistant stops answering it)",
    status_code=200,
    **HELPDESK,
    responses=documented(401, 403, 404, 429, 503, described=DESCRIBED),
)
async def takeover(conversation_id: str, runtime: Runtime, client: Client) -> StateBody:
    conv = await takeover_of(runtime).take_over(client, conversation_id)
    return StateBody(conversation_id=conversation_id, state=conv.state)


@post(
    "/v1/conversations/{conversation_id:str}/handback",
    summary="Hand the conversation back to the assistant",
    status_code=200,
    **HELPDESK,
    responses=documented(401, 403, 404, 429, 503, described=DESCRIBED),
)
async def handback(conversation_id: str, runtime: Runtime, client: Client) -> StateBody:
    conv = await takeover_of(runtime).hand_back(client, conversation_id)
    return StateBody(conversation_id=conversation_id, state=conv.state)


@get(
    "/v1/conversations/{conversation_id:str}/messages",
    summary="The conversation's messages after one (the customer's poll)",
    **CUSTOMER,
    responses=documented(401, 403, 404, 429, 503, described=DESCRIBED),
)
async def conversation_messages(
    conversation_id: str, runtime: Runtime, client: Client, after_id: After = None
) -> Messages:
    conv = await takeover_of(runtime).for_customer(client, conversation_id)
    return Messages(conversation_id=conversation_id, state=conv.state, messages=_shown(after(conv, after_id)))


def notice_of(conversation: Conversation, message_id: str | None) -> Turn | None:
    """The notice the assistant took the conversation back with (a lapsed takeover: the first turn
    since the last change of hands is its own), if the client has not seen it (after ``message_id``)."""
    start = conversation.state_since - conversation.first_turn
    if conversation.state != "bot" or not 0 <= start < len(conversation.turns):
        return None
    turn = conversation.turns[start]
    return turn if turn.role == "assistant" and turn in after(conversation, message_id) else None


def _frame(event: ConversationEvent) -> bytes:
    event_id = event.data.get("message_id") if event.kind in ("agent_message", "notice") else None
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event.kind}\ndata: {json.dumps(event.data, ensure_ascii=False)}\n\n".encode()


async def _stream(
    takeover: Takeover, client: Client, conversation_id: str, since: str | None, keepalive_s: float
) -> AsyncIterator[bytes]:
    async with takeover.events.listen(conversation_key(client.name, conversation_id)) as listener:
        # Read after listening: a message posted in between comes both ways and is sent once.
        conv = await takeover.for_customer(client, conversation_id)
        sent: set[str] = set()
        state: dict[str, Any] = {"state": conv.state}
        if (notice := notice_of(conv, since)) is not None:
            state["message"] = shown(notice)
            sent.add(str(notice.message_id))
        frames = [_frame(ConversationEvent("state", state))]
        for turn in after(conv, since):
            kind: EventKind | None = "notice" if turn.notice else None
            if turn.role == "agent":
                kind = "agent_message"
            if kind is not None and turn.message_id is not None and turn.message_id not in sent:
                sent.add(turn.message_id)
                frames.append(_frame(ConversationEvent(kind, shown(turn))))
        yield b"".join(frames)
        due = takeover.deadline(conv)  # a takeover nobody answers: lapsed here if no process does it
        while True:
            event = await listener.next(keepalive_s)
            if event is None:
                yield KEEPALIVE
                if due is not None and datetime.now(UTC) >= due:
                    due = await _checked(takeover, client, conversation_id)
            elif (ident := _ident(event)) is None or ident not in sent:
                yield _frame(event)
                if event.kind == "state":  # changed hands: a takeover handoff's deadline starts now
                    due = await _checked(takeover, client, conversation_id)


def _ident(event: ConversationEvent) -> str | None:
    """The id of the message an event carries (a lapse's ``state`` event: its notice's)."""
    message = event.data.get("message")
    return (message if isinstance(message, dict) else event.data).get("message_id")


async def _checked(takeover: Takeover, client: Client, conversation_id: str) -> datetime | None:
    """The conversation read again (past the reply deadline: the takeover lapsed if still waiting,
    its ``state`` event reaching the stream); the deadline to check next, if any."""
    try:
        return takeover.deadline(await takeover.for_customer(client, conversation_id))
    except (SessionStoreError, ConversationNotFoundError) as exc:
        log.warning("conversation %s: reply deadline not checked: %s", conversation_id, exc.message)
        return None


@get(
    "/v1/conversations/{conversation_id:str}/events",
    summary="The agents' messages and changes of hands, live (Server-Sent Events)",
    **CUSTOMER,
    responses=documented(401, 403, 404, 429, 503, described=DESCRIBED),
)
async def conversation_events(
    conversation_id: str, runtime: Runtime, client: Client, after_id: After = None
) -> Response[Any]:
    await takeover_of(runtime).conversation(client, conversation_id)  # 404 before the stream starts
    body = _stream(
        takeover_of(runtime), client, conversation_id, after_id, runtime.settings.service.keepalive_s
    )
    return Stream(body, media_type="text/event-stream", headers=SSE_HEADERS)


AGENT_ROUTES = [agent_messages, takeover, handback, conversation_messages, conversation_events]
