"""A reply is recorded in the mode the API reported it in — generative, or extractive (no API key,
the fallback when Claude is down, a handoff notice, the "not in our documents" reply) — over the
native SSE and JSON answers and the OpenAI-compatible endpoint, with the handoff and its reason
recorded beside it; and the analytics over those real records count knowledge answers, auto-resolved
and handed-off conversations as the replies were. The real app (tests/service_harness.py), the fake
Anthropic API through the real SDK, the service's own SQLite database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeAnthropic, Status
from service.records.analytics.figures import Analytics, DateRange
from service.records.analytics.reader import report, sqlite_reader
from service.settings.auth import AuthSettings
from tests.service_harness import (
    FAST_RETRIES,
    MIN_CACHE,
    NO_PASSAGES,
    REFUND_FAQ,
    Served,
    ask,
    auth,
    in_process,
    last_user_text,
    service_settings,
)

pytestmark = pytest.mark.slow

KEY = "key-records-modes-0123456789"
ASK_FOR_A_PERSON = "I want to talk to a human agent please"
CLAUDE_DOWN = [Status(529, "overloaded_error", "Overloaded")] * 4  # 2 attempts × 2 models


def start(template: Path, tmp: Path, base_url: str | None) -> Any:
    settings = service_settings(
        template,
        tmp,
        api_key="test-key" if base_url else None,
        base_url=base_url,
        components={"resilience": FAST_RETRIES, "auth": AuthSettings(api_keys=f"t={KEY}")},  # type: ignore[arg-type]
        prompt_cache_min_tokens=MIN_CACHE,
    )
    return in_process(settings)


@pytest.fixture(scope="module")
def with_key(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    with start(template, tmp_path_factory.mktemp("with-key"), fake.base_url) as served:
        yield served


@pytest.fixture(scope="module")
def without_key(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    with start(template, tmp_path_factory.mktemp("without-key"), None) as served:
        yield served


def reported(mode: str, handoff: dict[str, Any] | None, conversation_id: str) -> dict[str, Any]:
    return {"conversation_id": conversation_id, "mode": mode, "handoff_reason": handoff and handoff["reason"]}


def streamed(served: Served, question: str) -> dict[str, Any]:
    answer = ask(served.client, question, key=KEY)
    handoff = answer.done["handoff"] or answer.meta["handoff"]
    return reported(answer.meta["mode"], handoff, answer.meta["conversation_id"])


def as_json(served: Served, question: str) -> dict[str, Any]:
    response = served.client.post("/v1/answers", json={"question": question}, headers=auth(KEY))
    assert response.status_code == 200, response.text
    body = response.json()
    return reported(body["mode"], body["handoff"], body["conversation_id"])


def chat(served: Served, question: str) -> dict[str, Any]:
    body = {"model": "faqstream", "messages": [{"role": "user", "content": question}]}
    response = served.client.post("/v1/chat/completions", json=body, headers=auth(KEY))
    assert response.status_code == 200, response.text
    extra = response.json()["faqstream"]
    return reported(extra["mode"], extra["handoff"], extra["conversation_id"])


def recorded(served: Served, conversation_id: str) -> dict[str, Any]:
    """The stored reply of a one-question conversation, as ``GET /v1/conversations/{id}`` shows it."""
    response = served.client.get(f"/v1/conversations/{conversation_id}", headers=auth(KEY))
    assert response.status_code == 200, response.text
    asked, reply = response.json()["messages"]
    assert (asked["role"], reply["role"], reply["status"]) == ("customer", "assistant", "complete")
    return {
        "conversation_id": conversation_id,
        "mode": reply["mode"],
        "handoff_reason": reply["handoff_reason"],
        "cited": bool(reply["citations"]),
    }


def analytics_of(served: Served) -> Analytics:
    path = served.runtime.settings.database.sqlite_path
    today = datetime.now(UTC).date()
    engine = sqlite_reader(Path(path))
    try:
        return report(engine, DateRange.of(today, today + timedelta(days=1)))
    finally:
        engine.dispose()


def test_replies_with_claude_and_when_it_is_down_are_recorded_in_the_reported_mode(
    with_key: Served, fake: FakeAnthropic
) -> None:
    fake.reset()
    said = {"generative": streamed(with_key, REFUND_FAQ)}
    fake.script(*CLAUDE_DOWN)
    said["fallback"] = streamed(with_key, REFUND_FAQ)
    fake.script(*CLAUDE_DOWN)
    said["fallback json"] = as_json(with_key, REFUND_FAQ)
    fake.script(*CLAUDE_DOWN)
    said["fallback chat"] = chat(with_key, REFUND_FAQ)
    said["person"] = streamed(with_key, ASK_FOR_A_PERSON)
    said["person json"] = as_json(with_key, ASK_FOR_A_PERSON)
    said["person chat"] = chat(with_key, ASK_FOR_A_PERSON)
    said["nothing found"] = streamed(with_key, NO_PASSAGES)
    said["nothing found chat"] = chat(with_key, NO_PASSAGES)

    assert said["generative"]["mode"] == "generative" and said["generative"]["handoff_reason"] is None
    for case in ("fallback", "fallback json", "fallback chat"):
        assert said[case]["mode"] == "extractive" and said[case]["handoff_reason"] == "llm_unavailable", case
    for case in ("person", "person json", "person chat"):
        assert said[case]["mode"] == "extractive" and said[case]["handoff_reason"] == "customer_request", case
    assert said["nothing found"]["mode"] == "extractive"

    stored = {case: recorded(with_key, api["conversation_id"]) for case, api in said.items()}
    for case, api in said.items():
        assert {k: v for k, v in stored[case].items() if k != "cited"} == api, case
    # A notice (a person takes over, nothing found) cites nothing; the quoted passages do.
    notices = ("person", "person json", "person chat", "nothing found", "nothing found chat")
    assert [case for case, row in stored.items() if not row["cited"]] == list(notices)

    figures = analytics_of(with_key).totals
    assert figures.answers_by_mode == {"generative": 1, "extractive": 8}
    assert figures.knowledge_answers == 4  # the generative reply and the three quoted fallbacks
    assert figures.conversations == 9 and figures.auto_resolved == 1  # the generative reply only
    handed = sum(1 for row in stored.values() if row["handoff_reason"])
    assert figures.handed_off == handed >= 6
    assert figures.handoffs_by_reason["llm_unavailable"] == 3
    assert figures.handoffs_by_reason["customer_request"] == 3


def test_a_handoff_notice_with_claude_configured_reports_extractive_everywhere(
    with_key: Served, fake: FakeAnthropic
) -> None:
    """A Swiss clinic's trial read `mode: extractive` on a handoff notice with Claude configured as a
    mistake. It is the documented meaning (README's `meta`, docs/records.md): `mode` says who wrote
    the text, and no model wrote the notice — `stop_reason` and `handoff` say why. The same over SSE
    (`meta`), the JSON answer and the OpenAI-compatible answer's `faqstream` extra, and as recorded."""
    fake.reset()
    question = "Ich möchte mit einem Menschen sprechen"
    streamed_answer = ask(with_key.client, question, key=KEY)
    response = with_key.client.post("/v1/answers", json={"question": question}, headers=auth(KEY))
    assert response.status_code == 200, response.text
    body = response.json()
    chat_body = {"model": "faqstream", "messages": [{"role": "user", "content": question}]}
    completion = with_key.client.post("/v1/chat/completions", json=chat_body, headers=auth(KEY))
    assert completion.status_code == 200, completion.text
    extra = completion.json()["faqstream"]

    meta, done = streamed_answer.meta, streamed_answer.done
    assert meta["mode"] == body["mode"] == extra["mode"] == "extractive"
    assert meta["model"] is None and body["model"] is None
    assert meta["language"] == body["language"] == "de"
    assert done["stop_reason"] == body["stop_reason"] == "handoff"
    handoff = done["handoff"] or meta["handoff"]
    assert handoff["reason"] == body["handoff"]["reason"] == extra["handoff"]["reason"] == "customer_request"
    assert meta["citations"] == body["citations"] == []
    assert not any("<question>" in last_user_text(r.body) for r in fake.message_requests())  # no answer asked
    for conversation_id in (meta["conversation_id"], body["conversation_id"], extra["conversation_id"]):
        assert recorded(with_key, conversation_id)["mode"] == "extractive"


def test_replies_without_an_api_key_are_recorded_extractive(without_key: Served) -> None:
    said = {
        "quoted": streamed(without_key, REFUND_FAQ),
        "quoted chat": chat(without_key, REFUND_FAQ),
        "person": streamed(without_key, ASK_FOR_A_PERSON),
        "person chat": chat(without_key, ASK_FOR_A_PERSON),
        "nothing found": as_json(without_key, NO_PASSAGES),
    }
    assert {api["mode"] for api in said.values()} == {"extractive"}
    assert said["quoted"]["handoff_reason"] is None and said["person"]["handoff_reason"] == "customer_request"
    stored = {case: recorded(without_key, api["conversation_id"]) for case, api in said.items()}
    for case, api in said.items():
        assert {k: v for k, v in stored[case].items() if k != "cited"} == api, case
    assert [case for case, row in stored.items() if row["cited"]] == ["quoted", "quoted chat"]

    analytics = analytics_of(without_key)
    # The question is found from its reply (reply_to): the gap it left is listed with its reason.
    gap = next(g for g in analytics.content_gaps if g.text == NO_PASSAGES)
    assert gap.reasons == {"no_relevant_passages": 1}
    figures = analytics.totals
    assert figures.answers_by_mode == {"extractive": 5}
    assert figures.knowledge_answers == 2 and figures.auto_resolved == 2
    assert figures.conversations == 5
    assert figures.handed_off == sum(1 for row in stored.values() if row["handoff_reason"]) >= 2


def test_an_extractive_reply_is_recorded_citing_the_passages_it_quotes(without_key: Served) -> None:
    answer = ask(without_key.client, REFUND_FAQ, key=KEY)
    quoted = {int(n) for n in re.findall(r"^\[(\d+)\] ", answer.text, re.M)}  # "[n] Title: quote" lines
    response = without_key.client.get(
        f"/v1/conversations/{answer.meta['conversation_id']}", headers=auth(KEY)
    )
    reply = response.json()["messages"][1]
    given = [c["index"] for c in reply["citations"]]
    assert given == [c["index"] for c in answer.meta["citations"]] and quoted
    assert {c["index"] for c in reply["citations"] if c["cited"]} == quoted
    assert len(given) > len(quoted)  # more passages were given than the reply quotes


def test_negative_feedback_on_a_reply_makes_its_question_a_content_gap(without_key: Served) -> None:
    question = "Can I change my delivery address?"
    answer = ask(without_key.client, question, key=KEY)
    body = {"conversation_id": answer.meta["conversation_id"], "message_id": answer.meta["message_id"]}
    rated = without_key.client.post("/v1/feedback", json={**body, "thumbs": "down"}, headers=auth(KEY))
    assert rated.status_code == 201, rated.text
    gap = next(g for g in analytics_of(without_key).content_gaps if g.text == question)
    assert gap.reasons == {"negative_feedback": 1} and gap.count == 1
