"""The conversation store contract (and its reply index, ``SessionStore.replies``), on the
in-process and the Redis store (real Redis).

Every test runs on both (``memory`` / ``redis``; ``-m "not redis"`` keeps the memory side), and random
operation sequences run on both at once must give equal results at every step. Expiry, bounds, keys
and failures are backend-specific: ``test_sessions.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st

from service.conversations.redis_sessions import RedisSessionStore
from service.conversations.store import (
    STATES,
    ConversationSettings,
    ConversationState,
    InProcessSessionStore,
    SessionStore,
    Turn,
)
from service.conversations.threads import RedisReplyThreads, Thread
from tests.contracts import BACKENDS, SEQUENCES, Clock, Tick, fresh_redis, run_on_both

START = 1_700_000_000.0

Factory = Callable[..., SessionStore]


@pytest.fixture(params=BACKENDS)
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[Factory]:
    """A factory of stores of the parametrised kind; the Redis ones under this test's own prefix."""
    if request.param == "memory":
        yield lambda clock=None, **overrides: InProcessSessionStore(
            ConversationSettings(**overrides), clock=clock or Clock(START)
        )
        return
    async with fresh_redis("session-store-contract") as (client, prefix):
        yield lambda clock=None, **overrides: RedisSessionStore(
            client, ConversationSettings(**overrides), prefix=prefix, clock=clock or Clock(START)
        )


def user(text: str, **extra: Any) -> Turn:
    return Turn(role="user", text=text, language=extra.pop("language", "en"), **extra)


def bot(text: str, **extra: Any) -> Turn:
    return Turn(role="assistant", text=text, language=extra.pop("language", "en"), **extra)


@pytest.mark.anyio
async def test_append_then_load_round_trips_every_field(make_store: Factory) -> None:
    clock = Clock(START)
    store = make_store(clock)
    at = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    question = user("Can I return kettle NW-KTL-110 from order NW-2026-004817?", at=at)
    answer = bot(
        "Yes, within 30 days [1].", intent="return", citations=["en/returns.md", "faq.csv#abc"], at=at
    )
    assert await store.load("c1") is None

    await store.append("c1", [question, answer])
    clock.now += 60
    await store.append("c1", [user("¿Y el reembolso?", language="es")])

    conv = await store.load("c1")
    assert conv is not None and conv.id == "c1"
    assert conv.turns == [question, answer, user("¿Y el reembolso?", language="es", at=conv.turns[2].at)]
    assert conv.turns[1].citations == ["en/returns.md", "faq.csv#abc"] and conv.turns[1].intent == "return"
    assert conv.language == "es"  # the language of the latest turn
    assert conv.created_at == datetime.fromtimestamp(START, UTC)
    assert conv.updated_at == datetime.fromtimestamp(START + 60, UTC)
    assert (conv.summary, conv.summarized_turns, conv.first_turn, conv.total_turns) == ("", 0, 0, 3)
    assert await store.load("other") is None


@pytest.mark.anyio
async def test_loaded_conversation_is_a_snapshot(make_store: Factory) -> None:
    store = make_store()
    await store.append("c1", [user("a"), bot("b")])
    first = await store.load("c1")
    assert first is not None
    first.turns.append(user("not stored"))
    await store.append("c1", [user("c")])
    again = await store.load("c1")
    assert again is not None and [t.text for t in again.turns] == ["a", "b", "c"]


@pytest.mark.anyio
async def test_concurrent_appends_lose_no_turn_and_keep_each_batch_together(make_store: Factory) -> None:
    store = make_store()
    await asyncio.gather(*(store.append("busy", [user(f"q{n}"), bot(f"a{n}")]) for n in range(50)))
    conv = await store.load("busy")
    assert conv is not None and len(conv.turns) == 100
    texts = [t.text for t in conv.turns]
    assert sorted(texts[0::2], key=lambda s: int(s[1:])) == [f"q{n}" for n in range(50)]
    assert all(a == "a" + q[1:] for q, a in zip(texts[0::2], texts[1::2], strict=True))


