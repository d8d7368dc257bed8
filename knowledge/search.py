"""The read API the service and the evaluation use: question in, ranked chunks out.

Hybrid search fuses, by reciprocal rank, the main model's dense ranking, the lexical (BM25)
ranking of the chunks in the question's language (stemmed words say nothing across languages:
fused in, they pulled Spanish and German questions over English paragraphs down 1–1.5 points of
hit@5), a lexical ranking of every chunk by the question's tokens with digits (order numbers,
SKUs: the same in any language), and — for an English question when an English companion model
is configured (the default with the multilingual model) — the companion's ranking of the English
passages. The companion recovers what the small multilingual model loses on short English FAQ paraphrases
(docs/benchmarks.md) without touching other languages. The lexical and companion rankings see only
some languages: a chunk they cannot see gets, from each of them, the vote the dense ranking gives
it (``knowledge.fusion``), so a page in another language than the question's is not pushed out of
the top *k* by chunks that merely share a word with the question.

Translations of one entry count once (``one_language_per_entry``): documents that share an
``entry_id`` (payload ``extra``: an approved ``faqstream faq draft`` entry in each of its languages,
or any documents given the same ``entry_id`` in their front matter) are one answer, so a question
gets that entry in its own language — else in the best-ranked one — and the slots its other
translations took go to the next passages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from knowledge.embedder import Embedder, load_embedder
from knowledge.fusion import UNDETERMINED, by_score, fill_abstentions
from knowledge.language import LanguageIdentifier, base_language
from knowledge.schema import KbMeta, SearchFilters, SearchHit, SearchMode
from knowledge.settings import Settings
from knowledge.sparse import SPARSE_FINGERPRINT, SparseEncoder
from knowledge.store import SearchRequest, VectorStore, open_store
from knowledge.store.base import Candidate, Collection, english_only, lexical_filters

# Rankings a hybrid search fuses at most: dense, lexical, identifiers, the English companion.
FUSED_RANKINGS = 4


def embed_one_by_one(embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Query vectors computed one text per forward pass. An int8 model's dynamic quantisation scales
    the activations over the whole batch, so a batched vector depends on the other texts in its
    batch; one by one it depends on its text only. For offline work whose result must not depend
    on what else is in the run (``knowledge.clustering``); questions are embedded in batches (both
    models, ``KnowledgeBase.english_vectors``: a pass streams all of a model's weights, so batching
    costs a fraction of a pass per question)."""
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([embedder.embed_query(text) for text in texts])


ENTRY_ID = "entry_id"  # payload ``extra`` key naming the entry a document translates


def _entry(hit: SearchHit) -> str | None:
    value = hit.payload.extra.get(ENTRY_ID)
    return str(value) if value not in (None, "") else None


def one_language_per_entry(hits: Sequence[SearchHit], language: str | None) -> list[SearchHit]:
    """``hits`` (ranked) with the translations of each entry counted once: of the hits sharing an
    ``entry_id``, only those in the question's ``language`` are kept if there are any, else those
    in the language of the entry's best-ranked hit (every chunk of that one language: they are
    different passages, not translations). An entry keeps the rank of its best hit, and its kept
    hits that score lower take that hit's ``score`` (the order and the scores agree); hits without an
    ``entry_id`` are untouched, and everything else keeps its order."""
    wanted = base_language(language or "")
    kept: dict[str, str] = {}  # entry -> the language kept
    for hit in hits:
        entry = _entry(hit)
        if entry is not None:
            own = base_language(hit.payload.language or "")
            if entry not in kept or (own == wanted and kept[entry] != wanted):
                kept[entry] = own
    if not kept:
        return list(hits)
    chunks: dict[str, list[SearchHit]] = {}
    for hit in hits:
        entry = _entry(hit)
        if entry is not None and base_language(hit.payload.language or "") == kept[entry]:
            chunks.setdefault(entry, []).append(hit)
    out: list[SearchHit] = []
    for hit in hits:
        entry = _entry(hit)
        if entry is None:
            out.append(hit)
        elif entry in chunks:  # at the entry's first rank, with its score (scores follow the order)
            out.extend(replace(chunk, score=max(chunk.score, hit.score)) for chunk in chunks.pop(entry))
    return out


@dataclass(frozen=True)
class Query:
    """One search: the text and its own options."""

    text: str
    limit: int = 5
    filters: SearchFilters | None = None
    language: str | None = None  # for the lexical vector's stemmer; detected when None
    mode: SearchMode = "hybrid"


