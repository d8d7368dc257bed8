"""Loaders: find the files to ingest and turn each into ``knowledge.schema.Document`` objects.

``discover`` walks the given files and folders (sorted, hidden names skipped, each file once);
a given path it cannot see into (missing, unreadable, an unlistable folder) is skipped with
``hides_input`` set, so a pruning run can refuse instead of deleting what it could not see;
``load`` reads one file after the shared checks (size, empty, binary) and dispatches by extension.
Anything that makes a file unusable raises ``InputError`` whose message is the skip reason; a file
that is one of faqstream's own non-document inputs (an evaluation set, a ticket export) raises its
subclass ``NotADocumentError``, which ingest reports as ignored rather than skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.loaders import faq, html, markdown, pdf, text
from ingest.loaders.base import NotADocumentError, Skipped, SourceFile, read_bytes
from knowledge.errors import InputError
from knowledge.schema import Document
from knowledge.settings import IngestSettings

__all__ = ["NotADocumentError", "Skipped", "SourceFile", "discover", "load"]

Loader = Callable[[SourceFile, bytes], list[Document]]

_LOADERS: dict[str, Loader] = {
    ".md": markdown.load,
    ".markdown": markdown.load,
    ".txt": text.load,
    ".html": html.load,
    ".htm": html.load,
    ".pdf": pdf.load,
    ".csv": faq.load_csv,
    ".jsonl": faq.load_jsonl,
}


def discover(
    paths: Sequence[Path], settings: IngestSettings, roots: Sequence[Path] | None = None
) -> tuple[list[SourceFile], list[Skipped]]:
    """Files to load and paths skipped, in a deterministic order.

    Folders are walked recursively in sorted name order and become the root of what is under
    them; a file given directly has its parent as root. Hidden names (leading '.') inside a
    folder are ignored silently; a hidden path given explicitly is used. With ``roots`` (admin
    ingest, ``SERVICE_INGEST_ROOTS``), a file or folder whose resolved path lies outside every root
    (a symlink leading out) is skipped as ``outside the ingest roots``, its target never named.
    """
    confined = None if roots is None else [Path(root).resolve() for root in roots]
    finder = _Finder({_dotted(e) for e in settings.extensions}, confined)
    for given in paths:
        path = Path(given)
        if path.is_dir():
            finder.walk(path, root=path)
        elif path.is_file():
            if os.access(path, os.R_OK):
                finder.add(path, root=path.parent)
            else:
                finder.skip(path, "permission denied", hides_input=True)
        else:
            finder.skip(path, _missing_reason(path), hides_input=True)
    return finder.files, finder.skipped


def load(source: SourceFile, settings: IngestSettings) -> list[Document]:
    """The documents in one file; raises ``InputError(reason)`` when the file is unusable."""
    ext = source.path.suffix.lower()
    loader = _LOADERS.get(ext)
    if loader is None:
        raise InputError(_unsupported(ext))
    data = read_bytes(source.path, settings.max_file_mb, allow_nul=ext == ".pdf")
    try:
        return loader(source, data)
    except RecursionError:
        raise InputError("too deeply nested to parse") from None


OUTSIDE_ROOTS = "outside the ingest roots"


class _Finder:
    def __init__(self, extensions: set[str], roots: list[Path] | None = None) -> None:
        self.extensions = extensions
        self.roots = roots
        self.files: list[SourceFile] = []
        self.skipped: list[Skipped] = []
        self._seen_files: set[Path] = set()
        self._seen_dirs: set[Path] = set()

    def skip(self, path: Path, reason: str, *, hides_input: bool = False) -> None:
        self.skipped.append(Skipped(str(path), reason, hides_input))

    def add(self, path: Path, root: Path) -> None:
        ext = path.suffix.lower()
        if ext not in self.extensions:
            self.skip(path, _unsupported(ext))
            return
        real = path.resolve()
        if not self._inside(real):
            self.skip(path, OUTSIDE_ROOTS)
            return
        if real not in self._seen_files:
            self._seen_files.add(real)
            self.files.append(SourceFile(path=path, root=root))

    def _inside(self, real: Path) -> bool:
        return self.roots is None or any(real == r or real.is_relative_to(r) for r in self.roots)

    def walk(self, folder: Path, root: Path) -> None:
        real = folder.resolve()
        if not self._inside(real):
            self.skip(folder, OUTSIDE_ROOTS)
            return
        if real in self._seen_dirs:  # given twice, or a symlink loop
            return
        self._seen_dirs.add(real)
        try:
            with os.scandir(folder) as entries:
                names = sorted((e.name, e.is_dir(), e.is_file()) for e in entries)
        except PermissionError:
            self.skip(folder, "permission denied", hides_input=True)
            return
        except OSError as exc:
            self.skip(folder, f"unreadable: {exc.strerror or exc}", hides_input=True)
            return
        for name, is_dir, is_file in names:
            if name.startswith("."):
                continue
            path = folder / name
            if is_dir:
                self.walk(path, root)
            elif is_file:
                self.add(path, root)
            else:
                self.skip(path, _missing_reason(path))


def _dotted(ext: str) -> str:
    return "." + ext.strip().lstrip(".").lower()


def _unsupported(ext: str) -> str:
    return f"unsupported file type {ext}" if ext else "unsupported file type (no extension)"


def _missing_reason(path: Path) -> str:
    if path.is_symlink():
        return "broken symlink"
    return "not found" if not path.exists() else "unreadable: not a regular file"
