"""One error hierarchy for the whole product.

Adapters translate vendor exceptions into these at the boundary; the CLI and the HTTP layer map
them to exit codes and responses in one place each (``faqstream.cli``, ``service.api.errors``).
Each class carries what those boundaries need: ``exit_code`` for the CLI; ``status``, ``code``,
``retryable`` and ``headers()`` for HTTP and the SSE ``error`` event.
"""

from __future__ import annotations


class FaqstreamError(Exception):
    """Base class: a failure we understand and can explain to the user."""

    # Class defaults; a subclass (or an instance, e.g. an upstream error) may override them.
    exit_code: int = 3
    status: int = 500
    code: str = "internal_error"
    retryable: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message

    def headers(self) -> dict[str, str]:
        """HTTP headers of the error response (``Retry-After``, ``WWW-Authenticate``…)."""
        return {}

    def body_details(self) -> dict[str, object] | None:
        """Machine-readable details for the error body's ``details`` field, if any."""
        return None


class ConfigError(FaqstreamError):
    """A setting is invalid or the combination of settings cannot work (HTTP 500, not retryable:
    retrying cannot fix a configuration)."""


class ModelLoadError(FaqstreamError):
    """The embedding model could not be loaded (missing files, offline hub, bad export)."""


class StoreError(FaqstreamError):
    """The vector store failed or is unreachable (HTTP 503 ``store_unavailable``, retryable)."""

    status = 503
    code = "store_unavailable"
    retryable = True


class StoreLockedError(StoreError):
    """The embedded store folder is held by another process."""


class IndexMismatchError(StoreError):
    """The existing collection was built with a different model or vector layout."""


class InputError(FaqstreamError):
    """A file could not be turned into a document; the message is the skip reason."""


class IngestRefusedError(FaqstreamError):
    """A destructive ingest (``--prune``, ``--rebuild``) was stopped before it changed anything.

    Raised when a given path is missing or unreadable, when no file could be read at all, or, without
    ``force``, when the run would delete files left out next to a file given on its own or more than
    half of the knowledge base's source files (``ingest.safeguard``). ``reason`` is one of
    ``missing_path``, ``nothing_read``, ``partial_input``, ``too_many_deletions``; ``details``
    carries the figures (paths, would_delete, documents, files_deleted, files) for the HTTP error
    body. Exit code 2.
    """

    exit_code = 2
    status = 422
    code = "ingest_refused"

    def __init__(
        self, message: str, *, reason: str, hint: str | None = None, details: dict[str, object] | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
        self.details: dict[str, object] = dict(details or {})

    def body_details(self) -> dict[str, object] | None:
        return {"reason": self.reason, "hint": self.hint, **self.details}
