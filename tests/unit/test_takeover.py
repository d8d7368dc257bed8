"""``service.agents.takeover``: which handoffs give a conversation to a person, and what each change
of hands and each message stores, records, publishes and sends — on the real in-process session
store and events, a real webhook sender POSTing to a real receiver, and an in-memory recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from service.agents.events import ConversationEvent, InProcessConversationEvents
from service.agents.lapse import Pending
from service.agents.settings import AgentSettings
from service.agents.takeover import ConversationWithBotError, Takeover, shown
from service.conversations.store import (
    ConversationNotFoundError,
    ConversationSettings,
    InProcessSessionStore,
    Turn,
    conversation_key,
)
from service.core.metrics import UNNOTIFIED, Metrics
from service.core.types import Client
from service.handoff.late_notices import lapsed_message
from service.handoff.signals import REASON_ORDER, Handoff, HandoffReason
from service.notify.webhooks import WebhookSender, WebhookSettings
from service.records.records import MessageRecord, Record, StateRecord
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.anyio
ACME = Client("acme", key_id="key_1")


class MemoryRecorder:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def add(self, record: Record) -> None:
        self.records.append(record)


async def arrived(check: Callable[[], bool]) -> bool:
    """Whether ``check`` holds within a few seconds (the webhook is delivered on this loop)."""
    for _ in range(500):
        if check():
            return True
        await asyncio.sleep(0.01)
    return False


def handoff(reason: HandoffReason) -> Handoff:
    return Handoff(
        reason=reason,
        reasons=[reason],
        summary="s",
        intent=None,
        confidence=None,
        language="en",
        citations=[],
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def takeover(receiver: Receiver | None, **settings: object) -> tuple[Takeover, MemoryRecorder]:
    webhook = None
    if receiver is not None:
        webhook = WebhookSender(receiver.url, WebhookSettings(allow_unsigned=True, backoff_initial_s=0.01))
    recorder = MemoryRecorder()
    built = Takeover(
        sessions=InProcessSessionStore(ConversationSettings()),
        events=InProcessConversationEvents(),
        settings=AgentSettings(**settings),  # type: ignore[arg-type]
        webhook=webhook,
        recorder=recorder,
    )
    return built, recorder


async def started(t: Takeover, conversation_id: str = "c1") -> None:
    turns = [Turn(role="user", text="a person please", message_id="msg_q"), Turn(role="assistant", text="ok")]
    await t.sessions.append(conversation_key(ACME.name, conversation_id), turns)


async def test_without_a_webhook_no_handoff_moves_the_conversation() -> None:
    t, recorder = takeover(None)
    await started(t)
    assert await t.handed_off(ACME, "c1", handoff("customer_request"), "msg_a") is False
    assert (await t.conversation(ACME, "c1")).state == "bot" and recorder.records == []


async def test_by_default_only_a_customer_who_needs_a_person_moves_it(receiver: Receiver) -> None:
    t, _ = takeover(receiver)  # AGENTS_TAKEOVER_REASONS unset
    moved = set()
    for n, reason in enumerate(REASON_ORDER):
        await started(t, f"c{n}")
        if await t.handed_off(ACME, f"c{n}", handoff(reason), "msg_a"):
            moved.add(reason)
        assert (await t.conversation(ACME, f"c{n}")).state == ("agent" if reason in moved else "bot")
    assert moved == {"customer_request", "dissatisfaction", "llm_unavailable"}


async def test_only_the_configured_reasons_move_it(receiver: Receiver) -> None:
    t, recorder = takeover(receiver, takeover_reasons=("customer_request", "dissatisfaction"))
    await started(t)
    assert await t.handed_off(ACME, "c1", handoff("no_relevant_passages"), "msg_a") is False
    assert (await t.conversation(ACME, "c1")).state == "bot"
    assert await t.handed_off(ACME, "c1", handoff("dissatisfaction"), "msg_a") is True
    assert (await t.conversation(ACME, "c1")).state == "agent"
    assert recorder.records == [
        StateRecord("acme/c1", "acme", "agent", created_at=recorder.records[0].created_at)
    ]


async def test_an_agents_message_is_stored_redacted_recorded_and_published(receiver: Receiver) -> None:
    t, recorder = takeover(receiver)
    await started(t)
    with pytest.raises(ConversationWithBotError):  # the assistant has it: 409
        await t.agent_message(ACME, "c1", "hello", "Ana")
    with pytest.raises(ConversationNotFoundError):
        await t.agent_message(Client("other"), "c1", "hello", "Ana")
    await t.take_over(ACME, "c1")
    async with t.events.listen("acme/c1") as listener:
        assert await listener.next(0.01) is None  # the takeover came before listening
        turn = await t.agent_message(ACME, "c1", "I'll mail you at jane.doe@example.com", "Ana")
        assert await listener.next(1.0) == ConversationEvent("agent_message", shown(turn))
    assert turn.text == "I'll mail you at [email]" and turn.role == "agent" and turn.author == "Ana"
    stored = await t.conversation(ACME, "c1")
    assert stored.turns[-1] == turn
    (message,) = [r for r in recorder.records if isinstance(r, MessageRecord)]
    assert (message.role, message.text, message.author, message.key_id) == (
        "agent",
        turn.text,
        "Ana",
        "key_1",
    )


async def test_a_customer_message_goes_to_the_agents_and_the_records(receiver: Receiver) -> None:
    t, recorder = takeover(receiver)
    await started(t)
    turn = Turn(role="user", text="still there? [email]", language="en", message_id="msg_2")
    await t.customer_message(ACME, "c1", turn)
    assert (await t.conversation(ACME, "c1")).turns[-1] == turn
    assert await arrived(lambda: bool(receiver.deliveries))
    (delivery,) = receiver.deliveries
    assert delivery.body["type"] == "customer_message"
    assert delivery.data == {
        "conversation_id": "c1",
        "message_id": "msg_2",
        "client": "acme",
        "text": "still there? [email]",
        "language": "en",
    }
    (record,) = recorder.records
    assert isinstance(record, MessageRecord) and record.role == "customer" and record.message_id == "msg_2"
    assert t.webhook is not None
    await t.webhook.aclose()


async def test_hand_back_is_idempotent_and_tells_the_agents_once(receiver: Receiver) -> None:
    t, recorder = takeover(receiver)
    await started(t)
    await t.take_over(ACME, "c1")
    assert (await t.hand_back(ACME, "c1")).state == "bot"
    assert (await t.hand_back(ACME, "c1")).state == "bot"
    assert [r.state for r in recorder.records if isinstance(r, StateRecord)] == ["agent", "bot"]
    assert await arrived(lambda: len(receiver.deliveries) >= 1)
    assert [d.body["type"] for d in receiver.deliveries] == ["handback"]
    assert t.webhook is not None
    await t.webhook.aclose()
    with pytest.raises(ConversationNotFoundError):
        await t.hand_back(ACME, "missing")


async def test_a_lapse_gives_back_only_the_takeover_still_waiting_for_its_agent(receiver: Receiver) -> None:
    t, recorder = takeover(receiver)
    key = conversation_key(ACME.name, "c1")
    turns = [Turn(role="user", text="a person please"), Turn(role="assistant", text="ok", message_id="msg_h")]
    await t.sessions.append(key, turns)
    pending = Pending(ACME, "c1", "msg_h", "fr")
    assert await t.handed_off(ACME, "c1", handoff("customer_request"), "msg_h") is True
    await t.agent_message(ACME, "c1", "Bonjour, ici Ana.", "Ana")
    assert await t.lapse(pending, "undelivered") is False  # an agent wrote: it is theirs
    assert (await t.conversation(ACME, "c1")).state == "agent"

    await t.hand_back(ACME, "c1")
    await t.sessions.append(key, [Turn(role="assistant", text="again", message_id="msg_h2")])
    assert await t.handed_off(ACME, "c1", handoff("customer_request"), "msg_h2") is True
    assert await t.lapse(pending, "undelivered") is False  # another handoff's episode
    async with t.events.listen(key) as listener:
        assert await t.lapse(Pending(ACME, "c1", "msg_h2", "fr"), "unanswered") is True
        event = await listener.next(5)
    conv = await t.conversation(ACME, "c1")
    assert conv.state == "bot" and conv.turns[-1].role == "assistant"
    assert conv.turns[-1].text == lapsed_message("fr", "unanswered")
    assert event is not None and event.data == {"state": "bot", "message": shown(conv.turns[-1])}
    assert isinstance(recorder.records[-1], MessageRecord) and recorder.records[-1].mode == "notice"
    assert await t.lapse(Pending(ACME, "c1", "msg_h2", "fr"), "unanswered") is False  # once


async def test_a_notify_handoff_nobody_received_is_counted_under_the_metrics_own_cause() -> None:
    metrics = Metrics()
    t = Takeover(
        sessions=InProcessSessionStore(ConversationSettings()),
        events=InProcessConversationEvents(),
        metrics=metrics,
    )

    def counted(cause: str) -> float | None:
        return metrics.registry.get_sample_value("faqstream_takeover_lapses_total", {"cause": cause})

    assert [counted(cause) for cause in ("undelivered", "unanswered", UNNOTIFIED)] == [0.0, 0.0, 0.0]
    await started(t)
    await t.unnotified(Pending(ACME, "c1", "msg_a", "en"), "rejected")
    await t.unnotified(Pending(ACME, "gone", "msg_a", "en"), "rejected")  # nobody to tell: not counted
    assert counted(UNNOTIFIED) == 1.0 and (await t.conversation(ACME, "c1")).turns[-1].notice
