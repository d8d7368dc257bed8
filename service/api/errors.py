"""The one place where errors become responses.

Every failure the service can explain is a ``FaqstreamError`` (``knowledge.errors``) raised where
the condition is found; its class carries the HTTP ``status``, the machine ``code``, ``retryable``,
``headers()`` and ``body_details()``. This module turns one into the JSON body
``{"error": {code, message, retryable, details?}}`` (``ErrorBody``) with its status and headers,
and into the data of the SSE ``error`` event (the same ``ErrorDetail``). The OpenAI-compatible
routes (``OPENAI_PATHS``) get the same status, headers and code rendered in OpenAI's shape
``{"error": {message, type, param, code}}`` (``openai_error``). Litestar's own
exceptions (validation, 404, 405, 413, 415) and unexpected exceptions are mapped here too.

The request-level errors of the API itself (question too long, rate limit, budget, admin) are
defined below; the others live next to the code that raises them.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, InternalServerException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from knowledge.errors import FaqstreamError
from service.api.openai_schemas import OpenAIErrorBody, OpenAIErrorDetail
from service.api.schemas import ErrorBody, ErrorDetail
from service.quotas.budgets import BudgetDecision
from service.quotas.rate_limits import LimitDecision

log = logging.getLogger(__name__)

# What Litestar raises (a 500) when the client disconnects while its body is read.
DISCONNECTED = "client disconnected prematurely"

# Litestar's HTTP exceptions by status → our code.
HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}


# ---------------------------------------------------------------- request-level errors of the API


class QuestionTooLongError(FaqstreamError):
    status = 413
    code = "question_too_long"

    def __init__(self, limit: int) -> None:
        super().__init__(f"question is longer than {limit} characters")


class LimitRefusedError(FaqstreamError):
    """A limit refused the request: 429, retryable, with the limit's headers."""

    status = 429
    retryable = True

    def __init__(self, message: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self._headers = headers

    def headers(self) -> dict[str, str]:
        return dict(self._headers)


class RateLimitedError(LimitRefusedError):
    """A per-key or per-user rate limit (``RateLimit-*``, ``Retry-After``)."""

    code = "rate_limited"

    def __init__(self, decision: LimitDecision, limit_headers: dict[str, str]) -> None:
        super().__init__(f"too many requests ({decision.tripped} limit)", limit_headers)
        self.limit = decision.tripped

    def body_details(self) -> dict[str, object] | None:
        """Which limit refused: ``key``, ``user`` or ``records`` (its rate is in ``RateLimit-Policy``)."""
        return {"limit": self.limit} if self.limit is not None else None


class BudgetExhaustedError(LimitRefusedError):
    """The key's daily token or cost budget is used up; ``Retry-After`` is the next UTC day."""

    code = "budget_exhausted"

    def __init__(self, budget: BudgetDecision, limit_headers: dict[str, str]) -> None:
        retry = {"Retry-After": str(int(budget.retry_after_s or 1))}
        super().__init__(
            f"the daily {budget.exhausted} budget of this API key is used up", limit_headers | retry
        )


class AuthRateLimitedError(LimitRefusedError):
    """Too many failed authentication attempts from one client address (``Retry-After``)."""

    code = "auth_rate_limited"

    def __init__(self, limit_headers: dict[str, str]) -> None:
        super().__init__("too many failed authentication attempts from this address", limit_headers)


class UnsupportedMediaTypeError(FaqstreamError):
    """A body that is not ``application/json`` (or ``application/*+json``, UTF-8) on a JSON route."""

    status = 415
    code = "unsupported_media_type"

    def __init__(self, content_type: str) -> None:
        shown = content_type[:80] or "none"
        super().__init__(f"the body must be application/json (UTF-8); got content-type {shown}")


class BodyShapeError(FaqstreamError):
    """A JSON body refused before it is decoded: not one object, or nested too deep."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, reason: str, limit: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.limit = limit

    def body_details(self) -> dict[str, object] | None:
        return {"reason": self.reason} | ({"limit": self.limit} if self.limit is not None else {})


class ClientDisconnectedError(FaqstreamError):
    """The client went away before its body arrived (or the server's body timeout closed it):
    nobody reads the response, and it is not a bug to log."""

    status = 400
    code = "client_disconnected"

    def __init__(self) -> None:
        super().__init__("the client disconnected before sending its whole body")


class AdminDisabledError(FaqstreamError):
    status = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("admin endpoints are disabled (set SERVICE_ADMIN_KEY)")


class IngestRunningError(FaqstreamError):
    status = 409
    code = "ingest_running"
    retryable = True

    def __init__(self) -> None:
        super().__init__("an ingest is already running")


class AnswerFailedError(FaqstreamError):
    """An answer that ended with a ``Failed`` event, as a JSON response: 500 for our own bug
    (``internal_error``), else 503 when retryable, 502 when not (the upstream's verdict)."""

    def __init__(self, code: str, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.status = 500 if code == "internal_error" else 503 if retryable else 502


# ---------------------------------------------------------------- the map


def error_detail(exc: FaqstreamError) -> dict[str, Any]:
    """``{code, message, retryable, details?}``: the ``error`` of the JSON body and the SSE ``error`` data."""
    detail = ErrorDetail(
        code=exc.code, message=exc.message, retryable=exc.retryable, details=exc.body_details()
    )
    return detail.model_dump(exclude_none=True)


# The OpenAI-compatible routes answer errors in OpenAI's shape; the status decides the SDK's exception.
OPENAI_PATHS = ("/v1/chat/", "/v1/models")
OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


def openai_error(exc: FaqstreamError) -> dict[str, Any]:
    """``{message, type, param, code}``: OpenAI's error object, from the same fields."""
    details = exc.body_details()
    param: Any = None
    message = exc.message
    if isinstance(details, dict):
        param = details.get("param")
    elif isinstance(details, list) and details and isinstance(details[0], dict):
        param = details[0].get("key")  # the first field a validation error names, and what is wrong
        message = f"{param}: {details[0].get('message')}" if param else message
    kind = OPENAI_TYPES.get(exc.status, "server_error" if exc.status >= 500 else "invalid_request_error")
    detail = OpenAIErrorDetail(message=message, type=kind, param=param or None, code=exc.code)
    return detail.model_dump()


def error_response(exc: FaqstreamError, *, openai: bool = False) -> Response[Any]:
    body = openai_error(exc) if openai else error_detail(exc)
    return Response({"error": body}, status_code=exc.status, media_type=MediaType.JSON, headers=exc.headers())


class FrameworkError(FaqstreamError):
    """A Litestar exception (validation, routing, body size…) in our error shape."""

    def __init__(self, exc: HTTPException) -> None:
        super().__init__(exc.detail or "invalid request")
        self.status = exc.status_code
        self.code = HTTP_CODES.get(exc.status_code, "http_error")
        self._extra = exc.extra if isinstance(exc, ValidationException) else None
        self._headers = dict(exc.headers or {})

    def headers(self) -> dict[str, str]:
        return self._headers

    def body_details(self) -> dict[str, object] | None:
        return self._extra  # type: ignore[return-value]  # a list of field errors, for validation


class UnexpectedError(FaqstreamError):
    status = 500
    retryable = True

    def __init__(self) -> None:
        super().__init__("internal error; it has been logged")


def as_faqstream(exc: BaseException) -> FaqstreamError:
    """Any exception as the ``FaqstreamError`` that describes it to the client (unexpected → 500)."""
    if isinstance(exc, FaqstreamError):
        return exc
    if isinstance(exc, InternalServerException) and exc.detail == DISCONNECTED:
        return ClientDisconnectedError()
    if isinstance(exc, HTTPException):
        return FrameworkError(exc)
    return UnexpectedError()


def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The exception handler of the app, for every exception."""
    error = as_faqstream(exc)
    if isinstance(error, UnexpectedError) or (isinstance(error, FrameworkError) and error.status >= 500):
        log.exception("unhandled error", exc_info=exc)
    elif error.status >= 500:
        log.warning("request failed: %s", exc)
    return error_response(error, openai=request.scope["path"].startswith(OPENAI_PATHS))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: handle}


# ---------------------------------------------------------------- OpenAPI


_DESCRIPTIONS = {
    400: "invalid request: unknown fields, wrong types, malformed JSON, a body that is not one JSON object "
    "or is nested deeper than SERVICE_MAX_JSON_DEPTH (`invalid_request`, `details`)",
    401: "missing or unknown key (`unauthorized`, `WWW-Authenticate: Bearer`); checked before the body",
    403: "the key is valid but lacks the route's scope, or is SERVICE_ADMIN_KEY on a tenant's route "
    "(`insufficient_scope`; not a failed authentication)",
    404: "not found (`not_found`)",
    409: "an ingest is already running (`ingest_running`, retryable)",
    413: "question over SERVICE_MAX_QUESTION_CHARS (`question_too_long`) or body too large (`too_large`)",
    415: "the body is not `application/json` (or `application/*+json`) in UTF-8 (`unsupported_media_type`)",
    422: "a prune or rebuild refused before any change (`ingest_refused`, `details.reason`, `details.hint`)",
    429: "rate limit per key or per `user`, or the key's records budget on the records routes "
    "(`rate_limited`, `details.limit`: key, user or records), or the key's daily budget "
    "(`budget_exhausted`); `Retry-After`, `RateLimit-Limit/-Remaining/-Reset/-Policy`; or too many "
    "failed authentication attempts from the client's address (`auth_rate_limited`, `Retry-After`)",
    500: "a bug; it has been logged (`internal_error`)",
    502: "the model failed and retrying will not help (the upstream's error type)",
    503: "overloaded (`overloaded`, `Retry-After`), the limit store unreachable (`limits_unavailable`), "
    "a store unreachable (`store_unavailable`), or the model failed and may work on retry",
}


def documented(
    *statuses: int, described: dict[int, str] | None = None, openai: bool = False
) -> dict[int, ResponseSpec]:
    """OpenAPI responses with the error body (OpenAI's with ``openai``), for ``responses=`` of a route."""
    text = {**_DESCRIPTIONS, **(described or {})}
    body = OpenAIErrorBody if openai else ErrorBody
    return {
        status: ResponseSpec(data_container=body, description=text[status], generate_examples=False)
        for status in statuses
    }
