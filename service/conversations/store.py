"""Conversation state: the turns of each conversation and its running summary, behind one interface.

Two stores implement ``SessionStore``:

* ``RedisSessionStore`` (``REDIS_URL`` set; ``service.conversations.redis_sessions``) — shared by
  every replica. Per conversation, two keys in
  one Cluster hash slot (the ``{id}`` tag: the pseudonym of ``<tenant>/<conversation_id>``, never an id):

  - ``<prefix>conv:{<id>}:turns`` — a LIST of turns as JSON. ``append`` is one ``MULTI`` with
    ``RPUSH`` of all new turns: concurrent appends from any number of processes never lose or
    interleave turns, they queue in arrival order. ``append_if`` (one Lua script) appends only to a
    conversation that exists, and only while it is in a given state (an agent's message while a
    person has it): checked and written in one step, so a lapse or an erasure never falls between.
  - ``<prefix>conv:{<id>}:meta`` — a HASH: ``created_at``, ``updated_at``, ``language``,
    ``summary``, ``summarized_turns``, ``first_turn``, ``state``, ``state_since``, ``state_at``,
    ``handoff_id``.

  ``set_summary`` (one Lua script) replaces the summary only if it covers more turns (a slow
  summariser never overwrites a newer one) and drops summarised turns beyond ``max_stored_turns``.
  ``load`` reads both keys in one ``MULTI``. Every write refreshes the TTL of both keys.

* ``InProcessSessionStore`` (no Redis) — the same in a ``cachetools.TTLCache``, for one process:
  expired ones never served, at most ``memory_max_conversations`` kept (least recently used go first).
  No operation awaits anything between its check and its write, so each is one step on the event loop.

Conversations are tenant-scoped: the store key is ``<tenant>/<conversation_id>`` (``conversation_key``).
An id the tenant does not hold — another tenant's, expired, never issued — is the same 404
``conversation_not_found`` (``ConversationNotFoundError``): no tenant learns which ids exist elsewhere.
``SessionStore.replies``: which conversation a resent transcript continues (``.threads``).

``Conversation.state``: ``bot`` or ``agent`` (a person has it: ``service.agents``), read by ``load``;
``set_state`` writes it, ``state_since`` (the next turn's position: dissatisfaction counts from there),
``state_at`` (when) and ``handoff_id`` (the reply whose takeover handoff gave it to a person, if one
did). ``lapse`` gives a takeover nobody answered back to the assistant with its notice — one atomic
step, so of several processes that find it overdue exactly one does, and never after an agent wrote.

Turn positions are absolute, even after older turns were dropped (``Conversation.first_turn``: how many).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol

from cachetools import TTLCache
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings

from knowledge.errors import FaqstreamError
from knowledge.settings import _config
from service.conversations.marks import TurnMark
from service.conversations.threads import InProcessReplyThreads, ReplyThreads

log = logging.getLogger(__name__)

Clock = Callable[[], float]
ConversationState = Literal["bot", "agent"]
STATES: tuple[ConversationState, ...] = ("bot", "agent")


class ConversationSettings(BaseSettings):
    model_config = _config("CONVERSATION_")

    max_turns: int = Field(default=20, ge=2, le=500, description="most prior turns sent to Claude")
    token_budget: int = Field(
        default=4000, ge=100, le=200_000, description="most estimated tokens of prior turns sent to Claude"
    )
    ttl_s: int = Field(
        default=86_400, ge=60, description="a conversation expires this long after its last write"
    )
    summary_model: str = Field(
        default="claude-haiku-4-5", description="model that folds old turns into the summary"
    )
    summary_max_tokens: int = Field(default=400, ge=50, le=4000)
    summary_max_chars: int = Field(
        default=1500, ge=200, le=20_000, description="cap on the stored summary (either kind)"
    )
    summary_timeout_s: float = Field(default=20.0, gt=0)
    max_stored_turns: int = Field(
        default=200, ge=2, description="turns kept per conversation; older, summarised ones are dropped"
    )
    memory_max_conversations: int = Field(
        default=10_000, ge=1, description="in-process store only: most conversations kept"
    )


def conversation_key(tenant: str, conversation_id: str) -> str:
    """Conversations are kept per tenant: one tenant can never read or extend another's."""
    return f"{tenant}/{conversation_id}"


