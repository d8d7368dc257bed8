"""A realistic set of conversation records for the analytics tests, inserted with SQLAlchemy Core
into the real tables (``service.usage.schema``), as the records writer would leave them.

Two tenants — ``acme`` (English, German) and ``globex`` (English, Spanish) — over four UTC days,
2026-03-02 to 2026-03-05. Each (tenant, language, day) cell holds one conversation of each of the
eleven ``KINDS`` plus ``day_index`` extra ``resolved`` ones; each English cell of the last day also
holds one ``lowconf`` conversation. Around them, rows the range must leave out (the evening of
2026-03-01 in UTC, written with a +02:00 offset too, and 2026-03-06 00:00 UTC), a ledger row from
before tenants (``tenant`` NULL, its key the tenant) and a batch-tagging row without a message.

The tests state their expectations as numbers worked out by hand from the table below (see
tests/integration/test_analytics.py), never by re-running this arithmetic.

kind       reply (mode; cache, status)  handoff reason        feedback      tag    ledger
resolved   generative                   -                     +1, rating 5  5, 1   answer 0.010
exact      cached; exact                -                     -             -      -
semantic   cached; semantic             -                     -             -      -
gap        extractive notice            no_relevant_passages  -             -      routing 0.001
unhappy    generative                   -                     -1, rating 1  1, 0   answer 0.012
human      extractive notice            customer_request      -             -      -
smalltalk  smalltalk                    -                     -             -      -
untagged   generative                   -                     rating 3      2, 0   answer 0.010
broken     generative; broken           -                     -             -      answer 0.005
followup   generative ×2 (2 questions)  -                     -             -      answer 0.010 ×2
notindocs  generative                   not_in_documents      -             -      answer 0.010
lowconf    extractive notice            low_confidence        -             -      -

(tag: satisfaction, resolved.) A notice is an extractive reply that only hands over or says nothing
was found: it cites nothing (``citations`` NULL), as the service records it; every other reply of
a knowledge mode cites a passage. Ledger tokens (input/cache read/cache creation/output): answer 0.010
100/300/0/50, except untagged's 100/0/300/50; unhappy 120/300/0/60; broken 100/300/0/10; routing
20/0/0/5. Every kind asks one question but followup (two). Intents: refund (resolved, unhappy,
untagged, broken), shipping (exact, semantic, gap, lowconf), order_status (followup), human,
payment (notindocs); smalltalk has none.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection

from service.usage.database import LedgerDatabase
from service.usage.schema import conversation_tags, conversations, feedback, handoffs, messages, usage_ledger

FIRST_DAY = date(2026, 3, 2)
DAYS = 4
CELLS = {"acme": ("en", "de"), "globex": ("en", "es")}
MODEL = "claude-sonnet-4-6"
CITATIONS = '[{"index": 1, "doc_id": "shipping", "title": "Shipping", "source": "shipping.md", "score": 0.8}]'

GAP_TEXTS = {  # a different spelling each day: one content gap once normalised
    "en": ["Do you ship to Mars?", "do you ship to mars", "Do you  ship to Mars ?", "DO YOU SHIP TO MARS?!"],
    "de": [
        "Liefern Sie zum Mars?",
        "liefern sie zum mars",
        "Liefern Sie zum  Mars ?",
        "LIEFERN SIE ZUM MARS?",
    ],
    "es": ["¿Envían a Marte?", "¿envían a marte", "Envían a Marte?", "¿ENVÍAN A MARTE?"],
}
UNHAPPY_TEXTS = {
    "en": "Where is my refund?",
    "de": "Wo ist meine Erstattung?",
    "es": "¿Dónde está mi reembolso?",
}
NOT_IN_DOCS_TEXTS = {
    "en": "Can I pay with gold bars?",
    "de": "Kann ich mit Goldbarren zahlen?",
    "es": "¿Puedo pagar con lingotes de oro?",
}


@dataclass(frozen=True)
class Spend:
    purpose: str
    cost: float
    input_tokens: int
    cache_read: int
    cache_creation: int
    output_tokens: int


ANSWER = Spend("answer", 0.010, 100, 300, 0, 50)


@dataclass(frozen=True)
class Reply:
    mode: str
    intent: str | None
    answer_cache: str | None = None
    status: str = "complete"
    handoff: str | None = None
    spend: Spend | None = None
    cited: bool = True  # False: a notice (a handoff, or nothing found), which cites nothing


@dataclass(frozen=True)
class Kind:
    replies: tuple[Reply, ...]
    thumbs: int | None = None
    rating: int | None = None
    tag: tuple[int, int] | None = None  # satisfaction, resolved


KINDS = {
    "resolved": Kind((Reply("generative", "refund", spend=ANSWER),), thumbs=1, rating=5, tag=(5, 1)),
    "exact": Kind((Reply("cached", "shipping", answer_cache="exact"),)),
    "semantic": Kind((Reply("cached", "shipping", answer_cache="semantic"),)),
    "gap": Kind(
        (
            Reply(
                "extractive",
                "shipping",
                handoff="no_relevant_passages",
                spend=Spend("routing", 0.001, 20, 0, 0, 5),
                cited=False,
            ),
        )
    ),
    "unhappy": Kind(
        (Reply("generative", "refund", spend=Spend("answer", 0.012, 120, 300, 0, 60)),),
        thumbs=-1,
        rating=1,
        tag=(1, 0),
    ),
    "human": Kind((Reply("extractive", "human", handoff="customer_request", cited=False),)),
    "smalltalk": Kind((Reply("smalltalk", None),)),
    "untagged": Kind(
        (Reply("generative", "refund", spend=Spend("answer", 0.010, 100, 0, 300, 50)),), rating=3, tag=(2, 0)
    ),
    "broken": Kind(
        (Reply("generative", "refund", status="broken", spend=Spend("answer", 0.005, 100, 300, 0, 10)),)
    ),
    "followup": Kind(
        (Reply("generative", "order_status", spend=ANSWER), Reply("generative", "order_status", spend=ANSWER))
    ),
    "notindocs": Kind((Reply("generative", "payment", handoff="not_in_documents", spend=ANSWER),)),
    "lowconf": Kind((Reply("extractive", "shipping", handoff="low_confidence", cited=False),)),
}
BASE_KINDS = [k for k in KINDS if k != "lowconf"]


class Seeder:
    """Inserts conversations; ``message_ids`` remembers each cell's first message (for edge rows)."""

    def __init__(self, connection: Connection) -> None:
        self.db = connection
        self.ids = itertools.count(1)
        self.first_message: dict[tuple[str, str], str] = {}

    def conversation(
        self, tenant: str, language: str, kind_name: str, at: datetime, day_index: int = 0
    ) -> None:
        kind = KINDS[kind_name]
        cid = f"conv-{tenant}-{language}-{next(self.ids)}"
        self.db.execute(
            conversations.insert(),
            {
                "id": cid,
                "tenant": tenant,
                "key_id": f"key_{tenant}",
                "started_at": at,
                "updated_at": at + timedelta(minutes=5),
                "language": language,
                "state": "agent" if any(r.handoff for r in kind.replies) else "bot",
                "questions": len(kind.replies),
                "handoff_reason": next((r.handoff for r in kind.replies if r.handoff), None),
            },
        )
        for n, reply in enumerate(kind.replies):
            asked = at + timedelta(minutes=n)
            mid = f"msg-{next(self.ids)}"
            self.first_message.setdefault((tenant, language), mid)
            text = self._question(kind_name, language, day_index)
            row: dict[str, Any] = {
                "message_id": mid,
                "conversation": cid,
                "tenant": tenant,
                "language": language,
            }
            self.db.execute(messages.insert(), {**row, "created_at": asked, "role": "customer", "text": text})
            self.db.execute(
                messages.insert(),
                {
                    **row,
                    "created_at": asked + timedelta(seconds=2),
                    "role": "assistant",
                    "text": "the reply",
                    "mode": reply.mode,
                    "model": MODEL if reply.mode == "generative" else None,
                    "intent": reply.intent,
                    "citations": CITATIONS if reply.cited and reply.mode != "smalltalk" else None,
                    "handoff_reason": reply.handoff,
                    "answer_cache": reply.answer_cache,
                    "status": reply.status,
                },
            )
            if reply.handoff:
                self.db.execute(
                    handoffs.insert(),
                    {
                        "conversation": cid,
                        "message_id": mid,
                        "tenant": tenant,
                        "created_at": asked + timedelta(seconds=3),
                        "reason": reply.handoff,
                        "summary": "the customer asked something the documents do not cover",
                    },
                )
            if reply.spend:
                self.spend(
                    tenant, f"key_{tenant}", cid, mid, spend=reply.spend, at=asked + timedelta(seconds=2)
                )
            if kind.thumbs is not None or kind.rating is not None:
                self.db.execute(
                    feedback.insert(),
                    {
                        "message_id": mid,
                        "conversation": cid,
                        "tenant": tenant,
                        "created_at": asked + timedelta(minutes=1),
                        "thumbs": kind.thumbs,
                        "rating": kind.rating,
                    },
                )
        if kind.tag is not None:
            self.db.execute(
                conversation_tags.insert(),
                {
                    "conversation": cid,
                    "tenant": tenant,
                    "job_id": "job-1",
                    "tagged_at": at + timedelta(days=1),
                    "satisfaction": kind.tag[0],
                    "escalate": 1 - kind.tag[1],
                    "resolved": kind.tag[1],
                },
            )

    @staticmethod
    def _question(kind_name: str, language: str, day_index: int) -> str:
        if kind_name == "gap":
            return GAP_TEXTS[language][day_index % DAYS]
        if kind_name == "lowconf":
            return GAP_TEXTS[language][0]
        if kind_name == "unhappy":
            return UNHAPPY_TEXTS[language]
        if kind_name == "notindocs":
            return NOT_IN_DOCS_TEXTS[language]
        if kind_name == "smalltalk":
            return "hello"
        return f"question about {kind_name}"

    def spend(
        self, tenant: str | None, key_id: str, cid: str, mid: str | None, *, spend: Spend, at: datetime
    ) -> None:
        self.db.execute(
            usage_ledger.insert(),
            {
                "created_at": at,
                "day": at.astimezone(UTC).date(),
                "key_id": key_id,
                "tenant": tenant,
                "conversation_id": f"ledger-{cid}",  # the ledger's own pseudonym: never joined
                "message_id": mid,
                "model": MODEL,
                "input_tokens": spend.input_tokens,
                "output_tokens": spend.output_tokens,
                "cache_read_input_tokens": spend.cache_read,
                "cache_creation_input_tokens": spend.cache_creation,
                "cost_usd": spend.cost,
                "purpose": spend.purpose,
            },
        )


