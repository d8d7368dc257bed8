from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from knowledge.embedder import Embedder
from knowledge.errors import IndexMismatchError, IngestRefusedError
from knowledge.language import LanguageIdentifier
from knowledge.schema import KbMeta, SearchFilters
from knowledge.search import KnowledgeBase
from knowledge.settings import ChunkingSettings, IngestSettings, Settings
from knowledge.sparse import SparseEncoder
from knowledge.store import VectorStore
from knowledge.store.edge import EdgeStore
from tests.conftest import make_settings
from tests.corpus import write_broken_files, write_corpus


class Env:
    def __init__(
        self, tmp: Path, embedder: Embedder, sparse: SparseEncoder, languages: LanguageIdentifier
    ) -> None:
        self.tmp = tmp
        self.docs = write_corpus(tmp / "docs")
        self.settings: Settings = make_settings(tmp)
        self.store: VectorStore = EdgeStore(self.settings.qdrant.path, "kb")
        self.embedder, self.sparse, self.languages = embedder, sparse, languages

    def pipeline(self, settings: Settings | None = None) -> IngestPipeline:
        return IngestPipeline(
            self.store, self.embedder, self.sparse, self.languages, settings or self.settings
        )

    def kb(self) -> KnowledgeBase:
        return KnowledgeBase(self.store, self.embedder, self.sparse, self.languages)

    def states(self) -> dict[str, tuple[str | None, int]]:
        coll = self.store.active()
        assert coll is not None
        return {d: (s.doc_hash, s.chunk_count) for d, s in coll.document_states().items()}


def test_first_ingest_adds_everything_and_is_searchable(env: Env) -> None:
    report = env.pipeline().run([env.docs])
    assert sorted(report.added) == sorted(
        [
            "returns.md",
            "shipping.md",
            "es/devoluciones.md",
            "kettle.txt",
            *[d for d in env.states() if d.startswith("faq.csv#")],
        ]
    )
    assert len([d for d in report.added if d.startswith("faq.csv#")]) == 3
    assert report.skipped == [] and report.kb_version > 0 and report.chunks_written == report.total_chunks
    hits = env.kb().search("NW-KTL-110 recall", limit=1)
    assert hits[0].payload.doc_id == "kettle.txt"
    hits = env.kb().search("how many days to send an item back", limit=3)
    assert "returns.md" in [h.payload.doc_id for h in hits]


def test_payload_metadata_and_language_detection(env: Env) -> None:
    env.pipeline().run([env.docs])
    coll = env.store.active()
    assert coll is not None
    returns = coll.chunks("returns.md")
    assert returns[0].title == "Returns policy" and returns[0].language == "en"
    assert returns[0].tags == ["returns", "policy"]
    assert returns[0].effective_date == "2026-03-01" and returns[0].version == "2.1"
    assert any(c.headings[-1] in {"Return window", "Exceptions"} for c in returns)
    assert coll.chunks("es/devoluciones.md")[0].language == "es"
    faq = [d for d, (_, _) in env.states().items() if d.startswith("faq.csv#")]
    kinds = {coll.chunks(d)[0].kind for d in faq}
    assert kinds == {"faq"}
    spanish_faq = [coll.chunks(d)[0] for d in faq if coll.chunks(d)[0].language == "es"]
    assert len(spanish_faq) == 1 and "Klarna" in spanish_faq[0].text
    only_es = env.kb().search("devolver artículos", filters=SearchFilters(language=["es"]), limit=5)
    assert only_es and {h.payload.language for h in only_es} == {"es"}


def test_rerun_on_same_input_changes_nothing(env: Env) -> None:
    first = env.pipeline().run([env.docs])
    before = env.states()
    second = env.pipeline().run([env.docs])
    assert second.chunks_written == 0 and not second.changed
    assert len(second.unchanged) == first.documents
    assert second.kb_version == first.kb_version
    assert env.states() == before


