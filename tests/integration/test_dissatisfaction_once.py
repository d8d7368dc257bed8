"""Through the real app: each answer assesses one customer message for dissatisfaction, however
long the conversation, and the stored turns carry their marks (``Turn.mark``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.conversations.store import conversation_key
from service.handoff.policy import HandoffPolicy
from tests.service_harness import REFUND_FAQ, Served, ask, in_process, service_settings
from tests.unit.test_dissatisfaction_marks import counting

pytestmark = pytest.mark.slow
QUESTIONS = [REFUND_FAQ, "Can I return an opened kettle?", "Do you ship to Norway?", "this is useless"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    with in_process(service_settings(template, tmp_path_factory.mktemp("once"))) as running:
        yield running


def test_each_answer_assesses_one_message(served: Served) -> None:
    policy: HandoffPolicy = served.runtime.answers.deps.handoff
    detector = policy.detector = counting()
    conversation_id: str | None = None
    for n in range(8):
        before = detector.assessed
        answer = ask(served.client, QUESTIONS[n % len(QUESTIONS)], conversation_id=conversation_id)
        conversation_id = answer.meta["conversation_id"]
        served.settle()  # the turns are stored after the answer
        assert detector.assessed - before == 1, (n, detector.assessed - before)
    assert conversation_id is not None
    stored = served.run(lambda: served.runtime.sessions.load(conversation_key("public", conversation_id)))
    customer = [t for t in stored.turns if t.role == "user"]
    assert len(customer) == 8 and all(t.mark is not None for t in customer)
    marked = sum(detector.judge(t.mark).dissatisfied for t in customer if t.mark is not None)
    assert marked == detector.count([t.text for t in customer]) > 0  # as assessing them all again
