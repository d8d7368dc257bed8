"""What a failed LLM call raises, whichever implementation of ``service.llm.interface.LLM`` made it."""

from __future__ import annotations

from knowledge.errors import FaqstreamError


class UpstreamError(FaqstreamError):
    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool,
        upstream_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.upstream_status = upstream_status  # the API's HTTP status, when it answered with one
        # What the customer's client sees: 503 when another try may succeed, else 502.
        self.status = 503 if retryable else 502
        self.retry_after = retry_after  # seconds, from retry-after-ms / retry-after when sent


class UpstreamAuthError(UpstreamError):
    """The API refused the credentials (401 ``authentication_error``, 403 ``permission_error``).

    Never retried or fallen back (the next attempt or model uses the same key) and no verdict on the
    model's health."""
