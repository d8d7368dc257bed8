"""The embedded store: Qdrant's engine in-process (qdrant-edge-py), one shard per collection.

Layout of ``QDRANT_PATH``::

    .lock                 held (flock) by the process that has the store open; holds its pid
    aliases.json          {"faqstream": "faqstream-20261123T120000-1a2b"}
    meta.json             {"faqstream": {"version": 7, "fingerprint": {...}, "updated_at": "...",
                                         "relevance": {"threshold": 0.31, ...},
                                         "contacts": {"method": "...", "keys": [...],
                                                      "reachable": [...]}}}
    collections/<name>/   one EdgeShard (segments + WAL)

Aliases and metadata are replaced atomically (write, fsync, rename), so a reader sees either
the old or the new collection, never a half-built one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import qdrant_edge as qe

from knowledge.errors import StoreError, StoreLockedError
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


def _write_json_atomic(path: Path, data: object) -> None:
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path} is unreadable: {exc}") from exc
    return data if isinstance(data, dict) else {}


def edge_filter(filters: SearchFilters | None) -> qe.Filter | None:
    if filters is None:
        return None
    must: list[Any] = []
    for key in ("language", "doc_id", "tags"):
        values = getattr(filters, key)
        if values:
            must.append(qe.FieldCondition(key=key, match=qe.MatchAny(list(values))))
    if filters.kind:
        must.append(qe.FieldCondition(key="kind", match=qe.MatchValue(filters.kind)))
    return qe.Filter(must=must) if must else None


def _match_doc(doc_id: str) -> qe.FieldCondition:
    return qe.FieldCondition(key="doc_id", match=qe.MatchValue(doc_id))


RRF: qe.Fusion = qe.Fusion.Rrf(k=RRF_K)  # type: ignore[assignment]  # the stub omits nested classes


class EdgeCollection(Collection):
    def __init__(self, name: str, shard: qe.EdgeShard, hnsw_ef: int) -> None:
        self.name = name
        self.shard = shard
        self._params = qe.SearchParams(hnsw_ef=hnsw_ef)

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        batch = []
        for p in points:
            vectors: dict[str, Any] = {
                DENSE: p.dense,
                SPARSE: qe.SparseVector(p.sparse.indices, p.sparse.values),
            }
            if p.dense_en is not None:
                vectors[DENSE_EN] = p.dense_en
            batch.append(qe.Point(p.id, vectors, p.payload.model_dump(mode="json")))
        self._update(qe.UpdateOperation.upsert_points(batch))

    def delete_stale(self, doc_id: str, keep_hash: str) -> None:
        stale = qe.Filter(
            must=[_match_doc(doc_id)],
            must_not=[qe.FieldCondition(key="doc_hash", match=qe.MatchValue(keep_hash))],
        )
        self._update(qe.UpdateOperation.delete_points_by_filter(stale))

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            flt = qe.Filter(must=[qe.FieldCondition(key="doc_id", match=qe.MatchAny(list(doc_ids)))])
            self._update(qe.UpdateOperation.delete_points_by_filter(flt))

    def _update(self, op: qe.UpdateOperation) -> None:
        try:
            self.shard.update(op)
        except Exception as exc:
            raise StoreError(f"embedded store write failed: {exc}") from exc

    def payloads(self, fields: list[str]) -> Iterator[dict[str, object]]:
        offset: Any = None
        while True:
            records, offset = self.shard.scroll(
                qe.ScrollRequest(offset=offset, limit=1024, with_payload=fields, with_vector=False)
            )
            yield from (r.payload or {} for r in records)
            if offset is None:
                return

    def chunks(self, doc_id: str) -> list[ChunkPayload]:
        records, _ = self.shard.scroll(
            qe.ScrollRequest(limit=100_000, filter=qe.Filter(must=[_match_doc(doc_id)]), with_payload=True)
        )
        payloads = [ChunkPayload.model_validate(r.payload or {}) for r in records]
        return sorted(payloads, key=lambda p: p.chunk_index)

    def search(self, request: SearchRequest) -> list[SearchHit]:
        flt = edge_filter(request.filters)
        want_vector = [DENSE] if request.dense is not None else False
        if request.dense is not None and request.sparse is not None:
            query = qe.QueryRequest(
                limit=request.limit,
                prefetches=self._fused_prefetches(request),
                query=RRF,
                with_payload=True,
                with_vector=want_vector,
            )
        elif request.dense is not None:
            query = qe.QueryRequest(
                limit=request.limit,
                query=qe.Query.Nearest(request.dense, using=DENSE),
                filter=flt,
                params=self._params,
                with_payload=True,
                with_vector=want_vector,
            )
        elif request.sparse is not None:
            sparse = qe.SparseVector(request.sparse.indices, request.sparse.values)
            query = qe.QueryRequest(
                limit=request.limit,
                query=qe.Query.Nearest(sparse, using=SPARSE),
                filter=flt,
                with_payload=True,
            )
        else:
            return []
        points = self._query(query)
        toward = as_query(request.dense)
        return [hit_from(p.id, p.score, p.payload, _dense_of(p.vector), toward) for p in points]

    def candidates(self, request: SearchRequest, scopes: Sequence[Iterable[str]] = ()) -> list[Candidate]:
        dense = request.dense
        if dense is None or request.sparse is None:
            raise ValueError("candidates() ranks a hybrid request: dense and sparse vectors")
        prefetches = self._fused_prefetches(request)
        pool = [qe.Prefetch(limit=request.limit, query=RRF, prefetches=prefetches)]

        def rescored(flt: qe.Filter | None) -> qe.QueryRequest:
            # The fused pool rescored by the dense vector: each chunk's cosine, computed by the
            # engine from the stored vector; ``flt`` keeps the chunks outside a scope.
            return qe.QueryRequest(
                limit=request.limit,
                prefetches=pool,
                query=qe.Query.Nearest(dense, using=DENSE),
                filter=flt,
                with_payload=False,
                with_vector=False,
            )

        fused = qe.QueryRequest(
            limit=request.limit, prefetches=prefetches, query=RRF, with_payload=False, with_vector=False
        )
        outside = [
            qe.Filter(must_not=[qe.FieldCondition(key="language", match=qe.MatchAny(sorted(scope)))])
            for scope in scopes
        ]
        try:
            ranked, cosines, *blind = self.shard.query_batch(
                qe.QueryBatchRequest([fused, rescored(None), *map(rescored, outside)])
            )
        except Exception as exc:
            raise StoreError(f"embedded store search failed: {exc}") from exc
        # Keyed by the engine's id objects (a new one at each ``p.id``; a string costs more): ids
        # and their conversions are a good part of the cost of a 160-chunk pool.
        cosine = {p.id: p.score for p in cosines}
        unseen = [{p.id for p in points} for points in blind]
        out = []
        for p in ranked:
            point = p.id
            out.append(
                Candidate(str(point), p.score, cosine.get(point), tuple(point in ids for ids in unseen))
            )
        return out

    def hits(self, ranked: Sequence[tuple[str, float]], dense: list[float] | None) -> list[SearchHit]:
        if not ranked:
            return []
        try:
            records = self.shard.retrieve(
                [point for point, _ in ranked],
                with_payload=True,
                with_vector=[DENSE] if dense is not None else False,
            )
        except Exception as exc:
            raise StoreError(f"embedded store retrieve failed: {exc}") from exc
        return ordered_hits(ranked, records, dense, _dense_of)

    def _query(self, query: qe.QueryRequest) -> list[qe.ScoredPoint]:
        try:
            return self.shard.query(query)
        except Exception as exc:
            raise StoreError(f"embedded store search failed: {exc}") from exc

    def _fused_prefetches(self, request: SearchRequest) -> list[qe.Prefetch]:
        """The rankings hybrid search fuses: dense, lexical (and identifiers), English companion."""
        assert request.dense is not None and request.sparse is not None
        sparse = qe.SparseVector(request.sparse.indices, request.sparse.values)
        return [
            qe.Prefetch(
                query=qe.Query.Nearest(request.dense, using=DENSE),
                limit=request.candidates,
                filter=edge_filter(request.filters),
                params=self._params,
            ),
            *self._lexical_prefetch(request, sparse),
            *self._english_prefetch(request),
        ]

    def _lexical_prefetch(self, request: SearchRequest, sparse: qe.SparseVector) -> list[qe.Prefetch]:
        filters, run = lexical_filters(request)
        out = []
        if run:
            lexical = qe.Query.Nearest(sparse, using=SPARSE)
            out.append(qe.Prefetch(query=lexical, limit=request.candidates, filter=edge_filter(filters)))
        if request.identifiers is not None and request.identifiers.indices:
            codes = qe.SparseVector(request.identifiers.indices, request.identifiers.values)
            out.append(
                qe.Prefetch(
                    query=qe.Query.Nearest(codes, using=SPARSE),
                    limit=request.candidates,
                    filter=edge_filter(request.filters),
                )
            )
        return out

    def _english_prefetch(self, request: SearchRequest) -> list[qe.Prefetch]:
        english = english_only(request.filters)
        if request.dense_en is None or english is None:
            return []
        return [
            qe.Prefetch(
                query=qe.Query.Nearest(request.dense_en, using=DENSE_EN),
                limit=request.candidates,
                filter=edge_filter(english),
                params=self._params,
            )
        ]

    def count(self) -> int:
        return int(self.shard.count(qe.CountRequest(exact=True)))

    def finish(self) -> None:
        self.shard.flush()
        self.shard.optimize()


def _dense_of(vector: object) -> list[float] | None:
    if isinstance(vector, dict):
        value = vector.get(DENSE)
        return value if isinstance(value, list) else None
    return None


class EdgeStore(VectorStore):
    """Single-process store on local disk; a second process gets ``StoreLockedError`` at once."""

    def __init__(self, path: Path, alias: str = "faqstream", hnsw_ef: int = 128) -> None:
        self.path = Path(path)
        self.alias = alias
        self._hnsw_ef = hnsw_ef
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "collections").mkdir(exist_ok=True)
        self._lock_file: IO[str] | None = self._acquire_lock()
        self._open: dict[str, EdgeCollection] = {}

    def _acquire_lock(self) -> IO[str]:
        fh = open(self.path / ".lock", "a+", encoding="utf-8")  # noqa: SIM115 - held for the store's life
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise StoreLockedError(
                f"the embedded knowledge base at {self.path} is in use by {holder} "
                "(most likely a running `faqstream serve`); it can be opened by one process at a time",
                hint="while `faqstream serve` runs, go through it: `faqstream ingest PATH --server URL`, "
                "`faqstream search QUERY --server URL` and `faqstream status --server URL` (URL: where it "
                "serves, with SERVICE_ADMIN_KEY set); or stop that process and run the command again; or "
                "point both at a Qdrant server (QDRANT_URL) so they can work at the same time",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        return fh

    # --- collections ------------------------------------------------------------------------
    def _dir(self, name: str) -> Path:
        return self.path / "collections" / name

    def _load(self, name: str) -> EdgeCollection:
        coll = self._open.get(name)
        if coll is None:
            try:
                shard = qe.EdgeShard.load(str(self._dir(name)))
            except Exception as exc:
                raise StoreError(f"cannot open embedded collection {name}: {exc}") from exc
            coll = EdgeCollection(name, shard, self._hnsw_ef)
            self._open[name] = coll
        return coll

    def active(self) -> Collection | None:
        name = _read_json(self.path / "aliases.json").get(self.alias)
        if not name or not self._dir(str(name)).exists():
            return None
        return self._load(str(name))

    def create_collection(self, dim: int, english_dim: int | None = None) -> Collection:
        name = new_collection_name(self.alias)
        vectors = {DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)}
        if english_dim is not None:
            vectors[DENSE_EN] = qe.EdgeVectorParams(size=english_dim, distance=qe.Distance.Cosine)
        config = qe.EdgeConfig(
            vectors=vectors,
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        )
        try:
            shard = qe.EdgeShard.create(str(self._dir(name)), config)
            for field in KEYWORD_FIELDS:
                shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
        except Exception as exc:
            raise StoreError(f"cannot create embedded collection {name}: {exc}") from exc
        coll = EdgeCollection(name, shard, self._hnsw_ef)
        self._open[name] = coll
        return coll

    def activate(self, collection: Collection) -> None:
        aliases_path = self.path / "aliases.json"
        aliases = _read_json(aliases_path)
        previous = aliases.get(self.alias)
        aliases[self.alias] = collection.name
        _write_json_atomic(aliases_path, aliases)
        if previous and previous != collection.name:
            self._drop_name(str(previous))
        self._sweep_orphans(keep={collection.name})

    def _sweep_orphans(self, keep: set[str]) -> None:
        """Remove collections of this alias left by rebuilds that died before activation."""
        referenced = set(map(str, _read_json(self.path / "aliases.json").values())) | keep
        for child in (self.path / "collections").iterdir():
            if child.name.startswith(f"{self.alias}-") and child.name not in referenced:
                self._drop_name(child.name)

    def drop(self, collection: Collection) -> None:
        self._drop_name(collection.name)

    def _drop_name(self, name: str) -> None:
        coll = self._open.pop(name, None)
        if coll is not None:
            with contextlib.suppress(Exception):
                coll.shard.close()
        shutil.rmtree(self._dir(name), ignore_errors=True)

    def collection_dim(self, collection: Collection) -> int:
        config = _read_json(self._dir(collection.name) / "edge_config.json")
        return int(config.get("vectors", {}).get(DENSE, {}).get("size", 0))

    # --- metadata ---------------------------------------------------------------------------
    def read_meta(self) -> KbMeta:
        raw = _read_json(self.path / "meta.json").get(self.alias) or {}
        return KbMeta(
            version=int(raw.get("version", 0)),
            fingerprint=dict(raw.get("fingerprint", {})),
            updated_at=raw.get("updated_at"),
            relevance=dict(raw.get("relevance") or {}),
            contacts=dict(raw.get("contacts") or {}),
        )

    def write_meta(self, meta: KbMeta) -> None:
        path = self.path / "meta.json"
        data = _read_json(path)
        data[self.alias] = {
            "version": meta.version,
            "fingerprint": meta.fingerprint,
            "updated_at": meta.updated_at,
            "relevance": meta.relevance,
            "contacts": meta.contacts,
        }
        _write_json_atomic(path, data)

    def close(self) -> None:
        for coll in self._open.values():
            with contextlib.suppress(Exception):
                coll.shard.flush()
                coll.shard.close()
        self._open.clear()
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                self._lock_file.seek(0)
                self._lock_file.truncate()
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None
