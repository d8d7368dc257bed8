"""Each customer turn is assessed for dissatisfaction once, with the decisions of assessing every
kept turn again on every answer (the behaviour before marks: ``DissatisfactionDetector.count``).

The property test plays random conversations — dissatisfied, shouting, emphatic, repeated and
ordinary messages, assistant replies, older turns dropped from storage after a summary, turns
stored before marks existed — through the policy as the answer flow does (``mark`` the new
message, ``decide``, store the turn with its mark) and compares every decision with the old full
re-assessment. A counting subclass of the real detector shows one assessment per answer.

The count covers one episode: a dissatisfaction handoff (its turn stored ``handed_off``, as the
answer flow stores it) and a handback (``Conversation.state_since``, set by the real store) start
a new one, so the same complaints never hand off twice and a new pair does.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from service.conversations.store import Conversation, ConversationSettings, InProcessSessionStore, Turn
from service.handoff.dissatisfaction import DEFAULT_LEXICON, DissatisfactionDetector
from service.handoff.policy import HandoffPolicy, decide
from service.handoff.settings import HandoffSettings
from service.handoff.signals import HandoffSignals

DETECTOR = DissatisfactionDetector.load()
MESSAGES = [
    "How long does a refund take to reach my card?",
    "how long does a refund take to reach my card??",  # a repeat of the first
    "How long does a refund take to reach my card",
    "Can I change my delivery address?",
    "That doesn't help, it was a gift",
    "this is useless",
    "WHERE IS MY REFUND FOR THE KETTLE",
    "where is my refund???",
    "Eso no me sirve de nada",
    "das hilft nicht",
    "没用",
    "ok",
    "thanks",
    "Do you ship to Norway?",
]
NOW = datetime(2026, 3, 1, tzinfo=UTC)


class CountingDetector(DissatisfactionDetector):
    """The real detector, counting the messages it assesses (each assessment scans the lexicon once)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__(spec)
        self.assessed = 0

    def phrase_languages(self, text: str) -> list[str]:
        self.assessed += 1
        return super().phrase_languages(text)


def counting() -> CountingDetector:
    return CountingDetector(yaml.safe_load(DEFAULT_LEXICON.read_text(encoding="utf-8")))


def conversation() -> Conversation:
    return Conversation(id="c1", created_at=NOW, updated_at=NOW)


def episode_count(turns: list[Turn]) -> int:
    """The old full re-assessment (``count``'s verdicts, every customer turn assessed again against
    all earlier ones), of the customer turns after the last dissatisfaction handoff."""
    texts = [t.text for t in turns if t.role == "user"]
    handed = [i for i, t in enumerate(t for t in turns if t.role == "user") if t.mark and t.mark.handed_off]
    start = handed[-1] + 1 if handed else 0
    return sum(DETECTOR.assess(texts[i], texts[:i]).dissatisfied for i in range(start, len(texts)))


def answer(
    policy: HandoffPolicy, conv: Conversation, text: str, *, marked: bool = True, asked: bool = False
) -> tuple[Any, Any]:
    """One customer message through the policy as the answer flow does, then stored (marked
    ``handed_off`` when its answer handed the dissatisfaction on); returns the decision and the
    decision of the old full re-assessment of the same kept turns of the episode."""
    mark = policy.mark(text, conv) if marked else None
    turns = [*conv.turns, Turn(role="user", text=text, mark=mark)]
    signals = HandoffSignals(
        language="en",
        relevant_hits=1,
        customer_asked=asked,
        turns=turns,
        first_turn=conv.first_turn,
        counted_from=conv.state_since,
    )
    now = policy.decide(signals)
    old = episode_count(turns)
    before = decide(
        HandoffSignals(
            language="en", relevant_hits=1, customer_asked=asked, turns=turns, dissatisfied_turns=old
        ),
        policy.settings,
        DETECTOR,
    )
    if mark is not None and now is not None and "dissatisfaction" in now.reasons:
        turns[-1] = turns[-1].model_copy(update={"mark": mark.model_copy(update={"handed_off": True})})
    conv.turns = [*turns, Turn(role="assistant", text="Refunds take 5-10 business days [1].")]
    return now, before


events = st.lists(
    st.one_of(
        st.tuples(st.just("user"), st.sampled_from(MESSAGES), st.booleans()),
        st.tuples(st.just("drop"), st.integers(1, 6), st.just(True)),
    ),
    max_size=18,
)


@settings(max_examples=150, deadline=None)
@given(events=events, threshold=st.integers(1, 4))
def test_marked_turns_decide_as_assessing_every_turn_again(
    events: list[tuple[str, Any, bool]], threshold: int
) -> None:
    policy = HandoffPolicy(HandoffSettings(dissatisfaction_count=threshold), DETECTOR)
    conv = conversation()
    for kind, value, marked in events:
        if kind == "drop":  # older, summarised turns dropped from storage (set_summary)
            dropped = min(value, len(conv.turns))
            conv.turns, conv.first_turn = conv.turns[dropped:], conv.first_turn + dropped
            continue
        now, before = answer(policy, conv, value, marked=marked)
        assert now == before, (value, now, before)


def test_a_repeat_of_a_dropped_turn_stops_counting_as_before() -> None:
    policy = HandoffPolicy(HandoffSettings(dissatisfaction_count=1), DETECTOR)
    conv = conversation()
    answer(policy, conv, MESSAGES[0])
    now, before = answer(policy, conv, MESSAGES[1])
    assert now is not None and now.reason == "dissatisfaction" and now == before
    conv.turns, conv.first_turn = conv.turns[2:], 2  # the first question is no longer kept
    signals = HandoffSignals(language="en", relevant_hits=1, turns=conv.turns, first_turn=2)
    assert policy.decide(signals) is None  # its repeat no longer counts, as a re-assessment would find


