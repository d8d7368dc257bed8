"""End to end over real HTTP: ingested corpus → retrieval → upstream request → SSE parsed by a real client."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse
from pydantic import SecretStr

from fakes import FakeAnthropic, SlowFirstByte, Status
from service.caching import CacheSettings
from service.llm.policy import ResilienceSettings
from service.settings.app import AppSettings
from service.settings.service import AnthropicSettings
from tests.corpus import write_corpus
from tests.service_harness import ADMIN_KEY, app_settings, ingest, running_service

pytestmark = pytest.mark.slow

REPLY = "Thanks for asking. Card refunds take 5–10 business days [1]. Check your statement after that."


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """The corpus ingested once; each service below starts on a copy of this store."""
    settings = app_settings(tmp_path_factory.mktemp("template"))
    ingest(settings, corpus)
    return settings.qdrant.path


def stocked(settings: AppSettings, template: Path) -> AppSettings:
    """The settings, their store a copy of the ingested template (ingesting again costs seconds)."""
    shutil.copytree(template, settings.qdrant.path)
    return settings


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=REPLY, min_cache_tokens={"claude-sonnet-4-6": 300}) as server:
        yield server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("svc")
    fast_retries = ResilienceSettings(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02, jitter_s=0)
    settings = app_settings(
        tmp, api_key="test-key", base_url=fake.base_url, components={"resilience": fast_retries}
    )
    stocked(settings, template)
    with running_service(settings) as base:
        yield base


def sse_events(base: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    with (
        httpx.Client(timeout=30) as client,
        connect_sse(client, "POST", f"{base}/v1/answers", json=body) as source,
    ):
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        assert source.response.headers["x-accel-buffering"] == "no"
        return [(e.event, json.loads(e.data)) for e in source.iter_sse()]


def test_streamed_answer_contract_and_grounding(service: str, fake: FakeAnthropic) -> None:
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
    passages = re.findall(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user_text, re.S)
    assert len(passages) == len(meta["citations"]) > 0
    for (n, text), citation in zip(passages, meta["citations"], strict=True):
        assert int(n) == citation["index"]
        assert text == citation["quote"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert meta["citations"][0]["doc_id"].startswith("faq.csv#") or "refund" in user_text.lower()
    assert "Reply language: English (en)" in user_text


def test_cached_prefix_is_identical_across_questions_and_read_from_cache(
    service: str, fake: FakeAnthropic
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


def test_json_answer_carries_the_same_fields(service: str) -> None:
    response = httpx.post(
        f"{service}/v1/answers", json={"question": "Is the NW-KTL-110 kettle recalled?"}, timeout=30
    )
    assert response.status_code == 200
    body = response.json()
    assert body["answer"] == REPLY and body["mode"] == "generative"
    assert body["citations"][0]["doc_id"] == "kettle.txt"
    assert {"input_tokens", "output_tokens", "cache_read_input_tokens", "cost_usd"} <= set(body["usage"])


def test_accept_header_selects_streaming(service: str) -> None:
    with httpx.stream(
        "POST",
        f"{service}/v1/answers",
        json={"question": "Can I change my address?"},
        headers={"Accept": "text/event-stream"},
        timeout=30,
    ) as response:
        text = "".join(response.iter_text())
    assert response.headers["content-type"].startswith("text/event-stream")
    assert text.startswith("event: meta")


def test_irrelevant_question_is_answered_honestly_without_calling_claude(
    service: str, fake: FakeAnthropic
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
        settings = app_settings(tmp_path, api_key="k", base_url=slow.base_url)
        stocked(settings, template)
        with (
            running_service(settings) as base,
            httpx.Client(timeout=30) as client,
            connect_sse(
                client,
                "POST",
                f"{base}/v1/answers",
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


def test_upstream_failure_before_first_token_is_retried_invisibly(service: str, fake: FakeAnthropic) -> None:
    fake.reset()
    fake.script(Status(529, "overloaded_error", "Overloaded"))
    events = sse_events(service, {"question": "How long does a refund take?", "stream": True})
    assert events[0][0] == "meta" and events[-1][0] == "done"
    assert "".join(d["text"] for n, d in events if n == "delta") == REPLY
    assert events[0][1]["mode"] == "generative" and events[0][1]["model"] == "claude-sonnet-4-6"
    assert len(fake.message_requests()) == 2  # the 529, then the retry that answered


def test_claude_down_gives_quoted_passages_and_a_handoff_never_an_error(
    service: str, fake: FakeAnthropic
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
    response = httpx.post(
        f"{service}/v1/answers", json={"question": "How long does a refund take?"}, timeout=30
    )
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "extractive" and body["handoff"]["reason"] == "llm_unavailable"


def test_keepalive_comments_while_waiting_upstream(service: str, fake: FakeAnthropic) -> None:
    fake.reset()
    fake.script(SlowFirstByte(0.7))
    with httpx.stream(
        "POST",
        f"{service}/v1/answers",
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
    service: str, body: dict[str, Any], status: int, code: str
) -> None:
    response = httpx.post(f"{service}/v1/answers", json=body, timeout=30)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_malformed_bodies_and_methods(service: str) -> None:
    bad_json = httpx.post(
        f"{service}/v1/answers", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400 and "error" in bad_json.json()
    assert httpx.get(f"{service}/v1/answers").status_code == 405
    assert httpx.get(f"{service}/nope").json()["error"]["code"] == "not_found"


def test_health_readiness_metrics_schema(service: str) -> None:
    assert httpx.get(f"{service}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{service}/readyz").json()
    assert ready["ready"] is True and ready["kb_version"] > 0 and ready["model"] == "multilingual-e5-small"
    httpx.post(f"{service}/v1/answers", json={"question": "How long does a refund take?"}, timeout=30)
    metrics = httpx.get(f"{service}/metrics").text
    assert 'faqstream_answers_total{mode="generative",outcome="ok"}' in metrics
    assert "faqstream_time_to_first_delta_seconds_bucket" in metrics
    schema = httpx.get(f"{service}/schema/openapi.json").json()
    assert "/v1/answers" in schema["paths"]
    assert "event: meta" not in json.dumps(schema) and "`meta`" in json.dumps(schema)


def test_extractive_mode_without_api_key(tmp_path: Path, template: Path) -> None:
    settings = app_settings(tmp_path)
    stocked(settings, template)
    with running_service(settings) as base:
        events = sse_events(base, {"question": "Is the NW-KTL-110 kettle recalled?", "stream": True})
        assert events[0][1]["mode"] == "extractive" and events[0][1]["citations"][0]["doc_id"] == "kettle.txt"
        text = "".join(d["text"] for n, d in events if n == "delta")
        assert "[1]" in text and "NW-KTL-110" in text and "no AI summary" in text
        assert events[-1][0] == "done" and events[-1][1]["usage"]["output_tokens"] == 0


def test_admin_ingest_updates_the_running_service(tmp_path: Path, template: Path) -> None:
    settings = app_settings(tmp_path)
    stocked(settings, template)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "gift-wrap.md").write_text("# Gift wrapping\n\nGift wrapping costs 3.50 EUR per item.", "utf-8")
    with running_service(settings) as base:
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
    settings = app_settings(tmp_path)
    stocked(settings, template)
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
        answer = httpx.post(f"{base}/v1/answers", json=body, timeout=30).json()
        return "returns.md" in [c["doc_id"] for c in answer["citations"]]

    with running_service(settings) as base:
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
        assert "would delete 6 of the knowledge base's 7 documents" in error["message"]
        details = error["details"]
        assert details["reason"] == "too_many_deletions" and "force" in details["hint"]
        assert (details["would_delete"], details["documents"]) == (6, 7)
        over_half = cli(kettle, "--prune", "--server", base)
        assert over_half.returncode == 2 and "would delete 6" in over_half.stderr
        assert "--force" in over_half.stderr

        dry = httpx.post(
            f"{base}/admin/ingest",
            json={"paths": [kettle], "prune": True, "dry_run": True},
            headers=admin,
            timeout=300,
        )
        assert dry.status_code == 200 and dry.json()["refused"]["reason"] == "too_many_deletions"
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
        settings = app_settings(
            tmp_path, components={"anthropic": short, "cache": CacheSettings(answers=True)}
        )
        stocked(settings, template)
        with running_service(settings) as base:
            body = {"question": "How long does a refund take?"}
            first = httpx.post(f"{base}/v1/answers", json=body, timeout=30).json()
            assert first["stop_reason"] == "max_tokens" and first["mode"] == "generative"
            time.sleep(0.5)  # let the after-answer work (where a cache store would happen) finish
            second = httpx.post(f"{base}/v1/answers", json=body, timeout=30).json()
        assert second["mode"] == "generative" and second["cache"] is None
        assert len(upstream.message_requests()) == 2
