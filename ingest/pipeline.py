"""The ingest run: discover → load → plan against the store → chunk, embed, write → prune → calibrate
the relevance cut-off → version.

Idempotent and crash-safe by construction:

* point ids are uuid5(doc_id, chunk_index) and every chunk carries its document's content hash;
* a document is *unchanged* only when all its chunks 0..n-1 are present with the current hash,
  so a run killed mid-document leaves a state the next run sees as incomplete and repairs;
* a changed document's new chunks are written first and its stale chunks (other hash) deleted
  after, so it stays answerable throughout;
* the first build and ``--rebuild`` fill a fresh collection and switch the alias only when done;
* the content hash is taken before language detection (detection is a pure function of the
  content), so an unchanged corpus is diffed without running the detector or the model;
* the relevance cut-off (``knowledge.answerability``) is fitted on the written collection and
  stored in the same metadata write that bumps the version, so a version is never served with
  another version's cut-off. An unchanged run recalibrates (and bumps the version) only when the
  stored cut-off is missing or was fitted by another method or model.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.chunker import Chunker
from ingest.loaders import discover, load
from ingest.report import IngestReport, SkippedFile
from knowledge.answerability import METHOD, calibrate_collection
from knowledge.embedder import Embedder
from knowledge.errors import IndexMismatchError, InputError
from knowledge.language import LanguageIdentifier
from knowledge.schema import Chunk, ChunkPayload, ChunkPoint, DocState, Document, KbMeta, point_id
from knowledge.search import KnowledgeBase
from knowledge.settings import Settings
from knowledge.sparse import SPARSE_FINGERPRINT, SparseEncoder
from knowledge.store import Collection, VectorStore
from knowledge.store.base import now_iso

log = logging.getLogger(__name__)

ProgressHook = Callable[[int, int], None]  # (documents done, documents to write)


@dataclass
class _Planned:
    doc: Document
    doc_hash: str
    action: str  # added | updated | repaired | unchanged


class IngestPipeline:
    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        sparse: SparseEncoder,
        languages: LanguageIdentifier,
        settings: Settings,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.languages = languages
        self.settings = settings
        self.chunker = Chunker(embedder, settings.chunking)
        embedder.check_chunk_size(settings.chunking.tokens)

    def fingerprint(self) -> dict[str, object]:
        chunking = self.settings.chunking
        return {
            **self.embedder.fingerprint(),
            "chunk_tokens": chunking.tokens,
            "chunk_overlap": chunking.overlap,
            "chunk_min_tokens": chunking.min_tokens,
            "sparse": SPARSE_FINGERPRINT,
        }

    # --- stages -----------------------------------------------------------------------------
    def load_documents(self, paths: Sequence[Path], report: IngestReport) -> tuple[list[Document], set[str]]:
        """Load every file; bad ones are skipped with a reason. Returns docs and skipped file ids."""
        sources, skipped = discover(paths, self.settings.ingest)
        report.skipped.extend(SkippedFile(s.path, s.reason) for s in skipped)
        report.files = len(sources)
        docs: dict[str, Document] = {}
        failed: set[str] = set()
        for source in sources:
            try:
                loaded = load(source, self.settings.ingest)
                report.bytes_read += source.path.stat().st_size
            except InputError as exc:
                report.skipped.append(SkippedFile(str(source.path), exc.message))
                failed.add(source.rel_id)
                continue
            except Exception as exc:  # a loader bug must not cost the other documents
                log.exception("loader failed on %s", source.path)
                report.skipped.append(SkippedFile(str(source.path), f"failed to parse: {exc}"))
                failed.add(source.rel_id)
                continue
            for doc in loaded:
                if doc.doc_id in docs:
                    report.skipped.append(
                        SkippedFile(
                            str(source.path),
                            f"duplicate document id {doc.doc_id!r} (also {docs[doc.doc_id].source})",
                        )
                    )
                    continue
                docs[doc.doc_id] = doc
        return list(docs.values()), failed

    def _target(self, rebuild: bool, dry_run: bool) -> tuple[Collection | None, dict[str, DocState], bool]:
        """The collection to write into, the states to diff against, and whether it is new."""
        active = self.store.active()
        meta = self.store.read_meta()
        states = active.document_states() if active is not None else {}
        if active is not None and not rebuild:
            dim = self.store.collection_dim(active)
            old = meta.fingerprint
            if dim != self.embedder.dim or (old.get("model") not in (None, self.embedder.name)):
                raise IndexMismatchError(
                    f"the knowledge base was built with model {old.get('model')!r} ({dim} dimensions); "
                    f"the configured model is {self.embedder.name!r} ({self.embedder.dim} dimensions)",
                    hint="re-index everything with `faqstream ingest --rebuild PATH...` "
                    "(readers keep the old index until the new one is complete)",
                )
        if dry_run:
            return active, states, active is None or rebuild
        if active is None or rebuild:
            return self.store.create_collection(self.embedder.dim), states, True
        return active, states, False

    def plan(self, docs: list[Document], states: dict[str, DocState], fingerprint: str) -> list[_Planned]:
        planned = []
        for doc in docs:
            digest = doc.content_hash(fingerprint)
            state = states.get(doc.doc_id)
            if state is None:
                action = "added"
            elif state.complete and state.doc_hash == digest:
                action = "unchanged"
            elif digest in state.hashes:
                action = "repaired"
            else:
                action = "updated"
            planned.append(_Planned(doc, digest, action))
        return planned

    # --- the run ----------------------------------------------------------------------------
    def run(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        rebuild: bool = False,
        dry_run: bool = False,
        progress: ProgressHook | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(rebuild=rebuild, dry_run=dry_run)
        docs, failed_files = self.load_documents(paths, report)
        report.documents = len(docs)
        fingerprint = self.fingerprint()
        fp_text = json.dumps(fingerprint, sort_keys=True)
        collection, states, fresh = self._target(rebuild, dry_run)
        planned = self.plan(docs, states, fp_text)
        for item in planned:
            getattr(report, item.action).append(item.doc.doc_id)
        seen = {d.doc_id for d in docs}
        if rebuild:  # a rebuild indexes exactly this run's input
            gone = sorted(d for d in states if d not in seen)
        elif prune:  # documents of files that failed to load this time are kept, not pruned
            gone = sorted(d for d in states if d not in seen and not _from_failed_file(d, failed_files))
        else:
            gone = []
        report.deleted.extend(gone)
        meta = self.store.read_meta()
        report.previous_version = report.kb_version = meta.version
        if dry_run:
            report.total_chunks = sum(s.chunk_count for s in states.values())
            report.seconds = time.perf_counter() - started
            return report
        assert collection is not None
        to_write = [p for p in planned if fresh or p.action != "unchanged"]
        if to_write or gone:
            # Bump before writing too: answers cached while the run is in flight are never reused.
            # A fresh collection is not active yet, so the fingerprint stays the active one's until
            # the switch (a rebuild that dies must not make the old index look like the new model's).
            pending = meta.fingerprint if fresh else fingerprint
            meta = KbMeta(
                version=meta.version + 1, fingerprint=pending, updated_at=now_iso(), relevance=meta.relevance
            )
            self.store.write_meta(meta)
        relevance = meta.relevance
        try:
            report.chunks_written = self._write(collection, to_write, progress)
            if gone and not fresh:
                collection.delete_documents(gone)
            collection.finish()
            if report.changed or fresh or not self.calibration_current(meta):
                relevance = self.calibrate(collection)
        except BaseException:
            if fresh:
                self.store.drop(collection)  # readers still have the previous collection
            raise
        if fresh:
            self.store.activate(collection)
        if report.changed or fresh or relevance != meta.relevance:
            # One write: the new version comes with the cut-off calibrated on it (service reads both).
            meta = KbMeta(
                version=meta.version + 1, fingerprint=fingerprint, updated_at=now_iso(), relevance=relevance
            )
            self.store.write_meta(meta)
        report.relevance = _relevance_report(meta.relevance)
        report.kb_version = meta.version
        report.total_chunks = collection.count()
        report.seconds = time.perf_counter() - started
        return report

    # --- relevance calibration ----------------------------------------------------------------
    def calibration_current(self, meta: KbMeta) -> bool:
        """The stored cut-off was fitted by this method with this model (else it is redone)."""
        return meta.relevance.get("method") == METHOD and meta.relevance.get("model") == self.embedder.name

    def calibrate(self, collection: Collection) -> dict[str, Any]:
        """The relevance cut-off of ``collection`` ({} when it cannot be fitted); never fails the run."""
        kb = KnowledgeBase(self.store, self.embedder, self.sparse, self.languages)
        try:
            calibration = calibrate_collection(kb, collection)
        except Exception:
            log.exception("relevance calibration failed; the service will use no cut-off for this version")
            return {}
        if calibration is None:
            log.warning(
                "relevance calibration skipped: the knowledge base is too small to probe; "
                "the service will use no cut-off (or SERVICE_RELEVANCE_FLOOR) for this version"
            )
            return {}
        return calibration.to_dict()

    def _write(self, collection: Collection, items: list[_Planned], progress: ProgressHook | None) -> int:
        batch_size = self.settings.qdrant.write_batch_size
        written = 0
        group: list[tuple[_Planned, list[Chunk]]] = []
        pending = 0
        done = 0
        for item in items:
            if item.doc.language is None:  # detected only for documents being written (after hashing)
                item.doc.language = self.languages.detect(f"{item.doc.title}\n{item.doc.text}").language
            chunks = self.chunker.chunk(item.doc)
            group.append((item, chunks))
            pending += len(chunks)
            if pending >= batch_size:
                written += self._flush(collection, group)
                done += len(group)
                if progress:
                    progress(done, len(items))
                group, pending = [], 0
        if group:
            written += self._flush(collection, group)
            done += len(group)
            if progress:
                progress(done, len(items))
        return written

    def _flush(self, collection: Collection, group: list[tuple[_Planned, list[Chunk]]]) -> int:
        texts = [c.embed_text for _, chunks in group for c in chunks]
        vectors = self.embedder.embed_documents(texts)
        points: list[ChunkPoint] = []
        row = 0
        for item, chunks in group:
            doc = item.doc
            for chunk in chunks:
                payload = ChunkPayload(
                    doc_id=doc.doc_id,
                    chunk_index=chunk.index,
                    chunk_count=len(chunks),
                    doc_hash=item.doc_hash,
                    text=chunk.text,
                    title=doc.title,
                    source=doc.source,
                    kind=doc.kind,
                    language=doc.language or "und",
                    headings=list(chunk.headings),
                    tags=list(doc.tags),
                    effective_date=doc.effective_date,
                    version=doc.version,
                    token_count=chunk.token_count,
                    extra=doc.extra,
                )
                points.append(
                    ChunkPoint(
                        id=point_id(doc.doc_id, chunk.index),
                        dense=vectors[row].tolist(),
                        sparse=self.sparse.document(chunk.embed_text, doc.language),
                        payload=payload,
                    )
                )
                row += 1
        step = self.settings.qdrant.write_batch_size
        for start in range(0, len(points), step):
            collection.upsert(points[start : start + step])
        for item, _chunks in group:
            collection.delete_stale(item.doc.doc_id, item.doc_hash)
        log.info("wrote %d chunks of %d documents", len(points), len(group))
        return len(points)


def _relevance_report(relevance: dict[str, Any]) -> dict[str, Any]:
    keys = ("threshold", "bound", "answerable", "kept_answerable", "unanswerable", "dropped_unanswerable")
    return {k: relevance[k] for k in keys if k in relevance}


def _from_failed_file(doc_id: str, failed_files: set[str]) -> bool:
    """Documents of a file that failed to load this run are kept, not pruned."""
    return any(doc_id == f or doc_id.startswith(f + "#") for f in failed_files)
