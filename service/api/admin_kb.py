"""``/admin/status`` and ``/admin/search`` (``SERVICE_ADMIN_KEY``): what ``faqstream status`` and
``faqstream search`` show, read through the running service — the embedded store is held by the
service's process, so ``--server URL`` is how those commands work while it runs."""

from __future__ import annotations

import asyncio
from typing import Literal

from litestar import Router, get, post
from pydantic import BaseModel, ConfigDict, Field

from knowledge.answerability import RelevanceCalibration
from knowledge.language import LANGUAGE_TAG_OR_UND
from knowledge.schema import ChunkPayload, SearchFilters, SearchHit, StoredLanguage
from knowledge.search import KnowledgeBase
from knowledge.store import VectorStore
from service.api import guards
from service.api.errors import documented
from service.api.openapi import ADMIN_SECURITY, DocumentedOperation
from service.api.runtime import Runtime
from service.retrieval.relevance import RelevanceFloor

_ADMIN_OFF = {
    403: "a database key without the `admin` scope (`insufficient_scope`)",
    404: "admin is off: SERVICE_ADMIN_KEY is unset and no key has the `admin` scope",
}


class KbStatus(BaseModel):
    """The knowledge base as ``faqstream status`` shows it."""

    store: str = Field(description="QDRANT_URL, or the embedded store's folder")
    alias: str
    collection: str | None = Field(description="the collection the alias points to; null: none yet")
    version: int
    updated_at: str | None
    documents: int
    chunks: int
    model: str | None
    dim: int | None
    relevance: str = Field(description="the relevance cut-off in use, in words")


def kb_status(store: VectorStore, where: str, alias: str, relevance_floor: float | None) -> KbStatus:
    """The status of an open store (blocking: reads it); ``where``: its URL or folder."""
    meta = store.read_meta()
    active = store.active()
    if relevance_floor is not None:
        relevance = f"floor {relevance_floor} from SERVICE_RELEVANCE_FLOOR (overrides the calibration)"
    else:
        calibration = RelevanceCalibration.from_dict(meta.relevance)
        relevance = (
            calibration.summary()
            if calibration is not None
            else "no cut-off calibrated (run `faqstream ingest` again to fit one)"
        )
    dim = meta.fingerprint.get("dim")
    return KbStatus(
        store=where,
        alias=alias,
        collection=active.name if active else None,
        version=meta.version,
        updated_at=meta.updated_at,
        documents=len(active.document_states()) if active else 0,
        chunks=active.count() if active else 0,
        model=meta.fingerprint.get("model"),
        dim=int(dim) if dim is not None else None,
        relevance=relevance,
    )


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=4000)
    limit: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="passages shown; default SERVICE_TOP_K (the passages the service judges)",
    )
    mode: Literal["hybrid", "dense", "sparse"] = "hybrid"
    language: StoredLanguage | None = Field(
        default=None,
        description="only passages in this language (ISO 639-1, pt-BR → pt, or und)",
        json_schema_extra={"pattern": LANGUAGE_TAG_OR_UND, "maxLength": 35},
    )


class Passage(BaseModel):
    id: str
    rank: int = Field(description="its place among the passages found, from 1")
    score: float = Field(description="fused rank score in hybrid mode, raw similarity otherwise")
    dense_score: float | None = Field(description="cosine similarity to the query")
    relevance: float | None = Field(
        default=None,
        description="how far the passage scores over the relevance cut-off the service applies "
        "(negative: under it), in `relevance_unit`; null without a cut-off. A question none of whose "
        "passages is at 0 or over is handed to a person (`no_relevant_passages`)",
    )
    passes: bool | None = Field(
        default=None,
        description="the service's gate passes it: at 0 or over, or — when none of the SERVICE_TOP_K "
        "passages is — in the query's language, holding every word of the query and at most the "
        "context margin under the cut-off; null without a cut-off or in another `mode`",
    )
    payload: ChunkPayload