def test_changed_document_is_replaced_without_stale_chunks(env: Env) -> None:
    long_body = "\n\n".join(
        f"## Rule {i}\n\n" + "Returned items are inspected carefully. " * 30 for i in range(8)
    )
    (env.docs / "returns.md").write_text(f"# Returns policy\n\n{long_body}", encoding="utf-8")
    env.pipeline().run([env.docs])
    long_chunks = env.states()["returns.md"][1]
    assert long_chunks > 2
    (env.docs / "returns.md").write_text(
        "# Returns policy\n\nReturns are accepted within 60 days.", encoding="utf-8"
    )
    report = env.pipeline().run([env.docs])
    assert report.updated == ["returns.md"] and report.chunks_written == 1
    assert "shipping.md" in report.unchanged
    coll = env.store.active()
    assert coll is not None
    chunks = coll.chunks("returns.md")
    assert [c.chunk_index for c in chunks] == [0] and "60 days" in chunks[0].text
    assert env.states()["returns.md"][1] == 1


def test_removed_documents_are_kept_by_default_and_deleted_with_prune(env: Env) -> None:
    env.pipeline().run([env.docs])
    (env.docs / "shipping.md").unlink()
    kept = env.pipeline().run([env.docs])
    assert kept.deleted == [] and "shipping.md" in env.states()
    pruned = env.pipeline().run([env.docs], prune=True)
    assert pruned.deleted == ["shipping.md"] and "shipping.md" not in env.states()
    assert pruned.kb_version > kept.kb_version


def test_prune_keeps_documents_whose_file_failed_to_load(env: Env) -> None:
    env.pipeline().run([env.docs])
    (env.docs / "kettle.txt").write_bytes(b"\x00\x00broken now\x00")
    report = env.pipeline().run([env.docs], prune=True)
    assert [s.reason for s in report.skipped] == ["binary file"]
    assert report.deleted == [] and "kettle.txt" in env.states()


def test_bad_inputs_are_skipped_with_reasons_and_the_rest_ingested(env: Env) -> None:
    expected = write_broken_files(env.docs / "broken")
    settings = env.settings.model_copy(update={"ingest": IngestSettings(max_file_mb=1.0)})
    report = env.pipeline(settings).run([env.docs, env.tmp / "does-not-exist"])
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {*expected, "does-not-exist"}
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])
    assert "not found" in reasons["does-not-exist"]
    assert {"returns.md", "kettle.txt", "es/devoluciones.md"} <= set(report.added)


def test_dry_run_reports_but_writes_nothing(env: Env) -> None:
    env.pipeline().run([env.docs])
    before, version = env.states(), env.store.read_meta().version
    (env.docs / "shipping.md").write_text("# Shipping\n\nWe ship worldwide in 2 days.", encoding="utf-8")
    (env.docs / "new.md").write_text("# Gift cards\n\nGift cards never expire.", encoding="utf-8")
    report = env.pipeline().run([env.docs], dry_run=True)
    assert report.dry_run and report.added == ["new.md"] and report.updated == ["shipping.md"]
    assert env.states() == before and env.store.read_meta().version == version


def test_rebuild_swaps_to_a_fresh_collection(env: Env) -> None:
    env.pipeline().run([env.docs])
    old = env.store.active()
    assert old is not None
    old_name, old_states = old.name, env.states()
    (env.docs / "shipping.md").unlink()
    report = env.pipeline().run([env.docs], rebuild=True)
    new = env.store.active()
    assert new is not None and new.name != old_name
    assert not (env.settings.qdrant.path / "collections" / old_name).exists()
    assert report.deleted == ["shipping.md"]
    assert set(env.states()) == set(old_states) - {"shipping.md"}
    assert all(v == old_states[d] for d, v in env.states().items())  # same hashes, same chunking


def test_changed_chunking_settings_reembed_everything(env: Env) -> None:
    env.pipeline().run([env.docs])
    smaller = env.settings.model_copy(update={"chunking": ChunkingSettings(tokens=64, overlap=8)})
    report = env.pipeline(smaller).run([env.docs])
    assert len(report.updated) == report.documents and report.unchanged == []


def test_model_mismatch_is_refused_with_rebuild_hint(env: Env) -> None:
    env.pipeline().run([env.docs])
    meta = env.store.read_meta()
    env.store.write_meta(
        KbMeta(meta.version, {**meta.fingerprint, "model": "intfloat/multilingual-e5-small"})
    )
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        env.pipeline().run([env.docs])
    env.pipeline().run([env.docs], rebuild=True)  # the way out works


