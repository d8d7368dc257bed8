"""``faqstream eval answers`` and the service's rate limits: the service the command builds in this
process does not apply the limits meant for customers (a production configured with one request
per minute still answers every question at once); against a running service (``--server``) whose
per-user limit refuses the evaluation's questions, every question is waited for, asked again and
scored, and the command says which limit it waits for, how long and how to avoid it. No Claude key:
extractive replies."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from faqstream import cli
from faqstream.eval_answers import _answers_client
from faqstream.eval_asking import EVAL_USER
from service.api.settings import AppSettings
from service.quotas.settings import LimitSettings
from tests.integration.test_eval_answers import LABELS, write_labels
from tests.service_harness import over_http, service_settings

ONE_PER_MINUTE = LimitSettings(key_rpm=1, key_burst=1, user_rpm=1, user_burst=1)


def test_the_in_process_service_applies_no_customer_limit(template: Path, tmp_path: Path) -> None:
    settings: AppSettings = service_settings(template, tmp_path, components={"limits": ONE_PER_MINUTE})
    with _answers_client(None, settings) as (client, key):
        statuses = [
            client.post(
                "/v1/answers",
                json={"question": label["question"], "user": EVAL_USER},
                headers={"Authorization": f"Bearer {key}"},
            ).status_code
            for label in LABELS
        ]
    assert statuses == [200] * len(LABELS)  # with the limits above, the second would be a 429


def test_a_server_run_waits_out_the_user_limit_and_scores_every_question(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = write_labels(tmp_path / "labels.jsonl")
    # One request per second for the evaluation's user, one at once: the questions come faster.
    limits = LimitSettings(user_rpm=60, user_burst=1)
    settings = service_settings(template, tmp_path, components={"limits": limits})
    with over_http(settings) as served:
        code = cli.main(["eval", "answers", str(labels), "--server", served.base, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    report = json.loads(out.out)
    assert len(report["questions"]) == len(LABELS)
    assert [q["error"] for q in report["questions"]] == [None] * len(LABELS)
    assert report["summaries"][0]["errors"] == 0
    waits = [line for line in out.err.splitlines() if "waiting" in line]
    assert waits, out.err  # the questions come faster than one a second: some were refused
    assert all("for the server's user rate limit (60 per 60 s, burst 1)" in line for line in waits), waits
    assert "LIMITS_USER_RPM" in out.err and "run without --server" in out.err
    assert f"({len(waits)} refusal(s); every question was asked again and scored)" in out.err


def test_setup_advice_is_left_out_and_errors_kept(caplog: pytest.LogCaptureFixture) -> None:
    from faqstream.eval_answers import without_setup_advice
    from service.api.setup_advice import advise
    from service.handoff.delivery import HandoffRoutes
    from service.routing.catalog import intents_origin

    def start_up() -> None:
        advise(
            intents_origin(None),
            HandoffRoutes(),
            open_endpoints=True,
            identifier_secret=False,
            shared_conversations=False,
        )
        logging.getLogger("service.setup").error("a setup error")
        logging.getLogger("service.api.runtime").warning("the vectors are stale")

    with caplog.at_level(logging.INFO):
        with without_setup_advice():
            start_up()
        quiet = [r.getMessage() for r in caplog.records]
        caplog.clear()
        start_up()
        served = [r.getMessage() for r in caplog.records]
    assert quiet == ["a setup error", "the vectors are stale"]
    assert any("AUTH_IDENTIFIER_SECRET is unset" in m for m in served)  # a service still says it
    assert any("HANDOFF_WEBHOOK_URL and HANDOFF_CONTACT are unset" in m for m in served)
    assert any("no API key exists" in m for m in served) and len(served) == 6