@pytest.mark.anyio
async def test_set_summary_only_moves_forward_and_within_the_stored_turns(make_store: Factory) -> None:
    store = make_store()
    assert await store.set_summary("missing", "s", 2) is False
    await store.append("c1", [user("q1"), bot("a1"), user("q2"), bot("a2")])

    assert await store.set_summary("c1", "first two", 2) is True
    assert await store.set_summary("c1", "stale", 2) is False  # not newer
    assert await store.set_summary("c1", "older", 1) is False
    assert await store.set_summary("c1", "future", 5) is False  # beyond the stored turns
    conv = await store.load("c1")
    assert conv is not None and (conv.summary, conv.summarized_turns) == ("first two", 2)
    assert [t.text for t in conv.unsummarized()] == ["q2", "a2"]

    assert await store.set_summary("c1", "all four", 4) is True
    conv = await store.load("c1")
    assert conv is not None and conv.summary == "all four" and conv.unsummarized() == []
    assert len(conv.turns) == 4  # under max_stored_turns: nothing dropped


@pytest.mark.anyio
async def test_summarised_turns_beyond_max_stored_turns_are_dropped_positions_stay_absolute(
    make_store: Factory,
) -> None:
    store = make_store(max_stored_turns=4)
    await store.append("c1", [user(f"t{n}") if n % 2 == 0 else bot(f"t{n}") for n in range(10)])

    assert await store.set_summary("c1", "t0..t7", 8) is True
    conv = await store.load("c1")
    assert conv is not None
    assert (conv.first_turn, conv.summarized_turns, conv.total_turns) == (6, 8, 10)
    assert [t.text for t in conv.turns] == ["t6", "t7", "t8", "t9"]
    assert [t.text for t in conv.unsummarized()] == ["t8", "t9"]

    await store.append("c1", [user("t10"), bot("t11")])
    assert await store.set_summary("c1", "t0..t9", 10) is True
    conv = await store.load("c1")
    assert conv is not None and (conv.first_turn, conv.total_turns) == (8, 12)
    assert [t.text for t in conv.turns] == ["t8", "t9", "t10", "t11"]
    assert await store.set_summary("c1", "too far", 13) is False


@pytest.mark.anyio
async def test_unsummarised_turns_are_never_dropped(make_store: Factory) -> None:
    store = make_store(max_stored_turns=2)
    await store.append("c1", [user(f"t{n}") for n in range(6)])
    assert await store.set_summary("c1", "t0", 1) is True
    conv = await store.load("c1")
    assert conv is not None and conv.first_turn == 1 and len(conv.turns) == 5


@pytest.mark.anyio
async def test_delete(make_store: Factory) -> None:
    store = make_store()
    await store.append("c1", [user("q")])
    await store.append("c2", [user("q")])
    await store.delete("c1")
    await store.delete("never-existed")
    assert await store.load("c1") is None and await store.load("c2") is not None


@pytest.mark.anyio
async def test_empty_append_creates_nothing(make_store: Factory) -> None:
    store = make_store()
    await store.append("c1", [])
    assert await store.load("c1") is None


# --- random operation sequences, both stores step by step -----------------------------------------


@pytest.mark.anyio
async def test_state_is_the_assistants_until_set_and_kept_with_the_turns(make_store: Factory) -> None:
    clock = Clock(START)
    store = make_store(clock, max_stored_turns=2)
    assert await store.set_state("c1", "agent") is False  # no such conversation: nothing created
    assert await store.load("c1") is None

    await store.append("c1", [user("I want a person"), bot("A colleague takes over.")])
    conv = await store.load("c1")
    assert conv is not None and conv.state == "bot" and conv.state_since == 0

    clock.now += 30
    assert await store.set_state("c1", "agent") is True
    conv = await store.load("c1")
    assert conv is not None and conv.state == "agent" and conv.state_since == 2  # from the next turn on
    assert conv.updated_at == datetime.fromtimestamp(START + 30, UTC)
    assert [t.text for t in conv.turns] == ["I want a person", "A colleague takes over."]

    # appends and summaries keep it; an agent's turn keeps its id and author
    reply = Turn(role="agent", text="Hi, this is Ana.", language="en", message_id="msg_1", author="Ana")
    await store.append("c1", [user("hello?", message_id="msg_0"), reply])
    assert await store.set_summary("c1", "asked for a person", 2) is True
    conv = await store.load("c1")
    assert conv is not None and conv.state == "agent" and conv.first_turn == 2  # two dropped
    assert conv.turns[-1] == reply and conv.turns[-2].message_id == "msg_0"

    assert await store.set_state("c1", "bot") is True
    conv = await store.load("c1")
    assert conv is not None and conv.state == "bot" and conv.state_since == 4  # an absolute position
    assert await store.load("other") is None


