"""End to end: what a handoff tells the customer is what will happen.

Four services over a real socket, with the fake Anthropic server through the real SDK: no
destination for handoffs (a small company's default), without and with ``HANDOFF_CONTACT``; a
handoff webhook (a real receiver) with the default ``AGENTS_TAKEOVER_REASONS``, and with every
reason taking over.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeAnthropic
from service.agents.notice import passed_on
from service.agents.settings import AgentSettings
from service.handoff.messages import handoff_message
from service.handoff.settings import HandoffSettings
from service.handoff.signals import REASON_ORDER, Delivery
from service.notify.webhooks import WebhookSettings
from service.privacy.pii import redact
from tests.service_harness import (
    REFUND_FAQ,
    REPLY,
    Answer,
    Served,
    ask,
    eventually,
    over_http,
    service_settings,
)
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow

HUMAN = "I need to talk to a human"
OFF_TOPIC = "Who won the football world cup in 2022?"
CONTACT = "hello@harbourdesk.example or +34 600 000 000"
# The small company's promise, as it was before: nobody was there to keep it.
PROMISE = "reply here"


def _served(tmp: Path, template: Path, fake: FakeAnthropic, **components: Any) -> Iterator[Served]:
    settings = service_settings(
        template, tmp, api_key="test-key", base_url=fake.base_url, components=components
    )
    with over_http(settings) as service:
        yield service


def _webhook(receiver: Receiver) -> dict[str, Any]:
    return {
        "handoff": HandoffSettings(webhook_url=receiver.url),
        "webhook": WebhookSettings(backoff_initial_s=0.01, backoff_max_s=0.05, allow_unsigned=True),
    }


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture(scope="module")
def nowhere(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    yield from _served(tmp_path_factory.mktemp("nowhere"), template, fake)


@pytest.fixture(scope="module")
def with_contact(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    yield from _served(
        tmp_path_factory.mktemp("contact"), template, fake, handoff=HandoffSettings(contact={"*": CONTACT})
    )


@pytest.fixture(scope="module")
def notifying(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic, receiver: Receiver
) -> Iterator[Served]:
    yield from _served(tmp_path_factory.mktemp("notifying"), template, fake, **_webhook(receiver))


@pytest.fixture(scope="module")
def taking_over(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic, receiver: Receiver
) -> Iterator[Served]:
    every = AgentSettings(takeover_reasons=REASON_ORDER)
    yield from _served(tmp_path_factory.mktemp("all"), template, fake, agents=every, **_webhook(receiver))


def _handoffs(receiver: Receiver, message_id: str) -> bool:
    return bool(
        receiver.matching(lambda d: d.body["type"] == "handoff" and d.data["message_id"] == message_id)
    )


# ---------------------------------------------------------------- no destination


def test_without_a_destination_no_colleague_is_promised(nowhere: Served, fake: FakeAnthropic) -> None:
    answer = ask(nowhere.client, HUMAN)
    assert answer.meta["handoff"]["reason"] == "customer_request"
    assert answer.text == handoff_message("en", "customer_request", delivery="none")
    assert PROMISE not in answer.text and "contact our support team directly" in answer.text
    assert answer.done["with_agent"] is False
    # ... and it is true: the assistant answers the next question.
    fake.reset()
    again = ask(nowhere.client, REFUND_FAQ, conversation_id=answer.meta["conversation_id"])
    assert again.meta["mode"] == "generative" and again.text == REPLY

    off_topic = ask(nowhere.client, OFF_TOPIC)
    assert off_topic.meta["handoff"]["reason"] == "no_relevant_passages"
    assert off_topic.text == handoff_message("en", "no_relevant_passages", delivery="none")
    assert off_topic.text.startswith("I couldn't find the answer") and PROMISE not in off_topic.text


def test_without_a_destination_the_companys_contact_is_given_as_is(with_contact: Served) -> None:
    answer = ask(with_contact.client, "Quiero hablar con una persona")
    assert answer.meta["handoff"]["reason"] == "customer_request" and answer.meta["language"] == "es"
    assert answer.text == handoff_message("es", "customer_request", delivery="none", contact=CONTACT)
    assert answer.text.endswith(CONTACT)  # not redacted: it is the company's own, not the customer's
    assert redact(CONTACT) != CONTACT  # (which redaction would have hidden)
    assert "le responderá aquí" not in answer.text and answer.done["with_agent"] is False
    # Stored as the customer read it (a reloaded web chat shows the address, not "[email]").
    stored = with_contact.client.get(f"/v1/conversations/{answer.meta['conversation_id']}/messages")
    assert stored.status_code == 200 and CONTACT in stored.text, stored.text


# ---------------------------------------------------------------- a webhook


def _handed_off(served: Served, receiver: Receiver, question: str, reason: str, delivery: Delivery) -> Answer:
    """Asked in a new conversation: the handoff, its notice, whether a person has it, the webhook."""
    answer = ask(served.client, question)
    assert answer.meta["handoff"]["reason"] == reason
    assert answer.text == handoff_message("en", answer.meta["handoff"]["reason"], delivery=delivery)
    assert (PROMISE in answer.text) == answer.done["with_agent"] == (delivery == "takeover")
    assert eventually(lambda: _handoffs(receiver, answer.meta["message_id"]), timeout=20)
    return answer


def test_an_off_topic_question_goes_to_the_agents_and_the_assistant_goes_on(
    notifying: Served, fake: FakeAnthropic, receiver: Receiver
) -> None:
    off_topic = _handed_off(notifying, receiver, OFF_TOPIC, "no_relevant_passages", "notify")
    assert "passed this on to our support team" in off_topic.text
    fake.reset()
    conversation = off_topic.meta["conversation_id"]
    again = ask(notifying.client, REFUND_FAQ, conversation_id=conversation)
    assert again.meta["mode"] == "generative" and again.text == REPLY and again.done["with_agent"] is False


@pytest.mark.parametrize(
    "case",
    [
        ("notifying", HUMAN, "customer_request"),  # the default: a person when one is asked for
        ("taking_over", OFF_TOPIC, "no_relevant_passages"),  # a team that takes over every handoff
    ],
    ids=["default", "every_reason"],
)
def test_a_takeover_passes_the_next_message_on(
    request: pytest.FixtureRequest, fake: FakeAnthropic, receiver: Receiver, case: tuple[str, str, str]
) -> None:
    service, question, reason = case
    served: Served = request.getfixturevalue(service)
    answer = _handed_off(served, receiver, question, reason, "takeover")
    fake.reset()
    next_one = ask(served.client, REFUND_FAQ, conversation_id=answer.meta["conversation_id"])
    assert next_one.text == passed_on("en") and fake.message_requests() == []
