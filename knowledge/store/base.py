"""The store interface: collections of chunk points behind an alias, plus store-level metadata.

Two implementations pass the same contract tests: ``EdgeStore`` (Qdrant's engine in-process,
the embedded default) and ``ServerStore`` (qdrant-client against a Qdrant server).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from knowledge.schema import ChunkPayload, ChunkPoint, DocState, KbMeta, SearchFilters, SearchHit, SparseVec

DENSE = "dense"
DENSE_EN = "dense_en"  # optional: the English companion model's vectors, English chunks only
SPARSE = "bm25"
RRF_K = 2  # Qdrant's default; measured best of 2/10/60 on XQuAD-en and Bitext (bench/retrieval_quality.py)
# Payload fields with a keyword index: what filters and the ingest bookkeeping select on.
KEYWORD_FIELDS = ("doc_id", "doc_hash", "language", "tags", "kind")
STATE_FIELDS = ["doc_id", "doc_hash", "chunk_index", "chunk_count", "source", "title", "language"]


@dataclass(frozen=True)
class SearchRequest:
    dense: list[float] | None
    sparse: SparseVec | None
    limit: int
    filters: SearchFilters | None = None
    candidates: int = 40  # per-vector candidate pool before fusion
    dense_en: list[float] | None = None  # English question: the companion's vector (hybrid only)
    # Hybrid only: the lexical ranking covers chunks in this language (BM25 words mean nothing
    # across languages), and ``identifiers`` — the question's tokens with digits (order numbers,
    # SKUs) — rank chunks of every language.
    lexical_language: str | None = None
    identifiers: SparseVec | None = None


def in_language(filters: SearchFilters | None, *languages: str) -> SearchFilters | None:
    """The request's filters narrowed to chunks in ``languages``; None when they exclude them all."""
    wanted = list(languages)
    if filters is not None and filters.language is not None:
        wanted = [lang for lang in wanted if lang in filters.language]
        if not wanted:
            return None
    if filters is None:
        return SearchFilters(language=wanted)
    return filters.model_copy(update={"language": wanted})


def english_only(filters: SearchFilters | None) -> SearchFilters | None:
    """The request's filters narrowed to English chunks; None when they exclude English."""
    return in_language(filters, "en")


def lexical_filters(request: SearchRequest) -> tuple[SearchFilters | None, bool]:
    """Filters of the lexical prefetch in hybrid search, and whether to run it at all."""
    if request.lexical_language is None:
        return request.filters, True
    narrowed = in_language(request.filters, request.lexical_language, "und")
    return narrowed, narrowed is not None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_collection_name(alias: str) -> str:
    """``<alias>-<UTC timestamp>-<random>``: unique, sortable, recognisably ours."""
    stamp = now_iso().replace(":", "").replace("-", "")[:15]
    return f"{alias}-{stamp}-{uuid.uuid4().hex[:6]}"


def fold_states(rows: Iterable[dict[str, object]]) -> dict[str, DocState]:
    """Reduce per-chunk payload rows to one state per document."""
    hashes: dict[str, set[str]] = {}
    indices: dict[str, set[int]] = {}
    counts: dict[str, int] = {}
    info: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        doc = str(row["doc_id"])
        hashes.setdefault(doc, set()).add(str(row.get("doc_hash")))
        indices.setdefault(doc, set()).add(int(row.get("chunk_index", -1)))  # type: ignore[call-overload]
        counts[doc] = max(counts.get(doc, 0), int(row.get("chunk_count", 0)))  # type: ignore[call-overload]
        info[doc] = (str(row.get("source", "")), str(row.get("title", "")), str(row.get("language", "und")))
    return {
        doc: DocState(
            doc_hash=next(iter(h)) if len(h) == 1 else None,
            chunk_count=counts[doc],
            chunk_indices=frozenset(indices[doc]),
            hashes=frozenset(h),
            source=info[doc][0],
            title=info[doc][1],
            language=info[doc][2],
        )
        for doc, h in hashes.items()
    }


@dataclass(frozen=True)
class Candidate:
    """A chunk of a fused ranking without its payload or vector: what re-ranking the fusion's
    candidate pool needs (``knowledge.fusion``), so a pool of 160 chunks costs ids and scores."""

    id: str
    score: float  # the store's fused (RRF) score
    dense_score: float | None  # cosine to the question's dense vector (the store's own score)
    # for each language set asked about (``Collection.candidates``): the chunk's language is not in it
    outside: tuple[bool, ...] = ()