def test_each_answer_assesses_one_message_however_long_the_conversation() -> None:
    detector = counting()
    policy = HandoffPolicy(HandoffSettings(dissatisfaction_count=50), detector)
    conv = conversation()
    for n in range(12):
        before = detector.assessed
        answer(policy, conv, MESSAGES[n % len(MESSAGES)])
        assert detector.assessed - before == 1, n
    assert all(t.mark is not None for t in conv.turns if t.role == "user")
    # turns stored without a mark (before marks existed) are assessed when read, as before
    legacy = [Turn(role="user", text=t.text) if t.role == "user" else t for t in conv.turns]
    before = detector.assessed
    policy.decide(HandoffSignals(language="en", relevant_hits=1, turns=legacy))
    assert detector.assessed - before == 12


def test_a_mark_survives_the_stores_json() -> None:
    conv = conversation()
    conv.turns = [Turn(role="user", text="Where is my parcel?")]
    mark = HandoffPolicy(HandoffSettings(), DETECTOR).mark("WHERE IS MY PARCEL???", conv)
    assert mark.signals == ("shouting", "emphasis") and mark.repeats == 0
    stored = Turn(role="user", text="WHERE IS MY PARCEL???", mark=mark)
    assert Turn.model_validate_json(stored.model_dump_json()) == stored
    assert Turn.model_validate_json(Turn(role="user", text="hi").model_dump_json()).mark is None


def test_a_dissatisfaction_handoff_starts_a_new_episode() -> None:
    policy = HandoffPolicy(HandoffSettings(), DETECTOR)  # the default: two dissatisfied turns
    conv = conversation()
    assert answer(policy, conv, "How much is the EU pet passport?")[0] is None
    assert answer(policy, conv, "That's not helpful at all.")[0] is None
    handoff = answer(policy, conv, "Useless bot, this is so annoying!")[0]
    assert handoff is not None and handoff.reason == "dissatisfaction" and handoff.dissatisfied_turns == 2
    # the complaints were handed on: an ordinary question is answered, and so is one complaint
    assert answer(policy, conv, "Where can I park my car?")[0] is None
    assert answer(policy, conv, "this is useless")[0] is None
    again = answer(policy, conv, "That doesn't help, it was a gift")[0]  # a new pair: handed on again
    assert again is not None and again.reason == "dissatisfaction" and again.dissatisfied_turns == 2
    assert answer(policy, conv, "Do you ship to Norway?")[0] is None


def test_complaints_handed_on_with_a_person_request_are_not_counted_again() -> None:
    policy = HandoffPolicy(HandoffSettings(), DETECTOR)
    conv = conversation()
    answer(policy, conv, "this is useless")
    both = answer(policy, conv, "That doesn't help, let me talk to someone", asked=True)[0]
    assert both is not None and both.reasons == ["customer_request", "dissatisfaction"]
    assert answer(policy, conv, "Where can I park my car?")[0] is None


def test_a_handback_starts_a_new_episode() -> None:
    """The real store's ``state_since``: complaints before the handback (and those written while a
    person had the conversation) no longer count; a new pair after it does."""
    policy = HandoffPolicy(HandoffSettings(), DETECTOR)
    store, key = InProcessSessionStore(ConversationSettings()), "public/c1"

    async def ask(text: str) -> Any:
        conv = await store.load(key) or conversation()
        mark = policy.mark(text, conv)
        turns = [*conv.turns, Turn(role="user", text=text, mark=mark)]
        signals = HandoffSignals(
            language="en",
            relevant_hits=1,
            turns=turns,
            first_turn=conv.first_turn,
            counted_from=conv.state_since,
        )
        decision = policy.decide(signals)
        await store.append(key, [turns[-1], Turn(role="assistant", text="Refunds take 5-10 days [1].")])
        return decision

    async def play() -> None:
        assert await ask("this is useless") is None
        assert await store.set_state(key, "agent")  # an agent takes it over without a handoff
        await store.append(key, [Turn(role="user", text="That doesn't help, it was a gift")])
        await store.append(key, [Turn(role="agent", text="Hi, Laura here: a new kettle is on its way.")])
        assert await store.set_state(key, "bot")  # ... and hands it back
        assert await ask("Danke Laura! Und wo kann ich parken?") is None
        assert await ask("das hilft nicht") is None  # one complaint of the new episode
        again = await ask("this is useless")
        assert again is not None and again.reason == "dissatisfaction" and again.dissatisfied_turns == 2

    asyncio.run(play())


def test_conversations_stored_before_episodes_count_as_before() -> None:
    """No ``handed_off`` in a stored mark, no ``state_since`` in a stored conversation: every kept
    turn counts, as it did."""
    legacy = Turn.model_validate_json(
        '{"role": "user", "text": "this is useless", "mark": {"signals": ["phrase:en"]}}'
    )
    assert legacy.mark is not None and legacy.mark.handed_off is False
    conv = Conversation.model_validate({"id": "c1", "turns": [legacy], "created_at": NOW, "updated_at": NOW})
    assert conv.state_since == 0
    policy = HandoffPolicy(HandoffSettings(), DETECTOR)
    decision = answer(policy, conv, "That doesn't help, it was a gift")[0]
    assert decision is not None and decision.reason == "dissatisfaction"