@dataclass
class KnowledgeBase:
    store: VectorStore
    embedder: Embedder
    sparse: SparseEncoder
    languages: LanguageIdentifier | None = None
    candidates: int = 40

    @classmethod
    def open(cls, settings: Settings) -> KnowledgeBase:
        """Open the configured store (first, so a locked store fails fast) and load the model."""
        store = open_store(settings.qdrant)
        try:
            embedder = load_embedder(settings.embedding)
        except BaseException:
            store.close()
            raise
        languages = LanguageIdentifier.from_settings(settings.ingest)
        return cls(store, embedder, SparseEncoder(), languages)

    def require_languages(self) -> LanguageIdentifier:
        if self.languages is None:
            raise RuntimeError("this knowledge base was opened without a language identifier")
        return self.languages

    def meta(self) -> KbMeta:
        return self.store.read_meta()

    def stale_vectors(self) -> str | None:
        """How the index's vectors were made differently from this process's question vectors
        (another export of the model, another precision, the lexical vectors' recipe…), or None.
        The next ``faqstream ingest`` re-embeds such an index (the fingerprint is part of every
        document's hash); until then questions meet vectors of another recipe."""
        if self.store.active() is None:
            return None
        built = self.meta().fingerprint
        made = {**self.embedder.fingerprint(), "sparse": SPARSE_FINGERPRINT}
        changed = [
            f"{name} {built[name]!r} → {value!r}" if name in built else f"{name} (not recorded) → {value!r}"
            for name, value in made.items()
            if built.get(name) != value
        ]
        if not built or not changed:
            return None
        return (
            f"the knowledge base's vectors were made differently from this version's ({', '.join(changed)}): "
            "run `faqstream ingest` on your documents once to re-embed them"
        )

    def version(self) -> int:
        return self.store.read_meta().version

    def search(
        self,
        query: str,
        *,
        limit: int = 5,
        filters: SearchFilters | None = None,
        mode: SearchMode = "hybrid",
        language: str | None = None,
    ) -> list[SearchHit]:
        return self.search_many([query], limit=limit, filters=filters, mode=mode, languages=[language])[0]

    def search_many(
        self,
        queries: Sequence[str],
        *,
        limit: int = 5,
        filters: SearchFilters | None = None,
        mode: SearchMode = "hybrid",
        languages: Sequence[str | None] | None = None,
    ) -> list[list[SearchHit]]:
        """Search several queries with the same options; dense vectors are computed in one batch."""
        langs = list(languages) if languages is not None else [None] * len(queries)
        return self.run(
            [Query(q, limit, filters, lang, mode) for q, lang in zip(queries, langs, strict=True)]
        )

    def run(self, queries: Sequence[Query]) -> list[list[SearchHit]]:
        """Search each query with its own options; all dense vectors come from one model call."""
        collection = self.store.active()
        if collection is None or not queries:
            return [[] for _ in queries]
        queries = [self.with_language(query) for query in queries]
        vectors = self.query_vectors(queries)
        english = self.english_vectors(queries)
        return [
            self.search_prepared(query, vector, collection, en)
            for query, vector, en in zip(queries, vectors, english, strict=True)
        ]

    def with_language(self, query: Query) -> Query:
        """``query`` with its lexical language decided (detected once here when not given)."""
        if query.language or query.mode == "dense" or self.languages is None:
            return query
        return replace(query, language=self.languages.detect(query.text).language)

    def english_vectors(
        self,
        queries: Sequence[Query],
        embed: Callable[[list[str]], npt.NDArray[np.float32]] | None = None,
    ) -> list[npt.NDArray[np.float32] | None]:
        """The English companion's vector of each query that uses it (hybrid, English), from one
        ``embed`` call (default: the companion's ``embed_queries``, one batch); None for the others.

        Batched like the main model's: dynamic int8 scales activations over the batch, so a vector
        moves a little with its batch mates (cosine ~0.99), as the main model's always have (0.997);
        one pass per question would make neither ranking independent of the batch (measured on the
        demo's 63 eval questions: the main model's batch mates changed the top five of 17, the
        companion's of 1) and cost ~1.9 instead of ~1.0 ms per English question in batches of four
        (docs/benchmarks.md, "Issue 11 CPU, round 11")."""
        vectors: list[npt.NDArray[np.float32] | None] = [None] * len(queries)
        companion = self.embedder.english
        if companion is None:
            return vectors
        rows = [i for i, q in enumerate(queries) if q.mode == "hybrid" and q.language == "en"]
        if rows:
            texts = [queries[i].text for i in rows]
            matrix = (embed or companion.embed_queries)(texts)
            for n, i in enumerate(rows):
                vectors[i] = matrix[n]
        return vectors

    def query_vectors(
        self,
        queries: Sequence[Query],
        embed: Callable[[list[str]], npt.NDArray[np.float32]] | None = None,
    ) -> list[npt.NDArray[np.float32] | None]:
        """The dense vector of each query (None for sparse-only ones), all from one ``embed`` call
        (default: the embedder's ``embed_queries``; the service passes its cached one)."""
        vectors: list[npt.NDArray[np.float32] | None] = [None] * len(queries)
        rows = [i for i, q in enumerate(queries) if q.mode != "sparse"]
        if rows:
            matrix = (embed or self.embedder.embed_queries)([queries[i].text for i in rows])
            for n, i in enumerate(rows):
                vectors[i] = matrix[n]
        return vectors

    def search_prepared(
        self,
        query: Query,
        dense: npt.NDArray[np.float32] | None,
        collection: Collection | None = None,
        english_vector: npt.NDArray[np.float32] | None = None,
    ) -> list[SearchHit]:
        """One search whose dense query vector was computed (or cached) by the caller, and the
        English companion's too when given (``english_vectors``; else computed here if needed)."""
        collection = collection or self.store.active()
        if collection is None:
            return []
        sparse = None
        english = None
        identifiers = None
        lexical_language = None
        lang = query.language
        if query.mode != "dense":
            lang = lang or (self.languages.detect(query.text).language if self.languages else None)
            sparse = self.sparse.query(query.text, lang)
            if query.mode == "hybrid" and dense is not None and lang:
                # Words match words only in the same language; codes match in any.
                lexical_language = lang
                identifiers = self.sparse.identifiers(query.text, lang)
                companion = self.embedder.english
                if companion is not None and lang == "en":
                    if english_vector is None:
                        english_vector = companion.embed_query(query.text)
                    english = english_vector.tolist()
        request = SearchRequest(
            dense=dense.tolist() if dense is not None and query.mode != "sparse" else None,
            sparse=sparse,
            limit=query.limit,
            filters=query.filters,
            candidates=max(self.candidates, query.limit),
            dense_en=english,
            lexical_language=lexical_language,
            identifiers=identifiers,
        )
        hits = _ranked(collection, request)
        kept = one_language_per_entry(hits, lang)
        if len(kept) < len(hits) and len(hits) >= request.limit < request.candidates:
            # Translations of one entry took slots: fill them from further down the same ranking
            # (the fusion's candidate pool; asked only when there were translations to drop).
            kept = one_language_per_entry(
                _ranked(collection, replace(request, limit=request.candidates)), lang
            )
        return kept[: query.limit]