def seed_database(database: LedgerDatabase) -> None:
    """Migrate ``database`` (idempotent) and insert the whole set in one transaction."""
    database.migrate()
    with database.engine.begin() as connection:
        seed(connection)


def seed(connection: Connection) -> None:
    """The whole set (see the module docstring), in one transaction of the caller's."""
    seeder = Seeder(connection)
    for day_index in range(DAYS):
        day = FIRST_DAY + timedelta(days=day_index)
        for tenant, languages in CELLS.items():
            for language in languages:
                names = BASE_KINDS + ["resolved"] * day_index
                if language == "en" and day_index == DAYS - 1:
                    names.append("lowconf")
                for hour, name in enumerate(names):
                    at = datetime(day.year, day.month, day.day, hour, 7, tzinfo=UTC)
                    seeder.conversation(tenant, language, name, at, day_index)
    # outside [2026-03-02, 2026-03-06): the evening before (once written in +02:00), the day after
    seeder.conversation("acme", "en", "resolved", datetime(2026, 3, 1, 23, 57, tzinfo=UTC))
    seeder.conversation(
        "acme", "en", "resolved", datetime(2026, 3, 2, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    )
    seeder.conversation("globex", "es", "unhappy", datetime(2026, 3, 6, 0, 0, tzinfo=UTC))
    # a ledger row from before tenants (its key is the tenant) on an English acme message, and a
    # batch-tagging row that belongs to no message
    old = Spend("answer", 0.5, 0, 0, 0, 0)
    seeder.spend(
        None,
        "acme",
        "legacy",
        seeder.first_message[("acme", "en")],
        spend=old,
        at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
    )
    tagging = Spend("batch_tag", 0.1, 1000, 0, 0, 100)
    seeder.spend(
        "globex", "key_globex", "batch", None, spend=tagging, at=datetime(2026, 3, 5, 22, tzinfo=UTC)
    )


def seed_volume(connection: Connection, first_day: date, days: int, repeat: int) -> int:
    """The same mix at volume (benchmarks): ``repeat`` times each cell's conversations a day, for
    ``days`` days from ``first_day``. Returns the number of conversations."""
    seeder = Seeder(connection)
    count = 0
    for day_index in range(days):
        day = first_day + timedelta(days=day_index)
        for tenant, languages in CELLS.items():
            for language, copy in itertools.product(languages, range(repeat)):
                names = BASE_KINDS + ["resolved"] * (day_index % DAYS)
                for hour, name in enumerate(names):
                    at = datetime(day.year, day.month, day.day, hour, copy % 60, tzinfo=UTC)
                    seeder.conversation(tenant, language, name, at, day_index)
                    count += 1
    return count
