"""What the analytics report says, and how additive counts become it.

The queries (``queries.py``) return *cells*: for each (UTC day, language, tenant) a ``Counter`` of
additive measures (counts, token sums, cost). Everything here is computed from sums of cells, so
the totals, each day, each language and each tenant are the same arithmetic over different cells:
a rate is always a ratio of two sums, never an average of rates. Definitions: docs/analytics.md.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, Field

from knowledge.errors import FaqstreamError

MAX_DAYS = 366
UNKNOWN_LANGUAGE = "und"  # ISO 639-2 "undetermined": no language recorded
# Replies that come from the knowledge base (or its answer cache): what "answered" means.
KNOWLEDGE_MODES = ("generative", "extractive", "cached")
# A reply handed off for one of these means the documents did not answer the question.
GAP_REASONS = ("no_relevant_passages", "low_confidence", "not_in_documents")
NEGATIVE_RATING = 2  # a rating at or under this is negative feedback (CSAT: 1–2 dissatisfied)
SATISFIED_RATING = 4  # CSAT counts ratings at or over this as satisfied

Cell = tuple[str, str, str]  # (YYYY-MM-DD, language, tenant)
Cells = dict[Cell, Counter[str]]


class InvalidRangeError(FaqstreamError):
    """``from``/``to`` that make no range: ``to`` not after ``from``, or more than ``MAX_DAYS``."""

    exit_code = 2
    status = 400
    code = "invalid_request"


def default_end() -> date:
    """``to`` when not given (``GET /admin/analytics`` and ``faqstream report`` alike): tomorrow
    (UTC), so the range runs up to now, today included."""
    return datetime.now(UTC).date() + timedelta(days=1)


class DateRange(BaseModel):
    """UTC days ``[start, end)``: ``end`` is the first day not included."""

    start: date = Field(description="the first UTC day included (the `from` parameter)")
    end: date = Field(description="the first UTC day not included (the `to` parameter)")

    @classmethod
    def of(cls, start: date, end: date) -> DateRange:
        """The range, or ``InvalidRangeError``."""
        if end <= start:
            raise InvalidRangeError(
                f"`to` ({end}) must be after `from` ({start}): the range is [from, to), so one day "
                f"is from={start} to={start + timedelta(days=1)}"
            )
        if (end - start).days > MAX_DAYS:
            raise InvalidRangeError(f"the range is {(end - start).days} days; at most {MAX_DAYS} at once")
        return cls(start=start, end=end)

    @property
    def since(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)

    def days(self) -> list[str]:
        return [(self.start + timedelta(days=n)).isoformat() for n in range((self.end - self.start).days)]


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole else None


def _money(amount: float | None) -> float | None:
    return None if amount is None else round(amount, 8)


def _prefixed(counts: Counter[str], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): int(v) for k, v in sorted(counts.items()) if k.startswith(prefix) and v}


class Figures(BaseModel):
    """Every figure for one slice of the records (the whole range, a day, a language or a tenant)."""

    questions: int = Field(description="customer messages sent in the range")
    answers: int = Field(description="assistant replies sent in the range, every mode")
    answers_by_mode: dict[str, int] = Field(
        description="replies by mode: generative, extractive, cached, smalltalk, handoff"
    )
    answers_by_status: dict[str, int] = Field(description="replies by status: complete, broken, abandoned")
    conversations: int = Field(description="conversations started in the range")
    auto_resolved: int = Field(
        description="conversations started in the range with a complete knowledge answer, no handoff, "
        "no negative feedback and no 'unresolved' tag"
    )
    auto_resolved_rate: float | None = Field(description="auto_resolved / conversations")
    handed_off: int = Field(description="conversations started in the range with at least one handoff")
    handoff_rate: float | None = Field(description="handed_off / conversations")
    handoffs_by_reason: dict[str, int] = Field(
        description="conversations handed off for each reason (one handed off twice counts under both)"
    )
    handoff_rate_by_reason: dict[str, float] = Field(description="handoffs_by_reason / conversations")
    ratings: dict[str, int] = Field(description="feedback ratings given in the range, by score 1–5")
    rating_mean: float | None = Field(description="mean feedback rating (1–5)")
    csat: float | None = Field(description="share of feedback ratings that are 4 or 5")
    thumbs_up: int
    thumbs_down: int
    thumbs_up_rate: float | None = Field(description="thumbs_up / (thumbs_up + thumbs_down)")
    tag_satisfaction: dict[str, int] = Field(
        description="batch-tagger satisfaction (1–5) of the conversations started in the range"
    )
    tag_satisfaction_mean: float | None
    tag_csat: float | None = Field(description="share of tagged conversations with satisfaction 4 or 5")
    knowledge_answers: int = Field(description="replies in mode generative, extractive or cached")
    answer_cache_hits: dict[str, int] = Field(
        description="replies served from the answer cache: exact, semantic"
    )
    answer_cache_hit_rate: float | None = Field(description="answer-cache hits / knowledge_answers")
    input_tokens: int = Field(description="ledger: uncached input tokens")
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    prompt_cache_hit_rate: float | None = Field(
        description="cache_read_input_tokens / (input_tokens + cache_read + cache_creation)"
    )
    cost_usd: float = Field(description="ledger cost of every purpose in the range")
    cost_by_purpose: dict[str, float] = Field(description="answer, translation, summary, routing, batch_tag…")
    cost_per_answer: float | None = Field(description="cost_usd / answers")
    cost_per_resolved: float | None = Field(description="cost_usd / auto_resolved")

    @classmethod
    def of(cls, n: Counter[str]) -> Figures:
        ratings = {str(s): int(n[f"rating:{s}"]) for s in range(1, 6)}
        tags = {str(s): int(n[f"satisfaction:{s}"]) for s in range(1, 6)}
        rated, tagged = sum(ratings.values()), sum(tags.values())
        reasons = _prefixed(n, "reason:")
        cache_hits = _prefixed(n, "cache:")
        prompt = n["input_tokens"] + n["cache_read"] + n["cache_creation"]
        thumbs = n["thumbs_up"] + n["thumbs_down"]
        return cls(
            questions=int(n["questions"]),
            answers=int(n["answers"]),
            answers_by_mode=_prefixed(n, "mode:"),
            answers_by_status=_prefixed(n, "status:"),
            conversations=int(n["conversations"]),
            auto_resolved=int(n["auto_resolved"]),
            auto_resolved_rate=_rate(n["auto_resolved"], n["conversations"]),
            handed_off=int(n["handed_off"]),
            handoff_rate=_rate(n["handed_off"], n["conversations"]),
            handoffs_by_reason=reasons,
            handoff_rate_by_reason={r: _rate(c, n["conversations"]) or 0.0 for r, c in reasons.items()},
            ratings=ratings,
            rating_mean=_rate(sum(int(s) * c for s, c in ratings.items()), rated),
            csat=_rate(ratings["4"] + ratings["5"], rated),
            thumbs_up=int(n["thumbs_up"]),
            thumbs_down=int(n["thumbs_down"]),
            thumbs_up_rate=_rate(n["thumbs_up"], thumbs),
            tag_satisfaction=tags,
            tag_satisfaction_mean=_rate(sum(int(s) * c for s, c in tags.items()), tagged),
            tag_csat=_rate(tags["4"] + tags["5"], tagged),
            knowledge_answers=int(n["knowledge_answers"]),
            answer_cache_hits=cache_hits,
            answer_cache_hit_rate=_rate(sum(cache_hits.values()), n["knowledge_answers"]),
            input_tokens=int(n["input_tokens"]),
            output_tokens=int(n["output_tokens"]),
            cache_read_input_tokens=int(n["cache_read"]),
            cache_creation_input_tokens=int(n["cache_creation"]),
            prompt_cache_hit_rate=_rate(n["cache_read"], prompt),
            cost_usd=_money(n["cost_usd"]) or 0.0,
            cost_by_purpose={
                k.removeprefix("cost:"): _money(v) or 0.0
                for k, v in sorted(n.items())
                if k.startswith("cost:")
            },
            cost_per_answer=_money(n["cost_usd"] / n["answers"]) if n["answers"] else None,
            cost_per_resolved=_money(n["cost_usd"] / n["auto_resolved"]) if n["auto_resolved"] else None,
        )


class Slice(Figures):
    key: str = Field(description="the day (YYYY-MM-DD), language (ISO 639-1; `und`: none recorded) or tenant")


class IntentCount(BaseModel):
    intent: str
    answers: int = Field(description="replies whose question the router gave this intent")
    share: float = Field(description="of all replies with an intent")


class ContentGap(BaseModel):
    """A question the knowledge base did not answer, grouped by its normalised text."""

    text: str = Field(description="the question as most often asked (redacted)")
    tenant: str
    language: str
    count: int = Field(description="times asked in the range with a gap signal")
    reasons: dict[str, int] = Field(
        description="how many had each signal: a handoff reason (no_relevant_passages, low_confidence, "
        "not_in_documents) or negative_feedback"
    )
    last_asked: datetime


class Analytics(BaseModel):
    """``GET /admin/analytics``: the figures of ``[start, end)``, in total and by day, language and
    tenant, with the top intents and the top content gaps."""

    start: date = Field(description="the first UTC day included (`from`)")
    end: date = Field(description="the first UTC day not included (`to`)")
    tenant: str | None = Field(description="the one tenant reported on; null: every tenant")
    generated_at: datetime
    totals: Figures
    by_day: list[Slice] = Field(description="every day of the range, oldest first (days without records too)")
    by_language: list[Slice] = Field(description="by language, most questions first")
    by_tenant: list[Slice] = Field(description="by tenant, most questions first")
    top_intents: list[IntentCount]
    content_gaps: list[ContentGap] = Field(description="the most frequent unanswered questions")


def _rolled(cells: Cells, axis: int) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for cell, counts in cells.items():
        out.setdefault(cell[axis], Counter()).update(counts)
    return out


def _ranked(rolled: dict[str, Counter[str]]) -> list[Slice]:
    def order(kv: tuple[str, Counter[str]]) -> tuple[float, float, str]:
        return (-kv[1]["questions"], -kv[1]["conversations"], kv[0])

    return [Slice(key=key, **Figures.of(n).model_dump()) for key, n in sorted(rolled.items(), key=order)]


def analytics(
    span: DateRange,
    tenant: str | None,
    cells: Cells,
    intents: Counter[str],
    gaps: list[ContentGap],
    *,
    top: int,
    now: datetime | None = None,
) -> Analytics:
    """The report from the queries' cells, replies by intent and gaps (already ranked and cut)."""
    total: Counter[str] = Counter()
    for counts in cells.values():
        total.update(counts)
    days = _rolled(cells, 0)
    with_intent = sum(intents.values()) or 1
    ranked_intents = sorted(intents.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return Analytics(
        start=span.start,
        end=span.end,
        tenant=tenant,
        generated_at=now or datetime.now(UTC),
        totals=Figures.of(total),
        by_day=[Slice(key=d, **Figures.of(days.get(d, Counter())).model_dump()) for d in span.days()],
        by_language=_ranked(_rolled(cells, 1)),
        by_tenant=_ranked(_rolled(cells, 2)),
        top_intents=[
            IntentCount(intent=i, answers=c, share=round(c / with_intent, 6)) for i, c in ranked_intents
        ],
        content_gaps=gaps,
    )
