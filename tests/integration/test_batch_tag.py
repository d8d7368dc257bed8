"""``faqstream batch tag`` end to end, in process: the real anthropic SDK against the fake's Message
Batches API, the real database (SQLite and PostgreSQL). Crashes are in test_batch_tag_kill.py."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anthropic
import pytest
from sqlalchemy import func, select

from fakes.anthropic_server import FakeAnthropic
from faqstream.cli import main
from service.core.types import Usage
from service.jobs.settings import BatchTagSettings
from service.jobs.tag_prompt import TOOL_NAME, batch_request
from service.jobs.tag_store import TagStore
from service.jobs.tagging import BatchSubmitError, BatchTagger
from service.llm.pricing import PriceTable
from service.usage.database import LedgerDatabase
from service.usage.schema import batch_jobs, conversation_tags, usage_ledger
from tests.conversation_seed import continue_conversation, seed_conversation
from tests.databases import migrated_database

MODEL = "claude-haiku-4-5"
NOW = datetime.now(UTC)
SINCE = NOW - timedelta(days=2)
FINISHED = NOW - timedelta(hours=3)

ANGRY = (("customer", "This is the third time I ask. I am angry, refund me now!"), ("assistant", "Sorry."))
BROKEN = (("customer", "INVALID please"), ("assistant", "Sure."))


def responder(body: dict[str, Any], tool: dict[str, Any]) -> dict[str, Any]:
    """The model's tag, by what the transcript says (the fake calls this per request)."""
    assert tool["name"] == TOOL_NAME and body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    text = body["messages"][0]["content"]
    if "INVALID" in text:
        return {"satisfaction": 9, "escalate": False, "resolved": False, "reason": "out of range"}
    if "angry" in text:
        return {"satisfaction": 1, "escalate": True, "resolved": False, "reason": "angry, asks for a refund"}
    return {"satisfaction": 5, "escalate": False, "resolved": True, "reason": "answered"}


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerDatabase]:
    with migrated_database(request.param, tmp_path, "batch") as database:
        yield database


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[LedgerDatabase]:
    """SQLite only: for what does not depend on the database."""
    db = LedgerDatabase.sqlite(tmp_path / "db.sqlite")
    db.migrate()
    yield db


class Clock:
    """The fake's clock, moved on by the tagger's sleeps: polling takes no wall-clock time."""

    def __init__(self) -> None:
        self.now = NOW.timestamp()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def tagger(store: TagStore, fake: FakeAnthropic, clock: Clock | None = None, **settings: Any) -> BatchTagger:
    client = anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0)
    options = BatchTagSettings(**({"poll_initial_s": 1, "poll_max_s": 8} | settings))
    return BatchTagger(store, client, PriceTable(), options, model=MODEL, sleep=(clock or Clock()).sleep)


def tags(db: LedgerDatabase) -> dict[str, tuple[int, int, int, str]]:
    with db.engine.connect() as c:
        rows = c.execute(select(conversation_tags))
        return {r.conversation: (r.satisfaction, r.escalate, r.resolved, r.reason) for r in rows}


def ledger(db: LedgerDatabase) -> list[Any]:
    with db.engine.connect() as c:
        return list(c.execute(select(usage_ledger).order_by(usage_ledger.c.id)))


def test_finished_conversations_are_tagged_validated_and_charged_at_the_batch_price(
    database: LedgerDatabase,
) -> None:
    store = TagStore(database.engine)
    calm = seed_conversation(database.engine, "calm", updated_at=FINISHED)
    angry = seed_conversation(database.engine, "angry", updated_at=FINISHED, exchange=ANGRY)
    broken = seed_conversation(database.engine, "broken", updated_at=FINISHED, exchange=BROKEN)
    seed_conversation(database.engine, "ongoing", updated_at=NOW - timedelta(minutes=5))  # not idle yet
    seed_conversation(database.engine, "old", updated_at=SINCE - timedelta(hours=1))  # before --since
    clock = Clock()
    with FakeAnthropic(tool_responder=responder, batch_delay_s=30, clock=clock) as fake:
        summary = tagger(store, fake, clock).run(SINCE, wait=True)
        [create] = fake.batch_creates()
        asked = {r["custom_id"] for r in create.body["requests"]}
        assert asked == {calm, angry, broken}  # custom_id = the pseudonym
        assert fake.server_errors == []

    assert tags(database) == {
        calm: (5, 0, 1, "answered"),
        angry: (1, 1, 0, "angry, asks for a refund"),
    }
    [job] = store.jobs()
    assert job.status == "collected" and job.batch_id is not None
    assert job.failures is not None and list(job.failures) == [broken]
    assert job.failures[broken].startswith("invalid: satisfaction")
    assert clock.sleeps and max(clock.sleeps) <= 8  # polled with backoff, capped

    rows = ledger(database)
    assert len(rows) == 3  # the invalid answer ran and was paid for too
    assert {r.purpose for r in rows} == {"batch_tag"} and {r.key_id for r in rows} == {job.id}
    prices = PriceTable()
    for row in rows:
        used = Usage(input_tokens=row.input_tokens, output_tokens=row.output_tokens)
        assert row.cost_usd == pytest.approx(prices.cost(MODEL, used) * 0.5)
        assert row.tenant == "acme"
    assert summary.cost_usd == pytest.approx(sum(r.cost_usd for r in rows))
    assert summary.saved_usd == pytest.approx(summary.standard_usd - summary.cost_usd)
    assert summary.saved_usd > 0 and summary.standard_usd == pytest.approx(2 * summary.cost_usd)
    assert (summary.tagged, summary.failed, summary.submitted_requests, summary.in_flight) == (2, 1, 3, 0)


