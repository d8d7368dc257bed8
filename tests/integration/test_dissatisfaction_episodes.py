"""Through the real app: complaints hand a conversation on once. After a dissatisfaction handoff,
and after an agent hands the conversation back, the count starts afresh (a new episode): the
customer's next ordinary message is answered, and only a new pair of complaints hands off again.

Two services, extractive (no key, no Anthropic call): no destination for handoffs (the assistant
keeps the conversation), and a handoff webhook (a real receiver) with a person taking over.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.agents.notice import passed_on
from service.handoff.messages import handoff_message
from service.handoff.settings import HandoffSettings
from service.notify.webhooks import WebhookSettings
from service.settings.auth import AuthSettings
from service.tenants.store import KeyStore
from tests.service_harness import (
    REFUND_FAQ,
    Answer,
    Served,
    ask,
    auth,
    eventually,
    in_process,
    service_settings,
)
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow

CUSTOMER_KEY = "widget-key-0123456789abcdef"
FIRST_COMPLAINT = "That's not helpful at all."
SECOND_COMPLAINT = "Useless bot, this is so annoying!"
ORDINARY = "Can I change my delivery address?"  # answered from the FAQ


def reason(answer: Answer) -> str | None:
    handoff = answer.meta.get("handoff")
    return handoff["reason"] if handoff else None


@pytest.fixture(scope="module")
def nowhere(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    with in_process(service_settings(template, tmp_path_factory.mktemp("nowhere"))) as running:
        yield running


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture(scope="module")
def staffed(tmp_path_factory: pytest.TempPathFactory, template: Path, receiver: Receiver) -> Iterator[Served]:
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("staffed"),
        components={
            "auth": AuthSettings(api_keys=f"widget={CUSTOMER_KEY}"),  # type: ignore[arg-type]
            "handoff": HandoffSettings(webhook_url=receiver.url),
            "webhook": WebhookSettings(allow_unsigned=True, backoff_initial_s=0.01, backoff_max_s=0.05),
        },
    )
    with in_process(settings) as running:
        yield running


def test_without_a_destination_the_assistant_answers_after_the_handoff(nowhere: Served) -> None:
    first = ask(nowhere.client, REFUND_FAQ)
    conversation_id = first.meta["conversation_id"]
    assert first.meta["mode"] == "extractive" and reason(first) is None

    def next_one(question: str) -> Answer:
        answer = ask(nowhere.client, question, conversation_id=conversation_id)
        nowhere.settle()
        return answer

    assert reason(next_one(FIRST_COMPLAINT)) != "dissatisfaction"
    handed = next_one(SECOND_COMPLAINT)
    assert reason(handed) == "dissatisfaction" and handed.done["with_agent"] is False
    assert handed.text == handoff_message("en", "dissatisfaction", delivery="none")

    answered = next_one(ORDINARY)  # the complaints were answered with the apology: not again
    assert reason(answered) is None, answered.meta
    assert answered.meta["mode"] == "extractive" and answered.text != handed.text
    assert answered.meta["citations"]

    # one complaint of the new episode is not enough; a second one hands off again
    assert reason(next_one(FIRST_COMPLAINT)) != "dissatisfaction"
    again = next_one(SECOND_COMPLAINT)
    assert reason(again) == "dissatisfaction" and again.meta["handoff"]["dissatisfied_turns"] == 2


def test_after_a_handback_the_next_message_is_the_assistants(staffed: Served, receiver: Receiver) -> None:
    keys = KeyStore.from_settings(staffed.runtime.settings.database)
    _, agent_key = keys.create("widget", "helpdesk", ("agent",))
    keys.close()
    client = staffed.client

    def customer(question: str, conversation_id: str | None) -> Answer:
        answer = ask(client, question, key=CUSTOMER_KEY, conversation_id=conversation_id)
        staffed.settle()
        return answer

    first = customer(REFUND_FAQ, None)
    conversation_id = first.meta["conversation_id"]
    path = f"/v1/conversations/{conversation_id}"

    def handoffs() -> list[str]:
        """The dissatisfaction tickets of the conversation (a lone complaint with nothing relevant in
        the documents is a ``no_relevant_passages`` handoff of its own: a notice, not a ticket here)."""
        return [
            d.data["message_id"]
            for d in receiver.matching(
                lambda d: (
                    d.body["type"] == "handoff"
                    and d.data["conversation_id"] == conversation_id
                    and d.data["reason"] == "dissatisfaction"
                )
            )
        ]

    customer(FIRST_COMPLAINT, conversation_id)
    taken = customer(SECOND_COMPLAINT, conversation_id)
    assert reason(taken) == "dissatisfaction" and taken.done["with_agent"] is True
    assert eventually(lambda: handoffs() == [taken.meta["message_id"]], timeout=20)
    # while the person has it, the customer writes once more (passed on, not answered)
    assert customer("Still no answer, this is useless", conversation_id).text == passed_on("en")

    written = client.post(
        f"{path}/agent-messages",
        json={"text": "Hi, Laura here: you can change it until the order is dispatched.", "author": "Laura"},
        headers=auth(agent_key),
    )
    assert written.status_code == 201, written.text
    back = client.post(f"{path}/handback", headers=auth(agent_key))
    assert back.status_code == 200 and back.json()["state"] == "bot"

    answered = customer(f"Thanks Laura! {ORDINARY}", conversation_id)
    assert reason(answered) is None and answered.done["with_agent"] is False, answered.meta
    assert answered.meta["mode"] == "extractive" and answered.text != passed_on("en")
    state = client.get(f"{path}/messages", headers=auth(CUSTOMER_KEY))
    assert state.status_code == 200 and state.json()["state"] == "bot", state.text

    # a new pair of complaints hands the conversation on again: a second ticket
    assert reason(customer(FIRST_COMPLAINT, conversation_id)) != "dissatisfaction"
    again = customer(SECOND_COMPLAINT, conversation_id)
    assert reason(again) == "dissatisfaction" and again.done["with_agent"] is True
    assert eventually(lambda: handoffs() == [taken.meta["message_id"], again.meta["message_id"]], timeout=20)
