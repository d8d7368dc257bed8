"""The server store: qdrant-client against a Qdrant server (or any qdrant-client location).

Collections are named ``<alias>-<timestamp>-<rand>``; readers use the alias, which ingest swaps
atomically with one ``update_collection_aliases`` call. Store metadata lives in a small
vector-less collection ``<alias>-meta``. Writes retry transient failures (connection errors,
429 and 5xx) with bounded exponential backoff and jitter, logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import httpx
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from knowledge.errors import StoreError
from knowledge.schema import ChunkPayload, ChunkPoint, KbMeta, SearchFilters, SearchHit
from knowledge.store.base import (
    DENSE,
    DENSE_EN,
    KEYWORD_FIELDS,
    RRF_K,
    SPARSE,
    Candidate,
    Collection,
    SearchRequest,
    VectorStore,
    as_query,
    english_only,
    hit_from,
    lexical_filters,
    new_collection_name,
    ordered_hits,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
META_POINT = 1
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, UnexpectedResponse):
        return exc.status_code in TRANSIENT_STATUS
    return isinstance(exc, ResponseHandlingException | httpx.TransportError | ConnectionError | TimeoutError)


def client_filter(filters: SearchFilters | None) -> models.Filter | None:
    if filters is None:
        return None
    must: list[models.Condition] = []
    for key in ("language", "doc_id", "tags"):
        values = getattr(filters, key)
        if values:
            must.append(models.FieldCondition(key=key, match=models.MatchAny(any=list(values))))
    if filters.kind:
        must.append(models.FieldCondition(key="kind", match=models.MatchValue(value=filters.kind)))
    return models.Filter(must=must) if must else None


def _doc(doc_id: str) -> models.FieldCondition:
    return models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))


class _Calls:
    """Runs client calls with the retry policy and translates failures into StoreError."""

    def __init__(self, attempts: int) -> None:
        self._retry = retry(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(attempts),
            wait=wait_exponential_jitter(initial=0.2, max=5.0),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )

    def __call__(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return self._retry(fn)()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"Qdrant {what} failed: {exc}",
                hint="check QDRANT_URL / QDRANT_API_KEY and that the server is up",
            ) from exc


RRF = models.RrfQuery(rrf=models.Rrf(k=RRF_K))


def _dense_of(vector: object) -> list[float] | None:
    value = vector.get(DENSE) if isinstance(vector, dict) else None
    return [x for x in value if isinstance(x, float | int)] if isinstance(value, list) else None


class ServerCollection(Collection):
    def __init__(self, client: QdrantClient, name: str, calls: _Calls, hnsw_ef: int) -> None:
        self.name = name
        self._client = client
        self._call = calls
        self._params = models.SearchParams(hnsw_ef=hnsw_ef)

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        structs = []
        for p in points:
            vector: dict[str, Any] = {
                DENSE: p.dense,
                SPARSE: models.SparseVector(indices=p.sparse.indices, values=p.sparse.values),
            }
            if p.dense_en is not None:
                vector[DENSE_EN] = p.dense_en
            structs.append(
                models.PointStruct(id=p.id, vector=vector, payload=p.payload.model_dump(mode="json"))
            )
        self._call("upsert", lambda: self._client.upsert(self.name, structs, wait=True))

    def delete_stale(self, doc_id: str, keep_hash: str) -> None:
        flt = models.Filter(
            must=[_doc(doc_id)],
            must_not=[models.FieldCondition(key="doc_hash", match=models.MatchValue(value=keep_hash))],
        )
        self._call(
            "delete", lambda: self._client.delete(self.name, models.FilterSelector(filter=flt), wait=True)
        )

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            flt = models.Filter(
                must=[models.FieldCondition(key="doc_id", match=models.MatchAny(any=list(doc_ids)))]
            )
            self._call(
                "delete", lambda: self._client.delete(self.name, models.FilterSelector(filter=flt), wait=True)
            )

    def payloads(self, fields: list[str]) -> Iterator[dict[str, object]]:
        offset: Any = None
        while True:
            page, offset = self._call(
                "scroll",
                lambda o=offset: self._client.scroll(  # type: ignore[misc]
                    self.name, limit=1024, offset=o, with_payload=fields, with_vectors=False
                ),
            )
            yield from (r.payload or {} for r in page)
            if offset is None:
                return

    def chunks(self, doc_id: str) -> list[ChunkPayload]:
        page, _ = self._call(
            "scroll",
            lambda: self._client.scroll(
                self.name, scroll_filter=models.Filter(must=[_doc(doc_id)]), limit=100_000, with_payload=True
            ),
        )
        return sorted(
            (ChunkPayload.model_validate(r.payload or {}) for r in page), key=lambda p: p.chunk_index
        )

    def search(self, request: SearchRequest) -> list[SearchHit]:
        flt = client_filter(request.filters)
        sparse = (
            models.SparseVector(indices=request.sparse.indices, values=request.sparse.values)
            if request.sparse is not None
            else None
        )
        want: list[str] | bool = [DENSE] if request.dense is not None else False
        if request.dense is not None and sparse is not None:
            prefetch = self._fused_prefetches(request)
            result = self._call(
                "query",
                lambda: self._client.query_points(
                    self.name,
                    prefetch=prefetch,
                    query=RRF,
                    limit=request.limit,
                    with_payload=True,
                    with_vectors=want,
                ),
            )
        elif request.dense is not None or sparse is not None:
            vector: Any = request.dense if request.dense is not None else sparse
            using = DENSE if request.dense is not None else SPARSE
            result = self._call(
                "query",
                lambda: self._client.query_points(
                    self.name,
                    query=vector,
                    using=using,
                    query_filter=flt,
                    limit=request.limit,
                    search_params=self._params,
                    with_payload=True,
                    with_vectors=want,
                ),
            )
        else:
            return []
        toward = as_query(request.dense)
        return [hit_from(p.id, p.score, p.payload, _dense_of(p.vector), toward) for p in result.points]

    def candidates(self, request: SearchRequest, scopes: Sequence[Iterable[str]] = ()) -> list[Candidate]:
        if request.dense is None or request.sparse is None:
            raise ValueError("candidates() ranks a hybrid request: dense and sparse vectors")
        prefetch = self._fused_prefetches(request)
        pool = models.Prefetch(prefetch=prefetch, query=RRF, limit=request.limit)

        def rescored(flt: models.Filter | None) -> models.QueryRequest:
            # The fused pool rescored by the dense vector: each chunk's cosine, computed by the
            # server from the stored vector; ``flt`` keeps the chunks outside a scope.
            return models.QueryRequest(
                prefetch=pool, query=request.dense, using=DENSE, filter=flt, limit=request.limit,
                with_payload=False, with_vector=False,
            )  # fmt: skip

        fused = models.QueryRequest(
            prefetch=prefetch, query=RRF, limit=request.limit, with_payload=False, with_vector=False
        )
        outside = [
            models.Filter(
                must_not=[models.FieldCondition(key="language", match=models.MatchAny(any=sorted(s)))]
            )
            for s in scopes
        ]
        requests = [fused, rescored(None), *map(rescored, outside)]
        responses = self._call("query_batch", lambda: self._client.query_batch_points(self.name, requests))
        ranked, cosines, *blind = (response.points for response in responses)
        cosine = {str(p.id): p.score for p in cosines}
        unseen = [{str(p.id) for p in points} for points in blind]
        out = []
        for p in ranked:
            point = str(p.id)
            out.append(Candidate(point, p.score, cosine.get(point), tuple(point in ids for ids in unseen)))
        return out

    def hits(self, ranked: Sequence[tuple[str, float]], dense: list[float] | None) -> list[SearchHit]:
        if not ranked:
            return []
        want: list[str] | bool = [DENSE] if dense is not None else False
        records = self._call(
            "retrieve",
            lambda: self._client.retrieve(
                self.name, [point for point, _ in ranked], with_payload=True, with_vectors=want
            ),
        )
        return ordered_hits(ranked, records, dense, _dense_of)

    def _fused_prefetches(self, request: SearchRequest) -> list[models.Prefetch]:
        """The rankings hybrid search fuses: dense, lexical (and identifiers), English companion."""
        assert request.dense is not None and request.sparse is not None
        flt = client_filter(request.filters)
        prefetch = [
            models.Prefetch(
                query=request.dense, using=DENSE, limit=request.candidates, filter=flt, params=self._params
            ),
        ]
        lexical, run = lexical_filters(request)
        if run:
            sparse = models.SparseVector(indices=request.sparse.indices, values=request.sparse.values)
            prefetch.append(
                models.Prefetch(
                    query=sparse, using=SPARSE, limit=request.candidates, filter=client_filter(lexical)
                )
            )
        if request.identifiers is not None and request.identifiers.indices:
            codes = models.SparseVector(
                indices=request.identifiers.indices, values=request.identifiers.values
            )
            prefetch.append(models.Prefetch(query=codes, using=SPARSE, limit=request.candidates, filter=flt))
        english = english_only(request.filters)
        if request.dense_en is not None and english is not None:
            prefetch.append(
                models.Prefetch(
                    query=request.dense_en,
                    using=DENSE_EN,
                    limit=request.candidates,
                    filter=client_filter(english),
                    params=self._params,
                )
            )
        return prefetch

    def count(self) -> int:
        return int(self._call("count", lambda: self._client.count(self.name, exact=True)).count)


class ServerStore(VectorStore):
    def __init__(
        self, client: QdrantClient, alias: str = "faqstream", *, attempts: int = 5, hnsw_ef: int = 128
    ) -> None:
        self.client = client
        self.alias = alias
        self._call = _Calls(attempts)
        self._hnsw_ef = hnsw_ef
        self._meta = f"{alias}-meta"

    def _collection(self, name: str) -> ServerCollection:
        return ServerCollection(self.client, name, self._call, self._hnsw_ef)

    def _alias_target(self) -> str | None:
        aliases = self._call("get_aliases", self.client.get_aliases).aliases
        return next((a.collection_name for a in aliases if a.alias_name == self.alias), None)

    def active(self) -> Collection | None:
        target = self._alias_target()
        return self._collection(target) if target else None

    def create_collection(self, dim: int, english_dim: int | None = None) -> Collection:
        name = new_collection_name(self.alias)
        vectors = {DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)}
        if english_dim is not None:
            vectors[DENSE_EN] = models.VectorParams(size=english_dim, distance=models.Distance.COSINE)

        def create() -> None:
            self.client.create_collection(
                name,
                vectors_config=vectors,
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            )
            for field in KEYWORD_FIELDS:
                self.client.create_payload_index(name, field, models.PayloadSchemaType.KEYWORD)

        self._call("create_collection", create)
        return self._collection(name)

    def activate(self, collection: Collection) -> None:
        previous = self._alias_target()
        ops: list[models.AliasOperations] = []
        if previous:
            ops.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.alias)))
        ops.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=collection.name, alias_name=self.alias)
            )
        )
        self._call(
            "update_aliases", lambda: self.client.update_collection_aliases(change_aliases_operations=ops)
        )
        if previous and previous != collection.name:
            self._call("delete_collection", lambda: self.client.delete_collection(previous))
        self._sweep_orphans(keep=collection.name)

    def _sweep_orphans(self, keep: str) -> None:
        names = [c.name for c in self._call("get_collections", self.client.get_collections).collections]
        for name in names:
            if name.startswith(f"{self.alias}-") and name not in {keep, self._meta}:
                self._call("delete_collection", lambda n=name: self.client.delete_collection(n))  # type: ignore[misc]

    def drop(self, collection: Collection) -> None:
        self._call("delete_collection", lambda: self.client.delete_collection(collection.name))

    def collection_dim(self, collection: Collection) -> int:
        info = self._call("get_collection", lambda: self.client.get_collection(collection.name))
        vectors = info.config.params.vectors
        params = vectors.get(DENSE) if isinstance(vectors, dict) else vectors
        return int(params.size) if params is not None else 0

    def read_meta(self) -> KbMeta:
        if not self._call("collection_exists", lambda: self.client.collection_exists(self._meta)):
            return KbMeta()
        found = self._call(
            "retrieve", lambda: self.client.retrieve(self._meta, [META_POINT], with_payload=True)
        )
        raw = found[0].payload if found and found[0].payload else {}
        return KbMeta(
            version=int(raw.get("version", 0)),
            fingerprint=dict(raw.get("fingerprint", {})),
            updated_at=raw.get("updated_at"),
            relevance=dict(raw.get("relevance") or {}),
            contacts=dict(raw.get("contacts") or {}),
        )

    def write_meta(self, meta: KbMeta) -> None:
        def write() -> None:
            if not self.client.collection_exists(self._meta):
                self.client.create_collection(self._meta, vectors_config={})
            self.client.upsert(
                self._meta,
                [
                    models.PointStruct(
                        id=META_POINT,
                        vector={},
                        payload={
                            "version": meta.version,
                            "fingerprint": meta.fingerprint,
                            "updated_at": meta.updated_at,
                            "relevance": meta.relevance,
                            "contacts": meta.contacts,
                        },
                    )
                ],
                wait=True,
            )

        self._call("write_meta", write)

    def close(self) -> None:
        self.client.close()
