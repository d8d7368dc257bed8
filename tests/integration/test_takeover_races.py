"""``service.agents.takeover`` when two things happen to one conversation at once: an agent's reply
and a lapse of its takeover, a notice or a customer's message and the conversation's erasure — on
the in-process store and on real Redis (``-m "not redis"`` keeps the memory side), with the
in-process events.

On Redis each pair is started together, so the second's command reaches the server while the first
waits for its own answer: every step the first takes after a read of its own lands after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from service.agents.events import InProcessConversationEvents
from service.agents.lapse import Pending
from service.agents.takeover import ConversationWithBotError, Takeover
from service.conversations.redis_sessions import RedisSessionStore
from service.conversations.store import (
    ConversationNotFoundError,
    ConversationSettings,
    InProcessSessionStore,
    SessionStore,
    Turn,
    conversation_key,
)
from service.core.types import Client
from service.handoff.late_notices import lapsed_message
from tests.contracts import BACKENDS, fresh_redis

pytestmark = pytest.mark.anyio
ACME = Client("acme", key_id="key_1")
ROUNDS = 10


@pytest.fixture(params=BACKENDS)
async def takeover(request: pytest.FixtureRequest) -> AsyncIterator[Takeover]:
    events = InProcessConversationEvents()
    if request.param == "memory":
        yield Takeover(sessions=InProcessSessionStore(ConversationSettings()), events=events)
        return
    async with fresh_redis("takeover-races") as (client, prefix):
        sessions: SessionStore = RedisSessionStore(client, ConversationSettings(), prefix=prefix)
        for _ in range(2):  # the scripts loaded and two connections open: no first-time round trips
            await asyncio.gather(
                sessions.load("warm"), sessions.lapse("warm", "msg_h", Turn(role="assistant", text="x"))
            )
        yield Takeover(sessions=sessions, events=events)


async def handed_over(t: Takeover, conversation_id: str) -> Pending:
    """A conversation a takeover handoff (the reply ``msg_h``) gave to a person; its pending lapse."""
    key = conversation_key(ACME.name, conversation_id)
    question = Turn(role="user", text="a person please", language="en", message_id="msg_q")
    await t.sessions.append(
        key, [question, Turn(role="assistant", text="A colleague takes over.", message_id="msg_h")]
    )
    assert await t.sessions.set_state(key, "agent", handoff_id="msg_h")
    return Pending(ACME, conversation_id, "msg_h", "en")


async def test_an_agents_reply_and_a_lapse_at_once_either_the_reply_keeps_it_or_it_is_a_409(
    takeover: Takeover,
) -> None:
    notice = lapsed_message("en", "unanswered", contact=None)
    for n in range(ROUNDS):
        conversation_id = f"race{n}"
        pending = await handed_over(takeover, conversation_id)
        posted, lapsed = await asyncio.gather(
            takeover.agent_message(ACME, conversation_id, "Ana here, I'm on it.", "Ana"),
            takeover.lapse(pending, "unanswered"),
            return_exceptions=True,
        )
        conv = await takeover.conversation(ACME, conversation_id)
        roles = [t.role for t in conv.turns]
        if lapsed is True:  # the lapse came first: the agent is told the assistant has it again
            assert isinstance(posted, ConversationWithBotError), (n, posted, roles)
            assert conv.state == "bot" and "agent" not in roles and conv.turns[-1].text == notice
        else:  # the reply came first: the lapse finds it and keeps off — the agent is never overruled
            assert lapsed is False and isinstance(posted, Turn), (n, posted, lapsed)
            assert conv.state == "agent" and conv.turns[-1] == posted and not conv.turns[-1].notice
        refused = pytest.raises(ConversationWithBotError) if lapsed else contextlib.nullcontext()
        with refused:  # the agent's next message: refused after the lapse, stored after the reply
            await takeover.agent_message(ACME, conversation_id, "Still there?", "Ana")


async def test_an_agents_reply_to_an_erased_conversation_is_a_404(takeover: Takeover) -> None:
    await handed_over(takeover, "erased")
    posted, _ = await asyncio.gather(
        takeover.agent_message(ACME, "erased", "Ana here.", "Ana"),
        takeover.sessions.delete(conversation_key(ACME.name, "erased")),
        return_exceptions=True,
    )
    if not isinstance(posted, Turn):  # erased between the read and the write: not recreated
        assert isinstance(posted, ConversationNotFoundError), posted
    else:  # written first, erased after
        assert await takeover.sessions.load(conversation_key(ACME.name, "erased")) is None
    assert await takeover.sessions.load(conversation_key(ACME.name, "erased")) is None


async def test_the_notice_of_an_undelivered_handoff_never_brings_an_erased_conversation_back(
    takeover: Takeover,
) -> None:
    for n in range(ROUNDS):
        key = conversation_key(ACME.name, f"erased{n}")
        await takeover.sessions.append(
            key, [Turn(role="assistant", text="We passed it on.", message_id="msg_h")]
        )
        pending = Pending(ACME, f"erased{n}", "msg_h", "en")
        await asyncio.gather(takeover.unnotified(pending, "failed"), takeover.sessions.delete(key))
        assert await takeover.sessions.load(key) is None, n


async def test_a_customer_message_never_brings_an_erased_conversation_back(takeover: Takeover) -> None:
    for n in range(ROUNDS):
        conversation_id = f"erased-c{n}"
        key = conversation_key(ACME.name, conversation_id)
        await handed_over(takeover, conversation_id)
        turn = Turn(role="user", text="Are you still there?", language="en", message_id=f"msg_c{n}")
        # Erased after the message's turn read the conversation (with its agent), before the write.
        await asyncio.gather(
            takeover.sessions.delete(key), takeover.customer_message(ACME, conversation_id, turn)
        )
        assert await takeover.sessions.load(key) is None, n
    # A conversation that is there takes the message, in whatever state it is.
    await handed_over(takeover, "kept")
    turn = Turn(role="user", text="Hello?", language="en", message_id="msg_kept")
    await takeover.customer_message(ACME, "kept", turn)
    assert (await takeover.conversation(ACME, "kept")).turns[-1] == turn
