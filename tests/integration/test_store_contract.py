"""One contract, two stores: the embedded EdgeStore and ServerStore (qdrant-client).

The server path runs against qdrant-client's local mode here (no Qdrant server binary on this
machine); it exercises the same client calls, alias operations and filters as a real server.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient

from knowledge.embedder import Embedder
from knowledge.errors import StoreLockedError
from knowledge.schema import ChunkPayload, ChunkPoint, KbMeta, SearchFilters, SparseVec, point_id
from knowledge.search import _ranked
from knowledge.sparse import SparseEncoder
from knowledge.store import SearchRequest, VectorStore
from knowledge.store.edge import EdgeStore
from knowledge.store.server import ServerStore
from tests.fused_pool import ranked_from_whole_pool

DOCS = {
    "returns.md": (
        "en",
        ["Items can be returned within 30 days of delivery.", "Return labels cost 4.95 EUR."],
    ),
    "kettle.md": ("en", ["The kettle NW-KTL-110 was recalled; stop using it and request a refund."]),
    "zh/returns.md": ("zh", ["商品可在收货后30天内退货。"]),
    "es/returns.md": ("es", ["Los artículos se pueden devolver en un plazo de 30 días."]),
}


@pytest.fixture(params=["edge", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    s: VectorStore
    if request.param == "edge":
        s = EdgeStore(tmp_path / "qdrant", "kb")
    else:
        s = ServerStore(QdrantClient(location=":memory:"), "kb")
    yield s
    s.close()


def _points(embedder: Embedder, sparse: SparseEncoder, doc_hash: str = "h1") -> list[ChunkPoint]:
    points = []
    for doc_id, (lang, texts) in DOCS.items():
        vectors = embedder.embed_documents(texts)
        for i, text in enumerate(texts):
            payload = ChunkPayload(
                doc_id=doc_id,
                chunk_index=i,
                chunk_count=len(texts),
                doc_hash=doc_hash,
                text=text,
                title=doc_id,
                source=doc_id,
                language=lang,
                tags=["policy"],
            )
            points.append(
                ChunkPoint(point_id(doc_id, i), vectors[i].tolist(), sparse.document(text, lang), payload)
            )
    return points


def _search(  # noqa: PLR0917
    store: VectorStore,
    embedder: Embedder,
    sparse: SparseEncoder,
    text: str,
    lang: str = "en",
    mode: str = "hybrid",
    filters: SearchFilters | None = None,
) -> list[str]:
    coll = store.active()
    assert coll is not None
    dense = embedder.embed_query(text).tolist() if mode != "sparse" else None
    sp = sparse.query(text, lang) if mode != "dense" else None
    return [h.payload.doc_id for h in coll.search(SearchRequest(dense, sp, limit=3, filters=filters))]


def test_empty_store_has_no_collection_and_version_zero(store: VectorStore) -> None:
    assert store.active() is None
    assert store.read_meta() == KbMeta()


def test_write_search_filter_delete(store: VectorStore, embedder: Embedder, sparse: SparseEncoder) -> None:
    coll = store.create_collection(embedder.dim)
    coll.upsert(_points(embedder, sparse))
    coll.finish()
    store.activate(coll)
    assert store.collection_dim(coll) == 384
    assert coll.count() == 5
    # exact code found by the sparse vector alone
    assert _search(store, embedder, sparse, "NW-KTL-110", mode="sparse")[0] == "kettle.md"
    assert (
        _search(store, embedder, sparse, "how many days do I have to send something back")[0] == "returns.md"
    )
    only_zh = _search(
        store, embedder, sparse, "return within 30 days", filters=SearchFilters(language=["zh"])
    )
    assert only_zh == ["zh/returns.md"]
    hits = coll.search(SearchRequest(embedder.embed_query("refund kettle").tolist(), None, limit=1))
    assert hits[0].dense_score is not None and 0.2 < hits[0].dense_score <= 1.0
    states = coll.document_states()
    assert states["returns.md"].complete and states["returns.md"].doc_hash == "h1"
    assert [c.chunk_index for c in coll.chunks("returns.md")] == [0, 1]
    coll.delete_documents(["kettle.md"])
    assert "kettle.md" not in coll.document_states()
    # stale chunks: rewrite returns.md with one chunk and a new hash, then drop the rest
    new = ChunkPayload(
        doc_id="returns.md",
        chunk_index=0,
        chunk_count=1,
        doc_hash="h2",
        text="Returns: 60 days.",
        title="r",
        source="returns.md",
        language="en",
    )
    coll.upsert(
        [
            ChunkPoint(
                point_id("returns.md", 0),
                embedder.embed_query("x").tolist(),
                sparse.document("Returns: 60 days.", "en"),
                new,
            )
        ]
    )
    assert coll.document_states()["returns.md"].doc_hash is None  # mixed: not complete
    coll.delete_stale("returns.md", "h2")
    state = coll.document_states()["returns.md"]
    assert state.complete and state.doc_hash == "h2" and state.chunk_count == 1


def test_alias_swap_replaces_collection_and_drops_old(
    store: VectorStore, embedder: Embedder, sparse: SparseEncoder
) -> None:
    first = store.create_collection(embedder.dim)
    first.upsert(_points(embedder, sparse))
    store.activate(first)
    second = store.create_collection(embedder.dim)
    second.upsert(_points(embedder, sparse)[:1])
    active = store.active()
    assert active is not None and active.name == first.name  # not visible before activation
    store.activate(second)
    active = store.active()
    assert active is not None and active.name == second.name and active.count() == 1


def test_meta_roundtrip(store: VectorStore) -> None:
    store.write_meta(
        KbMeta(version=3, fingerprint={"model": "m", "dim": 384}, updated_at="2026-11-23T00:00:00")
    )
    assert store.read_meta().version == 3
    assert store.read_meta().fingerprint["dim"] == 384
    assert store.read_meta().relevance == {}
    relevance = {"threshold": 0.3125, "model": "m", "quantiles": {"answerable": {"p10": 0.41}}}
    store.write_meta(KbMeta(version=4, fingerprint={"model": "m"}, relevance=relevance))
    assert store.read_meta() == KbMeta(version=4, fingerprint={"model": "m"}, relevance=relevance)


def test_embedded_store_is_single_process_with_a_clear_message(tmp_path: Path) -> None:
    store = EdgeStore(tmp_path / "qdrant")
    try:
        code = (
            "from knowledge.store.edge import EdgeStore\n"
            "from knowledge.errors import StoreLockedError\n"
            f"try:\n    EdgeStore({str(tmp_path / 'qdrant')!r})\n"
            "except StoreLockedError as e:\n    print('LOCKED', e)\n"
        )
        out = subprocess.run(  # noqa: PLW1510 - the output is the assertion
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert "LOCKED" in out.stdout
        assert "stop that process" in out.stdout and "QDRANT_URL" in out.stdout
        assert f"pid {__import__('os').getpid()}" in out.stdout
    finally:
        store.close()
    EdgeStore(tmp_path / "qdrant").close()  # released on close


def test_same_process_second_open_is_refused_too(tmp_path: Path) -> None:
    store = EdgeStore(tmp_path / "qdrant")
    try:
        with pytest.raises(StoreLockedError):
            EdgeStore(tmp_path / "qdrant")
    finally:
        store.close()


def _synthetic(doc_id: str, lang: str, dense: list[float], english: list[float] | None) -> ChunkPoint:
    payload = ChunkPayload(
        doc_id=doc_id,
        chunk_index=0,
        chunk_count=1,
        doc_hash="h",
        text=doc_id,
        title=doc_id,
        source=doc_id,
        language=lang,
    )
    return ChunkPoint(point_id(doc_id, 0), dense, SparseVec([7], [1.0]), payload, dense_en=english)


def test_english_companion_vector_joins_the_fusion_for_english_chunks_only(store: VectorStore) -> None:
    coll = store.create_collection(3, english_dim=2)
    coll.upsert(
        [
            _synthetic("e1", "en", [1.0, 0.0, 0.0], [0.0, 1.0]),
            _synthetic("e2", "en", [0.0, 1.0, 0.0], [1.0, 0.0]),
            _synthetic("z", "zh", [0.9, 0.1, 0.0], None),  # no companion vector: not English
        ]
    )
    coll.finish()
    store.activate(coll)
    no_match = SparseVec([99], [1.0])  # the lexical ranking is empty: dense rankings decide

    def ids(english: list[float] | None, filters: SearchFilters | None = None) -> list[str]:
        request = SearchRequest([1.0, 0.0, 0.0], no_match, limit=3, filters=filters, dense_en=english)
        return [h.payload.doc_id for h in coll.search(request)]

    assert ids(None) == ["e1", "z", "e2"]
    # e2 is the companion's first choice: it overtakes the Chinese chunk the main model ranked 2nd.
    assert ids([1.0, 0.0]) == ["e1", "e2", "z"]
    # A filter that excludes English leaves the companion out; one that keeps it applies to it too.
    assert ids([1.0, 0.0], SearchFilters(language=["zh"])) == ["z"]
    assert ids([1.0, 0.0], SearchFilters(doc_id=["e2", "z"])) == ["e2", "z"]
    assert store.collection_dim(coll) == 3


def test_lexical_ranking_stays_in_the_question_language_but_codes_cross_languages(store: VectorStore) -> None:
    coll = store.create_collection(3)

    def point(doc_id: str, lang: str, dense: list[float], sparse: SparseVec) -> ChunkPoint:
        return dataclasses.replace(_synthetic(doc_id, lang, dense, None), sparse=sparse)

    coll.upsert(
        [
            point("a", "en", [0.0, 1.0, 0.0], SparseVec([5], [2.0])),
            point("b", "es", [0.5, 0.5, 0.0], SparseVec([5], [1.0])),
            point("c", "zh", [1.0, 0.0, 0.0], SparseVec([9], [1.0])),
        ]
    )
    coll.finish()
    store.activate(coll)

    def ids(**options: Any) -> list[str]:
        request = SearchRequest([1.0, 0.0, 0.0], SparseVec([5], [1.0]), limit=3, **options)
        return [h.payload.doc_id for h in coll.search(request)]

    # Dense ranks c, b, a; the word ranks a, b.
    assert ids() == ["a", "b", "c"]
    # The word only counts in the question's language: b (Spanish) gets no lexical credit.
    assert ids(lexical_language="en") == ["a", "c", "b"]
    # A code in the question ranks chunks of any language.
    assert ids(lexical_language="en", identifiers=SparseVec([9], [1.0])) == ["c", "a", "b"]
    # A language filter that excludes the question's language leaves the words out entirely.
    assert ids(lexical_language="en", filters=SearchFilters(language=["es", "zh"])) == ["c", "b"]


CODES = {
    "contact.md": ("pl", ["Reklamacje wysyłaj e-mailem; w temacie podaj kod, np. JDZ-2026-123456."]),
    "drivers.md": ("pl", ["Dodatkowy kierowca: dopisanie drugiego kierowcy kosztuje 20 zł za dobę."]),
    "orders.md": ("en", ["Order NW-113542617735902 went to the old address; the customer gets a new one."]),
}


def test_codes_match_whole_in_any_language(
    store: VectorStore, embedder: Embedder, sparse: SparseEncoder
) -> None:
    """A code (booking number, SKU) matches the same code, whole: a customer's own booking number
    never finds the page that shows an example number of the same form (both were ``jdz`` to the
    tokenizer), and a code finds its page in any language."""
    coll = store.create_collection(embedder.dim)
    points = []
    for doc_id, (lang, [text]) in CODES.items():
        payload = ChunkPayload(
            doc_id=doc_id, chunk_index=0, chunk_count=1, doc_hash="h", text=text, title=doc_id,
            source=doc_id, language=lang, tags=[],
        )  # fmt: skip
        vector = embedder.embed_documents([text])[0].tolist()
        points.append(ChunkPoint(point_id(doc_id, 0), vector, sparse.document(text, lang), payload))
    coll.upsert(points)
    coll.finish()
    store.activate(coll)

    assert _search(store, embedder, sparse, "JDZ-2026-654321", lang="pl", mode="sparse") == []
    assert _search(store, embedder, sparse, "jdz-2026-123456?", lang="pl", mode="sparse") == ["contact.md"]
    assert _search(store, embedder, sparse, "nw-113542617735902", lang="en", mode="sparse") == ["orders.md"]
    # the code is the same term in any language's tokenizer
    german = "Wo ist NW-113542617735902?"
    assert _search(store, embedder, sparse, german, lang="de", mode="sparse") == ["orders.md"]
    question = "Mam rezerwację JDZ-2026-654321. Czy mogę dopisać drugiego kierowcę?"
    assert _search(store, embedder, sparse, question, lang="pl", mode="sparse") == ["drivers.md"]


def _hybrid(
    embedder: Embedder, sparse: SparseEncoder, text: str, lang: str, limit: int = 10
) -> SearchRequest:
    return SearchRequest(
        embedder.embed_query(text).tolist(),
        sparse.query(text, lang),
        limit=limit,
        lexical_language=lang,
        identifiers=sparse.identifiers(text, lang),
    )


def test_candidates_are_the_fused_ranking_as_ids_scores_and_scopes(
    store: VectorStore, embedder: Embedder, sparse: SparseEncoder
) -> None:
    """``candidates`` ranks like ``search`` and tells the cosine and, per language set, whether a
    chunk is outside it, without payloads; ``hits`` fetches chunks whole in a given order."""
    coll = store.create_collection(embedder.dim)
    coll.upsert(_points(embedder, sparse))
    coll.finish()
    store.activate(coll)
    request = _hybrid(embedder, sparse, "Can I return an item within 30 days?", "en")
    whole = coll.search(request)
    scopes = [frozenset({"en", "und"}), frozenset({"zh"})]
    pool = coll.candidates(request, scopes)
    assert [c.id for c in pool] == [h.id for h in whole] and len(whole) == 5
    assert [c.score for c in pool] == pytest.approx([h.score for h in whole])
    assert [c.dense_score for c in pool] == pytest.approx([h.dense_score for h in whole], abs=1e-5)
    languages = {h.id: h.payload.language for h in whole}
    assert [c.outside for c in pool] == [(languages[c.id] != "en", languages[c.id] != "zh") for c in pool]
    assert coll.candidates(request)[0].outside == ()

    chosen = [(c.id, 0.5 - n / 10) for n, c in enumerate(reversed(pool[:3]))]
    gone = point_id("deleted.md", 0)
    hits = coll.hits([*chosen[:1], (gone, 0.45), *chosen[1:]], request.dense)
    assert [(h.id, h.score) for h in hits] == chosen  # the order and scores given; unknown ids left out
    same = {h.id: h for h in whole}
    for hit in hits:
        assert hit.payload == same[hit.id].payload
        assert hit.vector == pytest.approx(same[hit.id].vector)
        # (qdrant-client's local mode returns a query's and a retrieve's vectors at different precisions)
        assert hit.dense_score == pytest.approx(same[hit.id].dense_score, abs=1e-6)
    assert coll.hits([], request.dense) == []
    with pytest.raises(ValueError, match="hybrid"):
        coll.candidates(dataclasses.replace(request, sparse=None))


QUESTIONS = [
    ("Can I return an item within 30 days?", "en"),
    ("NW-KTL-110 refund", "en"),
    ("¿Puedo devolver un artículo?", "es"),
    ("我可以退货吗", "zh"),
    ("Wie lange habe ich Zeit für eine Rücksendung?", "de"),
]


def test_hybrid_search_ranks_the_pool_from_ids_as_it_did_from_whole_hits(
    store: VectorStore, embedder: Embedder, sparse: SparseEncoder
) -> None:
    """``knowledge.search`` ranks the fused pool from ``candidates`` (ids, scores, scopes) and
    fetches only the hits it keeps: the same hits, in the same order with the same scores, as the
    whole pool fetched with payloads and vectors gives."""
    coll = store.create_collection(embedder.dim)
    coll.upsert(_points(embedder, sparse))
    coll.finish()
    store.activate(coll)
    for text, lang in QUESTIONS:
        for limit in (1, 3, 5):
            request = _hybrid(embedder, sparse, text, lang, limit)
            expected = ranked_from_whole_pool(coll, request)
            got = [(h.id, h.score) for h in _ranked(coll, request)]
            assert [i for i, _ in got] == [i for i, _ in expected], text
            assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-12), text
