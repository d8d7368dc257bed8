"""Review status of a document: what keeps a drafted page out of the knowledge base until a person
approved it, and the approval itself.

A Markdown file whose front matter says ``status: draft`` (what ``faqstream faq draft`` writes),
``status: rejected`` or ``status: index`` (the drafts folder's summary) is skipped by ingest with a
reason that says what to do; ``status: approved`` — or any other status, or none — is ingested as
usual. So a reviewer approves an entry by editing its front matter or with
``faqstream faq approve FILE…`` (``approve``), and ingesting a whole drafts folder takes exactly
the approved entries.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from knowledge.errors import InputError

DRAFT, APPROVED, REJECTED, INDEX = "draft", "approved", "rejected", "index"

_REASONS = {
    DRAFT: "draft awaiting review (status: draft): approve it with `faqstream faq approve FILE` "
    "or set `status: approved` in its front matter",
    REJECTED: "rejected in review (status: rejected)",
    INDEX: "the index of a drafts folder (status: index), not a document",
}
_FRONT = re.compile(r"\A(---[ \t]*\n)(.*?\n)(---[ \t]*\n)", re.S)
_STATUS_LINE = re.compile(r"^status:[ \t]*(\S.*?)[ \t]*$", re.M)


def skip_reason(status: object) -> str | None:
    """Why a document with this front-matter ``status`` is not ingested, or None when it is."""
    if not isinstance(status, str):
        return None
    return _REASONS.get(status.strip().lower())


def check(status: object) -> None:
    """Raise ``InputError`` (the skip reason) for a status that keeps a document out."""
    reason = skip_reason(status)
    if reason is not None:
        raise InputError(reason)


def status_of(path: Path) -> str | None:
    """The ``status:`` of a Markdown file's front matter, lower-cased (None without one)."""
    found = _FRONT.match(path.read_text(encoding="utf-8"))
    status = _STATUS_LINE.search(found.group(2)) if found else None
    return status.group(1).strip("'\"").lower() if status else None


def approve(path: Path) -> str:
    """Set ``status: approved`` in the front matter of a draft (or rejected) file, leaving every other
    byte as the reviewer left it; returns the previous status. Raises ``InputError`` for a file
    without a status, or whose status is not ``draft``/``rejected``/``approved``."""
    text = path.read_text(encoding="utf-8")
    found = _FRONT.match(text)
    status = _STATUS_LINE.search(found.group(2)) if found else None
    if found is None or status is None:
        raise InputError(f"{path}: no `status:` in its front matter (not a drafted entry)")
    previous = status.group(1).strip("'\"").lower()
    if previous == APPROVED:
        return previous
    if previous not in (DRAFT, REJECTED):
        raise InputError(f"{path}: status {previous!r} cannot be approved")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = f"status: {APPROVED}\napproved_at: '{stamp}'"
    head = found.group(2)
    head = head[: status.start()] + lines + head[status.end() :]
    path.write_text(found.group(1) + head + found.group(3) + text[found.end() :], encoding="utf-8")
    return previous
