"""Who has a conversation, and what passes between the customer and a person while one has it.

``Takeover`` is the one place that changes a conversation's state (``bot`` ↔ ``agent``, kept in the
session store with the turns) and writes what agents and customers say while a person has it:

* ``handed_off`` — after an answer with a handoff: a conversation moves to ``agent`` when the
  handoff went to people, i.e. ``HANDOFF_WEBHOOK_URL`` is set (the ``handoff`` event reaches the
  agents' tool) and its reason is one of ``AGENTS_TAKEOVER_REASONS`` (default: the customer asked,
  is dissatisfied, or the model is unavailable) — ``service.handoff.delivery`` decides, and the
  customer's notice says the same. Other reasons reach the agents while the assistant keeps the
  conversation; without a webhook nobody would ever answer, so the assistant keeps it too.
* ``customer_message`` — the customer wrote while a person has it: stored as a ``user`` turn,
  sent to the handoff webhook as a ``customer_message`` event, recorded (role ``customer``).
* ``agent_message`` — an agent's reply: stored as an ``agent`` turn (redacted like every stored
  text: the customer sees the stored text, live and when polling alike), recorded (role ``agent``)
  and published to the customer's open event streams (``service.agents.events``). A conversation
  the assistant has is a 409 (``ConversationWithBotError``): take it over first (``take_over``). The
  store appends it only while the conversation is a person's (``SessionStore.append_if``, one step),
  so a lapse at the same moment either comes first (the message is a 409) or finds the reply and
  keeps off (``SessionStore.lapse``): an agent who has replied is never overruled.
* ``lapse`` — a takeover whose handoff reached no one, or that no agent answered in time
  (``service.agents.lapse`` watches for both), goes back to the assistant with a notice to the
  customer (``service.handoff.late_notices.lapsed_message``). ``for_customer`` reads a conversation on
  the customer's behalf and lapses it first when its reply deadline has passed.
* ``unnotified`` — a ``notify`` handoff (the assistant kept answering, the customer was told the team
  knows) whose ``handoff`` event reached no one: the customer is told it could not be passed on
  (``service.handoff.late_notices.unnotified_message``), a notice stored and sent like a lapse's —
  appended only to a conversation that still exists (``append_if``): an erased one is not recreated.
* ``take_over`` / ``hand_back`` — an agent takes a conversation without a handoff, or returns it
  to the assistant (``handback`` webhook event). Each change is recorded (``StateRecord``) and
  published (``state`` event). Both are idempotent: the state asked for is the answer. The store
  keeps where each change happened (``Conversation.state_since``): after a handback the customer's
  dissatisfaction is counted afresh (``service.handoff.policy``), so the next message is answered.

Every conversation is the tenant's own (``conversation_key``): an id the tenant does not hold is a
404, as everywhere (``ConversationNotFoundError``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from knowledge.errors import FaqstreamError
from service.agents.events import ConversationEvent, ConversationEvents, conversation_events
from service.agents.lapse import LapseWatch, Pending, deadline, overdue
from service.agents.settings import AgentSettings
from service.conversations.store import (
    Conversation,
    ConversationNotFoundError,
    ConversationState,
    SessionStore,
    SessionStoreError,
    Turn,
    conversation_key,
)
from service.core.identifiers import Pseudonyms
from service.core.localised import for_language
from service.core.metrics import UNNOTIFIED, Metrics
from service.core.types import Client
from service.handoff.delivery import delivery_of
from service.handoff.late_notices import lapsed_message, unnotified_message
from service.handoff.signals import Delivery, Handoff, LapseCause
from service.notify.webhooks import Outcome, Undelivered, WebhookSender
from service.privacy.redaction import Redaction
from service.records.records import MessageRecord, Record, Recorder, Role, StateRecord

log = logging.getLogger(__name__)


class ConversationWithBotError(FaqstreamError):
    """An agent's message to a conversation the assistant has (HTTP 409)."""

    status = 409
    code = "conversation_with_bot"

    def __init__(self) -> None:
        super().__init__(
            "the assistant has this conversation: take it over first "
            "(POST /v1/conversations/{id}/takeover), then post the message"
        )


