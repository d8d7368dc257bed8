"""The OpenAPI document (``GET /schema``): its security schemes and what Litestar cannot infer from
a handler — a second media type for streamed answers and the headers of error responses.

Error bodies are documented per route with ``service.api.errors.documented``;
``tests/integration/test_service_openapi.py`` checks real responses against the document and runs
schemathesis over it.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)

BEARER = "bearer"
API_KEY = "apiKey"

SECURITY_SCHEMES = {
    BEARER: SecurityScheme(
        type="http", scheme="bearer", description="`Authorization: Bearer <key>` (AUTH_API_KEYS)"
    ),
    API_KEY: SecurityScheme(
        type="apiKey",
        name="X-API-Key",
        security_scheme_in="header",
        description="the same key as `X-API-Key: <key>`",
    ),
}
ANSWER_SECURITY: list[SecurityRequirement] = [{BEARER: []}, {API_KEY: []}]
ADMIN_SECURITY: list[SecurityRequirement] = [{BEARER: []}]

_INTEGER = Schema(type=OpenAPIType.INTEGER)
_STRING = Schema(type=OpenAPIType.STRING)
# The headers an error status carries (service.api.errors: the error classes' headers()).
ERROR_HEADERS: dict[str, dict[str, OpenAPIHeader]] = {
    "401": {"WWW-Authenticate": OpenAPIHeader(schema=_STRING, description="`Bearer`")},
    "429": {
        "Retry-After": OpenAPIHeader(schema=_INTEGER, description="seconds until a retry may succeed"),
        "RateLimit-Limit": OpenAPIHeader(schema=_INTEGER, description="absent on `auth_rate_limited`"),
        "RateLimit-Remaining": OpenAPIHeader(schema=_INTEGER, description="absent on `auth_rate_limited`"),
        "RateLimit-Reset": OpenAPIHeader(schema=_INTEGER, description="absent on `auth_rate_limited`"),
        "RateLimit-Policy": OpenAPIHeader(schema=_STRING, description="absent on `auth_rate_limited`"),
    },
    "503": {"Retry-After": OpenAPIHeader(schema=_INTEGER, description="when overloaded")},
}


@dataclass
class DocumentedOperation(Operation):
    """An operation whose error responses document their headers."""

    def __post_init__(self) -> None:
        for status, response in (self.responses or {}).items():
            if isinstance(response, OpenAPIResponse) and status in ERROR_HEADERS:
                response.headers = {**(response.headers or {}), **ERROR_HEADERS[status]}


@dataclass
class AnswerOperation(DocumentedOperation):
    """``POST /v1/answers``: a 200 is JSON or, when streaming, ``text/event-stream``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.content = {
                **(ok.content or {}),
                "text/event-stream": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.STRING,
                        description="Server-Sent Events: meta, delta*, done | error (see the description)",
                    )
                ),
            }


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="faqstream",
        version="0.1.0",
        path="/schema",
        components=Components(security_schemes=dict(SECURITY_SCHEMES)),
    )
