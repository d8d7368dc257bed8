"""PDF: pypdf text extraction, cut into the document's own sections (``pdf_sections``).

Sections follow the PDF's outline (bookmarks) when it has one, else its heading lines (larger or
bold type than the body); the last heading names the pages (``Returns › Damaged items (p. 3)``).
Running headers, footers and page numbers are left out. A PDF without either structure keeps one
section per page with ``headings=("Page n",)``.

A PDF that needs a password is refused ("encrypted PDF"); one encrypted with an empty user
password (owner restrictions only) is read. Pages without text are left out; a PDF with no text
at all is refused as probably scanned. The title is the metadata /Title (unless it is a tool
default such as "untitled" or reportlab's "(anonymous)"), else the first short line of page 1
(running headers left out), else the file name. pypdf's log warnings about broken files are
silenced for the call: the skip reason reports the failure.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from pypdf import PasswordType, PdfReader

from ingest.loaders import pdf_sections
from ingest.loaders.base import SourceFile, language_code, non_empty, short_line
from knowledge.errors import InputError
from knowledge.schema import Document

_DETAIL_CHARS = 120
# Tool defaults, not titles: reportlab writes "(anonymous)" when a document sets none.
_PLACEHOLDER_TITLES = frozenset({"", "untitled", "untitled document", "(anonymous)"})


def load(source: SourceFile, data: bytes) -> list[Document]:
    if not data.lstrip().startswith(b"%PDF"):
        raise InputError("corrupt PDF: no %PDF header")
    with _quiet_pypdf():
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not _opens_without_password(reader):
                raise InputError("encrypted PDF")
            read = [pdf_sections.page_lines(page, n) for n, page in enumerate(reader.pages)]
            meta_title = reader.metadata.title if reader.metadata else None
            language = language_code(reader.root_object.get("/Lang"))
        except InputError:
            raise
        except Exception as exc:  # pypdf raises many types on broken input
            detail = " ".join(str(exc).split())[:_DETAIL_CHARS] or type(exc).__name__
            raise InputError(f"corrupt PDF: {detail}") from None
    if not any(text.strip() for text, _ in read):
        raise InputError("PDF has no extractable text (scanned?)")
    drop = pdf_sections.furniture([page for _, page in read])
    lines = [line for n, (_, page) in enumerate(read) for i, line in enumerate(page) if (n, i) not in drop]
    title = str(meta_title).strip() if meta_title else ""
    if title.lower() in _PLACEHOLDER_TITLES:
        title = ""
    first_page = "\n".join(line.text for line in lines if line.page == 0)
    title = title or short_line(first_page) or source.path.stem
    with _quiet_pypdf():
        sections = pdf_sections.sections(reader, lines, len(read), title)
    return [
        Document(
            doc_id=source.rel_id,
            title=title,
            source=source.rel_id,
            sections=non_empty(sections),
            language=language,
        )
    ]


def _opens_without_password(reader: PdfReader) -> bool:
    try:
        return reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except Exception:  # e.g. AES without the optional crypto dependency
        return False


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