class SearchResult(BaseModel):
    kb_version: int
    language: str | None = Field(default=None, description="the query's language, as the service detects it")
    relevance_unit: str | None = Field(
        default=None,
        description="`sd`: standard deviations of the score over unrelated questions in the query's "
        "language (the calibrated cut-off); `cosine`: cosine similarity (SERVICE_RELEVANCE_FLOOR or an "
        "older calibration); null: no cut-off",
    )
    hits: list[Passage]
    top_k: int = Field(description="SERVICE_TOP_K: how many passages the service retrieves and judges")
    past_limit: list[Passage] = Field(
        default_factory=list,
        description="the passages past `limit` but among the SERVICE_TOP_K the service judges that are at "
        "0 or over: the service answers from them too (`hybrid` with a cut-off; none when `limit` is "
        "SERVICE_TOP_K or more)",
    )
    handoff: bool | None = Field(
        default=None,
        description="whether the service hands this question to a person (`no_relevant_passages`): "
        "none of the SERVICE_TOP_K passages it retrieves (`hybrid`; however many `limit` shows) is at 0 "
        "or over; null without a cut-off or in another `mode`",
    )


def judged_search(kb: KnowledgeBase, floor: RelevanceFloor, data: SearchRequest, top_k: int) -> SearchResult:
    """The passages ``kb`` finds for ``data``, each with its lead over the service's cut-off as the
    answer service judges it (the question's detected language, an unknown one when the detector is
    unsure, the short-message cut-off for a message of one or two words; a passage in another language is
    held to the cross-language cut-off). Blocking: searches the store. ``top_k``: SERVICE_TOP_K, the
    passages the service judges (``handoff``) and shown by default; those it answers from past
    ``limit`` are shown too (``past_limit``: a trial's "0 of 3 passages over the cut-off — the service
    answers it" did not say from which)."""
    filters = SearchFilters(language=[data.language]) if data.language else None
    limit = data.limit or top_k
    detection = kb.languages.detect(data.query) if kb.languages is not None else None
    language = detection.language if detection is not None else None
    found: list[SearchHit] = kb.search(
        data.query, limit=max(limit, top_k), mode=data.mode, filters=filters, language=language
    )
    # unsure: an unknown language; one or two words: the short-message cohort and cut-off
    asked_in = floor.question_language(language, detection, data.query)
    judged = floor.value is not None and data.mode != "sparse"
    unit = ("sd" if floor.normalised else "cosine") if judged else None
    gated = judged and data.mode == "hybrid"
    leads = [floor.lead(h, asked_in) if judged else None for h in found]
    # what the service answers from: those of the first SERVICE_TOP_K passages that pass the gate
    # (at 0 or over, or holding every word of the query when none is: ``RelevanceFloor.relevant``)
    passing = {h.id for h in floor.relevant(found[:top_k], asked_in, data.query)} if judged else set()
    passages = [
        Passage(
            id=h.id,
            rank=rank,
            score=h.score,
            dense_score=h.dense_score,
            relevance=round(lead, 4) if lead is not None else None,
            passes=(h.id in passing if rank <= top_k else lead >= 0.0) if lead is not None else None,
            payload=h.payload,
        )
        for rank, (h, lead) in enumerate(zip(found, leads, strict=True), 1)
    ]
    answering = [p for p in passages[:top_k] if p.id in passing]
    return SearchResult(
        kb_version=kb.version(),
        language=language,
        relevance_unit=unit,
        hits=passages[:limit],
        top_k=top_k,
        past_limit=[p for p in answering if p.rank > limit] if gated else [],
        handoff=not answering if gated else None,
    )


@get(
    "/status",
    summary="The knowledge base's version, documents, chunks, model and relevance cut-off (admin key)",
    responses=documented(401, 403, 404, 429, 500, 503, described=_ADMIN_OFF),
    security=ADMIN_SECURITY,
    operation_class=DocumentedOperation,
)
async def status(runtime: Runtime) -> KbStatus:
    qdrant = runtime.settings.qdrant
    where = qdrant.url or str(qdrant.path.resolve())
    return await asyncio.to_thread(
        kb_status, runtime.kb.store, where, qdrant.collection, runtime.settings.service.relevance_floor
    )


@post(
    "/search",
    summary="The passages the knowledge base finds for a query, as `faqstream search` (admin key)",
    status_code=200,
    responses=documented(400, 401, 403, 404, 413, 415, 429, 500, 503, described=_ADMIN_OFF),
    security=ADMIN_SECURITY,
    operation_class=DocumentedOperation,
)
async def search(data: SearchRequest, runtime: Runtime) -> SearchResult:
    top_k = runtime.settings.service.top_k
    return await asyncio.to_thread(judged_search, runtime.kb, runtime.digest.floor(), data, top_k)


admin_kb = Router(path="/admin", route_handlers=[status, search], guards=[guards.admin_guard])
