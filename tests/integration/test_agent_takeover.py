"""End to end (issue 14, agent takeover): after a handoff a person has the conversation.

The real service over a real socket with its conversations and live events in Redis, the fake
Anthropic server through the real SDK, a real webhook receiver, answers read with a real SSE client
(the customer's events stream in a thread of its own), database API keys with the ``agent`` scope
as a helpdesk holds them, and an in-memory recorder in place of the records writer (a real class
implementing ``service.records.Recorder``).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from httpx_sse import connect_sse

from fakes import FakeAnthropic
from service.agents.notice import passed_on
from service.api.agents import takeover_of
from service.api.settings import AppSettings
from service.handoff.messages import handoff_message
from service.handoff.settings import HandoffSettings
from service.notify.webhooks import WebhookSettings
from service.records.records import MessageRecord, Record, StateRecord
from service.settings.auth import AuthSettings
from service.settings.database import DatabaseSettings
from service.settings.redis import RedisSettings
from service.tenants.store import KeyStore
from tests.conftest import REDIS_URL, redis_namespace
from tests.service_harness import (
    FAST_RETRIES,
    REFUND_FAQ,
    REPLY,
    Served,
    ask,
    auth,
    eventually,
    in_process,
    over_http,
    service_settings,
)
from tests.webhook_receiver import Delivery, Receiver

pytestmark = [pytest.mark.slow, pytest.mark.redis]

KEY_A = "key-a-0123456789abcdef"  # tenant a's customer-facing key (answer scope)
KEY_B = "key-b-0123456789abcdef"
HUMAN = "I want to talk to a person"


class MemoryRecorder:
    """The records the service handed over, in order (``Recorder``)."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()

    def add(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)

    def of(self, conversation_id: str) -> list[Record]:
        with self._lock:
            return [r for r in self.records if r.conversation_key.endswith("/" + conversation_id)]


@dataclass
class Helpdesk:
    agent_a: str  # tenant a's helpdesk key (agent scope)
    agent_b: str
    recorder: MemoryRecorder


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[dict[str, Any]]:
    """What the replicas share: Redis (under a prefix of this module's own) and the key database."""
    with redis_namespace("agents") as prefix:
        yield {
            "resilience": FAST_RETRIES,
            "auth": AuthSettings(api_keys=f"a={KEY_A},b={KEY_B}"),  # type: ignore[arg-type]
            "redis": RedisSettings(url=REDIS_URL, key_prefix=prefix),  # type: ignore[arg-type]
            "database": DatabaseSettings(sqlite_path=tmp_path_factory.mktemp("db") / "faqstream.db"),
            "handoff": HandoffSettings(webhook_url=receiver.url),
            "webhook": WebhookSettings(
                backoff_initial_s=0.01, backoff_max_s=0.05, timeout_s=30, allow_unsigned=True
            ),
        }


def replica(tmp: Path, template: Path, fake: FakeAnthropic, shared: dict[str, Any]) -> AppSettings:
    return service_settings(template, tmp, api_key="test-key", base_url=fake.base_url, components=shared)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic, shared: dict[str, Any]
) -> Iterator[Served]:
    with over_http(replica(tmp_path_factory.mktemp("agents"), template, fake, shared)) as service:
        yield service


@pytest.fixture(scope="module")
def helpdesk(served: Served) -> Iterator[Helpdesk]:
    keys = KeyStore.from_settings(served.runtime.settings.database)
    _, agent_a = keys.create("a", "helpdesk a", ("agent",))
    _, agent_b = keys.create("b", "helpdesk b", ("agent",))
    keys.close()
    recorder = MemoryRecorder()
    takeover_of(served.runtime).recorder = recorder  # the records writer's place (service.records)
    yield Helpdesk(agent_a, agent_b, recorder)


