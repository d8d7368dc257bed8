"""Who may call what: Litestar guards and the dependencies they feed.

``api_key_guard`` (on ``/v1/answers``) identifies the calling client from its API key and keeps it
on the connection, where the ``client`` dependency hands it to the handler; ``admin_guard`` (on
``/admin/*``) checks ``SERVICE_ADMIN_KEY``. Both raise errors that carry their status
(``UnauthorizedError`` 401, ``AdminDisabledError`` 404), mapped by ``service.api.errors``.

The guards are ``async def`` although they never await: Litestar runs a plain function guard in a
worker thread (``anyio.to_thread``), a thread hop per request that cost ~5 % of the service's CPU
at 64 streams for a dictionary lookup.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler

from service.api.auth import UnauthorizedError
from service.api.errors import AdminDisabledError
from service.api.runtime import IngestRunner, Runtime
from service.core.types import Client


def runtime(state: State) -> Runtime:
    """The ``runtime`` dependency: the process's fully built ``Runtime`` (set by the app's lifespan)."""
    built: Runtime = state.runtime
    return built


async def api_key_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    built = runtime(connection.app.state)
    headers = connection.headers
    async with built.auth_failures.counted(connection):  # a flood of 401s from one address: 429
        connection.state.client = built.keys.identify(headers.get("authorization"), headers.get("x-api-key"))


def client(request: Request[Any, Any, Any]) -> Client:
    """The ``client`` dependency: the caller ``api_key_guard`` identified."""
    identified: Client = request.state.client
    return identified


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    built = runtime(connection.app.state)
    key = built.settings.service.admin_key
    if key is None or built.ingest_runner is None:
        raise AdminDisabledError()
    presented = connection.headers.get("authorization", "").encode()
    async with built.auth_failures.counted(connection):  # a flood of 401s from one address: 429
        if not hmac.compare_digest(presented, f"Bearer {key.get_secret_value()}".encode()):
            raise UnauthorizedError("admin key required (Authorization: Bearer …)")


def ingest_runner(runtime: Runtime) -> IngestRunner:
    """The ``ingest_runner`` dependency of ``/admin/*`` (absent: admin is off)."""
    if runtime.ingest_runner is None:
        raise AdminDisabledError()
    return runtime.ingest_runner
