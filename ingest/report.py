"""What an ingest run did, for people (a short table) and machines (``--json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # same content, chunks incomplete (a run died)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    # files that hold no documents and are not broken (an evaluation set, a ticket export): a
    # notice, not a failure (the exit code stays 0)
    ignored: list[SkippedFile] = field(default_factory=list)
    chunks_written: int = 0
    files: int = 0
    bytes_read: int = 0
    documents: int = 0
    total_chunks: int = 0
    kb_version: int = 0  # the version after the run (what `faqstream status` shows)
    previous_version: int = 0  # the version before the run; 0: there was no knowledge base
    rebuild: bool = False
    dry_run: bool = False
    seconds: float = 0.0
    # Dry run only: why the real run would be refused (reason, message, hint, figures), else None.
    # A real run that is refused raises IngestRefusedError instead of returning a report.
    refused: dict[str, Any] | None = None
    # the relevance cut-off of the resulting version: threshold, what it keeps and drops ({} = none)
    relevance: dict[str, Any] = field(default_factory=dict)
    # the contact data the resulting version's documents publish, per kind ({"phone": 2}; service
    # leaves it unredacted)
    contacts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.repaired or self.deleted)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = {
            "added": len(self.added),
            "updated": len(self.updated),
            "repaired": len(self.repaired),
            "deleted": len(self.deleted),
            "unchanged": len(self.unchanged),
            "skipped": len(self.skipped),
            "ignored": len(self.ignored),
        }
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def summary(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        head = (
            f"{'DRY RUN: ' if self.dry_run else ''}{_count(self.documents, 'document')} from "
            f"{_count(self.files, 'file')} "
            f"in {self.seconds:.1f}s: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.deleted)} deleted, {len(self.unchanged)} unchanged, {len(self.skipped)} skipped"
        )
        lines = [head]
        if self.repaired:
            lines.append(f"  repaired {len(self.repaired)} documents left incomplete by an interrupted run")
        if self.rebuild and not self.dry_run:
            lines.append("  rebuilt into a new collection and switched the alias to it")
        for label, items in (("added", self.added), ("updated", self.updated), ("deleted", self.deleted)):
            for doc in items[:20]:
                lines.append(f"  {label:8} {doc}")
            if len(items) > 20:
                lines.append(f"  {label:8} … and {len(items) - 20} more")
        for skip in self.skipped:
            lines.append(f"  skipped  {skip.path}: {skip.reason}")
        for skip in self.ignored:
            lines.append(f"  ignored  {skip.path}: {skip.reason}")
        if not self.dry_run:
            before = version_name(self.previous_version)
            if self.changed or self.rebuild:
                version = f"knowledge base version {before} → {self.kb_version}"
            elif self.kb_version != self.previous_version:
                version = f"documents unchanged, recalibrated/rescanned: version {before} → {self.kb_version}"
            else:
                version = f"knowledge base unchanged (version {self.kb_version})"
            lines.append(
                f"  {self.chunks_written} chunks written, {self.total_chunks} in the index; {version}"
            )
            lines.append(relevance_line(self.relevance))
            if self.contacts:
                found = ", ".join(f"{n} {kind}" for kind, n in sorted(self.contacts.items()))
                lines.append(f"  the documents' contact data (left unredacted in replies): {found}")
        elif self.refused:
            lines.append(f"  REFUSED: a real run would stop before any change: {self.refused['message']}")
            if self.refused.get("hint"):
                lines.append(f"    → {self.refused['hint']}")
        elif self.changed:
            lines.append(f"  nothing written; a real run {verb} the knowledge base")
        return "\n".join(lines)


def version_name(version: int) -> str:
    """A knowledge-base version as people read it: 0 is no knowledge base at all."""
    return str(version) if version else "none"


def relevance_line(relevance: dict[str, Any]) -> str:
    if "threshold" not in relevance:
        return (
            "  relevance cut-off: not calibrated (too few chunks to probe); "
            "set SERVICE_RELEVANCE_FLOOR to use one"
        )
    kept, answerable = relevance.get("kept_answerable", 0), relevance.get("answerable", 0)
    dropped, unanswerable = relevance.get("dropped_unanswerable", 0), relevance.get("unanswerable", 0)
    cross = relevance.get("cross_threshold")
    across = f" ({cross:.3f} for passages in another language)" if cross is not None else ""
    cohort = relevance.get("cohort_threshold")
    if cohort is not None:
        kept = relevance.get("cohort_kept_answerable", 0)
        dropped = relevance.get("cohort_dropped_unanswerable", 0)
        cohort_cross = relevance.get("cohort_cross_threshold")
        cohort_across = f" ({cohort_cross:.2f} across languages)" if cohort_cross is not None else ""
        return (
            f"  relevance cut-off {cohort:.2f}{cohort_across} standard deviations over unrelated "
            f"questions in the question's language (cosine {relevance['threshold']:.3f}{across}): "
            f"keeps {kept:.0%} of {answerable} answerable probe questions, drops {dropped:.0%} of "
            f"{unanswerable} unanswerable ones"
        )
    return (
        f"  relevance cut-off {cohort:.2f} standard deviations over unrelated questions in the "
        f"question's language (cosine {relevance['threshold']:.3f}{across}): keeps {kept:.0%} of "
        f"{answerable} answerable probe questions, drops {dropped:.0%} of {unanswerable} "
        "unanswerable ones"
    )
    return (
        f"  relevance cut-off {relevance['threshold']:.3f}{across}: "
        f"keeps {kept:.0%} of {answerable} answerable "
        f"probe questions, drops {dropped:.0%} of {unanswerable} unanswerable ones"
    )


def _count(n: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
