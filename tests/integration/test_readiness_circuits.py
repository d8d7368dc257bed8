"""``/readyz`` shows the Claude models' circuit breakers, opened by the fake Anthropic API failing.

The real app on Litestar's in-process client, the real SDK against the fake Anthropic server
scripted to answer 529 ``overloaded_error``; one failure opens a model's circuit (no retries). An
open circuit is reported — state, since when, seconds to the probe — and marks the service
``degraded``; with the fallback model still callable answers stay generative, with every model's
circuit open they are extractive. The service stays ready (200) throughout: it still answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest

from fakes import FakeAnthropic, Status
from service.llm.policy import ResilienceSettings
from tests.service_harness import REFUND_FAQ, REPLY, Served, in_process, post, service_settings

pytestmark = pytest.mark.slow

PRIMARY, FALLBACK = "claude-sonnet-4-6", "claude-haiku-4-5"
COOLDOWN_S = 600.0
OVERLOADED = Status(529, "overloaded_error", "Overloaded")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic) -> Iterator[Served]:
    resilience = ResilienceSettings(
        max_attempts=1,
        breaker_failures=1,
        breaker_cooldown_s=COOLDOWN_S,
        fallback_models=[FALLBACK],
        backoff_base_s=0.01,
        backoff_max_s=0.02,
        jitter_s=0,
    )
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("circuits"),
        api_key="test-key",
        base_url=fake.base_url,
        components={"resilience": resilience},
    )
    with in_process(settings) as running:
        yield running


def readiness(served: Served) -> dict[str, Any]:
    response = served.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = cast(dict[str, Any], response.json())
    assert body["ready"] is True and body["upstream"] == "ok"
    return body


def circuit(body: dict[str, Any], model: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in body["circuits"] if c["model"] == model]
    assert len(found) == 1, body
    return found[0]


def test_open_circuits_show_on_readyz_without_making_the_service_unready(
    served: Served, fake: FakeAnthropic
) -> None:
    healthy = readiness(served)
    assert [c["model"] for c in healthy["circuits"]] == [PRIMARY, FALLBACK]
    assert all(
        c == {"model": c["model"], "state": "closed", "since": None, "retry_in_s": None}
        for c in healthy["circuits"]
    )
    assert healthy["mode"] == "generative" and healthy["degraded"] is False
    assert "upstream_reason" not in healthy

    fake.reset()
    fake.script(OVERLOADED)  # the primary fails once: its circuit opens, the fallback answers
    answered = post(served.client, REFUND_FAQ)
    assert answered.status_code == 200 and answered.json()["model"] == FALLBACK
    assert answered.json()["answer"] == REPLY
    one_open = readiness(served)
    primary = circuit(one_open, PRIMARY)
    assert primary["state"] == "open" and 0 < primary["retry_in_s"] <= COOLDOWN_S
    opened = datetime.fromisoformat(primary["since"])
    assert opened.tzinfo is not None
    assert circuit(one_open, FALLBACK)["state"] == "closed"
    assert one_open["mode"] == "generative" and one_open["degraded"] is True
    assert PRIMARY in one_open["upstream_reason"] and "next model" in one_open["upstream_reason"]

    fake.script(OVERLOADED)  # the primary is skipped; the fallback fails: every circuit is open
    extractive = post(served.client, REFUND_FAQ)
    assert extractive.status_code == 200 and extractive.json()["mode"] == "extractive"
    assert [r.body["model"] for r in fake.message_requests()] == [PRIMARY, FALLBACK, FALLBACK]
    all_open = readiness(served)
    assert [c["state"] for c in all_open["circuits"]] == ["open", "open"]
    assert datetime.fromisoformat(circuit(all_open, PRIMARY)["since"]) == opened  # still the first opening
    assert datetime.fromisoformat(circuit(all_open, FALLBACK)["since"]) >= opened
    assert all_open["mode"] == "extractive" and all_open["degraded"] is True
    assert "extractive" in all_open["upstream_reason"]
