"""The analytics queries on seeded records (tests/records_fixture.py), on a real SQLite file and a
real PostgreSQL schema: every figure against a number worked out by hand from the fixture's table.

Per (tenant, language, day d) cell: 11 + d conversations, 12 + d questions and replies; the two
English cells of the last day add a ``lowconf`` conversation. Four tenant-language pairs over days
d = 0…3: 4 × (44 + 6) + 2 = 202 conversations, 4 × (48 + 6) + 2 = 218 questions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, select

from service.records.analytics.figures import Analytics, DateRange, InvalidRangeError
from service.records.analytics.reader import AnalyticsUnavailableError, reader_engine, report, sqlite_reader
from service.settings.database import DatabaseSettings
from service.usage.database import LedgerDatabase
from service.usage.schema import conversations, feedback, messages
from tests.conversation_seed import seed_conversation
from tests.databases import migrated_database
from tests.records_fixture import Seeder, seed_database

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SPAN = DateRange.of(date(2026, 3, 2), date(2026, 3, 6))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The seeded records in a fresh database; the engine the analytics read with."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("analytics") / "faqstream.db"
        database = LedgerDatabase.sqlite(path)
        seed_database(database)
        database.close()
        reader = sqlite_reader(path)
        yield reader
        reader.dispose()
        return
    schema = f"test_analytics_{uuid.uuid4().hex[:12]}"
    database = LedgerDatabase.postgres(POSTGRES_URL, schema=schema)
    try:
        seed_database(database)
        yield database.engine
    finally:
        database.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="module")
def everyone(engine: Engine) -> Analytics:
    return report(engine, SPAN, top=10)


def test_volume_and_modes(everyone: Analytics) -> None:
    t = everyone.totals
    assert (t.conversations, t.questions, t.answers) == (202, 218, 218)
    assert t.answers_by_mode == {"cached": 32, "extractive": 34, "generative": 136, "smalltalk": 16}
    assert t.answers_by_status == {"broken": 16, "complete": 202}


def test_auto_resolution_and_handoffs(everyone: Analytics) -> None:
    t = everyone.totals
    # resolved, exact, semantic, followup (4 a cell) and the d extra resolved: 4 × (16 + 6)
    assert t.auto_resolved == 88 and t.auto_resolved_rate == pytest.approx(88 / 202, abs=1e-6)
    assert t.handed_off == 50 and t.handoff_rate == pytest.approx(50 / 202, abs=1e-6)
    assert t.handoffs_by_reason == {
        "customer_request": 16,
        "low_confidence": 2,
        "no_relevant_passages": 16,
        "not_in_documents": 16,
    }
    assert t.handoff_rate_by_reason["low_confidence"] == pytest.approx(2 / 202, abs=1e-6)


def test_satisfaction_from_feedback_and_from_tags(everyone: Analytics) -> None:
    t = everyone.totals
    # rating 5 on every resolved conversation (16 + 24 extras), 1 on unhappy, 3 on untagged (16 each)
    assert t.ratings == {"1": 16, "2": 0, "3": 16, "4": 0, "5": 40}
    assert t.rating_mean == pytest.approx(264 / 72, abs=1e-6)
    assert t.csat == pytest.approx(40 / 72, abs=1e-6)
    assert (t.thumbs_up, t.thumbs_down) == (40, 16)
    assert t.tag_satisfaction == {"1": 16, "2": 16, "3": 0, "4": 0, "5": 40}
    assert t.tag_satisfaction_mean == pytest.approx(248 / 72, abs=1e-6)
    assert t.tag_csat == pytest.approx(40 / 72, abs=1e-6)


def test_caches(everyone: Analytics) -> None:
    t = everyone.totals
    assert t.knowledge_answers == 168  # generative 136 + cached 32
    assert t.answer_cache_hits == {"exact": 16, "semantic": 16}
    assert t.answer_cache_hit_rate == pytest.approx(32 / 168, abs=1e-6)
    # 16 cells × 740 + 24 extras × 100 + the batch row's 1000; read 16 × 1800 + 24 × 300
    assert (t.input_tokens, t.cache_read_input_tokens, t.cache_creation_input_tokens) == (15240, 36000, 4800)
    assert t.output_tokens == 16 * 325 + 24 * 50 + 100
    assert t.prompt_cache_hit_rate == pytest.approx(36000 / (15240 + 36000 + 4800), abs=1e-6)


def test_costs(everyone: Analytics) -> None:
    t = everyone.totals
    # 16 cells × 0.068 + 24 extras × 0.010, the legacy row 0.5 and the batch row 0.1
    assert t.cost_usd == pytest.approx(1.928)
    assert t.cost_by_purpose == pytest.approx({"answer": 1.812, "batch_tag": 0.1, "routing": 0.016})
    assert t.cost_per_answer == pytest.approx(1.928 / 218)
    assert t.cost_per_resolved == pytest.approx(1.928 / 88)


def test_by_day_covers_every_day_and_only_the_range(everyone: Analytics) -> None:
    days = {s.key: s for s in everyone.by_day}
    assert list(days) == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert [s.conversations for s in everyone.by_day] == [44, 48, 52, 58]
    assert [s.questions for s in everyone.by_day] == [48, 52, 56, 62]
    assert [s.auto_resolved for s in everyone.by_day] == [16, 20, 24, 28]
    # 4 × (0.068 + 0.010 d), the legacy row on the 3rd, the batch row on the 5th
    assert [s.cost_usd for s in everyone.by_day] == pytest.approx([0.272, 0.812, 0.352, 0.492])
    first, last = days["2026-03-02"], days["2026-03-05"]
    assert first.handed_off == 12 and "low_confidence" not in first.handoffs_by_reason
    assert last.handoffs_by_reason["low_confidence"] == 2


def test_by_language_and_by_tenant(everyone: Analytics) -> None:
    languages = {s.key: s for s in everyone.by_language}
    assert [s.key for s in everyone.by_language] == ["en", "de", "es", "und"]
    assert (languages["en"].conversations, languages["de"].conversations, languages["es"].conversations) == (
        102,
        50,
        50,
    )
    assert languages["en"].cost_usd == pytest.approx(1.164)  # 2 × 0.332 + the legacy row
    assert languages["und"].cost_usd == pytest.approx(0.1) and languages["und"].questions == 0
    tenants = {s.key: s for s in everyone.by_tenant}
    assert list(tenants) == ["acme", "globex"]
    assert tenants["acme"].conversations == tenants["globex"].conversations == 101
    assert tenants["acme"].cost_usd == pytest.approx(1.164)  # the legacy row's key is acme
    assert tenants["globex"].cost_usd == pytest.approx(0.764)


def test_top_intents(everyone: Analytics) -> None:
    assert [(i.intent, i.answers) for i in everyone.top_intents] == [
        ("refund", 88),
        ("shipping", 50),
        ("order_status", 32),
        ("human", 16),
        ("payment", 16),
    ]
    assert everyone.top_intents[0].share == pytest.approx(88 / 202, abs=1e-6)


def test_content_gaps_group_spellings_and_rank_by_count(everyone: Analytics) -> None:
    gaps = everyone.content_gaps
    assert len(gaps) == 10
    first = gaps[0]
    assert (first.tenant, first.language, first.text, first.count) == (
        "acme",
        "en",
        "Do you ship to Mars?",
        5,
    )
    assert first.reasons == {"low_confidence": 1, "no_relevant_passages": 4}
    # the lowconf one, last of its day: hour 14, after the 11 kinds and the 3 extras
    assert first.last_asked == datetime(2026, 3, 5, 14, 7, tzinfo=UTC)
    assert (gaps[1].tenant, gaps[1].count) == ("globex", 5)
    refund = next(g for g in gaps if g.tenant == "acme" and g.text == "Where is my refund?")
    assert (refund.count, refund.reasons) == (4, {"negative_feedback": 4})
    spanish = next(g for g in gaps if g.language == "es")
    assert spanish.text == "¿Dónde está mi reembolso?" and spanish.reasons == {"negative_feedback": 4}
    assert {g.count for g in gaps[2:]} == {4}
    assert [g.tenant for g in gaps].count("acme") == 6  # acme's six gaps rank before globex's on ties


def test_one_tenant_sees_only_its_own(engine: Engine) -> None:
    globex = report(engine, SPAN, "globex", top=20)
    assert globex.tenant == "globex"
    assert globex.totals.conversations == 101 and globex.totals.cost_usd == pytest.approx(0.764)
    assert [s.key for s in globex.by_tenant] == ["globex"]
    assert [s.key for s in globex.by_language] == ["en", "es", "und"]
    assert {g.tenant for g in globex.content_gaps} == {"globex"} and len(globex.content_gaps) == 6
    assert report(engine, SPAN, "nobody").totals.questions == 0


def test_the_range_is_utc_days_from_inclusive_to_exclusive(engine: Engine) -> None:
    before = report(engine, DateRange.of(date(2026, 3, 1), date(2026, 3, 2)))
    # two conversations on the evening of the 1st in UTC, one written with a +02:00 offset
    assert before.totals.conversations == 2 and before.totals.auto_resolved == 2
    assert before.totals.cost_usd == pytest.approx(0.02)
    after = report(engine, DateRange.of(date(2026, 3, 6), date(2026, 3, 7)))
    assert after.totals.conversations == 1 and after.totals.thumbs_down == 1
    assert after.content_gaps[0].reasons == {"negative_feedback": 1}
    nothing = report(engine, DateRange.of(date(2025, 1, 1), date(2025, 1, 2))).totals
    assert nothing.questions == 0 and nothing.auto_resolved_rate is None and nothing.cost_per_answer is None


def test_ranges_that_make_no_sense_are_refused() -> None:
    with pytest.raises(InvalidRangeError, match="after"):
        DateRange.of(date(2026, 3, 2), date(2026, 3, 2))
    with pytest.raises(InvalidRangeError, match="366"):
        DateRange.of(date(2025, 1, 1), date(2026, 1, 3))
    assert len(DateRange.of(date(2024, 1, 1), date(2025, 1, 1)).days()) == 366  # a leap year fits


def test_a_missing_sqlite_file_is_reported_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(AnalyticsUnavailableError, match="no database"):
        reader_engine(DatabaseSettings(sqlite_path=missing))
    assert not missing.exists()


def test_a_database_without_the_records_tables_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    engine = reader_engine(DatabaseSettings(sqlite_path=path))
    try:
        with pytest.raises(AnalyticsUnavailableError, match="could not be read"):
            report(engine, SPAN)
    finally:
        engine.dispose()


def test_a_conversation_an_agent_answered_is_not_auto_resolved(tmp_path: Path) -> None:
    """A takeover without a handoff (an agent took the conversation and replied) leaves no
    ``handoffs`` row: the agent's message is what says a person resolved it."""
    path = tmp_path / "faqstream.db"
    database = LedgerDatabase.sqlite(path)
    database.migrate()
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with database.engine.begin() as connection:
        seeder = Seeder(connection)
        seeder.conversation("acme", "en", "resolved", at)
        seeder.conversation("acme", "en", "resolved", at)
        taken = connection.execute(select(conversations.c.id).order_by(conversations.c.id)).scalars().first()
        connection.execute(
            messages.insert(),
            {
                "message_id": "msg_agent",
                "conversation": taken,
                "tenant": "acme",
                "created_at": at.replace(hour=10),
                "role": "agent",
                "text": "I have refunded it.",
                "mode": "agent",
                "author": "Ana",
            },
        )
    database.close()
    reader = sqlite_reader(path)
    try:
        totals = report(reader, DateRange.of(date(2026, 3, 2), date(2026, 3, 3))).totals
    finally:
        reader.dispose()
    assert (totals.conversations, totals.auto_resolved, totals.handed_off) == (2, 1, 0)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_reply_counts_with_its_latest_feedback_only(kind: str, tmp_path: Path) -> None:
    """Feedback given again changes the customer's mind (the web chat sends a thumbs down, then the
    same with its comment): the figures count the latest per reply, as the conversation shows it."""
    when = datetime(2026, 3, 3, 12, tzinfo=UTC)
    with migrated_database(kind, tmp_path, "latest_feedback") as database:
        changed = seed_conversation(database.engine, "changed", updated_at=when)
        twice = seed_conversation(database.engine, "twice", updated_at=when)
        given = [  # (conversation, its reply, thumbs, rating, comment), oldest first
            (changed, "changed-m0", 1, 5, None),
            (changed, "changed-m0", -1, None, None),
            (twice, "twice-m0", -1, None, None),
            (twice, "twice-m0", -1, None, "it did not answer my question"),
        ]
        with database.engine.begin() as connection:
            connection.execute(
                feedback.insert(),
                [
                    {
                        "message_id": reply,
                        "conversation": cid,
                        "tenant": "acme",
                        "created_at": when,
                        "thumbs": thumbs,
                        "rating": rating,
                        "comment": comment,
                    }
                    for cid, reply, thumbs, rating, comment in given
                ],
            )
        totals = report(database.engine, SPAN, top=10).totals
    assert (totals.thumbs_up, totals.thumbs_down) == (0, 2)
    assert sum(totals.ratings.values()) == 0  # the 5 stars were taken back
