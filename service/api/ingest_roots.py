"""Which files ``POST /admin/ingest`` may read: only under ``SERVICE_INGEST_ROOTS``.

An admin key is a remote way to make the service read files, so the service reads only the
folders the operator named. With no roots configured (the default) every path is refused: the
operator decides what the service may read, not the caller. A given path is resolved first
(``..`` and every symlink on the way followed) and must lie under a root, itself resolved; inside a
folder being ingested, a symlink that leads out of the roots is skipped by the walk
(``ingest.loaders.discover``, which the runner is given the roots for). A refused path is never
echoed, listed or tested for existence: the error names its position in ``paths`` only, and a
path outside the roots gets the same answer whether or not it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from knowledge.errors import FaqstreamError


class IngestPathForbiddenError(FaqstreamError):
    """403: a path of an admin ingest lies outside ``SERVICE_INGEST_ROOTS`` (or none is set)."""

    status = 403
    code = "ingest_path_forbidden"

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index

    def body_details(self) -> dict[str, object] | None:
        return None if self.index is None else {"path_index": self.index}


def resolved_roots(roots: Sequence[Path]) -> list[Path]:
    return [Path(root).resolve() for root in roots]


def within(path: Path, roots: Sequence[Path]) -> bool:
    """Whether ``path`` (resolved) is one of ``roots`` (resolved) or lies under one."""
    return any(path == root or path.is_relative_to(root) for root in roots)


def confine(paths: Sequence[str], roots: Sequence[Path]) -> list[Path]:
    """``paths`` as resolved paths, each under one of ``roots``; else ``IngestPathForbiddenError``."""
    if not roots:
        raise IngestPathForbiddenError(
            "admin ingest reads files only under SERVICE_INGEST_ROOTS, and none is configured"
        )
    allowed = resolved_roots(roots)
    confined: list[Path] = []
    for index, given in enumerate(paths):
        path = Path(given).resolve()
        if "\x00" in given or not within(path, allowed):
            raise IngestPathForbiddenError(
                f"paths[{index}] is not under the configured ingest roots (SERVICE_INGEST_ROOTS)", index
            )
        confined.append(path)
    return confined
