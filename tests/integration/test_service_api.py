"""End to end: ingested corpus → retrieval → upstream request → SSE parsed by a real client.

The app runs on Litestar's in-process client (tests/service_harness.py); a real socket only where it
is the point: a client that disconnects mid-stream, and the CLI talking to the service.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse
from pydantic import SecretStr

from fakes import FakeAnthropic, SlowFirstByte, Status
from service.caching import CacheSettings, MemoryAnswerCache
from service.settings.anthropic import AnthropicSettings
from tests.service_harness import (
    ADMIN_KEY,
    FAST_RETRIES,
    REPLY,
    Served,
    in_process,
    over_http,
    service_settings,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic) -> Iterator[Served]:
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("svc"),
        api_key="test-key",
        base_url=fake.base_url,
        components={"resilience": FAST_RETRIES},
    )
    with in_process(settings) as running:
        yield running


@pytest.fixture(scope="module")
def service(served: Served) -> httpx.Client:
    return served.client


def sse_events(client: httpx.Client, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    with connect_sse(client, "POST", "/v1/answers", json=body) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        assert source.response.headers["x-accel-buffering"] == "no"
        return [(e.event, json.loads(e.data)) for e in source.iter_sse()]


def test_streamed_answer_contract_and_grounding(service: httpx.Client, fake: FakeAnthropic) -> None:
    fake.reset()
    events = sse_events(service, {"question": "How long does a refund to my card take?", "stream": True})
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "done" and set(names[1:-1]) == {"delta"}
    meta, done = events[0][1], events[-1][1]
    assert meta["mode"] == "generative" and meta["language"] == "en" and meta["conversation_id"]
    assert "".join(d["text"] for n, d in events if n == "delta") == REPLY
    assert done["stop_reason"] == "end_turn"
    usage = done["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0 and usage["cost_usd"] > 0
    assert "cache_read_input_tokens" in usage and "cache_creation_input_tokens" in usage

    (request,) = fake.message_requests()
    body = request.body
    assert body["stream"] is True and body["model"] == "claude-sonnet-4-6"
    user_text = body["messages"][0]["content"][0]["text"]
    # This small knowledge base is the cached prefix: each passage points to a chunk of it by ref.
    knowledge = body["system"][1]["text"]
    refs = re.findall(r'<passage n="(\d+)" ref="(c\d+)"[^>]*/>', user_text)
    chunks = dict(re.findall(r'<chunk id="(c\d+)"[^>]*>\n(.*?)\n</chunk>', knowledge, re.S))
    passages = [(n, chunks[ref]) for n, ref in refs]
    assert len(passages) == len(meta["citations"]) > 0
    for (n, text), citation in zip(passages, meta["citations"], strict=True):
        assert int(n) == citation["index"]
        assert text == citation["quote"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert meta["citations"][0]["doc_id"].startswith("faq.csv#") or "refund" in user_text.lower()
    assert "Reply language: English (en)" in user_text


def test_cached_prefix_is_identical_across_questions_and_read_from_cache(
    service: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.reset()
    first = sse_events(service, {"question": "How long does a refund to my card take?", "stream": True})
    second = sse_events(service, {"question": "¿Puedo pagar a plazos?", "stream": True})
    a, b = (r.body for r in fake.message_requests())
    assert json.dumps(a["system"], ensure_ascii=False) == json.dumps(b["system"], ensure_ascii=False)
    assert a["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert a["messages"] != b["messages"]
    assert first[-1][1]["usage"]["cache_creation_input_tokens"] > 0
    assert second[-1][1]["usage"]["cache_read_input_tokens"] > 0
    assert "Reply language: Spanish (es)" in b["messages"][0]["content"][0]["text"]


def test_json_answer_carries_the_same_fields(service: httpx.Client) -> None:
    response = service.post("/v1/answers", json={"question": "Is the NW-KTL-110 kettle recalled?"})
    assert response.status_code == 200
    body = response.json()
    assert body["answer"] == REPLY and body["mode"] == "generative"
    assert body["citations"][0]["doc_id"] == "kettle.txt"
    assert {"input_tokens", "output_tokens", "cache_read_input_tokens", "cost_usd"} <= set(body["usage"])


def test_accept_header_selects_streaming(service: httpx.Client) -> None:
    with service.stream(
        "POST",
        "/v1/answers",
        json={"question": "Can I change my address?"},
        headers={"Accept": "text/event-stream"},
        timeout=30,
    ) as response:
        text = "".join(response.iter_text())
    assert response.headers["content-type"].startswith("text/event-stream")
    assert text.startswith("event: meta")


def test_irrelevant_question_is_answered_honestly_without_calling_claude(
    service: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.reset()
    events = sse_events(service, {"question": "Wann wurde Albert Einstein geboren?", "stream": True})
    assert events[0][1]["citations"] == [] and events[0][1]["language"] == "de"
    assert "keine Antwort gefunden" in events[1][1]["text"]
    assert events[-1][1]["stop_reason"] == "no_relevant_passages"
    assert "no_relevant_passages" in events[0][1]["handoff"]["reasons"]
    assert events[-1][1]["handoff"] == events[0][1]["handoff"]
    assert fake.message_requests() == []


def test_client_disconnect_cancels_the_upstream_call(tmp_path: Path, template: Path) -> None:
    with FakeAnthropic(reply="word " * 200, token_delay_s=0.05) as slow:
        settings = service_settings(template, tmp_path, api_key="k", base_url=slow.base_url)
        with (
            over_http(settings) as served,  # a real socket: the point is a client that goes away
            connect_sse(
                served.client,
                "POST",
                "/v1/answers",
                json={"question": "How long does a refund take?", "stream": True},
            ) as source,
        ):
            seen = []
            for event in source.iter_sse():
                seen.append(event.event)
                if seen.count("delta") == 2:
                    break
            source.response.close()
            gone = slow.wait_for_disconnects(1, timeout=5)
        assert gone and gone[0].stream and gone[0].deltas_sent < 200


def test_upstream_failure_before_first_token_is_retried_invisibly(
    service: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.reset()
    fake.script(Status(529, "overloaded_error", "Overloaded"))
    events = sse_events(service, {"question": "How long does a refund take?", "stream": True})
    assert events[0][0] == "meta" and events[-1][0] == "done"
    assert "".join(d["text"] for n, d in events if n == "delta") == REPLY
    assert events[0][1]["mode"] == "generative" and events[0][1]["model"] == "claude-sonnet-4-6"
    assert len(fake.message_requests()) == 2  # the 529, then the retry that answered


def test_claude_down_gives_quoted_passages_and_a_handoff_never_an_error(
    service: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.reset()
    down = [Status(529, "overloaded_error", "Overloaded")] * 4  # 2 attempts x 2 models
    fake.script(*down)
    events = sse_events(service, {"question": "How long does a refund take?", "stream": True})
    meta, done = events[0][1], events[-1][1]
    assert events[0][0] == "meta" and events[-1][0] == "done"
    assert meta["mode"] == "extractive" and meta["citations"]
    assert meta["handoff"]["reason"] == "llm_unavailable" and done["handoff"] == meta["handoff"]
    assert [r.body["model"] for r in fake.message_requests()] == [
        "claude-sonnet-4-6",
        "claude-sonnet-4-6",
        "claude-haiku-4-5",
        "claude-haiku-4-5",
    ]
    fake.script(*down)
    response = service.post("/v1/answers", json={"question": "How long does a refund take?"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "extractive" and body["handoff"]["reason"] == "llm_unavailable"


def test_keepalive_comments_while_waiting_upstream(service: httpx.Client, fake: FakeAnthropic) -> None:
    fake.reset()
    fake.script(SlowFirstByte(0.7))
    with service.stream(
        "POST",
        "/v1/answers",
        json={"question": "How long does a refund take?", "stream": True},
        timeout=30,
    ) as response:
        raw = "".join(response.iter_text())
    assert ": keep-alive" in raw.split("event: delta")[0]
    assert raw.rstrip().endswith("}") and "event: done" in raw.split(": keep-alive")[-1]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_request"),
        ({"question": ""}, 400, "invalid_request"),
        ({"question": "   "}, 400, "invalid_request"),
        ({"question": 42}, 400, "invalid_request"),
        ({"question": "refund?", "stream": "yes please"}, 400, "invalid_request"),
        ({"question": "refund?", "unknown": 1}, 400, "invalid_request"),
        ({"question": "x" * 5000}, 413, "question_too_long"),
        ({"question": "refund?", "filters": {"language": "en"}}, 400, "invalid_request"),
    ],
)
def test_bad_requests_get_clear_json_errors(
    service: httpx.Client, body: dict[str, Any], status: int, code: str
) -> None:
    response = service.post("/v1/answers", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_malformed_bodies_and_methods(service: httpx.Client) -> None:
    bad_json = service.post("/v1/answers", content=b"{not json", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and "error" in bad_json.json()
    assert service.get("/v1/answers").status_code == 405
    assert service.get("/nope").json()["error"]["code"] == "not_found"


def test_health_readiness_metrics_schema(service: httpx.Client) -> None:
    assert service.get("/healthz").json() == {"status": "ok"}
    ready = service.get("/readyz").json()
    assert ready["ready"] is True and ready["kb_version"] > 0 and ready["model"] == "multilingual-e5-small"
    service.post("/v1/answers", json={"question": "How long does a refund take?"})
    metrics = service.get("/metrics").text
    assert 'faqstream_answers_total{mode="generative",outcome="ok"}' in metrics
    assert "faqstream_time_to_first_delta_seconds_bucket" in metrics
    schema = service.get("/schema/openapi.json").json()
    assert "/v1/answers" in schema["paths"]
    assert "event: meta" not in json.dumps(schema) and "`meta`" in json.dumps(schema)


def test_extractive_mode_without_api_key(tmp_path: Path, template: Path) -> None:
    with in_process(service_settings(template, tmp_path)) as served:
        events = sse_events(served.client, {"question": "Is the NW-KTL-110 kettle recalled?", "stream": True})
        assert events[0][1]["mode"] == "extractive" and events[0][1]["citations"][0]["doc_id"] == "kettle.txt"
        text = "".join(d["text"] for n, d in events if n == "delta")
        assert "[1]" in text and "NW-KTL-110" in text and "no AI summary" in text
        assert events[-1][0] == "done" and events[-1][1]["usage"]["output_tokens"] == 0


def test_admin_ingest_updates_the_running_service(tmp_path: Path, template: Path) -> None:
    settings = service_settings(template, tmp_path)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "gift-wrap.md").write_text("# Gift wrapping\n\nGift wrapping costs 3.50 EUR per item.", "utf-8")
    with over_http(settings) as served:  # a real socket: the CLI is another process
        base = served.base
        before = httpx.get(f"{base}/readyz").json()["kb_version"]
        denied = httpx.post(
            f"{base}/admin/ingest", json={"paths": [str(extra)]}, headers={"Authorization": "Bearer wrong"}
        )
        assert denied.status_code == 401
        env = {
            "SERVICE_ADMIN_KEY": ADMIN_KEY,
            "PATH": "/usr/bin:/bin",
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        out = subprocess.run(
            [sys.executable, "-m", "faqstream", "ingest", str(extra), "--server", base, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["counts"]["added"] == 1
        after = httpx.get(f"{base}/readyz").json()["kb_version"]
        assert after > before
        answer = httpx.post(
            f"{base}/v1/answers", json={"question": "How much is gift wrapping?"}, timeout=30
        ).json()
        assert answer["kb_version"] == after and answer["citations"][0]["doc_id"] == "gift-wrap.md"


def test_admin_ingest_refuses_to_wipe_the_knowledge_base(
    tmp_path: Path, corpus: Path, template: Path
) -> None:
    settings = service_settings(template, tmp_path)
    env = {
        "SERVICE_ADMIN_KEY": ADMIN_KEY,
        "PATH": "/usr/bin:/bin",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    kettle = str(corpus / "kettle.txt")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "faqstream", "ingest", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def returns_is_cited(base: str) -> bool:
        body = {"question": "How many days do I have to return an item?"}
        answer = httpx.post(f"{base}/v1/answers", json=body).json()
        return "returns.md" in [c["doc_id"] for c in answer["citations"]]

    with over_http(settings) as served:  # a real socket: the CLI is another process
        base = served.base
        before = httpx.get(f"{base}/readyz").json()["kb_version"]
        typo = tmp_path / "dcos"
        missing = cli(str(typo), "--prune", "--server", base)
        assert missing.returncode == 2 and missing.stdout == ""
        assert f"{typo}: not found" in missing.stderr and "without --prune" in missing.stderr

        refused = httpx.post(
            f"{base}/admin/ingest", json={"paths": [kettle], "prune": True}, headers=admin, timeout=300
        )
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "ingest_refused" and error["retryable"] is False
        assert "would delete the documents of 4 file(s)" in error["message"]
        details = error["details"]
        assert details["reason"] == "partial_input" and "force" in details["hint"]
        assert (details["would_delete"], details["documents"], details["files"]) == (6, 7, 5)
        over_half = cli(kettle, "--prune", "--server", base)
        assert over_half.returncode == 2 and "would delete the documents of 4" in over_half.stderr
        assert "--force" in over_half.stderr

        dry = httpx.post(
            f"{base}/admin/ingest",
            json={"paths": [kettle], "prune": True, "dry_run": True},
            headers=admin,
            timeout=300,
        )
        assert dry.status_code == 200 and dry.json()["refused"]["reason"] == "partial_input"
        assert httpx.get(f"{base}/readyz").json()["kb_version"] == before and returns_is_cited(base)

        forced = cli(kettle, "--prune", "--force", "--server", base, "--json")
        assert forced.returncode == 0, forced.stderr
        assert json.loads(forced.stdout)["counts"]["deleted"] == 6
        assert httpx.get(f"{base}/readyz").json()["kb_version"] > before
        assert not returns_is_cited(base)


def test_a_truncated_answer_is_never_cached(tmp_path: Path, template: Path) -> None:
    """An answer cut off at ANTHROPIC_MAX_TOKENS must not be replayed to the next customer."""
    with FakeAnthropic(reply=REPLY) as upstream:
        short = AnthropicSettings(
            api_key=SecretStr("k"), base_url=upstream.base_url, timeout_s=10, max_tokens=5
        )
        settings = service_settings(
            template, tmp_path, components={"anthropic": short, "cache": CacheSettings(answers=True)}
        )
        with in_process(settings) as served:
            body = {"question": "How long does a refund take?"}
            first = served.client.post("/v1/answers", json=body).json()
            assert first["stop_reason"] == "max_tokens" and first["mode"] == "generative"
            served.settle()  # the after-answer work (where a cache store would happen) has finished
            cache = served.runtime.cache
            assert isinstance(cache, MemoryAnswerCache) and len(cache) == 0
            second = served.client.post("/v1/answers", json=body).json()
        assert second["mode"] == "generative" and second["cache"] is None
        assert len(upstream.message_requests()) == 2
