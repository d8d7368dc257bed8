"""What the answer cache keeps and returns: the cached answer, the stored record, a hit, the counters."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

MatchKind = Literal["exact", "semantic"]


@dataclass(frozen=True)
class CachedAnswer:
    """What replays an answer through the same SSE contract."""

    answer: str
    citations: list[dict[str, Any]]
    language: str
    mode: str  # the original mode (generative | extractive)
    model: str | None
    usage: dict[str, Any]  # the original usage incl. cost_usd: what a hit saves
    stop_reason: str | None = None
    # The question's route as the router found it (``Route.to_dict``): an exact hit is served before
    # routing, and its answers, records and analytics showed no intent. None in older entries.
    route: dict[str, Any] | None = None


@dataclass(frozen=True)
class Record:
    """One stored entry: the question as asked, its identifiers, the answer and its lifetime."""

    question: str
    identifiers: tuple[str, ...]
    answer: CachedAnswer
    stored_at: float
    expires_at: float

    def alive(self, now: float) -> bool:
        return self.expires_at > now

    def hit(self, match: MatchKind = "exact", similarity: float = 1.0) -> CacheHit:
        return CacheHit(self.answer, match, similarity, self.question, self.stored_at)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Record:
        data = json.loads(raw)
        return cls(
            question=data["question"],
            identifiers=tuple(data["identifiers"]),
            answer=CachedAnswer(**data["answer"]),
            stored_at=float(data["stored_at"]),
            expires_at=float(data["expires_at"]),
        )


@dataclass(frozen=True)
class CacheHit:
    answer: CachedAnswer
    match: MatchKind
    similarity: float  # 1.0 for exact hits
    question: str  # the cached question that matched
    stored_at: float


@dataclass
class CacheStats:
    exact_hits: int = 0
    semantic_hits: int = 0
    misses: int = 0
    stores: int = 0
    errors: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.exact_hits + self.semantic_hits + self.misses
        return (self.exact_hits + self.semantic_hits) / total if total else 0.0
