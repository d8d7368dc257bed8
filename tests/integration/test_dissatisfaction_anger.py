"""Over a real socket (the app under uvicorn, the packaged models, the demo corpus, extractive mode,
no handoff webhook): the three conversations of a new user's report — angry car-rental customers in
Polish and English — hand off for dissatisfaction on their second turn, as docs/handoff-and-languages.md
promises (``HANDOFF_DISSATISFACTION_COUNT`` = 2), with the notice in the customer's language. Two
ordinary questions about fraud and theft do not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.dissatisfaction import CONVERSATIONS
from service.handoff.messages import handoff_message
from tests.service_harness import Answer, Served, ask, over_http, service_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    with over_http(service_settings(template, tmp_path_factory.mktemp("anger"))) as running:
        yield running


def _conversation(served: Served, *turns: str) -> list[Answer]:
    answers = [ask(served.client, turns[0])]
    for text in turns[1:]:
        answers.append(ask(served.client, text, conversation_id=answers[0].meta["conversation_id"]))
        served.settle()
    return answers


def _reason(answer: Answer) -> str | None:
    handoff = answer.meta.get("handoff")
    return handoff["reason"] if handoff else None


@pytest.mark.parametrize(("turns", "language"), list(zip(CONVERSATIONS, ("pl", "pl", "en"), strict=True)))
def test_an_angry_customer_is_handed_off_on_the_second_turn(
    served: Served, turns: tuple[str, str], language: str
) -> None:
    first, second = _conversation(served, *turns)
    assert _reason(first) != "dissatisfaction"  # one angry message is not enough
    handoff = second.meta["handoff"]
    assert handoff is not None and handoff["reason"] == "dissatisfaction", second.meta
    assert handoff["dissatisfied_turns"] == 2
    assert second.meta["language"] == language
    assert second.text == handoff_message(language, "dissatisfaction", delivery="none")


@pytest.mark.parametrize(
    "turns",
    [
        ("Is it a scam to charge a deposit?", "What if the car is stolen?", "I was charged twice"),
        ("Czy pobieranie kaucji to oszustwo?", "Co jeśli samochód zostanie skradziony?"),
    ],
)
def test_questions_about_fraud_and_theft_are_not_complaints(served: Served, turns: tuple[str, ...]) -> None:
    for answer in _conversation(served, *turns):
        handoff = answer.meta["handoff"]
        assert handoff is None or (
            handoff["reason"] != "dissatisfaction" and handoff["dissatisfied_turns"] == 0
        )


def test_an_angry_emoji_after_a_complaint_hands_off_and_a_happy_one_is_small_talk(served: Served) -> None:
    """A new user's trial: "진짜 짜증나네요 답이 하나도 도움이 안돼요" then "😡" stayed with the assistant
    (the emoji counted for nothing, and a message of no words got "what would you like to know?")."""
    first, second = _conversation(served, "진짜 짜증나네요 답이 하나도 도움이 안돼요", "😡")
    assert _reason(first) != "dissatisfaction"
    handoff = second.meta["handoff"]
    assert handoff is not None and handoff["reason"] == "dissatisfaction", second.meta
    assert handoff["dissatisfied_turns"] == 2 and second.meta["citations"] == []
    assert second.meta["language"] == "ko"  # the conversation's: an emoji is no language
    assert second.text == handoff_message("ko", "dissatisfaction", delivery="none")

    _, smiling = _conversation(served, "How long does a card refund take?", "🙂🙂")
    assert smiling.meta["mode"] == "smalltalk" and smiling.meta["handoff"] is None
    _, alone = _conversation(served, "Where is my parcel?", "😡")
    assert alone.meta["mode"] == "smalltalk" and alone.meta["handoff"] is None  # one sign is not enough