@dataclass
class Listening:
    """The customer's events stream, read by a real SSE client in a thread of its own."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, data: dict[str, Any]) -> None:
        with self._lock:
            self.events.append((name, data))

    def seen(self, name: str, match: Callable[[dict[str, Any]], bool] = lambda _: True) -> bool:
        with self._lock:
            return any(n == name and match(d) for n, d in self.events)


@pytest.fixture
def listen(served: Served) -> Iterator[Callable[[str, str], Listening]]:
    """Open the customer's events stream for a conversation; closed at the end of the test."""
    clients: list[httpx.Client] = []
    threads: list[threading.Thread] = []

    def start(conversation_id: str, key: str) -> Listening:
        listening = Listening()
        client = httpx.Client(base_url=served.base, timeout=httpx.Timeout(30, read=None))
        clients.append(client)

        def read() -> None:
            path = f"/v1/conversations/{conversation_id}/events"
            try:
                with connect_sse(client, "GET", path, headers=auth(key)) as source:
                    listening.status = source.response.status_code
                    for event in source.iter_sse():
                        if event.data:  # not a keep-alive comment
                            listening.add(event.event, json.loads(event.data))
            except (httpx.HTTPError, RuntimeError):
                pass  # closed by the test's end

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        threads.append(thread)
        return listening

    yield start
    for client in clients:
        client.close()
    for thread in threads:
        thread.join(timeout=5)


def delivered(receiver: Receiver, kind: str, **data: Any) -> list[Delivery]:
    def match(d: Delivery) -> bool:
        return d.body["type"] == kind and all(d.data.get(k) == v for k, v in data.items())

    assert eventually(lambda: bool(receiver.matching(match)), timeout=20), (kind, data)
    return receiver.matching(match)


def handed_over(served: Served, fake: FakeAnthropic) -> str:
    """A new conversation the customer asked a person for; its id."""
    answer = ask(served.client, HUMAN, key=KEY_A)
    assert answer.meta["handoff"]["reason"] == "customer_request"
    assert answer.text == handoff_message("en", "customer_request", delivery="takeover")
    assert answer.done["with_agent"] is True  # a person has it from now on
    conversation_id: str = answer.meta["conversation_id"]
    return conversation_id


# ---------------------------------------------------------------- the whole round


