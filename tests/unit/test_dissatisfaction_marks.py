"""Each customer turn is assessed for dissatisfaction once, with the decisions of assessing every
kept turn again on every answer (the behaviour before marks: ``DissatisfactionDetector.count``).

The property test plays random conversations — dissatisfied, shouting, emphatic, repeated and
ordinary messages, assistant replies, older turns dropped from storage after a summary, turns
stored before marks existed — through the policy as the answer flow does (``mark`` the new
message, ``decide``, store the turn with its mark) and compares every decision with the old full
re-assessment. A counting subclass of the real detector shows one assessment per answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from service.conversations.store import Conversation, Turn
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


def answer(policy: HandoffPolicy, conv: Conversation, text: str, *, marked: bool = True) -> tuple[Any, Any]:
    """One customer message through the policy as the answer flow does, then stored; returns the
    decision and the decision of the old full re-assessment of the same kept turns."""
    mark = policy.mark(text, conv) if marked else None
    turns = [*conv.turns, Turn(role="user", text=text, mark=mark)]
    signals = HandoffSignals(language="en", relevant_hits=1, turns=turns, first_turn=conv.first_turn)
    now = policy.decide(signals)
    old_count = DETECTOR.count([t.text for t in turns if t.role == "user"])
    before = decide(
        HandoffSignals(language="en", relevant_hits=1, turns=turns, dissatisfied_turns=old_count),
        policy.settings,
        DETECTOR,
    )
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
