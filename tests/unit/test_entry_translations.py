"""Translations of one entry count once in a ranking (``knowledge.search.one_language_per_entry``):
kept in the question's language, else in the best-ranked one, at the entry's best rank; the merge
of a question's and its translation's results does the same; ingest gives a drafted entry's
files their ``entry_id``."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders import SourceFile, load
from knowledge.schema import ChunkPayload, SearchHit
from knowledge.search import one_language_per_entry
from knowledge.settings import IngestSettings
from service.retrieval.crosslingual import merge_hits


def hit(doc: str, language: str, entry: str | None = None, cosine: float = 0.8, chunk: int = 0) -> SearchHit:
    payload = ChunkPayload(
        doc_id=doc, chunk_index=chunk, chunk_count=chunk + 1, doc_hash="h", text=doc, title=doc, source=doc,
        language=language, extra={"entry_id": entry} if entry else {},
    )  # fmt: skip
    return SearchHit(id=f"{doc}#{chunk}", score=cosine, dense_score=cosine, payload=payload)


def ids(hits: list[SearchHit]) -> list[str]:
    return [h.id for h in hits]


RANKED = [
    hit("a.en.md", "en", "a", 0.90),
    hit("a.es.md", "es", "a", 0.88),
    hit("page.md", "en", None, 0.87),
    hit("a.de.md", "de", "a", 0.86),
    hit("b.fr.md", "fr", "b", 0.85),
    hit("b.en.md", "en", "b", 0.84),
    hit("other.md", "en", None, 0.83),
]


def test_an_entry_counts_once_in_the_questions_language_at_its_best_rank() -> None:
    spanish = one_language_per_entry(RANKED, "es")
    assert ids(spanish) == ["a.es.md#0", "page.md#0", "b.fr.md#0", "other.md#0"]  # b: no es, its best
    assert ids(one_language_per_entry(RANKED, "en")) == ["a.en.md#0", "page.md#0", "b.en.md#0", "other.md#0"]
    assert ids(one_language_per_entry(RANKED, "es-MX")) == ids(spanish)
    assert ids(one_language_per_entry(RANKED, None))[0] == "a.en.md#0"  # no language: the best-ranked


def test_hits_without_an_entry_and_an_entrys_own_chunks_stay() -> None:
    plain = [h for h in RANKED if h.payload.extra == {}]
    assert one_language_per_entry(plain, "en") == plain
    long = [
        hit("c.en.md", "en", "c", 0.9, 0),
        hit("c.de.md", "de", "c", 0.89),
        hit("c.en.md", "en", "c", 0.7, 1),
    ]
    assert ids(one_language_per_entry(long, "en")) == ["c.en.md#0", "c.en.md#1"]  # two passages, one language


def test_the_cross_lingual_merge_keeps_one_language_per_entry_and_refills() -> None:
    original = [hit("a.es.md", "es", "a", 0.86), hit("page.md", "en", None, 0.80)]
    translated = [
        hit("a.en.md", "en", "a", 0.91),
        hit("b.en.md", "en", "b", 0.85),
        hit("x.md", "en", None, 0.8),
    ]
    merged = merge_hits(original, translated, "es", 3)
    # entry a once, in Spanish, at its best rank (a.en's, first); the freed slot goes to the next hit
    assert ids(merged) == ["a.es.md#0", "b.en.md#0", "page.md#0"]
    assert ids(merge_hits(original, translated, "es", 5)) == ["a.es.md#0", "b.en.md#0", "page.md#0", "x.md#0"]


def test_ingest_names_a_drafted_entrys_translations_alike(tmp_path: Path) -> None:
    def front(lang: str, extra: str = "") -> str:
        return (
            f"---\ntitle: Q {lang}\nlanguage: {lang}\nstatus: approved\nfaq_draft_run: faq-20261205-1932\n"
            f"cluster: 4\n{extra}---\n\n# Q\n\nAnswer.\n"
        )

    settings = IngestSettings()
    docs = []
    for name, text in {
        "e.en.md": front("en"),
        "e.es.md": front("es"),
        "own.md": front("de", "entry_id: x1\n"),
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        docs += load(SourceFile(tmp_path / name, tmp_path), settings)
    assert [d.extra.get("entry_id") for d in docs] == ["faq-20261205-1932-04", "faq-20261205-1932-04", "x1"]
    (tmp_path / "plain.md").write_text("# Refunds\n\nText.\n", encoding="utf-8")
    assert "entry_id" not in load(SourceFile(tmp_path / "plain.md", tmp_path), settings)[0].extra


def test_scores_follow_the_order_after_an_entry_or_a_merge_moves_a_hit() -> None:
    """Each hit's ``score`` is the value it is ranked by (what its citation shows): a translation
    moved up to its entry's rank takes that rank's score, a merged hit its merged value."""

    def scores(hits: list[SearchHit]) -> list[float]:
        return [h.score for h in hits]

    spanish = one_language_per_entry(RANKED, "es")
    assert spanish[0].id == "a.es.md#0" and spanish[0].score == 0.90  # a.en's rank and score
    assert scores(spanish) == sorted(scores(spanish), reverse=True)
    original = [hit("a.es.md", "es", "a", 0.86), hit("page.md", "en", None, 0.80)]
    translated = [
        hit("a.en.md", "en", "a", 0.91),
        hit("b.en.md", "en", "b", 0.85),
        hit("x.md", "en", None, 0.8),
    ]
    for strategy in ("weighted_rank", "rank", "relevance"):
        merged = merge_hits(original, translated, "es", 5, strategy=strategy)
        assert scores(merged) == sorted(scores(merged), reverse=True), (strategy, merged)
        assert len(set(scores(merged))) > 1
