"""Plain text: one section with the whole text; the first line is the title when it is short."""

from __future__ import annotations

from ingest.loaders.base import SourceFile, decode_text, non_empty, short_line
from knowledge.schema import Document, Section


def load(source: SourceFile, data: bytes) -> list[Document]:
    text = decode_text(data)  # line endings already normalised to "\n"
    return [
        Document(
            doc_id=source.rel_id,
            title=short_line(text) or source.path.stem,
            source=source.rel_id,
            sections=non_empty([Section((), text)]),
        )
    ]
