"""The rule that keeps an ingest from wiping a knowledge base by mistake.

A run that deletes what its input does not contain — ``--prune`` (the input is the whole
knowledge base) or ``--rebuild`` (the new index holds exactly the input) — is refused when

* a given path is missing, unreadable or not a file or folder, or a folder in the input could
  not be listed: whatever is under it would look removed (no ``force`` overrides this);
* no file could be read at all: an empty folder, only unsupported or broken files;
* it would delete the documents of a file that is still on disk next to a file given on its own
  (``faqstream ingest docs/faq.csv --prune`` with the rest of ``docs/`` in the knowledge base):
  the input leaves out part of the knowledge base, so it is not the whole of it, and ``force`` is
  needed;
* it would delete more than half of the knowledge base's source files and ``force`` is not set.

The knowledge base is judged by **source files**, as a user counts documents: the rows of a FAQ
table (``faq.csv#…``) are one file, so a FAQ file of 8 rows does not outweigh 7 pages. Rows removed
from a FAQ file that is still in the input are an edit of that file, like a paragraph removed from
a page, and are not counted.

``IngestPipeline.run`` applies it after diffing and before it creates a collection, deletes or
writes anything. The CLI, ``--server`` and ``POST /admin/ingest`` all run the pipeline, so this is
the only place the rule lives. A dry run reports the refusal in ``IngestReport.refused`` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ingest.loaders import Skipped
from knowledge.doc_ids import source_file
from knowledge.errors import IngestRefusedError

MAX_DELETED_SHARE = 0.5  # more than this share of the source files needs force
_NAMED = 3  # files named in a message


def files_of(doc_ids: Iterable[str]) -> dict[str, list[str]]:
    """Documents grouped by source file."""
    files: dict[str, list[str]] = {}
    for doc_id in doc_ids:
        files.setdefault(source_file(doc_id), []).append(doc_id)
    return files


@dataclass(frozen=True)
class DeletionRun:
    """What the safeguard needs to know about a run, gathered by the pipeline before any write."""

    paths: Sequence[Path]
    prune: bool
    rebuild: bool
    force: bool
    hidden: Sequence[Skipped]  # skips that hide part of the input (``Skipped.hides_input``)
    skipped: Sequence[tuple[str, str]]  # every skipped path and its reason
    files_read: int  # files loaded without error
    gone: Sequence[str]  # the documents the run would delete
    kept: Sequence[str]  # every document in the knowledge base now (``gone`` among them)

    @property
    def option(self) -> str:
        return "--rebuild" if self.rebuild else "--prune"

    @property
    def would_delete(self) -> int:
        return len(self.gone)

    @property
    def documents(self) -> int:
        return len(self.kept)

    @cached_property
    def files(self) -> dict[str, list[str]]:
        """The knowledge base's source files and their documents."""
        return files_of(self.kept)

    @cached_property
    def files_deleted(self) -> list[str]:
        """Source files none of whose documents would be left."""
        gone = set(self.gone)
        return sorted(f for f, docs in self.files.items() if all(d in gone for d in docs))

    @cached_property
    def left_out(self) -> list[str]:
        """Deleted source files that still exist next to a file given on its own: the input left
        them out, it did not lose them. (A folder's own files are all read, so only the folders
        of files given directly are looked in.)"""
        folders = {Path(p).parent for p in self.paths if Path(p).is_file()}
        return [f for f in self.files_deleted if any((folder / f).is_file() for folder in folders)]


def check(run: DeletionRun) -> IngestRefusedError | None:
    """The refusal for this run, or None when it may go ahead. Runs that delete nothing pass."""
    if not (run.prune or run.rebuild):
        return None
    return _hidden_input(run) or _nothing_read(run) or _left_out(run) or _too_many_deletions(run)