def test_after_a_handoff_a_person_answers_and_hands_back(
    served: Served,
    fake: FakeAnthropic,
    receiver: Receiver,
    helpdesk: Helpdesk,
    listen: Callable[[str, str], Listening],
) -> None:
    conversation_id = handed_over(served, fake)
    client, agent = served.client, auth(helpdesk.agent_a)

    # The customer writes again: the assistant does not answer (no model call), the agents get it.
    fake.reset()
    retrieved = served.runtime.retriever.questions
    question = "My order NW-2026-004817 has not arrived, write to jane.doe@example.com"
    answer = ask(client, question, key=KEY_A, conversation_id=conversation_id)
    assert served.runtime.retriever.questions == retrieved  # nor any retrieval
    assert answer.meta["mode"] == "agent" and answer.meta["citations"] == []
    assert answer.text == passed_on("en")
    assert answer.done["stop_reason"] == "with_agent" and answer.done["with_agent"] is True
    assert fake.message_requests() == []
    message_id = answer.meta["message_id"]
    (event,) = delivered(receiver, "customer_message", message_id=message_id)
    assert event.data["conversation_id"] == conversation_id and event.data["language"] == "en"
    assert event.data["client"] == "a"
    assert "[email]" in event.data["text"] and "jane.doe@example.com" not in json.dumps(event.body)

    # The customer listens; an agent replies through the API; the reply reaches the stream.
    listening = listen(conversation_id, KEY_A)
    assert eventually(lambda: listening.seen("state", lambda d: d["state"] == "agent"))
    path = f"/v1/conversations/{conversation_id}"
    posted = client.post(
        f"{path}/agent-messages", json={"text": "Hi, Ana here. I'm on it.", "author": "Ana"}, headers=agent
    )
    assert posted.status_code == 201, posted.text
    reply = posted.json()["message"]
    assert (
        reply["role"] == "agent" and reply["author"] == "Ana" and reply["text"] == "Hi, Ana here. I'm on it."
    )
    assert eventually(lambda: listening.seen("agent_message", lambda d: d == reply))

    # ... and the next poll.
    polled = client.get(f"{path}/messages", params={"after": message_id}, headers=auth(KEY_A))
    assert polled.status_code == 200, polled.text
    assert polled.json() == {"conversation_id": conversation_id, "state": "agent", "messages": [reply]}
    everything = client.get(f"{path}/messages", headers=auth(KEY_A)).json()["messages"]
    assert [m["role"] for m in everything] == ["customer", "assistant", "customer", "agent"]
    assert "[email]" in everything[2]["text"]  # stored redacted

    # A customer who opens the stream later gets the reply from the store.
    late = listen(conversation_id, KEY_A)
    assert eventually(lambda: late.seen("agent_message", lambda d: d == reply))

    # Handed back: the stream says so, the agents' webhook too, and the assistant answers again,
    # with the agent's reply in its history.
    back = client.post(f"{path}/handback", headers=agent)
    assert back.status_code == 200 and back.json() == {"conversation_id": conversation_id, "state": "bot"}
    assert eventually(lambda: listening.seen("state", lambda d: d["state"] == "bot"))
    delivered(receiver, "handback", conversation_id=conversation_id)
    fake.reset()
    again = ask(client, REFUND_FAQ, key=KEY_A, conversation_id=conversation_id)
    assert again.meta["mode"] == "generative" and again.text == REPLY and again.done["with_agent"] is False
    (request,) = fake.message_requests()
    assistant_turns = [
        block["text"] for m in request.body["messages"] if m["role"] == "assistant" for block in m["content"]
    ]
    assert "Hi, Ana here. I'm on it." in assistant_turns

    # Recorded: the move to a person, the customer's message, the agent's, the move back.
    records = helpdesk.recorder.of(conversation_id)
    states = [r.state for r in records if isinstance(r, StateRecord)]
    messages = [(r.role, r.message_id) for r in records if isinstance(r, MessageRecord)]
    assert states == ["agent", "bot"]
    assert messages == [("customer", message_id), ("agent", reply["message_id"])]
    agent_record = next(r for r in records if isinstance(r, MessageRecord) and r.role == "agent")
    assert agent_record.author == "Ana" and agent_record.tenant == "a" and agent_record.mode == "agent"


def test_the_openai_compatible_endpoint_says_a_person_has_it(
    served: Served, fake: FakeAnthropic, helpdesk: Helpdesk
) -> None:
    conversation_id = handed_over(served, fake)
    fake.reset()
    with openai.OpenAI(base_url=f"{served.base}/v1", api_key=KEY_A, max_retries=0, timeout=30) as sdk:
        completion = sdk.chat.completions.create(
            model="faqstream",
            messages=[{"role": "user", "content": "Hello? Anyone there?"}],
            extra_body={"conversation_id": conversation_id},
        )
        chunks = list(
            sdk.chat.completions.create(
                model="faqstream",
                messages=[{"role": "user", "content": "Still waiting"}],
                extra_body={"conversation_id": conversation_id},
                stream=True,
            )
        )
    assert completion.choices[0].message.content == passed_on("en")
    extra = (completion.model_extra or {})["faqstream"]
    assert extra["with_agent"] is True and extra["mode"] == "agent"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == passed_on("en")
    assert (chunks[-1].model_extra or {})["faqstream"]["with_agent"] is True
    assert fake.message_requests() == []