def test_each_changing_run_is_one_version_and_what_it_writes_is_never_under_it(env: Env) -> None:
    seen: list[int] = []  # the version a reader (the service, its caches) sees while the run writes

    def watch(_done: int, _total: int) -> None:
        seen.append(env.store.read_meta().version)

    first = env.pipeline().run([env.docs], progress=watch)
    assert (first.previous_version, first.kb_version, set(seen)) == (0, 1, {0})
    assert "knowledge base version none → 1" in first.summary()
    (env.docs / "new.md").write_text("# New\n\nA new policy about gift wrapping.", encoding="utf-8")
    seen.clear()
    added = env.pipeline().run([env.docs], progress=watch)
    # Cached while the run wrote: version 1, which is never current again.
    assert (added.previous_version, added.kb_version, set(seen)) == (1, 2, {1})
    assert "knowledge base version 1 → 2" in added.summary()
    unchanged = env.pipeline().run([env.docs])
    assert unchanged.kb_version == 2 and "knowledge base unchanged (version 2)" in unchanged.summary()
    seen.clear()
    rebuilt = env.pipeline().run([env.docs], rebuild=True, progress=watch)
    assert (rebuilt.previous_version, rebuilt.kb_version, set(seen)) == (2, 3, {2})
    meta = json.loads((env.settings.qdrant.path / "meta.json").read_text())
    assert meta["kb"]["version"] == 3 == env.kb().version()


def test_a_run_that_fails_while_changing_the_index_in_place_raises_the_version(env: Env) -> None:
    env.pipeline().run([env.docs])
    (env.docs / "returns.md").write_text("# Returns\n\nReturns are accepted for 60 days.", encoding="utf-8")

    def fail(_done: int, _total: int) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        env.pipeline().run([env.docs], progress=fail)
    # returns.md was rewritten before the failure: what version 1 served is gone.
    assert env.store.read_meta().version == 2
    assert env.pipeline().run([env.docs]).kb_version == 2  # complete as it was left: nothing to redo


# --- the safeguard: a pruning or rebuilding run never wipes the knowledge base by mistake --------


def _untouched(env: Env) -> tuple[dict[str, tuple[str | None, int]], int, list[str]]:
    """Documents with their hashes, the KB version and the collections on disk."""
    folders = sorted(p.name for p in (env.settings.qdrant.path / "collections").iterdir())
    return env.states(), env.store.read_meta().version, folders


def test_prune_with_a_missing_path_is_refused_and_deletes_nothing(env: Env) -> None:
    env.pipeline().run([env.docs])
    before = _untouched(env)
    wrong = env.tmp / "dcos"
    for paths in ([wrong], [env.docs, wrong]):
        with pytest.raises(IngestRefusedError) as refused:
            env.pipeline().run(paths, prune=True, force=True)  # force does not excuse a wrong path
        assert refused.value.reason == "missing_path" and refused.value.exit_code == 2
        assert f"{wrong}: not found" in refused.value.message
        assert refused.value.hint and "without --prune" in refused.value.hint
        assert _untouched(env) == before
    assert len(before[0]) == 7


def test_prune_refuses_when_no_file_could_be_read(env: Env) -> None:
    env.pipeline().run([env.docs])
    before = _untouched(env)
    empty = env.tmp / "empty"
    empty.mkdir()
    unsupported = env.tmp / "word"
    unsupported.mkdir()
    (unsupported / "returns.docx").write_text("not for us", encoding="utf-8")
    (unsupported / "blank.md").write_text("   \n", encoding="utf-8")
    for folder, says in ((empty, "no files found"), (unsupported, "unsupported file type .docx")):
        with pytest.raises(IngestRefusedError, match="no file could be read") as refused:
            env.pipeline().run([folder], prune=True)
        assert refused.value.reason == "nothing_read"
        assert says in refused.value.message and "all 7 documents" in refused.value.message
        assert _untouched(env) == before


def _kettle_alone(env: Env) -> Path:
    """kettle.txt in a folder of its own: nothing of the knowledge base is left out next to it."""
    alone = env.tmp / "alone"
    alone.mkdir(exist_ok=True)
    (alone / "kettle.txt").write_bytes((env.docs / "kettle.txt").read_bytes())
    return alone / "kettle.txt"


def test_deleting_more_than_half_needs_force(env: Env) -> None:
    env.pipeline().run([env.docs])
    before = _untouched(env)
    with pytest.raises(IngestRefusedError) as refused:
        env.pipeline().run([_kettle_alone(env)], prune=True)
    assert refused.value.reason == "too_many_deletions"
    assert "would delete 4 of the knowledge base's 5 source files" in refused.value.message
    assert "6 of 7 documents" in refused.value.message
    assert refused.value.details == {"would_delete": 6, "documents": 7, "files_deleted": 4, "files": 5}
    assert refused.value.hint and "--force" in refused.value.hint
    assert _untouched(env) == before

    forced = env.pipeline().run([_kettle_alone(env)], prune=True, force=True)
    assert len(forced.deleted) == 6 and set(env.states()) == {"kettle.txt"}