def _hidden_input(run: DeletionRun) -> IngestRefusedError | None:
    if not run.hidden:
        return None
    first = run.hidden[0]
    more = f" (and {len(run.hidden) - 1} more)" if len(run.hidden) > 1 else ""
    return IngestRefusedError(
        f"{run.option} refused: {first.path}: {first.reason}{more}. {_why(run)}, so the documents "
        f"under a path that cannot be read would be deleted. Nothing was deleted or written.",
        reason="missing_path",
        hint=f"check the path (with --server it is read on the service's machine){_otherwise(run)}",
        details={"paths": [{"path": s.path, "reason": s.reason} for s in run.hidden]},
    )


def _nothing_read(run: DeletionRun) -> IngestRefusedError | None:
    if run.files_read > 0:
        return None
    given = ", ".join(str(p) for p in run.paths[:3]) + (" …" if len(run.paths) > 3 else "")
    reasons = "; ".join(f"{Path(p).name}: {r}" for p, r in run.skipped[:3])
    found = f" ({len(run.skipped)} skipped: {reasons}{' …' if len(run.skipped) > 3 else ''})"
    loss = (
        f", so all {run.documents} documents of the knowledge base would be deleted" if run.documents else ""
    )
    return IngestRefusedError(
        f"{run.option} refused: no file could be read from {given}"
        f"{found if run.skipped else ' (no files found)'}{loss}. Nothing was deleted or written.",
        reason="nothing_read",
        hint="point it at the folder that holds your documents (Markdown, text, HTML, PDF, CSV/JSONL "
        f"FAQ; INGEST_EXTENSIONS){_otherwise(run)}",
        details={"paths": [str(p) for p in run.paths], "documents": run.documents},
    )


def _left_out(run: DeletionRun) -> IngestRefusedError | None:
    if run.force or not run.left_out:
        return None
    given = [Path(p) for p in run.paths if Path(p).is_file()]
    folders = sorted({str(p.parent) for p in given})
    named = _names(run.left_out)
    return IngestRefusedError(
        f"{run.option} would delete the documents of {len(run.left_out)} file(s) that are still "
        f"in {', '.join(folders)} but not in the input ({named}): {_why(run).lower()}, and "
        f"{_given(given)} is only part of it. Refused without --force. Nothing was deleted or written.",
        reason="partial_input",
        hint=f"give the folder ({' '.join(folders)}) or every path of the knowledge base with "
        f"{run.option}{_otherwise(run)}; if deleting them is what you want, see the list with "
        '--dry-run and run again with --force ("force": true for POST /admin/ingest)',
        details={**_figures(run), "left_out": run.left_out},
    )


def _too_many_deletions(run: DeletionRun) -> IngestRefusedError | None:
    files = len(run.files)
    if run.force or len(run.files_deleted) <= files * MAX_DELETED_SHARE:
        return None
    return IngestRefusedError(
        f"{run.option} would delete {len(run.files_deleted)} of the knowledge base's {files} source "
        f"files ({_names(run.files_deleted)}; {run.would_delete} of {run.documents} documents), more "
        "than half; refused without --force. Nothing was deleted or written.",
        reason="too_many_deletions",
        hint="check the paths and see what would go with --dry-run; if that is what you want, "
        'run again with --force ("force": true for POST /admin/ingest)',
        details=_figures(run),
    )


def _figures(run: DeletionRun) -> dict[str, object]:
    return {
        "would_delete": run.would_delete,
        "documents": run.documents,
        "files_deleted": len(run.files_deleted),
        "files": len(run.files),
    }


def _names(files: Sequence[str]) -> str:
    more = f" and {len(files) - _NAMED} more" if len(files) > _NAMED else ""
    return ", ".join(files[:_NAMED]) + more


def _given(files: Sequence[Path]) -> str:
    return ", ".join(p.name for p in files[:_NAMED]) + (" …" if len(files) > _NAMED else "")


def _why(run: DeletionRun) -> str:
    if run.rebuild:
        return "--rebuild indexes exactly the given input"
    return "With --prune the input must be the whole knowledge base"


def _otherwise(run: DeletionRun) -> str:
    if run.rebuild:
        return "; --rebuild needs every path of the knowledge base, readable"
    return ", or run without --prune to only add and update documents"
