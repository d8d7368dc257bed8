"""The kill test: ``faqstream batch tag`` as a subprocess, SIGKILLed at each point where a crash could
lose or double something (``FAQSTREAM_BATCH_CHECKPOINT`` stops it there), then run again. Afterwards
every conversation is tagged exactly once, the ledger has one row per conversation at the batch
price, and the fake saw exactly one batch created — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import select as query

from fakes.anthropic_server import FakeAnthropic
from service.jobs.tag_store import TagStore
from service.jobs.tagging import CHECKPOINT_ENV
from service.usage.database import LedgerDatabase
from service.usage.schema import conversation_tags, usage_ledger
from tests.conftest import REPO
from tests.conversation_seed import seed_conversation

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONVERSATIONS = 4


@dataclass
class Target:
    """A fresh database, as the CLI (its environment) and the test (a ``LedgerDatabase``) reach it."""

    env: dict[str, str]
    database: LedgerDatabase


@pytest.fixture
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        path = tmp_path / "var" / "faqstream.db"
        db = LedgerDatabase.sqlite(path)
        db.migrate()
        yield Target({"DATABASE_SQLITE_PATH": str(path), "DATABASE_URL": ""}, db)
        db.close()
        return
    name = f"test_batch_kill_{uuid.uuid4().hex[:10]}"  # a database of its own: the CLI has no schema option
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    db = LedgerDatabase.postgres(url)
    db.migrate()
    yield Target({"DATABASE_URL": url}, db)
    db.close()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _env(target: Target, fake: FakeAnthropic) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "ANTHROPIC_", "BATCH_TAG_"))}
    env.pop(CHECKPOINT_ENV, None)
    return (
        env
        | target.env
        | {
            "ANTHROPIC_API_KEY": "test",
            "ANTHROPIC_BASE_URL": fake.base_url,
            "ANTHROPIC_MODEL": "claude-haiku-4-5",
            "BATCH_TAG_POLL_INITIAL_S": "0.2",
            "BATCH_TAG_POLL_MAX_S": "0.5",
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
        }
    )


def _command(since: datetime) -> list[str]:
    return [sys.executable, "-m", "faqstream", "batch", "tag", "--since", since.date().isoformat()]


def _kill_at(point: str, command: list[str], env: dict[str, str], cwd: Path) -> list[str]:
    """Run until it announces ``checkpoint <point>``, then SIGKILL it; its stderr lines.

    A thread reads stderr line by line: ``select`` on the pipe would miss a line the text wrapper
    already buffered (two lines written at once), and wait for output that never comes."""
    proc = subprocess.Popen(
        command,
        env=env | {CHECKPOINT_ENV: point},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = proc.stderr
    assert stderr is not None
    received: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stderr:
            received.put(line)

    threading.Thread(target=read, daemon=True).start()
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while f"checkpoint {point}" not in (line.strip() for line in lines):
            assert time.monotonic() < deadline, f"no checkpoint {point}: {lines}"
            try:
                lines.append(received.get(timeout=0.5))
            except queue.Empty:
                assert proc.poll() is None, f"exited ({proc.returncode}) before checkpoint {point}: {lines}"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return lines


def _state(db: LedgerDatabase) -> tuple[list[Any], int, int]:
    jobs = TagStore(db.engine).jobs()
    with db.engine.connect() as c:
        tagged = len(list(c.execute(query(conversation_tags.c.conversation))))
        charged = len(list(c.execute(query(usage_ledger.c.id))))
    return jobs, tagged, charged


# What the database shows right after the kill at each point: the job's status, its batch id known?
AFTER_KILL = {
    "job_row": ("preparing", False),  # nothing sent yet
    "created": ("preparing", False),  # the batch exists, we never stored its id
    "submitted": ("submitted", True),
    "polling": ("submitted", True),
    "storing": ("submitted", True),  # killed inside the results' transaction: none of it stored
}


# Every point on SQLite; on PostgreSQL the two where the database's transaction matters most.
CASES = [("sqlite", point) for point in AFTER_KILL] + [("postgres", "created"), ("postgres", "storing")]


@pytest.mark.parametrize(("target", "point"), CASES, indirect=["target"])
def test_killed_at_any_point_the_next_run_tags_everything_exactly_once(
    point: str, target: Target, tmp_path: Path
) -> None:
    db = target.database
    now = datetime.now(UTC)
    ids = {
        seed_conversation(db.engine, f"c{i}", updated_at=now - timedelta(hours=2))
        for i in range(CONVERSATIONS)
    }
    with FakeAnthropic(batch_delay_s=1.0) as fake:
        env, command = _env(target, fake), _command(now - timedelta(days=1))
        _kill_at(point, command, env, tmp_path)

        jobs, tagged, charged = _state(db)
        status, has_batch = AFTER_KILL[point]
        assert [(j.status, j.batch_id is not None) for j in jobs] == [(status, has_batch)]
        assert (tagged, charged) == (0, 0)
        assert len(fake.batch_creates()) == (0 if point == "job_row" else 1)

        done = subprocess.run(
            command, check=False, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "4 tagged, 0 failed" in done.stdout and "saved $" in done.stdout

        again = subprocess.run(
            command, check=True, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert "submitted 0 conversations" in again.stdout
        assert len(fake.batch_creates()) == 1  # exactly one batch, whatever the crash
        status_out = subprocess.run(
            [sys.executable, "-m", "faqstream", "batch", "status", "--json"],
            check=True,
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    [job] = json.loads(status_out.stdout)
    assert (job["status"], job["requests"], job["tagged"], job["failed"]) == ("collected", 4, 4, 0)
    with db.engine.connect() as c:
        tags = list(c.execute(query(conversation_tags)))
        rows = list(c.execute(query(usage_ledger)))
    assert sorted(t.conversation for t in tags) == sorted(ids) and {t.job_id for t in tags} == {job["job"]}
    assert sorted(r.conversation_id for r in rows) == sorted(ids)  # one ledger row each, not two
    assert {r.purpose for r in rows} == {"batch_tag"} and job["cost_usd"] == pytest.approx(
        sum(r.cost_usd for r in rows)
    )


def test_the_command_says_what_it_needs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "ANTHROPIC_", "BATCH_TAG_"))}
    env |= {"DATABASE_SQLITE_PATH": str(tmp_path / "db.sqlite"), "PYTHONPATH": str(REPO)}
    base = [sys.executable, "-m", "faqstream", "batch", "tag"]
    no_key = subprocess.run(
        [*base, "--since", "2026-12-01"], check=False, env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert no_key.returncode == 3 and "needs ANTHROPIC_API_KEY" in no_key.stderr
    bad_day = subprocess.run(
        [*base, "--since", "yesterday"], check=False, env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert bad_day.returncode == 2 and "not an ISO 8601 date" in bad_day.stderr
    unpriced = env | {"ANTHROPIC_API_KEY": "k", "BATCH_TAG_MODEL": "my-model"}
    refused = subprocess.run(
        [*base, "--since", "2026-12-01"],
        check=False,
        env=unpriced,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 3 and "no price for model 'my-model'" in refused.stderr