def _ranked(collection: Collection, request: SearchRequest) -> list[SearchHit]:
    """The store's best ``request.limit`` hits in a deterministic order.

    Reciprocal-rank fusion ties often (rank 1 + rank 3 scores like rank 3 + rank 1): the passage
    closer in meaning goes first, so identical requests rank identically. A tie across the limit
    (the last hit kept scores like the first left out) is settled the same way, over every tied
    candidate: the store would return an arbitrary one of them (one more hit is asked for to see
    it; the whole fused pool only when it happens).

    When a ranking of the fusion sees only some languages (the lexical one, the English
    companion's) and the pool holds a chunk it cannot see, that ranking's abstention is filled
    with the dense ranking's vote (``knowledge.fusion``), over the whole fused pool. The pool is
    ranked from ids and scores (``Collection.candidates``); only the hits kept are fetched whole.
    """
    pool_size = max(request.candidates, request.limit) * FUSED_RANKINGS
    scoped = _scoped_rankings(request)
    if scoped:
        pool = collection.candidates(replace(request, limit=pool_size), [scope for scope, _ in scoped])
        blind = [
            i
            for i, (_, voted) in enumerate(scoped)
            if any(c.outside[i] for c in pool) and voted(collection, pool, i)
        ]
        ranked = fill_abstentions(pool, blind, request.candidates) if blind else by_score(pool)
        return collection.hits([(c.id, c.score) for c in ranked[: request.limit]], request.dense)
    hits = by_score(collection.search(replace(request, limit=request.limit + 1)))
    if 0 < request.limit < len(hits) and hits[request.limit - 1].score == hits[request.limit].score:
        hits = by_score(collection.search(replace(request, limit=pool_size)))
    return hits[: request.limit]


Voted = Callable[[Collection, Sequence[Candidate], int], bool]


def _scoped_rankings(request: SearchRequest) -> list[tuple[frozenset[str], Voted]]:
    """The rankings of a hybrid ``request`` that see only some languages: the languages each sees,
    and how to tell whether it found anything (only a ranking that did casts votes) from the
    collection and the pool (its candidates, with the ranking's index into ``outside``)."""
    if request.dense is None or request.sparse is None:
        return []
    out: list[tuple[frozenset[str], Voted]] = []
    lexical, run = lexical_filters(request)
    if request.lexical_language is not None and run and request.sparse.indices:
        words = SearchRequest(dense=None, sparse=request.sparse, limit=1, filters=lexical)

        def found_words(collection: Collection, _pool: Sequence[Candidate], _i: int) -> bool:
            return bool(collection.search(words))

        out.append((frozenset({request.lexical_language, UNDETERMINED}), found_words))
    if request.dense_en is not None and english_only(request.filters) is not None:
        # The companion ranks every English chunk: it voted when the pool holds one.
        out.append((frozenset({"en"}), lambda _c, pool, i: not all(c.outside[i] for c in pool)))
    return out
