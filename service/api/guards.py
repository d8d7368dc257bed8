"""Who may call what: Litestar guards and the dependencies they feed.

``api_key_guard`` (on ``/v1/answers``) identifies the calling client from its API key (scope
``answer``) and keeps it on the connection, where the ``client`` dependency hands it to the
handler. ``admin_guard`` (on ``/admin/*``) takes ``SERVICE_ADMIN_KEY`` or a database key with the
``admin`` scope, which it keeps on the connection for the ``operator`` dependency (routes over
tenant data, ``/admin/analytics``, confine such a key to its tenant). Admin is on when either kind
exists; with neither (``SERVICE_ADMIN_KEY`` unset and no unrevoked ``admin``-scope key) every
``/admin/*`` call is a 404 ``AdminDisabledError``, and otherwise a missing or unknown key is a 401.
``ops_guard`` (on ``/metrics`` and ``/schema``) does nothing unless ``AUTH_PROTECT_OPS`` is on;
then it takes ``SERVICE_ADMIN_KEY`` or a key with the ``metrics`` scope.
They raise errors that carry their status (``UnauthorizedError`` 401, ``InsufficientScopeError``
403, ``AdminDisabledError`` 404), mapped by ``service.api.errors``. One rule on every route: 401 is
no key or one nobody issued (counted as a failed authentication, ``service.api.auth_failures``);
403 is a valid key of the wrong kind — ``SERVICE_ADMIN_KEY`` on a tenant's route, a tenant's key
without the route's scope — and is not counted: the caller proved it holds a real key.

The guards are ``async def``: Litestar runs a plain function guard in a worker thread
(``anyio.to_thread``), a thread hop per request that cost ~5 % of the service's CPU at 64 streams
for a dictionary lookup. A database key costs a query only when it is not in the key cache.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler

from service.api.auth import InsufficientScopeError, UnauthorizedError, presented_key
from service.api.errors import AdminDisabledError
from service.api.runtime import IngestRunner, Runtime
from service.core.types import Client, Scope


def runtime(state: State) -> Runtime:
    """The ``runtime`` dependency: the process's fully built ``Runtime`` (set by the app's lifespan)."""
    built: Runtime = state.runtime
    return built


async def identify(
    connection: ASGIConnection[Any, Any, Any, Any], scope: Scope, also: tuple[Scope, ...] = ()
) -> None:
    """Keep the caller, a tenant's key holding ``scope`` (or one of ``also``), on the connection
    (the ``client`` dependency). A missing or unknown key is a 401, counted against the caller's
    address (a flood of them: 429); a valid key of the wrong kind — ``SERVICE_ADMIN_KEY`` here, or a
    key without ``scope`` — is a 403 ``insufficient_scope`` and no failed authentication."""
    built = runtime(connection.app.state)
    headers = connection.headers
    authorization, api_key = headers.get("authorization"), headers.get("x-api-key")
    async with built.auth_failures.counted(connection):
        try:
            connection.state.client = await built.auth.identify(authorization, api_key, scope, also)
        except UnauthorizedError:
            if _is_admin_key(built, presented_key(authorization, api_key)):
                raise InsufficientScopeError(scope, admin=True, also=also) from None
            raise


async def api_key_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    await identify(connection, "answer")


async def reader_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A conversation's record: the customer's client (``answer``) or the helpdesk handling it
    (``agent``), its own tenant's only either way."""
    await identify(connection, "answer", ("agent",))


def client(request: Request[Any, Any, Any]) -> Client:
    """The ``client`` dependency: the caller ``api_key_guard`` identified."""
    identified: Client = request.state.client
    return identified


def _is_admin_key(built: Runtime, presented: str) -> bool:
    key = built.settings.service.admin_key
    return (
        key is not None
        and bool(presented)
        and hmac.compare_digest(presented.encode(), key.get_secret_value().encode())
    )


async def _admin_enabled(built: Runtime) -> bool:
    """``/admin/*`` is on: ``SERVICE_ADMIN_KEY`` is set, or a database key has the ``admin`` scope
    (asked of the key directory, which keeps the answer ``AUTH_KEY_CACHE_TTL_S`` seconds)."""
    if built.settings.service.admin_key is not None:
        return True
    directory = built.auth.directory
    return directory is not None and await directory.has_admin_keys()


async def _operator(built: Runtime, connection: ASGIConnection[Any, Any, Any, Any], scope: Scope) -> bool:
    """Whether the caller is the admin key or a database key with ``scope``; raises 401/403 else.
    False: no key at all was valid and admin is off — no ``SERVICE_ADMIN_KEY`` and no ``admin``-scope
    key in the directory (the caller decides what that means)."""
    presented = presented_key(connection.headers.get("authorization"), connection.headers.get("x-api-key"))
    if _is_admin_key(built, presented):
        return True
    found = await built.auth.find(presented)
    if found is None:
        if scope == "admin" and not await _admin_enabled(built):
            return False
        raise UnauthorizedError(f"a key with the {scope!r} scope is required (Authorization: Bearer …)")
    if scope not in found.scopes:
        raise InsufficientScopeError(scope)
    connection.state.operator = found  # a tenant's key: routes over tenant data keep to its tenant
    return True


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    built = runtime(connection.app.state)
    if built.ingest_runner is None:
        raise AdminDisabledError()
    async with built.auth_failures.counted(connection):
        if not await _operator(built, connection, "admin"):
            raise AdminDisabledError()


async def ops_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    built = runtime(connection.app.state)
    if built.settings.auth.protect_ops:
        async with built.auth_failures.counted(connection):
            await _operator(built, connection, "metrics")


def operator(request: Request[Any, Any, Any]) -> Client | None:
    """The ``operator`` dependency of ``/admin/*``: the database key that passed ``admin_guard``,
    or None for ``SERVICE_ADMIN_KEY`` (the deployment's operator, who sees every tenant)."""
    found: Client | None = request.state.get("operator")
    return found


def ingest_runner(runtime: Runtime) -> IngestRunner:
    """The ``ingest_runner`` dependency of ``/admin/*`` (absent: admin is off)."""
    if runtime.ingest_runner is None:
        raise AdminDisabledError()
    return runtime.ingest_runner
