"""``faqstream eval answers`` without ``--server`` leaves production alone: configured with a handoff
webhook (a real HTTP receiver), the service's database and a Redis namespace, an evaluation whose
questions are handed off sends no webhook, creates or writes no database (no conversation, usage
row or analytics record: ``faqstream report`` would not count it) and writes no Redis key. The
command runs as a subprocess, as a user runs it (no Claude key: extractive replies)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from tests.conftest import REDIS_URL, redis_namespace
from tests.integration.test_cli import run as faqstream
from tests.integration.test_eval_answers import write_labels
from tests.service_harness import service_settings
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow


def test_an_in_process_evaluation_sends_no_webhook_and_writes_no_records(
    template: Path, tmp_path: Path, child_env: dict[str, str]
) -> None:
    labels = write_labels(tmp_path / "labels.jsonl")
    settings = service_settings(template, tmp_path)
    production_db = tmp_path / "production.db"
    env = {k: v for k, v in child_env.items() if not k.startswith(("ANTHROPIC_", "DATABASE_", "AUTH_"))}
    with Receiver().running() as helpdesk, redis_namespace("eval") as prefix:
        env.update(
            QDRANT_PATH=str(settings.qdrant.path),
            DATABASE_SQLITE_PATH=str(production_db),
            TRANSLATE_MODE="never",
            REDIS_URL=REDIS_URL,
            REDIS_KEY_PREFIX=prefix,
            HANDOFF_WEBHOOK_URL=helpdesk.url,
            WEBHOOK_SECRET="helpdesk-signing-secret-0123456789",
            AUTH_API_KEYS="helpdesk=production-key-0123456789",
        )
        run = faqstream(env, "eval", "answers", str(labels), "--json")
        assert run.returncode == 0, run.stderr
        written = list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{prefix}*", count=500))
    questions = json.loads(run.stdout)["questions"]
    handed_off = [q for q in questions if q["handoff"] is not None]
    assert len(questions) == 6 and all(q["error"] is None for q in questions), questions
    assert handed_off, questions  # handoffs were made: a production service would have posted them
    assert helpdesk.deliveries == []
    assert not production_db.exists()  # no conversation, message, handoff or usage row anywhere
    assert written == []