@pytest.mark.anyio
async def test_a_state_change_keeps_when_and_the_handoff_that_made_it(make_store: Factory) -> None:
    clock = Clock(START)
    store = make_store(clock)
    await store.append("c1", [user("a person please"), bot("A colleague takes over.", message_id="msg_h")])
    conv = await store.load("c1")
    assert conv is not None and conv.state_at is None and conv.handoff_id is None  # never changed

    clock.now += 30
    assert await store.set_state("c1", "agent", handoff_id="msg_h") is True
    conv = await store.load("c1")
    assert conv is not None and conv.handoff_id == "msg_h"
    assert conv.state_at == datetime.fromtimestamp(START + 30, UTC)  # the deadline runs from here

    clock.now += 5
    assert await store.set_state("c1", "agent") is True  # an agent's own takeover: no handoff's
    conv = await store.load("c1")
    assert conv is not None and conv.handoff_id is None
    assert conv.state_at == datetime.fromtimestamp(START + 35, UTC)


@pytest.mark.anyio
async def test_a_lapse_gives_back_only_a_takeover_still_waiting_and_only_once(make_store: Factory) -> None:
    clock = Clock(START)
    store = make_store(clock)
    notice = bot("Sorry, no colleague could reply.", message_id="msg_n", language="fr", notice=True)
    await store.append("c1", [user("a person please"), bot("A colleague takes over.", message_id="msg_h")])
    assert await store.lapse("c1", "msg_h", notice) is False  # the assistant's: nothing to give back
    assert await store.lapse("gone", "msg_h", notice) is False  # no such conversation: nothing created
    assert await store.load("gone") is None

    assert await store.set_state("c1", "agent", handoff_id="msg_h") is True
    await store.append("c1", [user("hello?")])  # the customer's messages meanwhile do not matter
    assert await store.lapse("c1", "msg_other", notice) is False  # another handoff's episode
    clock.now += 60
    assert await store.lapse("c1", "msg_h", notice) is True
    conv = await store.load("c1")
    assert conv is not None and conv.state == "bot" and conv.handoff_id is None
    assert conv.state_since == 3 and conv.turns[3] == notice and conv.total_turns == 4  # first after it
    assert conv.state_at == conv.updated_at == datetime.fromtimestamp(START + 60, UTC)
    assert conv.language == "fr"
    assert await store.lapse("c1", "msg_h", notice) is False  # once

    # An agent who wrote keeps it, even after the customer wrote again.
    await store.append("c1", [bot("A colleague takes over.", message_id="msg_h2")])
    assert await store.set_state("c1", "agent", handoff_id="msg_h2") is True
    ana = Turn(role="agent", text="Ana here.", language="en", message_id="msg_a", author="Ana")
    await store.append("c1", [ana, user("thanks")])
    assert await store.lapse("c1", "msg_h2", notice) is False
    conv = await store.load("c1")
    assert conv is not None and conv.state == "agent" and conv.turns[-1].text == "thanks"

    # Of many lapses at once (as from several processes), exactly one gives it back.
    await store.append("c2", [bot("A colleague takes over.", message_id="msg_h3")])
    assert await store.set_state("c2", "agent", handoff_id="msg_h3") is True
    results = await asyncio.gather(*(store.lapse("c2", "msg_h3", notice) for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]
    conv = await store.load("c2")
    assert conv is not None and [t.notice for t in conv.turns] == [False, True]


@pytest.mark.anyio
async def test_a_conditional_append_never_creates_and_holds_to_the_state(make_store: Factory) -> None:
    clock = Clock(START)
    store = make_store(clock)
    ana = Turn(role="agent", text="Ana here.", language="fr", message_id="msg_a", author="Ana")
    assert await store.append_if("gone", [bot("notice", notice=True)]) is False  # erased: not recreated
    assert await store.append_if("gone", [ana], state="agent") is False
    assert await store.load("gone") is None

    await store.append("c1", [user("a person please"), bot("A colleague takes over.", message_id="msg_h")])
    assert await store.append_if("c1", [ana], state="agent") is False  # the assistant's
    assert await store.append_if("c1", []) is False
    clock.now += 10
    assert await store.append_if("c1", [bot("notice", notice=True)]) is True  # any state
    assert await store.set_state("c1", "agent", handoff_id="msg_h") is True
    clock.now += 10
    assert await store.append_if("c1", [ana], state="agent") is True
    conv = await store.load("c1")
    assert conv is not None and conv.turns[-1] == ana and conv.language == "fr" and conv.total_turns == 4
    assert conv.updated_at == datetime.fromtimestamp(START + 20, UTC)
    assert await store.lapse("c1", "msg_h", bot("no colleague", notice=True)) is False  # an agent wrote

    # A lapse and an agent's message at once: exactly one of them is written, whichever comes first.
    for n in range(8):
        conv_id = f"race{n}"
        await store.append(conv_id, [bot("A colleague takes over.", message_id="msg_h")])
        assert await store.set_state(conv_id, "agent", handoff_id="msg_h") is True
        notice = bot("no colleague", notice=True)
        wrote, lapsed = await asyncio.gather(
            store.append_if(conv_id, [ana], state="agent"), store.lapse(conv_id, "msg_h", notice)
        )
        conv = await store.load(conv_id)
        assert conv is not None and wrote != lapsed
        assert [t.role for t in conv.turns] == ["assistant", "agent" if wrote else "assistant"]
        assert conv.state == ("agent" if wrote else "bot")


@pytest.mark.anyio
async def test_a_state_change_refreshes_the_expiry(make_store: Factory) -> None:
    clock = Clock(START)
    store = make_store(clock, ttl_s=60)
    await store.append("c1", [user("q")])
    clock.now += 50
    assert await store.set_state("c1", "agent") is True
    clock.now += 50  # 100 s after the append, 50 after the state change
    if isinstance(store, RedisSessionStore):  # Redis expires keys by its own clock: check the TTL
        meta, turns = store.keys("c1")
        assert await store.redis.pttl(meta) > 50_000 and await store.redis.pttl(turns) > 50_000
    else:
        conv = await store.load("c1")
        assert conv is not None and conv.state == "agent"


@pytest.mark.anyio
async def test_replies_find_their_conversation_until_two_conversations_share_one(make_store: Factory) -> None:
    replies = make_store().replies
    assert await replies.find("d1") is None
    await replies.remember("d1", Thread("c1", "m1"))
    await replies.remember("d2", Thread("c1", "m2"))
    assert await replies.find("d1") == Thread("c1", "m1") and await replies.find("d2") == Thread("c1", "m2")
    await replies.remember("d1", Thread("c1", "m3"))  # the same conversation again: the newer reply
    assert await replies.find("d1") == Thread("c1", "m3")

    await replies.remember("d1", Thread("c2", "m4"))  # another conversation, the same transcript
    assert await replies.find("d1") is None
    await replies.remember("d1", Thread("c1", "m5"))  # ambiguous for good
    assert await replies.find("d1") is None
    assert await replies.find("d2") == Thread("c1", "m2")


@pytest.mark.anyio
async def test_a_reply_is_remembered_for_the_conversation_ttl(make_store: Factory) -> None:
    clock = Clock(START)
    store = make_store(clock, ttl_s=60)
    await store.replies.remember("d1", Thread("c1", "m1"))
    if isinstance(store, RedisSessionStore):  # Redis expires keys by its own clock: check the TTL
        assert isinstance(store.replies, RedisReplyThreads)
        assert 50_000 < await store.redis.pttl(store.replies.key("d1")) <= 60_000
    else:
        clock.now += 59
        assert await store.replies.find("d1") == Thread("c1", "m1")
        clock.now += 2
        assert await store.replies.find("d1") is None


AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Append:
    conv: str
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class AppendIf:
    conv: str
    turns: tuple[Turn, ...]
    state: ConversationState | None


@dataclass(frozen=True)
class Load:
    conv: str


@dataclass(frozen=True)
class Summarise:
    conv: str
    behind: int  # summarise up to this many turns before the end (negative: beyond the end)


@dataclass(frozen=True)
class Delete:
    conv: str


@dataclass(frozen=True)
class SetState:
    conv: str
    state: ConversationState
    handoff_id: str | None = None


@dataclass(frozen=True)
class Lapse:
    conv: str
    handoff_id: str


conv_ids = st.sampled_from(["a", "{b}"])
turns = st.builds(
    Turn,
    role=st.sampled_from(["user", "assistant", "agent"]),
    message_id=st.sampled_from([None, "msg_1"]),
    author=st.sampled_from([None, "Ana"]),
    text=st.sampled_from(["Where is my order NW-1?", "Refunds take 5 days [1].", "¿Y el envío?", "ok"]),
    language=st.sampled_from(["en", "es"]),
    intent=st.sampled_from([None, "refund"]),
    citations=st.sampled_from([[], ["en/refunds.md"]]),
    at=st.just(AT),
)
operations = st.one_of(
    st.builds(Append, conv_ids, st.lists(turns, min_size=0, max_size=4).map(tuple)),
    st.builds(AppendIf, conv_ids, st.lists(turns, max_size=2).map(tuple), st.sampled_from([None, *STATES])),
    st.builds(Load, conv_ids),
    st.builds(Summarise, conv_ids, st.integers(-1, 4)),
    st.builds(Delete, conv_ids),
    st.builds(SetState, conv_ids, st.sampled_from(STATES), st.sampled_from([None, "msg_1", "msg_2"])),
    st.builds(Lapse, conv_ids, st.sampled_from(["msg_1", "msg_2"])),
    st.builds(Tick, st.sampled_from([1.0, 30.5, 600.0])),  # far below the TTL: Redis expires keys itself
)


async def _step(store: SessionStore, op: object) -> object:
    match op:
        case Append(conv, batch):
            await store.append(conv, list(batch))
            return None
        case AppendIf(conv, batch, state):
            return await store.append_if(conv, list(batch), state=state)
        case Load(conv):
            return await store.load(conv)
        case Summarise(conv, behind):
            current = await store.load(conv)
            upto = (current.total_turns if current is not None else 0) - behind
            return upto, await store.set_summary(conv, f"summary up to {upto}", upto)
        case Delete(conv):
            await store.delete(conv)
            return None
        case SetState(conv, state, handoff_id):
            return await store.set_state(conv, state, handoff_id=handoff_id)
        case Lapse(conv, handoff_id):
            notice = Turn(role="assistant", text="no colleague", language="de", notice=True, at=AT)
            return await store.lapse(conv, handoff_id, notice)
    raise AssertionError(op)


@pytest.mark.redis
@SEQUENCES
@given(ops=st.lists(operations, min_size=5, max_size=40), max_stored=st.sampled_from([2, 3, 200]))
def test_random_sequences_give_the_same_results_on_both_stores(ops: list[object], max_stored: int) -> None:
    conf = ConversationSettings(max_stored_turns=max_stored)

    def memory(clock: Clock) -> SessionStore:
        return InProcessSessionStore(conf, clock=clock)

    def redis(client: aioredis.Redis, prefix: str, clock: Clock) -> SessionStore:
        return RedisSessionStore(client, conf, prefix=prefix, clock=clock)

    run_on_both(
        "session-store-contract",
        [*ops, Load("a"), Load("{b}")],  # and the end state
        start=START,
        memory=memory,
        redis=redis,
        step=_step,
    )