def test_dry_run_reports_a_refusal_without_needing_force(env: Env) -> None:
    env.pipeline().run([env.docs])
    before = _untouched(env)
    report = env.pipeline().run([_kettle_alone(env)], prune=True, dry_run=True)
    assert report.refused is not None and report.refused["reason"] == "too_many_deletions"
    assert report.refused["would_delete"] == 6 and report.refused["documents"] == 7
    assert len(report.deleted) == 6 and "kettle.txt" not in report.deleted
    assert "REFUSED" in report.summary() and "--force" in report.summary()
    forced = env.pipeline().run([_kettle_alone(env)], prune=True, dry_run=True, force=True)
    assert forced.refused is None and len(forced.deleted) == 6
    missing = env.pipeline().run([env.tmp / "nope"], prune=True, dry_run=True)
    assert missing.refused is not None and missing.refused["reason"] == "missing_path"
    assert _untouched(env) == before


def test_rebuild_is_guarded_too_and_creates_no_collection(env: Env) -> None:
    env.pipeline().run([env.docs])
    before = _untouched(env)
    with pytest.raises(IngestRefusedError, match="--rebuild refused"):
        env.pipeline().run([env.tmp / "nope"], rebuild=True)
    with pytest.raises(IngestRefusedError, match="--rebuild would delete 4 of the knowledge base's 5"):
        env.pipeline().run([_kettle_alone(env)], rebuild=True)
    with pytest.raises(IngestRefusedError, match="--rebuild would delete the documents of 4 file"):
        env.pipeline().run([env.docs / "kettle.txt"], rebuild=True)
    assert _untouched(env) == before


def test_first_prune_on_a_missing_path_writes_nothing(env: Env) -> None:
    with pytest.raises(IngestRefusedError):
        env.pipeline().run([env.tmp / "nope"], prune=True)
    assert env.store.active() is None and env.store.read_meta().version == 0
    collections = env.settings.qdrant.path / "collections"
    assert not collections.exists() or not any(collections.iterdir())
    assert not env.pipeline().run([env.tmp / "nope"]).changed  # without --prune: skipped, as before


def test_english_companion_is_part_of_the_index_and_a_change_needs_rebuild(env: Env) -> None:
    assert env.embedder.english is not None  # the default: multilingual model + English companion
    env.pipeline().run([env.docs])
    fingerprint = env.store.read_meta().fingerprint
    assert fingerprint["english_model"] == env.embedder.english.name
    assert fingerprint["english_dim"] == env.embedder.english.dim
    # The same main model without the companion cannot write into this index.
    companion, env.embedder.english = env.embedder.english, None
    try:
        with pytest.raises(IndexMismatchError, match="English companion"):
            env.pipeline().run([env.docs])
        report = env.pipeline().run([env.docs], rebuild=True)
        assert report.documents > 0
        assert "english_model" not in env.store.read_meta().fingerprint
        hits = env.kb().search("How many days do I have to return an item?", language="en")
        assert hits and hits[0].payload.doc_id == "returns.md"
    finally:
        env.embedder.english = companion


def test_english_questions_are_ranked_with_the_companion_too(env: Env) -> None:
    """The companion's vectors are on the English chunks; an English question uses them."""
    env.pipeline().run([env.docs])
    kb = env.kb()
    question = "How many days do I have to return an item?"
    with_companion = kb.search(question, language="en", limit=10)
    companion, env.embedder.english = env.embedder.english, None
    try:
        without = kb.search(question, language="en", limit=10)
    finally:
        env.embedder.english = companion
    # Same passages found; the fused RRF scores differ because a third ranking took part.
    assert with_companion[0].payload.doc_id == without[0].payload.doc_id == "returns.md"
    assert [h.score for h in with_companion] != [h.score for h in without]
    spanish = kb.search("¿Cuántos días tengo para devolver un artículo?", language="es", limit=10)
    assert spanish and spanish[0].payload.doc_id in {"returns.md", "es/devoluciones.md"}