def test_a_failed_result_is_asked_again_by_a_later_run_until_max_attempts(database: LedgerDatabase) -> None:
    store = TagStore(database.engine)
    broken = seed_conversation(database.engine, "broken", updated_at=FINISHED, exchange=BROKEN)
    with FakeAnthropic(tool_responder=responder) as fake:
        for _ in range(3):
            assert tagger(store, fake, max_attempts=2).run(SINCE).failed in (0, 1)
        assert len(fake.batch_creates()) == 2  # asked twice, then left alone
    assert tags(database) == {}
    assert [list(j.failures or {}) for j in store.jobs()] == [[broken], [broken]]

    with FakeAnthropic() as fine:  # the default answer: a minimal valid instance of the schema
        summary = tagger(store, fine, max_attempts=3).run(SINCE)
    assert summary.tagged == 1 and tags(database)[broken][0] == 1


def test_a_conversation_that_went_on_after_its_tag_is_tagged_again_once(database: LedgerDatabase) -> None:
    """Trial 2, finding 10: a conversation tagged, then continued, kept its earlier tag for good."""
    store = TagStore(database.engine)
    cid = seed_conversation(database.engine, "goes-on", updated_at=FINISHED)
    with FakeAnthropic(tool_responder=responder) as fake:
        assert tagger(store, fake, idle_minutes=0).run(SINCE).tagged == 1
        assert tags(database)[cid] == (5, 0, 1, "answered")
        assert tagger(store, fake, idle_minutes=0).run(SINCE).submitted_requests == 0  # nothing new
        [job] = store.jobs()
        went_on = max(datetime.now(UTC), job.created_at + timedelta(microseconds=1))
        continue_conversation(database.engine, cid, "goes-on", ANGRY, at=went_on)

        waiting = tagger(store, fake).run(SINCE)  # BATCH_TAG_IDLE_MINUTES=30: still open
        assert (waiting.submitted_requests, waiting.not_idle, waiting.idle_minutes) == (0, 1, 30)
        again = tagger(store, fake, idle_minutes=0).run(SINCE)
        assert (again.submitted_requests, again.tagged, again.not_idle) == (1, 1, 0)
        assert tags(database)[cid] == (1, 1, 0, "angry, asks for a refund")  # the tag replaced
        for _ in range(2):  # tagged from its latest transcript: never asked again
            assert tagger(store, fake, idle_minutes=0).run(SINCE).submitted_requests == 0
        creates = fake.batch_creates()
    assert [[r["custom_id"] for r in c.body["requests"]] for c in creates] == [[cid], [cid]]
    assert "angry" in creates[1].body["requests"][0]["params"]["messages"][0]["content"]
    with database.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(conversation_tags)).scalar_one() == 1