class ConversationNotFoundError(FaqstreamError):
    """A ``conversation_id`` this tenant does not hold: another's, expired or never issued (HTTP 404)."""

    status = 404
    code = "conversation_not_found"

    def __init__(self) -> None:
        super().__init__(
            "no such conversation (it expired, or was never started with this API key's tenant): "
            "send the question without conversation_id to start a new one"
        )


class SessionStoreError(FaqstreamError):
    """The conversation store failed (Redis unreachable, or a stored record is unreadable)."""

    status = 503
    code = "store_unavailable"
    retryable = True


class Turn(BaseModel):
    """One message of a conversation, stored after the answer completed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    role: Literal["user", "assistant", "agent"]  # agent: a person's reply (service.agents)
    text: str
    language: str = "und"
    intent: str | None = None
    citations: list[str] = Field(default_factory=list, description="doc ids cited, in [n] order")
    message_id: str | None = Field(default=None, description="the answer's or agent message's id")
    author: str | None = Field(default=None, description="agent turns: who wrote it")
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    mark: TurnMark | None = Field(default=None, description="customer turns: dissatisfaction, assessed once")
    notice: bool = Field(
        default=False,
        description="assistant turns: a notice about a handoff that did not go as the customer was told "
        "(service.agents.takeover), not a reply; the customer's next answer carries it (Meta.notices)",
    )


class Conversation(BaseModel):
    id: str
    turns: list[Turn] = Field(default_factory=list, description="stored turns; turns[0] is turn first_turn")
    summary: str = ""
    summarized_turns: int = Field(default=0, ge=0, description="turns [0, summarized_turns) are in summary")
    first_turn: int = Field(default=0, ge=0, description="older (summarised) turns no longer stored")
    language: str = "und"
    state: ConversationState = Field(default="bot", description="who answers: the assistant or a person")
    state_since: int = Field(default=0, ge=0, description="first turn since the last set_state")
    state_at: datetime | None = Field(default=None, description="when the last set_state wrote (None: never)")
    handoff_id: str | None = Field(
        default=None,
        description="state agent after a takeover handoff: the id of the reply that made it (its deadline "
        "runs from state_at, service.agents.lapse); None after an agent's own takeover or any other change",
    )
    created_at: datetime
    updated_at: datetime

    @property
    def total_turns(self) -> int:
        return self.first_turn + len(self.turns)

    def unsummarized(self) -> list[Turn]:
        """The turns the summary does not cover yet, oldest first."""
        return self.turns[max(0, self.summarized_turns - self.first_turn) :]


class SessionStore(Protocol):
    replies: ReplyThreads  # transcript digest → its conversation, on the same backend and TTL

    async def load(self, conversation_id: str) -> Conversation | None:
        """The conversation, or None when it does not exist or has expired."""
        ...

    async def append(self, conversation_id: str, turns: Sequence[Turn]) -> None:
        """Add turns at the end (creating the conversation) and refresh its expiry."""
        ...

    async def append_if(
        self, conversation_id: str, turns: Sequence[Turn], *, state: ConversationState | None = None
    ) -> bool:
        """In one step: add turns at the end of the conversation if it exists (never creating it)
        and, with ``state``, only while it is in that state; refresh its expiry. False (nothing
        written) otherwise, or when ``turns`` is empty."""
        ...

    async def set_summary(self, conversation_id: str, summary: str, upto_turns: int) -> bool:
        """Store ``summary`` as covering turns ``[0, upto_turns)``. False (nothing written) when the
        conversation is gone, the stored summary already covers as much, or ``upto_turns`` is
        beyond the stored turns."""
        ...

    async def set_state(
        self, conversation_id: str, state: ConversationState, *, handoff_id: str | None = None
    ) -> bool:
        """Hand the conversation to a person (``agent``) or back to the assistant (``bot``), from
        the next turn on (``state_since``), now (``state_at``); ``handoff_id``: the reply whose
        handoff did it (kept until the next change). False (nothing written) when it does not exist."""
        ...

    async def lapse(self, conversation_id: str, handoff_id: str, notice: Turn) -> bool:
        """In one step: if the conversation is still ``agent`` by the handoff of ``handoff_id`` and no
        ``agent`` turn was added since, set it ``bot`` (as ``set_state``) and append ``notice`` as the
        first turn after the change. False (nothing written) otherwise."""
        ...

    async def delete(self, conversation_id: str) -> None: ...

    async def close(self) -> None: ...


def now_at(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


def waiting(conv: Conversation, handoff_id: str) -> bool:
    """``conv`` is a person's by the handoff of the reply ``handoff_id``, and no agent has written in
    it since (every turn since the change still kept). ``_LAPSE_LUA`` checks the same in Redis."""
    start = conv.state_since - conv.first_turn
    if conv.state != "agent" or conv.handoff_id != handoff_id or start < 0:
        return False
    return not any(turn.role == "agent" for turn in conv.turns[start:])


# --------------------------------------------------------------------------- in-process


class InProcessSessionStore:
    """One process's conversations in a ``cachetools.TTLCache`` (expiry as above; a read does not
    extend it); no await inside an operation, so each is atomic."""

    def __init__(self, settings: ConversationSettings, *, clock: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._entries: TTLCache[str, Conversation] = TTLCache(
            maxsize=settings.memory_max_conversations, ttl=settings.ttl_s, timer=clock
        )
        self.replies: ReplyThreads = InProcessReplyThreads(settings.ttl_s, 4 * self._entries.maxsize, clock)

    async def load(self, conversation_id: str) -> Conversation | None:
        conv = self._entries.get(conversation_id)
        if conv is None:
            return None
        return conv.model_copy(update={"turns": list(conv.turns)})

    async def append(self, conversation_id: str, turns: Sequence[Turn]) -> None:
        if turns:
            self._append(conversation_id, self._entries.get(conversation_id), turns)

    async def append_if(
        self, conversation_id: str, turns: Sequence[Turn], *, state: ConversationState | None = None
    ) -> bool:
        conv = self._entries.get(conversation_id)
        if not turns or conv is None or (state is not None and conv.state != state):
            return False
        self._append(conversation_id, conv, turns)
        return True

    def _append(self, conversation_id: str, conv: Conversation | None, turns: Sequence[Turn]) -> None:
        now = now_at(self.clock)
        if conv is None:
            conv = Conversation(id=conversation_id, created_at=now, updated_at=now)
        conv.turns.extend(turns)
        conv.updated_at = now
        conv.language = turns[-1].language
        self._entries[conversation_id] = conv  # (re)starts its time to live

    async def set_summary(self, conversation_id: str, summary: str, upto_turns: int) -> bool:
        conv = self._entries.get(conversation_id)
        if conv is None:
            return False
        if upto_turns <= conv.summarized_turns or upto_turns > conv.total_turns:
            return False
        conv.summary = summary
        conv.summarized_turns = upto_turns
        conv.updated_at = now_at(self.clock)
        drop = min(len(conv.turns) - self.settings.max_stored_turns, upto_turns - conv.first_turn)
        if drop > 0:
            del conv.turns[:drop]
            conv.first_turn += drop
        self._entries[conversation_id] = conv
        return True

    async def set_state(
        self, conversation_id: str, state: ConversationState, *, handoff_id: str | None = None
    ) -> bool:
        conv = self._entries.get(conversation_id)
        if conv is None:
            return False
        self._changed(conv, state, handoff_id)
        self._entries[conversation_id] = conv
        return True

    async def lapse(self, conversation_id: str, handoff_id: str, notice: Turn) -> bool:
        conv = self._entries.get(conversation_id)
        if conv is None or not waiting(conv, handoff_id):
            return False
        self._changed(conv, "bot", None)
        conv.turns.append(notice)
        conv.language = notice.language
        self._entries[conversation_id] = conv
        return True

    def _changed(self, conv: Conversation, state: ConversationState, handoff_id: str | None) -> None:
        now = now_at(self.clock)
        conv.state, conv.state_since, conv.state_at = state, conv.total_turns, now
        conv.handoff_id = handoff_id
        conv.updated_at = now

    async def delete(self, conversation_id: str) -> None:
        self._entries.pop(conversation_id, None)

    async def close(self) -> None:
        self._entries.clear()
