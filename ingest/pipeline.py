"""The ingest run: discover → load → plan against the store → safeguard → chunk, embed, write → prune
→ calibrate the relevance cut-off → version.

Idempotent and crash-safe by construction:

* point ids are uuid5(doc_id, chunk_index) and every chunk carries its document's content hash;
* a document is *unchanged* only when all its chunks 0..n-1 are present with the current hash,
  so a run killed mid-document leaves a state the next run sees as incomplete and repairs;
* a changed document's new chunks are written first and its stale chunks (other hash) deleted
  after, so it stays answerable throughout;
* the first build and ``--rebuild`` fill a fresh collection and switch the alias only when done;
* the content hash is taken before language detection (detection is a pure function of the
  content), so an unchanged corpus is diffed without running the detector or the model;
* a run that deletes (``prune``, ``rebuild``) passes ``ingest.safeguard.check`` after the diff and
  before anything is created, written or deleted: a missing or unreadable path, an input with no
  readable file, deleting files left out next to a file given on its own, or more than half of the
  source files, without ``force``, is refused.
* the knowledge-base version goes up by one per run that changes something, when the change is
  complete (after the switch, for a fresh collection): the first ingest makes version 1. The
  service keys its caches on the version, so nothing cached before or while a run writes is reused
  after it; a run that fails while changing the active collection in place raises the version too;
* the relevance cut-off (``knowledge.answerability``) is fitted on the written collection and
  stored in the same metadata write that bumps the version, so a version is never served with
  another version's cut-off. An unchanged run recalibrates (and bumps the version) only when the
  stored cut-off is missing or was fitted by another method or model.
* the contact data the documents publish (phones, e-mails, IBANs: the company's own, which the
  service leaves unredacted) is collected by the injected ``ContactScan`` over every chunk of the
  written collection and stored in that same metadata write (``KbMeta.contacts``); an unchanged run
  scans (and bumps the version) only when the stored scan is missing or of another method. Without
  a scan (``contacts=None``) a changing run stores none, never the previous version's.
* the write stage (chunk, embed, upsert, delete stale chunks) is ``ingest.writer``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ingest import safeguard
from ingest.chunker import Chunker
from ingest.loaders import NotADocumentError, Skipped, discover, load
from ingest.report import IngestReport, SkippedFile, faq_questions, not_in_input, relevance_summary
from ingest.writer import ChunkWriter, Planned, ProgressHook
from knowledge.answerability import METHOD, calibrate_collection
from knowledge.doc_ids import matches
from knowledge.embedder import Embedder
from knowledge.errors import IndexMismatchError, InputError
from knowledge.language import LanguageIdentifier
from knowledge.schema import DocState, Document, KbMeta
from knowledge.search import KnowledgeBase
from knowledge.settings import Settings
from knowledge.sparse import SPARSE_FINGERPRINT, SparseEncoder
from knowledge.store import Collection, VectorStore
from knowledge.store.base import now_iso

log = logging.getLogger(__name__)


class ContactScan(Protocol):
    """The contact data in the knowledge base's texts, as ``KbMeta.contacts`` stores it (injected by
    the composition root: ``service.privacy.contacts.KbContactScan``; ingest never imports the
    service). ``method`` names what the scan finds; a stored scan of another method is redone."""

    method: str

    def __call__(self, texts: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """``texts``: (language, text) of each chunk."""


CONTACT_FIELDS = ["language", "title", "headings", "text"]


@dataclass
class _Loaded:
    docs: list[Document]
    failed: set[str]  # ids (relative paths) of files that failed to load
    files_read: int  # files loaded without error
    hidden: list[Skipped]  # skips that hide part of the input (a pruning run is refused)
    roots: dict[str, Path]  # each document's ingest root (the folder its id is relative to)


class IngestPipeline:
    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        sparse: SparseEncoder,
        languages: LanguageIdentifier,
        settings: Settings,
        *,
        contacts: ContactScan | None = None,
    ) -> None:
        self.store = store
        self.contacts = contacts
        self.embedder = embedder
        self.sparse = sparse
        self.languages = languages
        self.settings = settings
        self.chunker = Chunker(embedder, settings.chunking)
        embedder.check_chunk_size(settings.chunking.tokens)
        self.writer = ChunkWriter(embedder, sparse, languages, self.chunker, settings.qdrant.write_batch_size)

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
    def load_documents(
        self, paths: Sequence[Path], report: IngestReport, roots: Sequence[Path] | None = None
    ) -> _Loaded:
        """Load every file; bad ones are skipped with a reason (and listed in the report), files of
        faqstream's own that hold no documents are listed as ignored. With
        ``roots``, whatever resolves outside them (a symlink) is skipped (``discover``)."""
        sources, skipped = discover(paths, self.settings.ingest, roots)
        report.skipped.extend(SkippedFile(s.path, s.reason) for s in skipped)
        report.files = len(sources)
        docs: dict[str, Document] = {}
        roots_of: dict[str, Path] = {}
        failed: set[str] = set()
        failures = 0
        for source in sources:
            try:
                loaded = load(source, self.settings.ingest)
                report.bytes_read += source.path.stat().st_size
            except NotADocumentError as exc:  # an evaluation set or ticket export in the folder: a notice
                report.ignored.append(SkippedFile(str(source.path), exc.message))
                failures += 1  # not read as documents (an input of nothing else reads nothing)
                continue
            except InputError as exc:
                report.skipped.append(SkippedFile(str(source.path), exc.message))
                failed.add(source.rel_id)
                failures += 1
                continue
            except Exception as exc:  # a loader bug must not cost the other documents
                log.exception("loader failed on %s", source.path)
                report.skipped.append(SkippedFile(str(source.path), f"failed to parse: {exc}"))
                failed.add(source.rel_id)
                failures += 1
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
                roots_of[doc.doc_id] = source.root
        return _Loaded(
            list(docs.values()),
            failed,
            len(sources) - failures,
            [s for s in skipped if s.hides_input],
            roots_of,
        )

    def _target(self, rebuild: bool) -> tuple[Collection | None, dict[str, DocState], bool]:
        """The active collection (None if there is none), the states to diff against, and whether
        the run writes into a fresh collection. Reads only: the fresh collection is created later."""
        active = self.store.active()
        meta = self.store.read_meta()
        states = active.document_states() if active is not None else {}
        if active is not None and not rebuild:
            dim = self.store.collection_dim(active)
            old = meta.fingerprint
            hint = (
                "re-index everything with `faqstream ingest --rebuild PATH...` "
                "(readers keep the old index until the new one is complete)"
            )
            if dim != self.embedder.dim or (old.get("model") not in (None, self.embedder.name)):
                raise IndexMismatchError(
                    f"the knowledge base was built with model {old.get('model')!r} ({dim} dimensions); "
                    f"the configured model is {self.embedder.name!r} ({self.embedder.dim} dimensions)",
                    hint=hint,
                )
            english = self.embedder.english.name if self.embedder.english is not None else None
            if old.get("model") is not None and old.get("english_model") != english:
                raise IndexMismatchError(
                    f"the knowledge base was built with English companion model "
                    f"{old.get('english_model')!r}; the configured one is {english!r}",
                    hint=hint,
                )
        return active, states, active is None or rebuild

    def plan(self, docs: list[Document], states: dict[str, DocState], fingerprint: str) -> list[Planned]:
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
            planned.append(Planned(doc, digest, action))
        return planned

    # --- the run ----------------------------------------------------------------------------
    def run(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        rebuild: bool = False,
        dry_run: bool = False,
        force: bool = False,
        progress: ProgressHook | None = None,
        roots: Sequence[Path] | None = None,
    ) -> IngestReport:
        """Ingest ``paths``. Raises ``IngestRefusedError`` (before any change) when a pruning or
        rebuilding run fails the safeguard; a dry run reports it in ``report.refused`` instead.
        ``roots`` (admin ingest): files and folders that resolve outside them are skipped."""
        started = time.perf_counter()
        report = IngestReport(rebuild=rebuild, dry_run=dry_run)
        loaded = self.load_documents(paths, report, roots)
        docs = loaded.docs
        report.documents = len(docs)
        fingerprint = self.fingerprint()
        fp_text = json.dumps(fingerprint, sort_keys=True)
        active, states, fresh = self._target(rebuild)
        planned = self.plan(docs, states, fp_text)
        for item in planned:
            getattr(report, item.action).append(item.doc.doc_id)
        seen = {d.doc_id for d in docs}
        if rebuild:  # a rebuild indexes exactly this run's input
            gone = sorted(d for d in states if d not in seen)
        elif prune:  # documents of files that failed to load this time are kept, not pruned
            gone = sorted(d for d in states if d not in seen and not matches(d, loaded.failed))
        else:
            gone = []
            report.not_in_input = not_in_input(states, loaded.roots, loaded.failed)
        report.deleted.extend(gone)
        report.questions = faq_questions(report, docs, states)
        refusal = safeguard.check(
            safeguard.DeletionRun(
                paths=list(paths),
                prune=prune,
                rebuild=rebuild,
                force=force,
                hidden=loaded.hidden,
                skipped=[(s.path, s.reason) for s in [*report.skipped, *report.ignored]],
                files_read=loaded.files_read,
                gone=gone,
                kept=list(states),
            )
        )
        if refusal is not None:
            if not dry_run:
                raise refusal
            report.refused = {
                "reason": refusal.reason,
                "message": refusal.message,
                "hint": refusal.hint,
                **refusal.details,
            }
        meta = self.store.read_meta()
        report.previous_version = report.kb_version = meta.version
        if dry_run:
            report.total_chunks = sum(s.chunk_count for s in states.values())
            report.seconds = time.perf_counter() - started
            return report
        english = self.embedder.english
        collection = (
            self.store.create_collection(self.embedder.dim, english.dim if english is not None else None)
            if fresh
            else active
        )
        assert collection is not None
        to_write = [p for p in planned if fresh or p.action != "unchanged"]
        relevance, contacts = meta.relevance, meta.contacts
        try:
            report.chunks_written = self.writer.write(collection, to_write, progress)
            if gone and not fresh:
                collection.delete_documents(gone)
            collection.finish()
            if report.changed or fresh or not self.calibration_current(meta):
                relevance = self.calibrate(collection)
            if report.changed or fresh or not self.contacts_current(meta):
                contacts = self.scan_contacts(collection)
        except BaseException:
            if fresh:
                self.store.drop(collection)  # readers still have the previous collection
            elif to_write or gone:
                self._mark_changed(meta, fingerprint)
            raise
        if fresh:
            self.store.activate(collection)
        if report.changed or fresh or relevance != meta.relevance or contacts != meta.contacts:
            # The version goes up once, when the change is complete (after the switch for a fresh
            # collection): whatever was cached before or while it was written carries the old
            # version and is never reused. One write: the new version comes with the cut-off
            # calibrated on it and its contact data (the service reads them all).
            meta = KbMeta(
                version=meta.version + 1,
                fingerprint=fingerprint,
                updated_at=now_iso(),
                relevance=relevance,
                contacts=contacts,
            )
            self.store.write_meta(meta)
        report.relevance = relevance_summary(meta.relevance)
        report.contacts = meta.contact_counts()
        report.reachable_at = meta.reachable_at()
        report.kb_version = meta.version
        report.total_chunks = collection.count()
        report.seconds = time.perf_counter() - started
        return report

    def _mark_changed(self, meta: KbMeta, fingerprint: dict[str, object]) -> None:
        """A run that failed while changing the active collection in place: the next version, so
        nothing cached from the index as it was is served from the index as it was left (the next
        run repairs it, and that is a version again). Best effort: the store may be what failed."""
        try:
            self.store.write_meta(
                KbMeta(meta.version + 1, fingerprint, now_iso(), meta.relevance, meta.contacts)
            )
        except Exception:
            log.exception("the knowledge-base version could not be raised after the failed run")

    # --- the documents' contact data ------------------------------------------------------------
    def contacts_current(self, meta: KbMeta) -> bool:
        """The stored scan was made by this scan's method (else it is redone; no scan: current)."""
        return self.contacts is None or meta.contacts.get("method") == self.contacts.method

    def scan_contacts(self, collection: Collection) -> dict[str, Any]:
        """The contact data of every chunk of ``collection`` ({} without a scan)."""
        if self.contacts is None:
            return {}
        rows = collection.payloads(CONTACT_FIELDS)
        return self.contacts(_texts(rows))

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


def _texts(rows: Iterable[dict[str, object]]) -> Iterable[tuple[str, str]]:
    """Each chunk's language, and its text, title and headings: what a reply may quote of it."""
    for row in rows:
        headings = row.get("headings")
        yield (
            str(row.get("language") or ""),
            "\n".join(
                [
                    str(row.get("title") or ""),
                    *map(str, headings if isinstance(headings, list) else []),
                    str(row.get("text") or ""),
                ]
            ),
        )
