"""A wrong or revoked ANTHROPIC_API_KEY is loud: /readyz, /metrics and the log say so.

The real SDK talks to the fake Anthropic server, which accepts only the keys it is given (and can
revoke them while the service runs). The client-level tests check the verdicts one by one; the
service tests run the real app on Litestar's in-process client.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from fakes import FakeAnthropic
from service.llm.breaker import CircuitState
from service.llm.claude import ClaudeClient
from service.llm.errors import UpstreamAuthError, UpstreamError
from service.llm.policy import ResilienceSettings
from service.llm.resilient import ResilientClaude
from service.llm.status import UpstreamState, UpstreamStatus, UpstreamStatusCollector
from service.settings.anthropic import AnthropicSettings
from tests.corpus import write_corpus
from tests.service_harness import app_settings, free_port, in_process, ingest

RIGHT = "sk-right-0123456789"
WRONG = "sk-wrong-9876543210"
MODEL = "claude-sonnet-4-6"
SYSTEM: list[dict[str, Any]] = [{"type": "text", "text": "You answer customer questions."}]
QUESTION: list[dict[str, Any]] = [{"role": "user", "content": "How do I get a refund?"}]
REPLY = "Card refunds take 5–10 business days [1]."


def client_for(base_url: str, key: str, status: UpstreamStatus) -> ClaudeClient:
    settings = AnthropicSettings(api_key=SecretStr(key), base_url=base_url, model=MODEL, timeout_s=10)
    return ClaudeClient(settings, status=status)


async def check(client: ClaudeClient, timeout_s: float = 5.0) -> UpstreamError | None:
    try:
        await client.check(timeout_s)
    except UpstreamError as exc:
        return exc
    finally:
        await client.close()
    return None


# ---------------------------------------------------------------- the start-up check


def test_check_accepts_the_right_key_and_names_a_wrong_one_without_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="service.llm.status")
    with FakeAnthropic(api_keys=[RIGHT]) as fake:
        base, good, bad = fake.base_url, UpstreamStatus(), UpstreamStatus()
        assert asyncio.run(check(client_for(base, RIGHT, good))) is None
        error = asyncio.run(check(client_for(base, WRONG, bad)))
        assert [(r.method, r.path, r.query) for r in fake.requests] == [("GET", "/v1/models", "limit=1")] * 2
    assert good.state is UpstreamState.OK and not good.degraded and good.generative
    assert isinstance(error, UpstreamAuthError) and error.upstream_status == 401 and not error.retryable
    assert error.code == "authentication_error"
    assert bad.state is UpstreamState.UNAUTHORIZED and bad.degraded and not bad.generative
    assert bad.reason == f"HTTP 401 authentication_error from {base}"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "rejected ANTHROPIC_API_KEY" in errors[0].getMessage()
    assert all(RIGHT not in r.getMessage() and WRONG not in r.getMessage() for r in caplog.records)


def test_check_reports_an_unreachable_api_and_is_inconclusive_without_a_models_endpoint() -> None:
    refused = UpstreamStatus()
    error = asyncio.run(check(client_for(f"http://127.0.0.1:{free_port()}", RIGHT, refused)))
    assert error is not None and error.code == "upstream_unreachable"
    assert refused.state is UpstreamState.UNREACHABLE and refused.degraded and refused.generative

    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        timed_out = UpstreamStatus()
        port = silent.getsockname()[1]
        error = asyncio.run(check(client_for(f"http://127.0.0.1:{port}", RIGHT, timed_out), timeout_s=0.3))
    assert error is not None and error.code == "upstream_timeout"
    assert timed_out.state is UpstreamState.UNREACHABLE

    with FakeAnthropic() as fake:  # a gateway that does not serve /v1/models: 404, no verdict
        gateway = UpstreamStatus()
        error = asyncio.run(check(client_for(f"{fake.base_url}/gateway", RIGHT, gateway)))
    assert error is not None and error.upstream_status == 404
    assert gateway.state is UpstreamState.UNCHECKED and not gateway.degraded


def test_status_gauge_is_one_hot() -> None:
    status, registry = UpstreamStatus(), CollectorRegistry()
    registry.register(UpstreamStatusCollector(status))
    status.record(UpstreamState.UNAUTHORIZED, status.ticket(), "HTTP 401")
    values = {s: registry.get_sample_value("faqstream_upstream_status", {"state": s}) for s in UpstreamState}
    assert values == {s: (1.0 if s is UpstreamState.UNAUTHORIZED else 0.0) for s in UpstreamState}
    off = UpstreamStatus(configured=False)
    off.record(UpstreamState.OK, off.ticket())
    assert off.state is UpstreamState.NOT_CONFIGURED and not off.generative


# ---------------------------------------------------------------- at run time, through the resilience layer


def resilient(fake: FakeAnthropic, status: UpstreamStatus, registry: CollectorRegistry) -> ResilientClaude:
    policy = ResilienceSettings(
        max_attempts=3, backoff_base_s=0.001, backoff_max_s=0.01, jitter_s=0, breaker_failures=1
    )
    return ResilientClaude(client_for(fake.base_url, RIGHT, status), policy, registry)


async def answer(claude: ResilientClaude) -> str | UpstreamError:
    text = []
    try:
        async for event in claude.stream(SYSTEM, QUESTION):
            text.append(getattr(event, "text", ""))
    except UpstreamError as exc:
        return exc
    return "".join(text)


def test_a_revoked_key_flips_the_state_without_retries_fallback_or_an_open_circuit() -> None:
    status, registry = UpstreamStatus(), CollectorRegistry()
    seen: dict[str, Any] = {}

    async def main(fake: FakeAnthropic) -> None:
        claude = resilient(fake, status, registry)
        try:
            seen["ok"], seen["ok_state"] = await answer(claude), status.state
            fake.api_keys = frozenset({"sk-rotated"})
            seen["refused"], seen["refused_state"] = await answer(claude), status.state
            seen["requests"] = len(fake.message_requests())
            summary = claude.complete("Be brief.", QUESTION, max_tokens=5)
            (seen["summary"],) = await asyncio.gather(summary, return_exceptions=True)
            seen["summary_state"] = status.state
            fake.api_keys = frozenset({RIGHT})
            seen["back"], seen["back_state"] = await answer(claude), status.state
            seen["circuit"] = claude.breakers[MODEL].state
        finally:
            await claude.close()

    with FakeAnthropic(reply=REPLY, api_keys=[RIGHT]) as fake:
        asyncio.run(main(fake))
        models = [r.body["model"] for r in fake.message_requests()]
    assert (seen["ok"], seen["ok_state"]) == (REPLY, UpstreamState.OK)
    assert isinstance(seen["refused"], UpstreamAuthError) and seen["refused"].upstream_status == 401
    assert seen["refused_state"] is UpstreamState.UNAUTHORIZED
    assert seen["requests"] == 2  # one refused request: no retry, no fallback model
    assert isinstance(seen["summary"], UpstreamAuthError)
    assert seen["summary_state"] is UpstreamState.UNAUTHORIZED
    assert (seen["back"], seen["back_state"]) == (REPLY, UpstreamState.OK)
    assert seen["circuit"] is CircuitState.CLOSED  # breaker_failures=1, yet two 401s did not open it
    assert models == [MODEL] * 4
    errors = {"model": MODEL, "code": "authentication_error"}
    assert registry.get_sample_value("faqstream_upstream_errors_total", errors) == 2.0
    retries = [s for m in registry.collect() if m.name == "faqstream_upstream_retries" for s in m.samples]
    assert [s for s in retries if s.name.endswith("_total")] == []


def test_a_request_that_started_before_the_revocation_does_not_flip_it_back() -> None:
    """Verdicts count in the order requests started: a slow answer begun with the old key, accepted
    after a later request was refused, leaves the state at unauthorized."""
    arrived, release = threading.Event(), threading.Event()

    def held_reply(_body: dict[str, Any]) -> str:
        if not release.is_set():
            arrived.set()
            release.wait(10)  # the fake sends the 200 only after the refused request
        return REPLY

    status, registry = UpstreamStatus(), CollectorRegistry()

    async def main(fake: FakeAnthropic) -> tuple[str | UpstreamError, str | UpstreamError]:
        claude = resilient(fake, status, registry)
        try:
            slow = asyncio.ensure_future(answer(claude))
            assert await asyncio.to_thread(arrived.wait, 10)  # accepted by the fake, reply held
            fake.api_keys = frozenset({"sk-rotated"})
            refused = await answer(claude)
            release.set()
            return await slow, refused
        finally:
            await claude.close()

    with FakeAnthropic(reply=held_reply, api_keys=[RIGHT]) as fake:
        slow, refused = asyncio.run(main(fake))
    assert slow == REPLY and isinstance(refused, UpstreamAuthError)
    assert status.state is UpstreamState.UNAUTHORIZED


# ---------------------------------------------------------------- the service, end to end (in process)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """One ingested store; each service below opens it in turn."""
    tmp = tmp_path_factory.mktemp("svc")
    ingest(app_settings(tmp), corpus)
    return tmp


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=REPLY, api_keys=[RIGHT]) as server:
        yield server
    assert server.server_errors == []


def upstream_gauge(client: httpx.Client) -> dict[str, float]:
    text = client.get("/metrics").text
    (family,) = [f for f in text_string_to_metric_families(text) if f.name == "faqstream_upstream_status"]
    return {s.labels["state"]: s.value for s in family.samples}


def ask(client: httpx.Client) -> dict[str, Any]:
    response = client.post("/v1/answers", json={"question": "How long does a refund take?"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def auth_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "service.llm.status" and r.levelno >= logging.ERROR
    ]


@pytest.mark.slow
def test_a_wrong_key_at_start_up_is_reported_everywhere(
    store: Path, fake: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.llm.status")
    with in_process(app_settings(store, api_key=WRONG, base_url=fake.base_url)) as served:
        client = served.client
        ready = client.get("/readyz")
        gauge = upstream_gauge(client)
        body = ask(client)
    assert ready.status_code == 200, ready.text
    readiness = ready.json()
    assert readiness["ready"] is True and readiness["upstream"] == "unauthorized"
    assert readiness["mode"] == "extractive" and readiness["degraded"] is True
    assert readiness["upstream_reason"] == f"HTTP 401 authentication_error from {fake.base_url}"
    assert gauge["unauthorized"] == 1.0 and sum(gauge.values()) == 1.0
    (line,) = auth_errors(caplog)
    assert "rejected ANTHROPIC_API_KEY" in line and "HTTP 401" in line and WRONG not in line
    assert all(WRONG not in r.getMessage() for r in caplog.records)
    # The answers still flow: quoted passages and a handoff, after one refused request (no retries).
    assert body["mode"] == "extractive" and body["handoff"]["reason"] == "llm_unavailable"
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/v1/models"), ("POST", "/v1/messages")]


@pytest.mark.slow
def test_a_key_revoked_while_running_flips_readiness_and_back(
    store: Path, fake: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.llm.status")
    with in_process(app_settings(store, api_key=RIGHT, base_url=fake.base_url)) as served:
        client = served.client
        at_start = client.get("/readyz").json()
        gauge_at_start = upstream_gauge(client)
        first = ask(client)

        fake.api_keys = frozenset({"sk-rotated-key"})
        refused = ask(client)
        revoked = client.get("/readyz").json()
        gauge_revoked = upstream_gauge(client)
        logged = auth_errors(caplog)

        fake.api_keys = frozenset({RIGHT})
        # Every answer tries Claude, so the first one after the key works again flips it back.
        again = ask(client)
        restored = client.get("/readyz").json()
        gauge_restored = upstream_gauge(client)
    assert at_start["upstream"] == "ok" and at_start["mode"] == "generative"
    assert at_start["degraded"] is False and "upstream_reason" not in at_start
    assert gauge_at_start["ok"] == 1.0
    assert first["mode"] == "generative"

    assert refused["mode"] == "extractive" and refused["handoff"]["reason"] == "llm_unavailable"
    assert revoked["upstream"] == "unauthorized" and revoked["mode"] == "extractive"
    assert revoked["ready"] is True and revoked["degraded"] is True
    assert gauge_revoked["unauthorized"] == 1.0 and gauge_revoked["ok"] == 0.0
    assert len(logged) == 1 and "HTTP 401" in logged[0]

    assert again["mode"] == "generative" and again["answer"] == REPLY
    assert restored["upstream"] == "ok" and restored["mode"] == "generative"
    assert gauge_restored["ok"] == 1.0
    assert any("accepts ANTHROPIC_API_KEY again" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_an_unreachable_api_at_start_up_is_not_fatal(store: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="service.llm.status")
    port = free_port()
    later = FakeAnthropic(reply=REPLY, api_keys=[RIGHT], port=port)  # not listening yet
    settings = app_settings(store, api_key=RIGHT, base_url=f"http://127.0.0.1:{port}")
    with in_process(settings) as served:
        client = served.client
        unreachable = client.get("/readyz")
        with later:
            body = ask(client)
            reached = client.get("/readyz").json()
    assert unreachable.status_code == 200
    readiness = unreachable.json()
    assert readiness["upstream"] == "unreachable" and readiness["degraded"] is True
    assert readiness["mode"] == "generative"  # retries and fallbacks still try; answers never fail
    assert readiness["upstream_reason"].startswith("upstream_unreachable")
    assert body["mode"] == "generative" and reached["upstream"] == "ok" and reached["degraded"] is False
    assert any("unreachable" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
