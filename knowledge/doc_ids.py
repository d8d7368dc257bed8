"""What a document id says about where it came from.

A document's id is the path of its file relative to the ingest root (``returns.md``), except a FAQ
row's: ``<file>#<row id>`` (``faq.csv#0fb8d49fe675``, ``ingest.loaders.faq``), the row id being the
FAQ's own ``id`` column or a hash of the question. So a file name is how a person names any of
them — in the prune safeguard (files, not rows, are counted) and in evaluation labels.
"""

from __future__ import annotations

from collections.abc import Iterable


def source_file(doc_id: str) -> str:
    """The file (relative to its ingest root) a document came from."""
    return doc_id.split("#", 1)[0]


def matches(doc_id: str, labels: Iterable[str]) -> bool:
    """``doc_id`` is one of ``labels``: the id itself, or the file it came from (``faq.csv`` names
    every row of that FAQ file; ``faq.csv#0fb8d49fe675`` only that row)."""
    return any(doc_id == label or doc_id.startswith(label + "#") for label in labels)
