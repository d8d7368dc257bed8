"""The write stage of an ingest run (``ingest.pipeline``): each document to write is chunked,
embedded (the dense vector, the lexical one, and the English companion's for English chunks) and
upserted in batches of ``QDRANT_WRITE_BATCH_SIZE`` chunks; after a document's new chunks are
written its chunks with another content hash are deleted, so it stays answerable throughout.

A document's language is detected here, only for documents being written: the content hash is
taken before (detection is a pure function of the content), so an unchanged corpus never runs the
detector.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.chunker import Chunker
from knowledge.embedder import Embedder
from knowledge.language import LanguageIdentifier
from knowledge.schema import Chunk, ChunkPayload, ChunkPoint, Document, point_id
from knowledge.sparse import SparseEncoder
from knowledge.store import Collection

log = logging.getLogger(__name__)

ProgressHook = Callable[[int, int], None]  # (documents done, documents to write)


@dataclass
class Planned:
    """A document of the input, its content hash, and what the run does with it."""

    doc: Document
    doc_hash: str
    action: str  # added | updated | repaired | unchanged


class ChunkWriter:
    def __init__(
        self,
        embedder: Embedder,
        sparse: SparseEncoder,
        languages: LanguageIdentifier,
        chunker: Chunker,
        batch_size: int,
    ) -> None:
        self.embedder = embedder
        self.sparse = sparse
        self.languages = languages
        self.chunker = chunker
        self.batch_size = batch_size

    def write(self, collection: Collection, items: Sequence[Planned], progress: ProgressHook | None) -> int:
        """Write ``items`` into ``collection``; returns the number of chunks written."""
        written = 0
        group: list[tuple[Planned, list[Chunk]]] = []
        pending = 0
        done = 0
        for item in items:
            if item.doc.language is None:  # detected only for documents being written (after hashing)
                item.doc.language = self.languages.detect(f"{item.doc.title}\n{item.doc.text}").language
            chunks = self.chunker.chunk(item.doc)
            group.append((item, chunks))
            pending += len(chunks)
            if pending >= self.batch_size:
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

    def _flush(self, collection: Collection, group: list[tuple[Planned, list[Chunk]]]) -> int:
        texts = [c.embed_text for _, chunks in group for c in chunks]
        vectors = self.embedder.embed_documents(texts)
        english = self._english_vectors(group)
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
                        dense_en=english.get(row),
                    )
                )
                row += 1
        step = self.batch_size
        for start in range(0, len(points), step):
            collection.upsert(points[start : start + step])
        for item, _chunks in group:
            collection.delete_stale(item.doc.doc_id, item.doc_hash)
        log.info("wrote %d chunks of %d documents", len(points), len(group))
        return len(points)

    def _english_vectors(self, group: list[tuple[Planned, list[Chunk]]]) -> dict[int, list[float]]:
        """The English companion's vectors of the group's English chunks, by row."""
        english = self.embedder.english
        if english is None:
            return {}
        rows: list[int] = []
        texts: list[str] = []
        row = 0
        for item, chunks in group:
            for chunk in chunks:
                if item.doc.language == "en":
                    rows.append(row)
                    texts.append(chunk.embed_text)
                row += 1
        vectors = english.embed_documents(texts)
        return {r: vectors[n].tolist() for n, r in enumerate(rows)}