def shown(turn: Turn) -> dict[str, Any]:
    """A stored turn as the API shows it (the poll, the events stream)."""
    role = {"user": "customer", "assistant": "assistant", "agent": "agent"}[turn.role]
    return {
        "message_id": turn.message_id,
        "role": role,
        "text": turn.text,
        "author": turn.author,
        "language": turn.language,
        "at": turn.at.isoformat(),
    }


class Takeover:
    @classmethod
    def build(  # noqa: PLR0917  # the composition root hands over what it built, in order
        cls,
        settings: AgentSettings,
        sessions: SessionStore,
        redis: Redis | None,
        prefix: str,
        pseudonyms: Pseudonyms,
        webhook: WebhookSender | None,
        redaction: Redaction,
        contact: Mapping[str, str],
        *,
        recorder: Recorder | None = None,
        metrics: Metrics | None = None,
    ) -> Takeover:
        """Live events through Redis when a client is given (else in this process); leaving the
        context ends them (and the reply timers). ``contact``: ``HANDOFF_CONTACT`` (language → contact)."""
        events = conversation_events(redis, prefix=prefix, pseudonyms=pseudonyms)
        return cls(
            sessions=sessions,
            events=events,
            settings=settings,
            webhook=webhook,
            recorder=recorder,
            redaction=redaction,
            metrics=metrics,
            contact=contact,
        )

    async def __aenter__(self) -> Takeover:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.lapses.close()
        await self.events.close()

    def __init__(
        self,
        *,
        sessions: SessionStore,
        events: ConversationEvents,
        settings: AgentSettings | None = None,
        webhook: WebhookSender | None = None,
        recorder: Recorder | None = None,
        redaction: Redaction | None = None,
        metrics: Metrics | None = None,
        contact: Mapping[str, str] | None = None,
    ) -> None:
        """``contact``: ``HANDOFF_CONTACT`` (language → contact), in the notice of a lapsed takeover."""
        self.sessions = sessions
        self.events = events
        self.settings = settings or AgentSettings()
        self.webhook = webhook
        self.recorder = recorder
        self.redaction = redaction or Redaction()
        self.metrics = metrics
        self.contact = contact or {}
        self.lapses = LapseWatch(self.lapse, self.settings.reply_timeout_s)

    # --- the assistant's side -----------------------------------------------------------------

    def moves(self, handoff: Handoff) -> bool:
        """Whether this handoff gives the conversation to a person (see the module docstring)."""
        return self._delivery(handoff) == "takeover"

    def _contact(self, language: str) -> str | None:
        return for_language(self.contact, language)

    def _delivery(self, handoff: Handoff) -> Delivery:
        return delivery_of(
            handoff.reason, webhook=self.webhook is not None, takeover_reasons=self.settings.takeover_reasons
        )

    async def handed_off(
        self, client: Client, conversation_id: str, handoff: Handoff, message_id: str
    ) -> bool:
        """After the answer ``message_id`` with ``handoff`` (its turns already stored): a person has
        it now, if it moves (True) — until the takeover lapses (``service.agents.lapse``)."""
        if not self.moves(handoff):
            return False
        pending = Pending(client, conversation_id, message_id, handoff.language)
        async with self.lapses.moving(pending):
            await self._change(client, conversation_id, "agent", handoff_id=message_id)
        return True

    def on_undelivered(
        self, client: Client, conversation_id: str, handoff: Handoff, message_id: str
    ) -> Undelivered | None:
        """The hook for the ``handoff`` event of the answer ``message_id``: a takeover whose event
        reaches no one lapses; a ``notify`` handoff's customer is told (``unnotified``)."""
        pending = Pending(client, conversation_id, message_id, handoff.language)
        delivery = self._delivery(handoff)
        if delivery == "takeover":
            return self.lapses.hook(pending)
        if delivery == "notify":

            async def unnotified(outcome: Outcome) -> None:
                await self.unnotified(pending, outcome)

            return unnotified
        return None

    async def for_customer(self, client: Client, conversation_id: str) -> Conversation:
        """The tenant's conversation (or 404) as the customer is to see it: a takeover past its reply
        deadline (``AGENTS_REPLY_TIMEOUT_S``) is given back first — whichever process made it."""
        return await self.lapsed_if_due(
            client, conversation_id, await self.conversation(client, conversation_id)
        )

    async def lapsed_if_due(self, client: Client, conversation_id: str, conv: Conversation) -> Conversation:
        """``conv``, or — its takeover overdue — the conversation after the lapse (by this call or
        another process's at the same moment)."""
        pending = overdue(client, conversation_id, conv, self.settings.reply_timeout_s)
        if pending is None:
            return conv
        await self.lapse(pending, "unanswered")
        return await self.conversation(client, conversation_id)

    def deadline(self, conv: Conversation) -> datetime | None:
        """When ``conv``'s takeover lapses unanswered (None: it does not)."""
        return deadline(conv, self.settings.reply_timeout_s)

    async def lapse(self, pending: Pending, cause: LapseCause) -> bool:
        """Give the conversation back to the assistant, with the notice, if the takeover ``pending``
        is still waiting for its agent (True when this call did: once, whichever process asks)."""
        client, conversation_id = pending.client, pending.conversation_id
        key = conversation_key(client.name, conversation_id)
        told = lapsed_message(pending.language, cause, contact=self._contact(pending.language))
        notice = self._notice(pending.language, told)
        try:
            if not await self.sessions.lapse(key, pending.message_id, notice):
                return False
        except SessionStoreError as exc:
            log.error("conversation %s: the lapsed takeover stays (%s): %s", conversation_id, cause, exc)
            return False
        self._record(StateRecord(key, client.name, "bot"))
        self._record_turn(key, client, notice, "assistant", mode="notice", status="complete")
        await self._publish(key, ConversationEvent("state", {"state": "bot", "message": shown(notice)}))
        log.warning("conversation %s given back to the assistant: takeover %s", conversation_id, cause)
        if self.metrics is not None:
            self.metrics.takeover_lapses.labels(cause).inc()
        if cause == "unanswered" and self.webhook is not None:  # the helpdesk has a ticket to close
            payload = {"conversation_id": conversation_id, "client": client.name, "cause": cause}
            self.webhook.send("handback", payload)
        return True

    async def unnotified(self, pending: Pending, outcome: Outcome) -> None:
        """The ``notify`` handoff of the reply ``pending.message_id`` reached no one (``outcome``):
        tell the customer, who was told the team knows — a notice stored after their conversation's
        turns, recorded, and sent on the events stream (``notice``)."""
        client, conversation_id = pending.client, pending.conversation_id
        key = conversation_key(client.name, conversation_id)
        log.warning(
            "notify handoff of conversation %s reached no one (%s): telling the customer",
            conversation_id,
            outcome,
        )
        text = unnotified_message(pending.language, contact=self._contact(pending.language))
        notice = self._notice(pending.language, text)
        try:
            if not await self.sessions.append_if(key, [notice]):  # expired or erased: nobody to tell
                return
        except SessionStoreError as exc:
            log.error(
                "conversation %s: the undelivered handoff's notice is not stored: %s", conversation_id, exc
            )
        self._record_turn(key, client, notice, "assistant", mode="notice", status="complete")
        await self._publish(key, ConversationEvent("notice", shown(notice)))
        if self.metrics is not None:
            self.metrics.takeover_lapses.labels(UNNOTIFIED).inc()

    def _notice(self, language: str, text: str) -> Turn:
        """The assistant's notice about a handoff, as stored."""
        return Turn(
            role="assistant",
            text=self.redaction.text(text),
            language=language,
            message_id=f"msg_{uuid.uuid4().hex[:20]}",
            notice=True,
        )

    async def customer_message(
        self, client: Client, conversation_id: str, turn: Turn, *, intent: str | None = None
    ) -> None:
        """The customer wrote while a person has the conversation: tell the agents, record, store
        (last: a store failure, raised as ``SessionStoreError``, loses neither of the others). Stored
        only into the conversation as it is: one erased since the message was read is not brought
        back with this turn alone."""
        key = conversation_key(client.name, conversation_id)
        assert turn.message_id is not None
        if self.webhook is not None:
            self.webhook.send(
                "customer_message",
                {
                    "conversation_id": conversation_id,
                    "message_id": turn.message_id,
                    "client": client.name,
                    "text": turn.text,
                    "language": turn.language,
                },
            )
        self._record_turn(key, client, turn, "customer", intent=intent)
        if not await self.sessions.append_if(key, [turn]):
            log.info("conversation %s was erased while its customer wrote: the message is not stored", key)

    # --- the agents' side ---------------------------------------------------------------------

    async def conversation(self, client: Client, conversation_id: str) -> Conversation:
        """The tenant's conversation, or 404."""
        found = await self.sessions.load(conversation_key(client.name, conversation_id))
        if found is None:
            raise ConversationNotFoundError()
        return found

    async def agent_message(
        self, client: Client, conversation_id: str, text: str, author: str | None
    ) -> Turn:
        """Stored only while a person has the conversation, checked and written in one step: a lapse
        that lands first makes this a 409; one that lands after finds an agent's reply and keeps off."""
        conv = await self.conversation(client, conversation_id)
        if conv.state != "agent":
            raise ConversationWithBotError()
        key = conversation_key(client.name, conversation_id)
        turn = Turn(
            role="agent",
            text=self.redaction.text(text),
            language=conv.language,
            message_id=f"msg_{uuid.uuid4().hex[:20]}",
            author=self.redaction.text(author) if author else None,
        )
        if not await self.sessions.append_if(key, [turn], state="agent"):  # changed or gone since
            await self.conversation(client, conversation_id)  # gone: 404
            raise ConversationWithBotError()
        self._record_turn(key, client, turn, "agent", mode="agent", author=turn.author)
        await self._publish(key, ConversationEvent("agent_message", shown(turn)))
        return turn

    async def take_over(self, client: Client, conversation_id: str) -> Conversation:
        await self.conversation(client, conversation_id)
        await self._change(client, conversation_id, "agent")
        return await self.conversation(client, conversation_id)

    async def hand_back(self, client: Client, conversation_id: str) -> Conversation:
        conv = await self.conversation(client, conversation_id)
        if conv.state == "bot":
            return conv
        await self._change(client, conversation_id, "bot")
        if self.webhook is not None:
            self.webhook.send("handback", {"conversation_id": conversation_id, "client": client.name})
        return await self.conversation(client, conversation_id)

    # --- shared -------------------------------------------------------------------------------

    async def _change(
        self, client: Client, conversation_id: str, state: ConversationState, *, handoff_id: str | None = None
    ) -> None:
        """``handoff_id``: the reply whose handoff gives it to a person (its reply deadline runs)."""
        key = conversation_key(client.name, conversation_id)
        if not await self.sessions.set_state(key, state, handoff_id=handoff_id):
            raise ConversationNotFoundError()
        self._record(StateRecord(key, client.name, state))
        await self._publish(key, ConversationEvent("state", {"state": state}))

    def _record(self, record: Record) -> None:
        if self.recorder is not None:
            self.recorder.add(record)

    def _record_turn(self, key: str, client: Client, turn: Turn, role: Role, **fields: Any) -> None:
        """The record of a stored ``turn`` (its id, text, language and time) with ``fields``."""
        assert turn.message_id is not None
        self._record(
            MessageRecord(
                key,
                client.name,
                turn.message_id,
                role,
                turn.text,
                language=turn.language,
                key_id=client.key,
                created_at=turn.at,
                **fields,
            )
        )

    async def _publish(self, key: str, event: ConversationEvent) -> None:
        try:
            await self.events.publish(key, event)
        except (RedisError, OSError) as exc:  # the turn is stored: the customer reads it on the poll
            log.warning("conversation event not published (%s): %s", event.kind, exc)
