"""Conversation records end to end: the real app (tests/service_harness.py) answering through the
fake Anthropic API with the real SDK, records written to the service's SQLite database, read back
through ``GET /v1/conversations/{id}`` and rated through ``POST /v1/feedback``; broken and abandoned
streams; ``RECORDS_ENABLED=false``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse
from sqlalchemy import create_engine, select

from fakes import DropMidStream, FakeAnthropic
from service.records.store import RecordSettings
from service.settings.auth import AuthSettings
from service.tenants.store import KeyStore
from service.usage.schema import conversations, handoffs, messages
from tests.service_harness import (
    FAST_RETRIES,
    MIN_CACHE,
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

pytestmark = pytest.mark.slow

KEY_A = "key-records-a-0123456789"
KEY_B = "key-records-b-0123456789"
ASK_FOR_A_PERSON = "I want to talk to a human agent please, my email is ann@example.com"


def settings_for(template: Path, tmp: Path, base_url: str, **components: Any) -> Any:
    return service_settings(
        template,
        tmp,
        api_key="test-key",
        base_url=base_url,
        components={
            "resilience": FAST_RETRIES,
            "auth": AuthSettings(api_keys=f"a={KEY_A},b={KEY_B}"),  # type: ignore[arg-type]
            **components,
        },
        prompt_cache_min_tokens=MIN_CACHE,
    )


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    with in_process(settings_for(template, tmp_path_factory.mktemp("svc"), fake.base_url)) as served:
        yield served


def conversation(client: httpx.Client, conversation_id: str, key: str = KEY_A) -> httpx.Response:
    return client.get(f"/v1/conversations/{conversation_id}", headers=auth(key))


def feedback(client: httpx.Client, key: str = KEY_A, **body: Any) -> httpx.Response:
    return client.post("/v1/feedback", json=body, headers=auth(key))


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_two_exchanges_one_handed_off_are_recorded_and_rated(service: Served, fake: FakeAnthropic) -> None:
    fake.reset()
    first = ask(service.client, REFUND_FAQ, key=KEY_A)
    conversation_id = first.meta["conversation_id"]
    second = ask(service.client, ASK_FOR_A_PERSON, key=KEY_A, conversation_id=conversation_id)
    assert second.meta["handoff"]["reason"] == "customer_request"

    response = conversation(service.client, conversation_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["conversation_id"], body["state"], body["questions"]) == (conversation_id, "bot", 2)
    assert body["language"] == "en" and body["handoff_reason"] == "customer_request"
    said = body["messages"]
    # Each message its own id: a reply's is the one the answer returned, naming the question it answers.
    assert [m["role"] for m in said] == ["customer", "assistant", "customer", "assistant"]
    asked, answered, handed, handoff_reply = said
    assert (answered["message_id"], handoff_reply["message_id"]) == (
        first.meta["message_id"],
        second.meta["message_id"],
    )
    assert (answered["reply_to"], handoff_reply["reply_to"]) == (asked["message_id"], handed["message_id"])
    assert len({m["message_id"] for m in said}) == 4 and asked["reply_to"] is None
    assert asked["text"] == REFUND_FAQ and answered["text"] == REPLY == first.text
    assert (answered["mode"], answered["model"], answered["status"]) == (
        "generative",
        "claude-sonnet-4-6",
        "complete",
    )
    # Every passage given is kept; `cited` marks the one the reply cites (REPLY says [1] only).
    passages = [{k: v for k, v in c.items() if k != "cited"} for c in answered["citations"]]
    assert passages == first.meta["citations"] and len(passages) > 1
    assert [(c["index"], c["cited"]) for c in answered["citations"]] == [
        (c["index"], c["index"] == 1) for c in passages
    ]
    assert answered["handoff_reason"] is None and answered["feedback"] is None
    assert "ann@example.com" not in handed["text"] and "talk to a human" in handed["text"]  # redacted
    assert handoff_reply["handoff_reason"] == "customer_request" and handoff_reply["text"] == second.text
    # Only the notice that a person takes over: no answer from the documents, nothing cited.
    assert handoff_reply["mode"] == second.meta["mode"] == "extractive"  # as the API said
    assert handoff_reply["citations"] == []
    times = [datetime.fromisoformat(m["created_at"]) for m in said]
    assert times == sorted(times) and datetime.fromisoformat(body["updated_at"]) >= times[-1]
    assert datetime.fromisoformat(body["started_at"]) == times[0]

    given = feedback(
        service.client,
        conversation_id=conversation_id,
        message_id=first.meta["message_id"],
        thumbs="up",
        rating=5,
        comment="clear, thanks — call me on +44 20 7946 0958",
    )
    assert given.status_code == 201, given.text
    stored = given.json()
    assert (stored["thumbs"], stored["rating"], stored["message_id"]) == ("up", 5, first.meta["message_id"])
    assert "7946" not in stored["comment"] and stored["comment"].startswith("clear, thanks")
    on_question = feedback(
        service.client, conversation_id=conversation_id, message_id=asked["message_id"], thumbs="down"
    )
    assert on_question.status_code == 404 and error_code(on_question) == "message_not_found"
    after = conversation(service.client, conversation_id).json()["messages"]
    assert after[1]["feedback"] == stored and after[0]["feedback"] is None and after[3]["feedback"] is None

    with service.runtime.storage.ledger.writer.database.engine.connect() as conn:
        (reason, summary) = conn.execute(select(handoffs.c.reason, handoffs.c.summary)).one()
        ids = {row.conversation for row in conn.execute(select(messages.c.conversation))}
    assert reason == "customer_request" and summary and "ann@example.com" not in summary
    assert conversation_id not in ids  # stored under its pseudonym


def test_another_tenant_and_unknown_ids_get_the_same_404(service: Served) -> None:
    first = ask(service.client, REFUND_FAQ, key=KEY_A)
    conversation_id, message_id = first.meta["conversation_id"], first.meta["message_id"]
    for key, wanted in ((KEY_B, conversation_id), (KEY_A, "never-issued")):
        response = conversation(service.client, wanted, key)
        assert response.status_code == 404 and error_code(response) == "conversation_not_found"
        rated = feedback(service.client, key, conversation_id=wanted, message_id=message_id, thumbs="up")
        assert rated.status_code == 404 and error_code(rated) == "conversation_not_found"
    assert conversation(service.client, conversation_id, "not-a-key-0123456789").status_code == 401


def test_the_helpdesk_key_reads_its_tenants_conversations_and_nothing_more(service: Served) -> None:
    """Trial 2, finding 7: the `agent` key a helpdesk holds reads the transcript of the conversation
    it handles (its own tenant's only); it gives no feedback, and a key with neither scope reads nothing."""
    keys = KeyStore.from_settings(service.runtime.settings.database)
    _, agent_a = keys.create("a", "helpdesk a", ("agent",))
    _, agent_b = keys.create("b", "helpdesk b", ("agent",))
    _, metrics_a = keys.create("a", "ops a", ("metrics",))
    keys.close()
    first = ask(service.client, REFUND_FAQ, key=KEY_A)
    conversation_id, message_id = first.meta["conversation_id"], first.meta["message_id"]

    read = conversation(service.client, conversation_id, agent_a)
    assert read.status_code == 200, read.text
    assert read.json() == conversation(service.client, conversation_id, KEY_A).json()
    assert [m["role"] for m in read.json()["messages"]] == ["customer", "assistant"]
    other = conversation(service.client, conversation_id, agent_b)
    assert other.status_code == 404 and error_code(other) == "conversation_not_found"

    ids = {"conversation_id": conversation_id, "message_id": message_id}
    rated = feedback(service.client, agent_a, **ids, rating=5)
    assert rated.status_code == 403 and error_code(rated) == "insufficient_scope"
    refused = conversation(service.client, conversation_id, metrics_a)
    assert refused.status_code == 403 and error_code(refused) == "insufficient_scope"
    assert "'answer' or 'agent'" in refused.json()["error"]["message"]
    assert 'scope="answer agent"' in refused.headers["www-authenticate"]


def test_bad_feedback_is_refused(service: Served) -> None:
    first = ask(service.client, REFUND_FAQ, key=KEY_A)
    ids = {"conversation_id": first.meta["conversation_id"], "message_id": first.meta["message_id"]}
    for wrong in (
        {},  # neither thumbs nor rating
        {"thumbs": "sideways"},
        {"rating": 0},
        {"rating": 6},
        {"rating": "4"},
        {"rating": 3.5},
        {"rating": True},
        {"thumbs": "up", "comment": "x" * 2001},
        {"thumbs": "up", "extra": 1},
    ):
        response = feedback(service.client, **ids, **wrong)
        assert response.status_code == 400, (wrong, response.text)
        assert error_code(response) == "invalid_request"
    unknown = feedback(
        service.client, conversation_id=ids["conversation_id"], message_id="msg_nope", rating=2
    )
    assert unknown.status_code == 404 and error_code(unknown) == "message_not_found"
    assert feedback(service.client, **ids, rating=3).status_code == 201  # only a rating is fine


def test_a_stream_broken_after_the_first_token_is_recorded_broken(
    service: Served, fake: FakeAnthropic
) -> None:
    fake.reset()
    fake.script(DropMidStream(after_deltas=2))
    body = {"question": REFUND_FAQ, "stream": True}
    with connect_sse(service.client, "POST", "/v1/answers", json=body, headers=auth(KEY_A)) as source:
        events = [(e.event, json.loads(e.data)) for e in source.iter_sse()]
    assert events[-1][0] == "error", events
    partial = "".join(data["text"] for name, data in events if name == "delta")
    said = conversation(service.client, events[0][1]["conversation_id"]).json()["messages"]
    assert [(m["role"], m["status"]) for m in said] == [("customer", None), ("assistant", "broken")]
    assert said[1]["text"] == partial and partial and partial != REPLY


def leave_after_two_deltas(served: Served) -> str:
    """Start a streamed answer, read two deltas, close the connection; the conversation's id."""
    body = {"question": REFUND_FAQ, "stream": True}
    with connect_sse(served.client, "POST", "/v1/answers", json=body, headers=auth(KEY_A)) as source:
        seen: list[tuple[str, dict[str, Any]]] = []
        for event in source.iter_sse():
            seen.append((event.event, json.loads(event.data)))
            if sum(name == "delta" for name, _ in seen) == 2:
                break
        source.response.close()
    conversation_id: str = seen[0][1]["conversation_id"]
    return conversation_id


def abandon_and_read(settings: Any, slow: FakeAnthropic) -> list[dict[str, Any]]:
    """Over a real socket: leave an answer mid-stream, then read the conversation's messages."""
    with over_http(settings) as served:
        conversation_id = leave_after_two_deltas(served)
        assert slow.wait_for_disconnects(1, timeout=5)

        def recorded() -> bool:
            response = conversation(served.client, conversation_id)
            return response.status_code == 200 and len(response.json()["messages"]) == 2

        assert eventually(recorded)
        said: list[dict[str, Any]] = conversation(served.client, conversation_id).json()["messages"]
    return said


def test_a_client_that_goes_away_mid_stream_is_recorded_abandoned(tmp_path: Path, template: Path) -> None:
    with FakeAnthropic(reply="word " * 200, token_delay_s=0.05, min_cache_tokens=MIN_CACHE) as slow:
        said = abandon_and_read(settings_for(template, tmp_path, slow.base_url), slow)
    reply = said[1]
    assert (reply["role"], reply["status"], reply["model"]) == ("assistant", "abandoned", "claude-sonnet-4-6")
    assert reply["text"].startswith("word word") and len(reply["text"]) < len("word " * 200)


def test_records_can_be_turned_off(tmp_path: Path, template: Path, fake: FakeAnthropic) -> None:
    settings = settings_for(template, tmp_path, fake.base_url, records=RecordSettings(enabled=False))
    with in_process(settings) as served:
        first = ask(served.client, REFUND_FAQ, key=KEY_A)
        served.settle()
        response = conversation(served.client, first.meta["conversation_id"])
        assert response.status_code == 404 and error_code(response) == "records_disabled"
        ids = {"conversation_id": first.meta["conversation_id"], "message_id": first.meta["message_id"]}
        assert error_code(feedback(served.client, **ids, thumbs="up")) == "records_disabled"
        engine = create_engine(f"sqlite:///{settings.database.sqlite_path}")
        with engine.connect() as conn:
            assert (
                conn.execute(select(messages)).all() == [] and conn.execute(select(conversations)).all() == []
            )
        engine.dispose()
