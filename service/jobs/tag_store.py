"""The database side of ``faqstream batch tag``: which conversations to tag, the job rows
(``batch_jobs``) and storing a job's results (``conversation_tags`` and the usage ledger).

Exactly once rests on three writes, each one transaction:

1. ``reserve`` picks the conversations and inserts the job (status ``preparing``, its ``custom_ids``)
   *before* anything is sent, so a conversation in a job in flight is never picked again;
   a conversation needs a tag when it has none, or when it was updated after the job that made its
   tag was created (it went on after its transcript was read: tagged again, the tag replaced);
2. ``mark_submitted`` stores the batch id the API returned (``submitted``);
3. ``collect`` stores every tag, the failures and the ledger rows *and* moves the job to
   ``collected`` — guarded by the job still being ``submitted``, so a run killed half-way stored
   nothing and the next run stores it all, and two runs can never both store it.

On PostgreSQL ``reserve`` holds an advisory lock so concurrent runs pick disjoint conversations; on
SQLite every transaction is ``BEGIN IMMEDIATE`` already (``service.usage.database``).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from service.jobs.tag_prompt import ConversationTag, Line
from service.usage.records import UsageRecord
from service.usage.schema import batch_jobs, conversation_tags, conversations, messages, usage_ledger

KIND = "tag"
IN_FLIGHT = ("preparing", "submitted")
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class Conversation:
    """One conversation to tag: its pseudonym (the request's ``custom_id``) and what the prompt
    needs."""

    id: str
    tenant: str
    language: str | None
    handoff_reason: str | None
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Job:
    id: str
    status: str
    batch_id: str | None
    created_at: datetime
    requests: int
    custom_ids: tuple[str, ...]
    failures: dict[str, str] | None = None  # set when collected (or failed)


@dataclass(frozen=True)
class Stored:
    """A job's results as stored: the tags, the failures (custom_id → why), and the ledger rows."""

    tags: dict[str, ConversationTag]
    failures: dict[str, str]
    usage: list[UsageRecord]


def new_job_id() -> str:
    return f"job_{uuid.uuid4().hex}"


def _job(row: Any) -> Job:
    ids = tuple(json.loads(row.custom_ids or "[]"))
    failures = json.loads(row.failures) if row.failures else None
    return Job(row.id, row.status, row.batch_id, row.created_at, int(row.requests), ids, failures)


_tag_jobs = batch_jobs.alias("tag_jobs")


def _needing_tags(*columns: Any) -> Select[Any]:
    """``columns`` of the conversations with messages that need a tag: none yet, or one made from an
    earlier transcript — the conversation was updated after the job that tagged it was created (its
    transcript is read after that). A tag without its job row counts from its ``tagged_at``."""
    tagged_from = func.coalesce(_tag_jobs.c.created_at, conversation_tags.c.tagged_at)
    stale: ColumnElement[bool] = or_(
        conversation_tags.c.conversation.is_(None), conversations.c.updated_at > tagged_from
    )
    return (
        select(*columns)
        .select_from(
            conversations.outerjoin(
                conversation_tags, conversation_tags.c.conversation == conversations.c.id
            ).outerjoin(_tag_jobs, _tag_jobs.c.id == conversation_tags.c.job_id)
        )
        .where(stale, exists().where(messages.c.conversation == conversations.c.id))
    )


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


class TagStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------ choosing and reserving
    def _excluded(self, connection: Connection, max_attempts: int) -> set[str]:
        """Conversations in a job in flight, and those whose results failed ``max_attempts`` times."""
        rows = connection.execute(
            select(batch_jobs.c.status, batch_jobs.c.custom_ids, batch_jobs.c.failures).where(
                batch_jobs.c.kind == KIND
            )
        )
        busy: set[str] = set()
        failed: Counter[str] = Counter()
        for row in rows:
            if row.status in IN_FLIGHT:
                busy.update(json.loads(row.custom_ids or "[]"))
            elif row.failures:
                failed.update(json.loads(row.failures).keys())
        return busy | {cid for cid, n in failed.items() if n >= max_attempts}

    def reserve(
        self, *, since: datetime, idle_before: datetime, limit: int, max_attempts: int, now: datetime
    ) -> Job | None:
        """Pick up to ``limit`` finished conversations (updated in ``[since, idle_before]``, needing a
        tag — none, or one older than their last update —, not in a job in flight, not failed
        ``max_attempts`` times) and insert their job, ``preparing``. None when there is nothing to tag."""
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('faqstream-batch-tag'))"))
            excluded = self._excluded(connection, max_attempts)
            query = (
                _needing_tags(conversations.c.id)
                .where(conversations.c.updated_at >= since, conversations.c.updated_at <= idle_before)
                .order_by(conversations.c.updated_at, conversations.c.id)
            )
            chosen: list[str] = []
            for (conversation,) in connection.execute(query):
                if conversation not in excluded:
                    chosen.append(conversation)
                    if len(chosen) >= limit:
                        break
            if not chosen:
                return None
            job = Job(new_job_id(), "preparing", None, now, len(chosen), tuple(chosen))
            connection.execute(
                batch_jobs.insert().values(
                    id=job.id,
                    kind=KIND,
                    created_at=now,
                    status=job.status,
                    requests=job.requests,
                    custom_ids=json.dumps(chosen),
                )
            )
        return job

    def not_idle(self, *, since: datetime, idle_before: datetime) -> int:
        """How many conversations needing a tag were updated since ``since`` but after
        ``idle_before``: still open (``BATCH_TAG_IDLE_MINUTES``), left for a later run."""
        query = _needing_tags(func.count()).where(
            conversations.c.updated_at >= since, conversations.c.updated_at > idle_before
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def conversations(self, ids: Sequence[str]) -> list[Conversation]:
        """The conversations with these pseudonyms and their messages in order (missing ones left out)."""
        found: list[Conversation] = []
        with self.engine.connect() as connection:
            for part in _chunks(ids):
                heads = {
                    row.id: row
                    for row in connection.execute(
                        select(
                            conversations.c.id,
                            conversations.c.tenant,
                            conversations.c.language,
                            conversations.c.handoff_reason,
                        ).where(conversations.c.id.in_(part))
                    )
                }
                lines: dict[str, list[Line]] = {cid: [] for cid in heads}
                for row in connection.execute(
                    select(messages.c.conversation, messages.c.role, messages.c.text)
                    .where(messages.c.conversation.in_(part))
                    .order_by(messages.c.conversation, messages.c.id)
                ):
                    lines[row.conversation].append(Line(row.role, row.text))
                for cid in part:
                    if (head := heads.get(cid)) is not None:
                        found.append(
                            Conversation(
                                cid, head.tenant, head.language, head.handoff_reason, tuple(lines[cid])
                            )
                        )
        return found

    def tenants(self, ids: Sequence[str]) -> dict[str, str]:
        """The tenant of each of these conversations that still exists."""
        with self.engine.connect() as connection:
            found: dict[str, str] = {}
            for part in _chunks(ids):
                rows = connection.execute(
                    select(conversations.c.id, conversations.c.tenant).where(conversations.c.id.in_(part))
                )
                found.update((row.id, row.tenant) for row in rows)
            return found

    # ------------------------------------------------------------ the job's life
    def jobs(self, statuses: Sequence[str] | None = None, *, limit: int | None = None) -> list[Job]:
        """Tagging jobs, oldest first (``limit``: the newest ``limit``)."""
        query = select(batch_jobs).where(batch_jobs.c.kind == KIND)
        if statuses is not None:
            query = query.where(batch_jobs.c.status.in_(statuses))
        query = query.order_by(batch_jobs.c.created_at.desc(), batch_jobs.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [_job(row) for row in connection.execute(query)][::-1]

    def claimed_batch_ids(self) -> set[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(batch_jobs.c.batch_id).where(batch_jobs.c.batch_id.is_not(None)))
            return {row.batch_id for row in rows}

    def resize(self, job_id: str, custom_ids: Sequence[str]) -> None:
        """A ``preparing`` job asks for fewer conversations (some no longer exist): before submission."""
        with self.engine.begin() as connection:
            connection.execute(
                update(batch_jobs)
                .where(batch_jobs.c.id == job_id, batch_jobs.c.status == "preparing")
                .values(custom_ids=json.dumps(list(custom_ids)), requests=len(custom_ids))
            )

    def mark_submitted(self, job_id: str, batch_id: str, at: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(batch_jobs)
                .where(batch_jobs.c.id == job_id, batch_jobs.c.status == "preparing")
                .values(batch_id=batch_id, submitted_at=at, status="submitted")
            )

    def mark_failed(self, job_id: str, reason: str, at: datetime) -> None:
        """The API refused the batch: nothing was created; its conversations are free again."""
        with self.engine.begin() as connection:
            row = connection.execute(select(batch_jobs.c.custom_ids).where(batch_jobs.c.id == job_id)).one()
            failures = {cid: reason for cid in json.loads(row.custom_ids or "[]")}
            connection.execute(
                update(batch_jobs)
                .where(batch_jobs.c.id == job_id, batch_jobs.c.status == "preparing")
                .values(status="failed", ended_at=at, failures=json.dumps(failures))
            )

    def collect(
        self,
        job: Job,
        stored: Stored,
        *,
        tenants: dict[str, str],
        ended_at: datetime,
        before_commit: Callable[[], None] = lambda: None,
    ) -> bool:
        """Store a ``submitted`` job's tags (upsert by conversation), failures and ledger rows and mark
        it ``collected``, all in one transaction. False (nothing written) when the job is no longer
        ``submitted``: another run collected it."""
        with self.engine.begin() as connection:
            moved = connection.execute(
                update(batch_jobs)
                .where(batch_jobs.c.id == job.id, batch_jobs.c.status == "submitted")
                .values(status="collected", ended_at=ended_at, failures=json.dumps(stored.failures))
            ).rowcount
            if moved != 1:
                return False
            if stored.tags:
                rows = [
                    {
                        "conversation": cid,
                        "tenant": tenants[cid],
                        "job_id": job.id,
                        "tagged_at": ended_at,
                        "satisfaction": tag.satisfaction,
                        "escalate": int(tag.escalate),
                        "resolved": int(tag.resolved),
                        "reason": tag.reason,
                    }
                    for cid, tag in stored.tags.items()
                ]
                insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
                statement = insert(conversation_tags)
                changed = {k: statement.excluded[k] for k in rows[0] if k != "conversation"}
                connection.execute(
                    statement.on_conflict_do_update(index_elements=["conversation"], set_=changed), rows
                )
            if stored.usage:
                connection.execute(usage_ledger.insert(), [record.row() for record in stored.usage])
            before_commit()
        return True

    # ------------------------------------------------------------ reading back
    def tag_counts(self, job_ids: Sequence[str]) -> dict[str, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(conversation_tags.c.job_id, func.count())
                .where(conversation_tags.c.job_id.in_(job_ids))
                .group_by(conversation_tags.c.job_id)
            )
            return {row[0]: int(row[1]) for row in rows}

    def job_costs(self, job_ids: Sequence[str]) -> dict[str, float]:
        """What each job's requests cost, from the ledger (its rows carry the job id as ``key_id``)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(usage_ledger.c.key_id, func.sum(usage_ledger.c.cost_usd))
                .where(and_(usage_ledger.c.key_id.in_(job_ids), usage_ledger.c.purpose == "batch_tag"))
                .group_by(usage_ledger.c.key_id)
            )
            return {row[0]: float(row[1] or 0.0) for row in rows}