def test_an_agent_may_take_a_conversation_without_a_handoff(
    served: Served, fake: FakeAnthropic, helpdesk: Helpdesk
) -> None:
    first = ask(served.client, REFUND_FAQ, key=KEY_A)
    conversation_id = first.meta["conversation_id"]
    path = f"/v1/conversations/{conversation_id}"
    refused = served.client.post(
        f"{path}/agent-messages", json={"text": "hi"}, headers=auth(helpdesk.agent_a)
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conversation_with_bot"

    taken = served.client.post(f"{path}/takeover", headers=auth(helpdesk.agent_a))
    assert taken.status_code == 200 and taken.json()["state"] == "agent"
    fake.reset()
    answer = ask(served.client, "And for a gift card?", key=KEY_A, conversation_id=conversation_id)
    assert answer.meta["mode"] == "agent" and fake.message_requests() == []
    posted = served.client.post(
        f"{path}/agent-messages", json={"text": "Same."}, headers=auth(helpdesk.agent_a)
    )
    assert posted.status_code == 201 and posted.json()["message"]["author"] is None


def test_other_tenants_and_other_keys_reach_nothing(
    served: Served, fake: FakeAnthropic, helpdesk: Helpdesk
) -> None:
    conversation_id = handed_over(served, fake)
    path = f"/v1/conversations/{conversation_id}"
    client = served.client
    for route in ("agent-messages", "takeover", "handback"):
        body = {"text": "hello"} if route == "agent-messages" else None
        other = client.post(f"{path}/{route}", json=body, headers=auth(helpdesk.agent_b))
        assert other.status_code == 404 and other.json()["error"]["code"] == "conversation_not_found", route
        customer_key = client.post(f"{path}/{route}", json=body, headers=auth(KEY_A))
        assert customer_key.status_code == 403, route  # the answer scope is not the agent scope
        assert client.post(f"{path}/{route}", json=body).status_code == 401, route
    for route in ("messages", "events"):
        assert client.get(f"{path}/{route}", headers=auth(KEY_B)).status_code == 404, route
        assert client.get(f"{path}/{route}", headers=auth(helpdesk.agent_a)).status_code == 403, route
    unknown = f"/v1/conversations/conv_{uuid.uuid4().hex[:20]}/agent-messages"
    assert client.post(unknown, json={"text": "x"}, headers=auth(helpdesk.agent_a)).status_code == 404
    # tenant b asking in tenant a's conversation is a 404 too, and a's conversation stays with the agents
    assert (
        client.post(
            "/v1/answers", json={"question": "hi", "conversation_id": conversation_id}, headers=auth(KEY_B)
        ).status_code
        == 404
    )
    state = client.get(f"{path}/messages", headers=auth(KEY_A)).json()["state"]
    assert state == "agent"
    empty = client.post(f"{path}/agent-messages", json={"text": ""}, headers=auth(helpdesk.agent_a))
    assert empty.status_code == 400


@pytest.fixture
def second(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic, shared: dict[str, Any]
) -> Iterator[Served]:
    """Another replica of the service: the same Redis and key database, its own process state."""
    with in_process(replica(tmp_path_factory.mktemp("second"), template, fake, shared)) as service:
        yield service


def test_an_agents_reply_posted_to_one_replica_reaches_a_customer_on_another(
    served: Served,
    second: Served,
    fake: FakeAnthropic,
    helpdesk: Helpdesk,
    listen: Callable[[str, str], Listening],
) -> None:
    conversation_id = handed_over(served, fake)
    listening = listen(conversation_id, KEY_A)  # the customer's stream is on the first replica
    assert eventually(lambda: listening.seen("state", lambda d: d["state"] == "agent"))
    path = f"/v1/conversations/{conversation_id}"
    posted = second.client.post(
        f"{path}/agent-messages", json={"text": "Replying from elsewhere."}, headers=auth(helpdesk.agent_a)
    )
    assert posted.status_code == 201, posted.text
    reply = posted.json()["message"]
    assert eventually(lambda: listening.seen("agent_message", lambda d: d == reply))
    fake.reset()  # the second replica reads the state from Redis too: the bot stays silent
    answer = ask(second.client, "Thanks, and the refund?", key=KEY_A, conversation_id=conversation_id)
    assert answer.meta["mode"] == "agent" and fake.message_requests() == []
    assert second.client.post(f"{path}/handback", headers=auth(helpdesk.agent_a)).status_code == 200
    assert eventually(lambda: listening.seen("state", lambda d: d["state"] == "bot"))