def as_query(dense: list[float] | None) -> npt.NDArray[np.float64] | None:
    """A dense query vector as ``hit_from`` takes it (converted once per search, not per hit)."""
    return np.asarray(dense, dtype=np.float64) if dense is not None else None


def ordered_hits(
    ranked: Sequence[tuple[str, float]],
    records: Iterable[Any],
    dense: list[float] | None,
    dense_of: Callable[[object], list[float] | None],
) -> list[SearchHit]:
    """``Collection.hits`` from the retrieved ``records`` (each with ``id``, ``payload`` and
    ``vector``, read by the store's ``dense_of``): in ``ranked``'s order with its scores, ids no
    longer in the collection left out."""
    found = {str(r.id): r for r in records}
    toward = as_query(dense)
    return [
        hit_from(point, score, found[point].payload, dense_of(found[point].vector), toward)
        for point, score in ranked
        if point in found
    ]


def hit_from(
    point_id: object,
    score: float,
    payload: dict[str, object] | None,
    vector: list[float] | None,
    query: npt.NDArray[np.float64] | None,
) -> SearchHit:
    """A search hit from a store's point; ``query``: the question's dense vector (``as_query``)."""
    dense_score = None
    if vector is not None and query is not None:
        dense_score = float(np.dot(np.asarray(vector, dtype=np.float64), query))
    return SearchHit(
        id=str(point_id),
        score=float(score),
        dense_score=dense_score,
        payload=ChunkPayload.model_validate(payload or {}),
        vector=tuple(vector) if vector is not None else None,
    )


class Collection(ABC):
    """One physical collection of chunk points."""

    name: str

    @abstractmethod
    def upsert(self, points: Sequence[ChunkPoint]) -> None: ...

    @abstractmethod
    def delete_stale(self, doc_id: str, keep_hash: str) -> None:
        """Delete the document's chunks whose ``doc_hash`` is not ``keep_hash``."""

    @abstractmethod
    def delete_documents(self, doc_ids: Sequence[str]) -> None: ...

    @abstractmethod
    def payloads(self, fields: list[str]) -> Iterator[dict[str, object]]:
        """The given payload fields of every point, in no particular order."""

    def document_states(self) -> dict[str, DocState]:
        return fold_states(self.payloads(STATE_FIELDS))

    @abstractmethod
    def search(self, request: SearchRequest) -> list[SearchHit]: ...

    @abstractmethod
    def candidates(self, request: SearchRequest, scopes: Sequence[Iterable[str]] = ()) -> list[Candidate]:
        """The fused ranking of a hybrid ``request`` (``dense`` and ``sparse`` both set) as
        ``search`` ranks it, its best ``request.limit`` chunks, in the store's order — ids, fused
        scores, cosines to ``request.dense`` and, for each language set in ``scopes``, whether the
        chunk's language (the payload's ``language``: ingest always writes one) is outside it; no
        payload, no vector."""

    @abstractmethod
    def hits(self, ranked: Sequence[tuple[str, float]], dense: list[float] | None) -> list[SearchHit]:
        """The chunks ``ranked`` (id, score) as search hits, in that order and with those scores:
        payload, dense vector and cosine to ``dense`` as ``search`` gives them; ids not in the
        collection (deleted since) are left out."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def chunks(self, doc_id: str) -> list[ChunkPayload]:
        """All chunks of one document, in order."""

    def finish(self) -> None:  # noqa: B027 - optional hook
        """Make writes durable and indexes current (called at the end of an ingest run)."""


class VectorStore(ABC):
    """Collections behind one alias, and the knowledge-base metadata."""

    alias: str

    @abstractmethod
    def active(self) -> Collection | None:
        """The collection the alias points at, or None before the first ingest."""

    @abstractmethod
    def create_collection(self, dim: int, english_dim: int | None = None) -> Collection:
        """A new, empty physical collection (not visible to readers until activated).

        ``english_dim``: also a ``dense_en`` vector for the English companion model.
        """

    @abstractmethod
    def activate(self, collection: Collection) -> None:
        """Point the alias at ``collection`` atomically and drop the one it replaced."""

    @abstractmethod
    def drop(self, collection: Collection) -> None: ...

    @abstractmethod
    def collection_dim(self, collection: Collection) -> int: ...

    @abstractmethod
    def read_meta(self) -> KbMeta: ...

    @abstractmethod
    def write_meta(self, meta: KbMeta) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
