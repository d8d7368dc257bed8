"""One stored conversation per chat for OpenAI clients that never send ``conversation_id``.

OpenAI-compatible frontends resend the whole ``messages`` list every turn and hold no id of ours.
``ChatThread`` finds the conversation a request continues:

1. ``conversation_id`` sent and stored: that one (its stored turns are the history);
2. else, with earlier turns listed: the conversation whose reply ended exactly this transcript —
   its digest (``service.conversations.threads``) was remembered when the reply was sent — as long
   as that reply is still the conversation's latest exchange (no customer message after it: a
   regenerated or edited turn forks the chat, and a fork starts afresh). Its stored turns win, as
   with ``conversation_id``: the summary, the language, the dissatisfaction count and the state —
   while a person has it, the message goes to the agents, not to the assistant;
3. else the listed turns seed a new conversation (under ``conversation_id`` when one was sent).

After the answer's ``done`` (before the client can send its next message) ``remembering``
remembers the digest of the transcript the client now holds: the listed turns, the question and
the reply's ``content`` exactly as sent (``service.api.openai_wire.content``: the agents' messages,
the answer, the Sources footer when asked, the reply's invisible tag — which keeps chats whose
replies read alike apart). Not with ``conversation_id``: that client needs none.
A store failure only loses the continuation (logged): the answer is never refused for it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Literal

from service.answers.events import Delta, Done, Event, Meta
from service.api.events import event_payload
from service.api.openai_schemas import ChatCompletionRequest
from service.api.openai_wire import content, without_tag
from service.api.runtime import Runtime
from service.conversations.store import Conversation, SessionStoreError, Turn, conversation_key
from service.conversations.threads import Thread, ThreadStoreError, transcript_digest
from service.core.types import Client
from service.privacy.pii import redact

log = logging.getLogger(__name__)
Speaker = Literal["user", "assistant"]


def follows(conversation: Conversation, message_id: str) -> bool:
    """``message_id`` (a reply, or a customer message passed to the agents) is still the latest
    exchange: no customer message was stored after it (the agents' messages may be)."""
    for turn in reversed(conversation.turns):
        if turn.message_id == message_id:
            return True
        if turn.role == "user":
            return False
    return False


class ChatThread:
    """One chat completion's conversation: found, continued or seeded, then remembered."""

    def __init__(
        self,
        runtime: Runtime,
        client: Client,
        data: ChatCompletionRequest,
        question: str,
        history: list[tuple[Speaker, str]],
    ) -> None:
        self.runtime = runtime
        self.client = client
        self.data = data
        self.question = question
        self.history = history

    def _digest(self, turns: Sequence[tuple[str, str]]) -> str:
        runtime = self.runtime
        return transcript_digest(runtime.pseudonyms, self.client.name, self.data.user, turns)

    async def conversation_id(self) -> str | None:
        """The conversation the answer continues (see the module docstring); None: a new one."""
        if not self.history:
            return self.data.conversation_id
        if self.data.conversation_id is None:
            found = await self._continued()
            if found is not None:
                return found
        return await self._seeded()

    async def _continued(self) -> str | None:
        sessions = self.runtime.sessions
        try:
            thread = await sessions.replies.find(self._digest(self.history))
            if thread is None:
                return None
            conv = await sessions.load(conversation_key(self.client.name, thread.conversation_id))
        except (ThreadStoreError, SessionStoreError) as exc:
            log.warning("the listed turns start a new conversation: %s", exc.message)
            return None
        if conv is None or not follows(conv, thread.message_id):
            return None  # expired, or forked (a regenerated or edited turn)
        return thread.conversation_id

    async def _seeded(self) -> str:
        """A conversation seeded from the listed turns (under ``conversation_id`` when one was sent
        and it is stored: then its stored turns stand)."""
        data, runtime = self.data, self.runtime
        conversation_id = data.conversation_id or f"conv_{uuid.uuid4().hex[:20]}"
        key = conversation_key(self.client.name, conversation_id)
        try:
            if data.conversation_id is not None and await runtime.sessions.load(key) is not None:
                return conversation_id
            last_user = next((text for role, text in reversed(self.history) if role == "user"), "")
            language = runtime.answers.deps.languages.detect(last_user).language if last_user else "und"
            turns = [
                Turn(role=role, text=redact(without_tag(text)), language=language)
                for role, text in self.history
            ]
            await runtime.sessions.append(key, turns)
        except SessionStoreError as exc:  # as the flow: answer without history rather than fail
            log.warning("answering without the listed history: %s", exc.message)
        return conversation_id

    async def remembering(
        self, events: AsyncIterator[Event], *, sources: bool, tag: bool = False
    ) -> AsyncGenerator[Event, None]:
        """``events`` as they are; before ``done``, the transcript the client now holds is
        remembered as leading to this reply (not when the client sends ``conversation_id``)."""
        meta: Meta | None = None
        parts: list[str] = []
        try:
            async for event in events:
                if isinstance(event, Meta):
                    meta = event
                elif isinstance(event, Delta):
                    parts.append(event.text)
                elif isinstance(event, Done) and meta is not None and self.data.conversation_id is None:
                    await self._remember(meta, "".join(parts), sources=sources, tag=tag)
                yield event
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    async def _remember(self, meta: Meta, text: str, *, sources: bool, tag: bool) -> None:
        reply = content(event_payload(meta)[1], text, sources=sources, tag=tag)
        transcript = [*self.history, ("user", self.question), ("assistant", reply)]
        try:
            await self.runtime.sessions.replies.remember(
                self._digest(transcript), Thread(meta.conversation_id, meta.message_id)
            )
        except ThreadStoreError as exc:
            log.warning("conversation %s not remembered for its reply: %s", meta.conversation_id, exc.message)