def test_the_summary_says_why_open_conversations_were_not_submitted(
    lite: LedgerDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Trial 2, finding 10: "submitted 0 conversations" with 13 minutes-old ones, and no reason."""
    for n in range(3):
        seed_conversation(lite.engine, f"fresh{n}", updated_at=NOW - timedelta(minutes=5))
    seed_conversation(lite.engine, "old", updated_at=SINCE - timedelta(hours=1))  # before --since
    with FakeAnthropic(tool_responder=responder) as fake:
        for name in [k for k in os.environ if k.startswith(("DATABASE_", "ANTHROPIC_", "BATCH_TAG_"))]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("DATABASE_SQLITE_PATH", str(lite.engine.url.database))
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        assert main(["batch", "tag", "--since", SINCE.isoformat()]) == 0
        assert main(["batch", "tag", "--since", SINCE.isoformat(), "--json"]) == 0
        assert fake.batch_creates() == []
    text, as_json = capsys.readouterr().out.strip().splitlines()[-2:]
    assert text == (
        "skipped 3 conversations still open: updated less than BATCH_TAG_IDLE_MINUTES (30) minutes "
        "ago; a later run tags them (set BATCH_TAG_IDLE_MINUTES lower to tag them sooner)"
    )
    assert json.loads(as_json)["not_idle"] == 3 and json.loads(as_json)["submitted"] == 0


def test_an_expired_batch_records_every_conversation_as_failed(lite: LedgerDatabase) -> None:
    db = lite
    store = TagStore(db.engine)
    ids = {seed_conversation(db.engine, f"c{i}", updated_at=FINISHED) for i in range(3)}
    clock = Clock()
    with FakeAnthropic(batch_delay_s=2 * 86400, clock=clock) as fake:  # never done within 24 h
        summary = tagger(store, fake, clock, poll_max_s=3600).run(SINCE)
        batch = anthropic.Anthropic(base_url=fake.base_url, api_key="t").messages.batches.list().data[0]
    assert batch.request_counts.expired == 3 and batch.ended_at == batch.expires_at
    assert (summary.tagged, summary.failed) == (0, 3)
    [job] = store.jobs()
    assert job.failures == dict.fromkeys(ids, "expired")
    assert ledger(db) == []  # nothing ran, nothing charged


def test_no_wait_submits_and_a_later_run_collects(lite: LedgerDatabase) -> None:
    db = lite
    store = TagStore(db.engine)
    ids = {seed_conversation(db.engine, f"c{i}", updated_at=FINISHED) for i in range(4)}
    clock = Clock()
    with FakeAnthropic(batch_delay_s=600, clock=clock) as fake:
        first = tagger(store, fake, clock, max_requests=3).run(SINCE, wait=False)
        assert (first.submitted_jobs, first.submitted_requests, first.in_flight, first.tagged) == (2, 4, 2, 0)
        again = tagger(store, fake, clock).run(SINCE, wait=False)  # nothing new: all in flight
        assert (again.submitted_jobs, again.tagged) == (0, 0)
        clock.now += 600
        last = tagger(store, fake, clock).run(SINCE, wait=False)
        assert len(fake.batch_creates()) == 2
    assert (last.collected_jobs, last.tagged, last.in_flight) == (2, 4, 0)
    assert set(tags(db)) == ids


def _preparing_job(store: TagStore) -> Any:
    job = store.reserve(since=SINCE, idle_before=NOW, limit=100, max_attempts=3, now=datetime.now(UTC))
    assert job is not None and job.status == "preparing"
    return job


def _requests(custom_ids: list[str]) -> Any:
    params = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    return [{"custom_id": cid, "params": params} for cid in custom_ids]


def test_a_job_cut_off_after_create_adopts_its_batch_instead_of_submitting_again(
    lite: LedgerDatabase,
) -> None:
    db = lite
    store = TagStore(db.engine)
    ids = sorted(seed_conversation(db.engine, f"c{i}", updated_at=FINISHED) for i in range(3))
    job = _preparing_job(store)
    clock = Clock()
    with FakeAnthropic(batch_delay_s=60, clock=clock) as fake:
        sdk = anthropic.Anthropic(base_url=fake.base_url, api_key="t")
        # Someone else's batch of the same size (other custom ids), and an older one: neither is ours.
        sdk.messages.batches.create(requests=_requests(["x1", "x2", "x3"]))
        cut_off: Any = [
            batch_request(cid, "Customer: hi", model=MODEL, max_tokens=50, language=None) for cid in ids
        ]
        ours = sdk.messages.batches.create(requests=cut_off)  # the create our crash cut off
        for i in range(25):  # more than a page of newer, unrelated batches: the search pages on
            sdk.messages.batches.create(requests=_requests([f"n{i}"]))
        summary = tagger(store, fake, clock).run(SINCE)
        assert len(fake.batch_creates()) == 27  # ours, the 26 others: nothing resubmitted
    [done] = store.jobs()
    assert done.id == job.id and done.batch_id == ours.id and done.status == "collected"
    assert summary.tagged == 3 and set(tags(db)) == set(ids)


def test_a_job_cut_off_before_create_is_submitted_once(lite: LedgerDatabase) -> None:
    db = lite
    store = TagStore(db.engine)
    ids = sorted(seed_conversation(db.engine, f"c{i}", updated_at=FINISHED) for i in range(2))
    _preparing_job(store)
    with FakeAnthropic() as fake:
        sdk = anthropic.Anthropic(base_url=fake.base_url, api_key="t")
        sdk.messages.batches.create(requests=_requests(["y1", "y2"]))  # same size, not ours
        summary = tagger(store, fake).run(SINCE)
        assert len(fake.batch_creates()) == 2
        second = tagger(store, fake).run(SINCE)
        assert len(fake.batch_creates()) == 2 and second.submitted_jobs == 0
    assert summary.tagged == 2 and set(tags(db)) == set(ids)
    with db.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(batch_jobs)).scalar() == 1
        assert json.loads(c.execute(select(batch_jobs.c.custom_ids)).scalar_one()) == ids


def test_a_create_that_got_no_answer_is_resolved_by_the_next_run(lite: LedgerDatabase) -> None:
    store = TagStore(lite.engine)
    ids = {seed_conversation(lite.engine, f"c{i}", updated_at=FINISHED) for i in range(2)}
    with FakeAnthropic() as fake:
        cut_off = tagger(store, fake)
        fake.stop()  # the API unreachable: did the batch get created? The job cannot know
        with pytest.raises(BatchSubmitError, match="checks whether the batch was created"):
            cut_off.run(SINCE)
        assert [j.status for j in store.jobs()] == ["preparing"]
        fake.start()  # same port
        summary = tagger(store, fake).run(SINCE)
        assert len(fake.batch_creates()) == 1
    assert summary.tagged == 2 and set(tags(lite)) == ids
