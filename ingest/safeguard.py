"""The rule that keeps an ingest from wiping a knowledge base by mistake.

A run that deletes what its input does not contain — ``--prune`` (the input is the whole
knowledge base) or ``--rebuild`` (the new index holds exactly the input) — is refused when

* a given path is missing, unreadable or not a file or folder, or a folder in the input could
  not be listed: whatever is under it would look removed (no ``force`` overrides this);
* no file could be read at all: an empty folder, only unsupported or broken files;
* it would delete more than half of the knowledge base's documents and ``force`` is not set.

``IngestPipeline.run`` applies it after diffing and before it creates a collection, deletes or
writes anything. The CLI, ``--server`` and ``POST /admin/ingest`` all run the pipeline, so this is
the only place the rule lives. A dry run reports the refusal in ``IngestReport.refused`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders import Skipped
from knowledge.errors import IngestRefusedError

MAX_DELETED_SHARE = 0.5  # more than this share of the documents needs force


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
    would_delete: int
    documents: int  # documents in the knowledge base now

    @property
    def option(self) -> str:
        return "--rebuild" if self.rebuild else "--prune"


def check(run: DeletionRun) -> IngestRefusedError | None:
    """The refusal for this run, or None when it may go ahead. Runs that delete nothing pass."""
    if not (run.prune or run.rebuild):
        return None
    return _hidden_input(run) or _nothing_read(run) or _too_many_deletions(run)


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


def _too_many_deletions(run: DeletionRun) -> IngestRefusedError | None:
    if run.force or run.would_delete <= run.documents * MAX_DELETED_SHARE:
        return None
    return IngestRefusedError(
        f"{run.option} would delete {run.would_delete} of the knowledge base's {run.documents} "
        "documents (more than half); refused without --force. Nothing was deleted or written.",
        reason="too_many_deletions",
        hint="check the paths and see what would go with --dry-run; if that is what you want, "
        'run again with --force ("force": true for POST /admin/ingest)',
        details={"would_delete": run.would_delete, "documents": run.documents},
    )


def _why(run: DeletionRun) -> str:
    if run.rebuild:
        return "--rebuild indexes exactly the given input"
    return "With --prune the input must be the whole knowledge base"


def _otherwise(run: DeletionRun) -> str:
    if run.rebuild:
        return "; --rebuild needs every path of the knowledge base, readable"
    return ", or run without --prune to only add and update documents"
