"""The analytics queries: SQLAlchemy Core over the records tables and the usage ledger, the same
statements on SQLite and PostgreSQL, all run on one connection in one read snapshot
(``reader.py``) so the figures agree with each other.

Each fact query groups by (UTC day, language, tenant) — plus what it splits by — inside the
database and returns additive counts; ``figures.py`` rolls them up. Per-row expressions that need
a correlated subquery (a message's language, whether it got negative feedback) are computed in an
inner select and grouped by an outer one, which PostgreSQL requires and SQLite accepts.

What is counted when: messages and feedback by their own time, conversations (resolution,
handoffs, tags) by when they started, the ledger by its UTC ``day``. The ledger is joined to a
language through ``message_id`` (its ``conversation_id`` is a pseudonym of its own).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Text

from service.caching.keys import normalise_question
from service.records.analytics.figures import (
    GAP_REASONS,
    KNOWLEDGE_MODES,
    NEGATIVE_RATING,
    UNKNOWN_LANGUAGE,
    Cells,
    ContentGap,
    DateRange,
)
from service.usage.schema import conversation_tags, conversations, feedback, handoffs, messages, usage_ledger


class utc_day(FunctionElement[str]):  # noqa: N801 (an SQL function, named like one)
    """``YYYY-MM-DD`` of a ``UtcTimestamp`` column: its text's first ten characters on SQLite (stored
    as UTC ISO 8601), ``to_char`` in UTC on PostgreSQL."""

    type = Text()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(utc_day, "postgresql")
def _utc_day_postgres(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _language(message_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The language recorded on the message ``message_id`` names (``und``: none)."""
    found = (
        select(messages.c.language)
        .where(messages.c.message_id == message_id, messages.c.language.is_not(None))
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(found, UNKNOWN_LANGUAGE)


def _is_negative() -> ColumnElement[bool]:
    """A feedback row that is negative: a thumbs down, or a rating of 1 or 2."""
    return or_(feedback.c.thumbs < 0, feedback.c.rating <= NEGATIVE_RATING)


def _is_latest() -> ColumnElement[bool]:
    """A feedback row that is the latest on its reply: a customer who gives feedback again changes
    their mind (the web chat sends a thumbs down, then the same with its comment), so only the
    latest counts, as the conversation shows it."""
    later = feedback.alias("later")
    return not_(
        exists().where(
            later.c.message_id == feedback.c.message_id,
            later.c.conversation == feedback.c.conversation,
            later.c.id > feedback.c.id,
        )
    )


def _from_documents() -> ColumnElement[bool]:
    """A reply that answered from the knowledge base: a knowledge mode (generative, extractive,
    cached) and a passage cited. A notice — the reply that a person takes over, or that nothing
    relevant was found — is recorded in the mode it was sent in (extractive) but cites nothing."""
    m = messages.c
    return and_(m.mode.in_(KNOWLEDGE_MODES), m.citations.is_not(None), m.citations != "[]")


def _answers(a: Any, q: Any) -> ColumnElement[bool]:
    """Reply row ``a`` answers customer row ``q``: it names it (``reply_to``), or — rows recorded
    before replies named their question — it shares its ``message_id``."""
    return or_(a.reply_to == q.message_id, and_(a.reply_to.is_(None), a.message_id == q.message_id))


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


class AnalyticsQueries:
    """The queries for one range and, optionally, one tenant, on one connection."""

    def __init__(self, connection: Connection, span: DateRange, tenant: str | None) -> None:
        self.db = connection
        self.span = span
        self.tenant = tenant

    def _between(self, column: ColumnElement[Any], tenant: ColumnElement[Any]) -> ColumnElement[bool]:
        """``column`` in the range (a timestamp) and ``tenant`` the one asked for (if any)."""
        in_range = and_(column >= self.span.since, column < self.span.until)
        return in_range if self.tenant is None else and_(in_range, tenant == self.tenant)

    def _cells(self, cells: Cells, query: Select[Any], measure: Any) -> None:
        """Run ``query`` (day, language, tenant, *split, count…) and add ``measure(row)`` to its cell."""
        for row in self.db.execute(query):
            cell = (_day(row[0]), row[1] or UNKNOWN_LANGUAGE, row[2])
            cells.setdefault(cell, Counter()).update(measure(row))

    def messages(self, cells: Cells) -> Counter[str]:
        """Questions and replies into ``cells``; returns replies by intent."""
        m = messages.c
        where = self._between(m.created_at, m.tenant)
        language = func.coalesce(m.language, UNKNOWN_LANGUAGE)
        questions = (
            select(utc_day(m.created_at), language, m.tenant, func.count())
            .where(where, m.role == "customer")
            .group_by(utc_day(m.created_at), language, m.tenant)
        )
        self._cells(cells, questions, lambda r: {"questions": r[3]})
        rows = (
            select(
                utc_day(m.created_at).label("day"),
                language.label("language"),
                m.tenant,
                m.mode,
                m.answer_cache,
                m.status,
                _flag(_from_documents()).label("knowledge"),
            )
            .where(where, m.role == "assistant")
            .subquery()
        )
        keys = (rows.c.day, rows.c.language, rows.c.tenant, rows.c.mode, rows.c.answer_cache, rows.c.status)
        replies = select(*keys, rows.c.knowledge, func.count()).group_by(*keys, rows.c.knowledge)

        def reply(r: Any) -> Counter[str]:
            mode, cached, status, knowledge, n = r[3] or "unknown", r[4], r[5] or "complete", r[6], r[7]
            out = Counter({"answers": n, f"mode:{mode}": n, f"status:{status}": n})
            if knowledge:
                out["knowledge_answers"] += n
                if cached:
                    out[f"cache:{cached}"] += n
            return out

        self._cells(cells, replies, reply)
        intents = select(m.intent, func.count()).where(where, m.role == "assistant", m.intent.is_not(None))
        return Counter({r[0]: r[1] for r in self.db.execute(intents.group_by(m.intent))})

    def conversations(self, cells: Cells) -> None:
        """Conversations, their resolution, handoffs by reason and tags, by when they started."""
        # Uncorrelated IN subqueries (each evaluated once, hashed), limited to rows since the range
        # began: what happens in a conversation comes after it started.
        c, m, f, t = conversations.c, messages.c, feedback.c, conversation_tags.c
        since = self.span.since
        answered = c.id.in_(
            select(m.conversation).where(
                m.created_at >= since,
                m.role == "assistant",
                _from_documents(),
                func.coalesce(m.status, "complete") == "complete",
            )
        )
        handed = c.id.in_(select(handoffs.c.conversation).where(handoffs.c.created_at >= since))
        # An agent replied (a takeover without a handoff included): a person resolved it, not the bot.
        human = c.id.in_(select(m.conversation).where(m.created_at >= since, m.role == "agent"))
        negative = c.id.in_(select(f.conversation).where(f.created_at >= since, _is_negative(), _is_latest()))
        unresolved = c.id.in_(select(t.conversation).where(t.resolved == 0))
        resolved = and_(answered, not_(handed), not_(human), not_(negative), not_(unresolved))
        where = self._between(c.started_at, c.tenant)
        day, language = utc_day(c.started_at), func.coalesce(c.language, UNKNOWN_LANGUAGE)
        inner = select(
            day.label("day"),
            language.label("language"),
            c.tenant.label("tenant"),
            _flag(resolved).label("resolved"),
            _flag(handed).label("handed"),
        ).where(where)
        rows = inner.subquery()
        started = select(
            rows.c.day,
            rows.c.language,
            rows.c.tenant,
            func.count(),
            func.sum(rows.c.resolved),
            func.sum(rows.c.handed),
        ).group_by(rows.c.day, rows.c.language, rows.c.tenant)
        self._cells(
            cells,
            started,
            lambda r: {"conversations": r[3], "auto_resolved": r[4] or 0, "handed_off": r[5] or 0},
        )
        h = handoffs.c
        by_reason = (
            select(day, language, c.tenant, h.reason, func.count(func.distinct(c.id)))
            .select_from(conversations.join(handoffs, h.conversation == c.id))
            .where(where)
            .group_by(day, language, c.tenant, h.reason)
        )
        self._cells(cells, by_reason, lambda r: {f"reason:{r[3]}": r[4]})
        tagged = (
            select(day, language, c.tenant, t.satisfaction, func.count())
            .select_from(conversations.join(conversation_tags, t.conversation == c.id))
            .where(where)
            .group_by(day, language, c.tenant, t.satisfaction)
        )
        self._cells(cells, tagged, lambda r: {f"satisfaction:{r[3]}": r[4]})

    def feedback(self, cells: Cells) -> None:
        f = feedback.c
        rows = (
            select(
                utc_day(f.created_at).label("day"),
                _language(f.message_id).label("language"),
                f.tenant,
                f.thumbs,
                f.rating,
            )
            .where(self._between(f.created_at, f.tenant), _is_latest())
            .subquery()
        )
        keys = (rows.c.day, rows.c.language, rows.c.tenant, rows.c.thumbs, rows.c.rating)
        query = select(*keys, func.count()).group_by(*keys)

        def given(r: Any) -> Counter[str]:
            thumbs, rating, n = r[3], r[4], r[5]
            out: Counter[str] = Counter()
            if thumbs is not None:
                out["thumbs_up" if thumbs > 0 else "thumbs_down"] += n
            if rating is not None:
                out[f"rating:{rating}"] += n
            return out

        self._cells(cells, query, given)

    def ledger(self, cells: Cells) -> None:
        u = usage_ledger.c
        tenant = func.coalesce(u.tenant, u.key_id)  # rows from before tenants: the key was the tenant
        where = and_(u.day >= self.span.start, u.day < self.span.end)
        if self.tenant is not None:
            where = and_(where, tenant == self.tenant)
        rows = (
            select(
                u.day.label("day"),
                _language(u.message_id).label("language"),
                tenant.label("tenant"),
                u.purpose,
                u.input_tokens,
                u.output_tokens,
                u.cache_read_input_tokens,
                u.cache_creation_input_tokens,
                u.cost_usd,
            )
            .where(where)
            .subquery()
        )
        keys = (rows.c.day, rows.c.language, rows.c.tenant, rows.c.purpose)
        sums = (
            rows.c.input_tokens,
            rows.c.output_tokens,
            rows.c.cache_read_input_tokens,
            rows.c.cache_creation_input_tokens,
            rows.c.cost_usd,
        )
        query = select(*keys, *(func.sum(s) for s in sums)).group_by(*keys)

        def spent(r: Any) -> Counter[str]:
            cost = float(r[8] or 0)
            measures = ("input_tokens", "output_tokens", "cache_read", "cache_creation")
            out = Counter({name: int(r[4 + i] or 0) for i, name in enumerate(measures)})
            out.update({"cost_usd": cost, f"cost:{r[3]}": cost})
            return out

        self._cells(cells, query, spent)

    def gaps(self, top: int) -> list[ContentGap]:
        """Customer questions whose reply handed off for a gap reason, or that got negative
        feedback, grouped by tenant and normalised text; the ``top`` most asked."""
        question, reply = messages.alias("q"), messages.alias("a")
        q, a = question.c, reply.c
        reason = case((a.handoff_reason.in_(GAP_REASONS), a.handoff_reason), else_=literal(None))
        # Feedback is given on the reply's id (on rows before reply_to, the question's too).
        rated = func.coalesce(a.message_id, q.message_id)
        negative = exists().where(feedback.c.message_id == rated, _is_negative(), _is_latest())
        rows = (
            select(
                q.tenant,
                func.coalesce(q.language, UNKNOWN_LANGUAGE).label("language"),
                q.text,
                reason.label("reason"),
                _flag(negative).label("negative"),
                q.created_at,
            )
            .select_from(question.outerjoin(reply, and_(_answers(a, q), a.role == "assistant")))
            .where(self._between(q.created_at, q.tenant), q.role == "customer")
            .where(or_(a.handoff_reason.in_(GAP_REASONS), negative))
            .subquery()
        )
        keys = (rows.c.tenant, rows.c.language, rows.c.text, rows.c.reason, rows.c.negative)
        query = select(*keys, func.count(), func.max(rows.c.created_at)).group_by(*keys)
        merged: dict[tuple[str, str], _Gap] = {}
        for row in self.db.execute(query):
            merged.setdefault((row[0], normalise_question(row[2])), _Gap()).add(row)
        ranked = sorted(merged.items(), key=lambda kv: (-kv[1].count, kv[0]))[:top]
        return [gap.result(tenant) for (tenant, _), gap in ranked]


class _Gap:
    """One normalised question's tally while the gap rows are merged."""

    def __init__(self) -> None:
        self.count = 0
        self.texts: Counter[str] = Counter()
        self.languages: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.last: datetime | None = None

    def add(self, row: Any) -> None:
        """One grouped row: tenant, language, text, gap reason, negative feedback, count, last asked."""
        _, language, text, reason, negative, n, last = row
        self.count += n
        self.texts[text] += n
        self.languages[language] += n
        if reason:
            self.reasons[reason] += n
        if negative:
            self.reasons["negative_feedback"] += n
        at = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
        self.last = at if self.last is None else max(self.last, at)

    def result(self, tenant: str) -> ContentGap:
        assert self.last is not None
        return ContentGap(
            text=min(self.texts, key=lambda t: (-self.texts[t], t)),
            tenant=tenant,
            language=min(self.languages, key=lambda lang: (-self.languages[lang], lang)),
            count=self.count,
            reasons=dict(sorted(self.reasons.items())),
            last_asked=self.last,
        )
