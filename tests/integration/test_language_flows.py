"""End to end in the languages a new user's trial found served in English or not at all: the real
app, the packaged embedding model and language detector, the demo corpus, no Claude key (extractive
mode, no handoff webhook). Polish, Dutch, Russian and Korean requests for a person get the notice in
their language; Polish greetings and thanks are small talk; German complaints hand off after two
turns; ordinary policy questions that say "not" never count as complaints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.conversations.store import conversation_key
from service.handoff.messages import handoff_message
from service.handoff.policy import HandoffPolicy
from service.smalltalk import REPLIES, Kind
from tests.service_harness import Served, ask, in_process, service_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    with in_process(service_settings(template, tmp_path_factory.mktemp("languages"))) as running:
        yield running


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Chcę porozmawiać z człowiekiem.", "pl"),
        ("Ik wil graag met een medewerker spreken.", "nl"),
        ("Я хочу поговорить с оператором.", "ru"),
        ("상담원과 이야기하고 싶어요.", "ko"),
    ],
)
def test_a_request_for_a_person_gets_the_notice_in_the_customers_language(
    served: Served, question: str, language: str
) -> None:
    answer = ask(served.client, question)
    assert answer.meta["language"] == language
    assert answer.meta["handoff"]["reason"] == "customer_request"
    assert answer.text == handoff_message(language, "customer_request", delivery="none")
    assert answer.text != handoff_message("en", "customer_request", delivery="none")


@pytest.mark.parametrize(("message", "kind"), [("Dzień dobry!", "greeting"), ("Dziękuję!", "thanks")])
def test_polish_greetings_and_thanks_are_small_talk_in_polish(
    served: Served, message: str, kind: Kind
) -> None:
    answer = ask(served.client, message)
    assert answer.done["stop_reason"] == "smalltalk", answer.text
    assert answer.meta["language"] == "pl" and answer.meta["citations"] == []
    assert answer.text == REPLIES["pl"][kind]


def _dissatisfied_turns(served: Served, conversation_id: str) -> list[bool]:
    """The stored verdict on each customer turn (the marks the flow assessed as they were asked)."""
    policy: HandoffPolicy = served.runtime.answers.deps.handoff
    served.settle()
    stored = served.run(lambda: served.runtime.sessions.load(conversation_key("public", conversation_id)))
    marks = [t.mark for t in stored.turns if t.role == "user"]
    assert all(mark is not None for mark in marks)
    return [policy.detector.judge(mark).dissatisfied for mark in marks if mark is not None]


def test_two_german_complaints_hand_off(served: Served) -> None:
    first = ask(served.client, "Wie lange dauert die Lieferung nach Hamburg?")
    conversation = first.meta["conversation_id"]
    second = ask(served.client, "Das hilft mir überhaupt nicht.", conversation_id=conversation)
    handoff = second.meta["handoff"]
    assert handoff is None or handoff["reason"] != "dissatisfaction"  # one complaint is not enough
    third = ask(
        served.client, "Das ist wirklich nutzlos, ich bin sehr unzufrieden.", conversation_id=conversation
    )
    assert third.meta["language"] == "de"
    assert third.meta["handoff"]["reason"] == "dissatisfaction"
    assert third.meta["handoff"]["dissatisfied_turns"] == 2
    assert third.text == handoff_message("de", "dissatisfaction", delivery="none")
    assert _dissatisfied_turns(served, conversation) == [False, True, True]


# Two ordinary questions per language, each with the language's "not" (and the German one asking
# what happens *if* the customer is not satisfied): no turn counts, no dissatisfaction handoff.
POLICY_QUESTIONS = {
    "de": (
        "Warum ist die Lieferung am Sonntag nicht möglich?",
        "Was passiert, wenn ich nicht zufrieden bin?",
    ),
    "pl": ("Dlaczego sklep nie jest otwarty w niedzielę?", "Co jeśli nie jestem zadowolona z produktu?"),
    "nl": ("Waarom is de winkel niet open op zondag?", "Wat als ik niet tevreden ben over mijn bestelling?"),
    "ru": ("Почему доставка не работает по воскресеньям?", "Можно ли вернуть товар, если я недоволен?"),
    "ko": ("왜 일요일에는 배송이 안 되나요?", "만족하지 않으면 환불받을 수 있나요?"),
}


@pytest.mark.parametrize("language", list(POLICY_QUESTIONS))
def test_policy_questions_saying_not_are_not_complaints(served: Served, language: str) -> None:
    first, second = POLICY_QUESTIONS[language]
    answer = ask(served.client, first)
    conversation = answer.meta["conversation_id"]
    again = ask(served.client, second, conversation_id=conversation)
    for each in (answer, again):
        assert each.meta["handoff"] is None or each.meta["handoff"]["reason"] != "dissatisfaction"
    assert _dissatisfied_turns(served, conversation) == [False, False]
