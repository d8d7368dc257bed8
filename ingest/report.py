"""What an ingest run did, for people (a short table) and machines (``--json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from knowledge.doc_ids import matches, source_file
from knowledge.schema import DocState, Document

_LISTED = 20  # documents listed per kind of change
_LISTED_MISSING = 10  # documents listed as no longer in the input
QUESTION_CHARS = 60  # a FAQ row's question in the summary


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
    # the e-mail addresses and phone numbers among them (E.164 when written with the country code,
    # else as written: ``KbMeta.reachable_at``): what HANDOFF_CONTACT may be set to
    reachable_at: list[str] = field(default_factory=list)
    # documents of the knowledge base this run's input no longer holds, kept (no --prune): a file
    # gone from a folder given, a FAQ row gone from a file read (``IngestPipeline.not_in_input``)
    not_in_input: list[str] = field(default_factory=list)
    # the question of each FAQ row listed above (its id is a hash): what the summary shows
    questions: dict[str, str] = field(default_factory=dict)

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
            "not_in_input": len(self.not_in_input),
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
            lines.append(
                f"  repaired {_count(len(self.repaired), 'document')} left incomplete by an interrupted run"
            )
        if self.rebuild and not self.dry_run:
            lines.append("  rebuilt into a new collection and switched the alias to it")
        for label, items in (("added", self.added), ("updated", self.updated), ("deleted", self.deleted)):
            lines.extend(self._listed(label, items))
        for skip in self.skipped:
            lines.append(f"  skipped  {skip.path}: {skip.reason}")
        for skip in self.ignored:
            lines.append(f"  ignored  {skip.path}: {skip.reason}")
        if self.not_in_input:
            n = len(self.not_in_input)
            are = "is" if n == 1 else "are"
            lines.append(
                f"  {_count(n, 'document')} in the knowledge base {are} no longer in the input "
                "(kept; `--prune` deletes them):"
            )
            lines.extend(self._listed("", self.not_in_input, _LISTED_MISSING))
        if not self.dry_run:
            before = version_name(self.previous_version)
            if self.changed or self.rebuild:
                version = f"knowledge base version {before} → {self.kb_version}"
            elif self.kb_version != self.previous_version:
                version = f"documents unchanged, recalibrated/rescanned: version {before} → {self.kb_version}"
            else:
                version = f"knowledge base unchanged (version {self.kb_version})"
            lines.append(
                f"  {_count(self.chunks_written, 'chunk')} written, {self.total_chunks} in the index; "
                f"{version}"
            )
            lines.append(relevance_line(self.relevance))
            if self.contacts:
                found = ", ".join(
                    _count(n, *CONTACT_NOUNS.get(kind, (kind, f"{kind}s")))
                    for kind, n in sorted(self.contacts.items())
                )
                lines.append(f"  the documents' contact data (left unredacted in replies): {found}")
        elif self.refused:
            lines.append(f"  REFUSED: a real run would stop before any change: {self.refused['message']}")
            if self.refused.get("hint"):
                lines.append(f"    → {self.refused['hint']}")
        elif self.changed:
            lines.append(f"  nothing written; a real run {verb} the knowledge base")
        return "\n".join(lines)

    def _listed(self, label: str, items: list[str], most: int = _LISTED) -> list[str]:
        """One line per document (a FAQ row with its question), at most ``most``, then a count."""
        lines = [f"  {label:8} {self.named(doc)}" for doc in items[:most]]
        if len(items) > most:
            lines.append(f"  {label:8} … and {len(items) - most} more")
        return lines

    def named(self, doc_id: str) -> str:
        """``faq.csv#ffc56b112029 "How long does delivery …"``: a FAQ row's id is a hash, so its
        question (shortened) says which row it is; other documents are their file's path."""
        question = self.questions.get(doc_id)
        return f"{doc_id} {json.dumps(shorten(question), ensure_ascii=False)}" if question else doc_id


def shorten(text: str, limit: int = QUESTION_CHARS) -> str:
    """``text`` on one line, cut at a word to at most ``limit`` characters (``…`` marks the cut)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0] if " " in flat[: limit - 1] else flat[: limit - 1]
    return cut.rstrip(" ,;:") + "…"


def not_in_input(states: dict[str, DocState], roots_of: dict[str, Path], failed: set[str]) -> list[str]:
    """The knowledge base's documents that this input no longer holds: a run without ``--prune``
    keeps them, and the report says so.

    A document id is its file's path relative to the folder it was ingested from, and the store does
    not record that folder; so only the roots of this run under which the knowledge base already
    holds documents (by the same ids) are judged, and a document counts when its file is under none
    of this run's roots (deleted or moved away), or is a file read this run that no longer has that
    row (a FAQ row removed, or its question changed). Ingesting a sub-folder or a single file on
    purpose names nothing: its ids are new (a sub-folder), or the other files are still on disk next
    to it. Documents of files that failed to load (``failed``: their ids) are not counted.
    ``roots_of``: each document of this run and the folder its id is relative to.
    """
    known = {root for doc_id, root in roots_of.items() if doc_id in states}
    if not known:
        return []
    read = {source_file(d) for d, root in roots_of.items() if root in known}
    roots = set(roots_of.values())
    return [
        doc_id
        for doc_id in sorted(states)
        if doc_id not in roots_of
        and not matches(doc_id, failed)
        and (source_file(doc_id) in read or not any((root / source_file(doc_id)).exists() for root in roots))
    ]


def faq_questions(report: IngestReport, docs: list[Document], states: dict[str, DocState]) -> dict[str, str]:
    """The question (title) of each FAQ row the report lists: its id is a hash people cannot read."""
    titles = {d.doc_id: d.title for d in docs if d.kind == "faq"}
    listed = [*report.added, *report.updated, *report.deleted, *report.not_in_input]
    for doc_id in listed:
        state = states.get(doc_id)
        if doc_id not in titles and "#" in doc_id and state is not None and state.title:
            titles[doc_id] = state.title
    return {d: titles[d] for d in listed if d in titles}


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


CONTACT_NOUNS = {
    "email": ("e-mail address", "e-mail addresses"),
    "phone": ("phone number", "phone numbers"),
    "iban": ("IBAN", "IBANs"),
}


def _count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 file``, ``2 files`` (``plural`` when it is not ``noun`` + s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def relevance_summary(relevance: dict[str, Any]) -> dict[str, Any]:
    """The figures of a version's relevance calibration the report shows (``IngestReport.relevance``)."""
    keys = (
        "threshold",
        "cross_threshold",
        "bound",
        "cohort_threshold",
        "cohort_cross_threshold",
        "cohort_bound",
        "cohort_kept_answerable",
        "cohort_dropped_unanswerable",
        "answerable",
        "kept_answerable",
        "unanswerable",
        "dropped_unanswerable",
    )
    return {k: relevance[k] for k in keys if k in relevance}
