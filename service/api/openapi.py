"""The OpenAPI document (``GET /schema``): its security schemes and what Litestar cannot infer from
a handler — a second media type for streamed answers and the headers of error responses.

Error bodies are documented per route with ``service.api.errors.documented``;
``tests/integration/test_service_openapi.py`` checks real responses against the document and runs
schemathesis over it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from litestar import Request, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from pydantic import BaseModel

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


# One Server-Sent Event of a streamed answer (the schema of each event, as OpenAPI 3.2's itemSchema).
SSE_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    required=["event", "data"],
    properties={
        "event": Schema(type=OpenAPIType.STRING, enum=["meta", "delta", "done", "error"]),
        "data": Schema(
            type=OpenAPIType.STRING,
            content_media_type="application/json",
            description="a JSON object: the fields of the event (see the operation's description)",
        ),
    },
    description="one event of the stream: meta, delta*, then done or error; `: keep-alive` comments between",
)


@dataclass
class AnswerOperation(DocumentedOperation):
    """``POST /v1/answers``: a 200 is JSON or, when streaming, ``text/event-stream``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.content = {**(ok.content or {}), "text/event-stream": OpenAPIMediaType(schema=SSE_EVENT)}


def closed_bodies(document: OpenAPI, models: tuple[type[BaseModel], ...], max_question_chars: int) -> None:
    """What Litestar leaves out of the generated document: request bodies that refuse unknown fields
    (pydantic ``extra="forbid"``) say ``additionalProperties: false``, and the question's length is
    the configured limit (SERVICE_MAX_QUESTION_CHARS; longer = 413)."""
    schemas = document.components.schemas if document.components else None
    for model in models:
        schema = (schemas or {}).get(model.__name__)
        if schema is None:
            raise LookupError(f"{model.__name__} is not in the OpenAPI document")
        schema.additional_properties = False
        question = (schema.properties or {}).get("question")
        if isinstance(question, Schema):
            question.max_length = max_question_chars


class OfflineIndex(OpenAPIRenderPlugin):
    """``GET /schema``: a page that lists the operations and links the document
    (``/schema/openapi.json``), with nothing loaded from elsewhere — Litestar's Swagger, ReDoc and
    Scalar pages load their scripts from a CDN, so they are blank offline or behind a strict proxy."""

    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        config = request.app.openapi_config
        document = html.escape(f"{config.path if config else ''}/openapi.json")
        info = openapi_schema.get("info", {})
        title = html.escape(f"{info.get('title', '')} {info.get('version', '')}")
        rows = "".join(
            f"<tr><td>{html.escape(method.upper())}</td><td><code>{html.escape(path)}</code></td>"
            f"<td>{html.escape(str(operation.get('summary', '')))}</td></tr>"
            for path, item in openapi_schema.get("paths", {}).items()
            for method, operation in item.items()
            if isinstance(operation, dict) and method in {"get", "post", "put", "patch", "delete"}
        )
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{title} API</title>"
            "<style>body{font:15px system-ui,sans-serif;margin:2em}td{padding:.2em 1em .2em 0}</style>"
            f"</head><body><h1>{title} API</h1><p>The OpenAPI 3.1 document: "
            f"<a href='{document}'>{document}</a> (open it in any OpenAPI viewer or client "
            f"generator).</p><table>{rows}</table></body></html>"
        )
        return page.encode()


def openapi_config(router: Router | None = None) -> OpenAPIConfig:
    """The document's config; ``router`` serves it (its guards protect ``/schema``): the document at
    ``/schema/openapi.json`` and an offline index page at ``/schema``."""
    return OpenAPIConfig(
        title="faqstream",
        version="0.1.0",
        path="/schema",
        openapi_router=router,
        components=Components(security_schemes=dict(SECURITY_SCHEMES)),
        render_plugins=[OfflineIndex(), JsonRenderPlugin()],
    )
