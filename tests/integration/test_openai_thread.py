"""OpenAI-compatible frontends never send ``conversation_id``: each turn they resend the whole
message list. The real ``openai`` SDK against the served service (conversations in Redis, the fake
Anthropic API, a real webhook receiver, helpdesk keys): a chat keeps one stored conversation across
turns — streamed or not, with the Sources footer — and after a handoff to a person the customer's
next messages reach the agents (``customer_message``), not the assistant, and the agents' replies
come back with the next reply. Another tenant resending a transcript joins nothing; two chats whose
replies read alike stay two (each reply ends with an invisible tag of its own).

The service runs on ``tests/integration/test_agent_takeover.py``'s fixtures (same settings).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, cast

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from fakes import FakeAnthropic
from service.agents.notice import passed_on
from service.api.openai_wire import reply_tag, without_tag
from tests.integration.test_agent_takeover import (  # the served service and its helpdesk
    HUMAN,
    KEY_A,
    KEY_B,
    Helpdesk,
    delivered,
    helpdesk,
    receiver,
    served,
    shared,
)
from tests.service_harness import REFUND_FAQ, REPLY, Served, auth
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.redis]
FIXTURES = (helpdesk, receiver, served, shared)  # used by the tests below, by name

Messages = list[dict[str, str]]


@pytest.fixture
def sdk(served: Served) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{served.base}/v1", api_key=KEY_A, max_retries=0, timeout=30) as client:
        yield client


def say(sdk: openai.OpenAI, messages: Messages, *, stream: bool = False, model: str = "faqstream") -> Any:
    """One turn as a frontend makes it: the reply's text and the ``faqstream`` extra. The reply is
    appended to ``messages`` exactly as received (what the frontend resends next turn)."""
    sent = cast(list[ChatCompletionMessageParam], messages)  # what the frontend sends: role and text
    if stream:
        chunks = list(sdk.chat.completions.create(model=model, messages=sent, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        info = (chunks[-1].model_extra or {})["faqstream"]
    else:
        completion = sdk.chat.completions.create(model=model, messages=sent)
        text = completion.choices[0].message.content or ""
        info = (completion.model_extra or {})["faqstream"]
    messages.append({"role": "assistant", "content": text})
    assert text.endswith(reply_tag(info["message_id"]))  # the reply's invisible tag, last
    return without_tag(text), info


def stored(served: Served, conversation_id: str, key: str = KEY_A) -> dict[str, Any]:
    polled = served.client.get(f"/v1/conversations/{conversation_id}/messages", headers=auth(key))
    assert polled.status_code == 200, polled.text
    body: dict[str, Any] = polled.json()
    return body


def upstream_history(fake: FakeAnthropic) -> str:
    (request,) = fake.message_requests()
    return str(request.body["messages"][:-1])


def test_a_chat_without_conversation_id_stays_one_conversation(
    served: Served, fake: FakeAnthropic, sdk: openai.OpenAI
) -> None:
    opening = f"{REFUND_FAQ} (order {uuid.uuid4().hex[:8]})"
    messages: Messages = [{"role": "user", "content": opening}]
    first, info = say(sdk, messages, model="faqstream-sources")
    conversation_id = info["conversation_id"]
    assert "\n\nSources:\n[1] " in first  # the text remembered is the text received, footer and all

    messages.append({"role": "user", "content": "And for a bank transfer?"})
    second, info = say(sdk, messages, stream=True, model="faqstream-sources")
    assert info["conversation_id"] == conversation_id and second.startswith(REPLY)

    fake.reset()
    messages.append({"role": "user", "content": "Thanks. Can I return an opened item?"})
    _, info = say(sdk, messages)
    assert info["conversation_id"] == conversation_id
    assert opening in upstream_history(fake) and "And for a bank transfer?" in upstream_history(fake)
    # One stored conversation, each turn once: the listed turns were not stored again.
    roles = [m["role"] for m in stored(served, conversation_id)["messages"]]
    assert roles == ["customer", "assistant"] * 3

    # A transcript this service did not send (an edited reply) starts afresh, as does a fork (an
    # earlier turn asked again after the conversation moved on: "regenerate").
    edited = [*messages[:-1], {"role": "assistant", "content": messages[-1]["content"] + " (edited)"}]
    _, info = say(sdk, [*edited, {"role": "user", "content": "Hello?"}])
    assert info["conversation_id"] != conversation_id
    _, info = say(sdk, messages[:3])
    assert info["conversation_id"] != conversation_id
    assert len(stored(served, conversation_id)["messages"]) == 6


def test_after_a_handoff_the_chat_talks_to_the_agents(
    served: Served, fake: FakeAnthropic, receiver: Receiver, helpdesk: Helpdesk, sdk: openai.OpenAI
) -> None:
    messages: Messages = [{"role": "user", "content": f"{HUMAN}, about order {uuid.uuid4().hex[:8]}"}]
    _, info = say(sdk, messages)
    assert info["with_agent"] is True and info["handoff"]["reason"] == "customer_request"
    conversation_id = info["conversation_id"]
    path, agent = f"/v1/conversations/{conversation_id}", auth(helpdesk.agent_a)
    posted = served.client.post(
        f"{path}/agent-messages", json={"text": "Hi, Ana here. Which parcel?", "author": "Ana"}, headers=agent
    )
    assert posted.status_code == 201, posted.text

    # The next message goes to the agents, not to the assistant; the agent's reply comes back with it.
    fake.reset()
    messages.append({"role": "user", "content": "My parcel never arrived"})
    text, info = say(sdk, messages, stream=True)
    assert info["conversation_id"] == conversation_id and info["mode"] == "agent"
    assert text == "Ana (support team): Hi, Ana here. Which parcel?\n\n" + passed_on("en")
    assert [m["text"] for m in info["agent_messages"]] == ["Hi, Ana here. Which parcel?"]
    assert fake.message_requests() == []
    (event,) = delivered(receiver, "customer_message", message_id=info["message_id"])
    assert (
        event.data["conversation_id"] == conversation_id and event.data["text"] == "My parcel never arrived"
    )

    # Nothing new from the agents: only the notice; the message still reaches them.
    messages.append({"role": "user", "content": "It was the blue kettle"})
    text, info = say(sdk, messages)
    assert (info["conversation_id"], text, info["agent_messages"]) == (conversation_id, passed_on("en"), [])
    delivered(receiver, "customer_message", conversation_id=conversation_id, text="It was the blue kettle")

    # The agent's last word before the handback reaches the chat with the assistant's next answer.
    posted = served.client.post(f"{path}/agent-messages", json={"text": "Refund issued."}, headers=agent)
    assert (
        posted.status_code == 201 and served.client.post(f"{path}/handback", headers=agent).status_code == 200
    )
    fake.reset()
    messages.append({"role": "user", "content": REFUND_FAQ})
    text, info = say(sdk, messages)
    assert info["conversation_id"] == conversation_id and info["mode"] == "generative"
    assert text == "Support team: Refund issued.\n\n" + REPLY
    assert "Refund issued." in upstream_history(fake)
    roles = [m["role"] for m in stored(served, conversation_id)["messages"]]
    assert roles == [
        "customer",
        "assistant",
        "agent",
        "customer",
        "customer",
        "agent",
        "customer",
        "assistant",
    ]


def test_the_same_words_in_another_tenant_or_chat_keep_their_own_conversations(
    served: Served, fake: FakeAnthropic, receiver: Receiver, sdk: openai.OpenAI
) -> None:
    messages: Messages = [{"role": "user", "content": f"{HUMAN} now, ticket {uuid.uuid4().hex[:8]}"}]
    _, info = say(sdk, messages)
    conversation_id = info["conversation_id"]
    assert info["with_agent"] is True

    # Tenant b resends tenant a's transcript word for word: a conversation of its own.
    resent = [*messages, {"role": "user", "content": "Any news?"}]
    with openai.OpenAI(base_url=f"{served.base}/v1", api_key=KEY_B, max_retries=0, timeout=30) as other:
        _, info = say(other, resent)
    assert info["conversation_id"] != conversation_id and info["mode"] != "agent"
    relayed = receiver.matching(lambda d: d.body["type"] == "customer_message" and d.data["client"] == "b")
    assert relayed == []
    assert len(stored(served, conversation_id)["messages"]) == 2  # a's conversation is untouched

    # Two chats of one tenant with the same words and the same replies (the same greeting, a cached
    # answer: a new user's trial) are two conversations, each continued: the replies' tags differ.
    question = f"{REFUND_FAQ} Order {uuid.uuid4().hex[:8]}."
    chats: list[Messages] = [[{"role": "user", "content": question}] for _ in range(2)]
    ids = [say(sdk, chat)[1]["conversation_id"] for chat in chats]
    assert ids[0] != ids[1] and chats[0][1]["content"] != chats[1][1]["content"]
    assert [without_tag(chat[1]["content"]) for chat in chats] == [REPLY] * 2  # they read alike
    chats[1].append({"role": "user", "content": HUMAN})
    _, info = say(sdk, chats[1])
    assert info["conversation_id"] == ids[1] and info["with_agent"] is True
    chats[1].append({"role": "user", "content": "My course code is DB-A1-2609"})
    _, info = say(sdk, chats[1], stream=True)
    assert info["conversation_id"] == ids[1] and info["mode"] == "agent"
    delivered(receiver, "customer_message", conversation_id=ids[1], text="My course code is DB-A1-2609")
    chats[0].append({"role": "user", "content": "And for a gift card?"})
    _, info = say(sdk, chats[0])
    assert info["conversation_id"] == ids[0] and info["mode"] == "generative"
