"""The records budget on the routes over stored records: ``GET /v1/conversations/{id}``,
``POST /v1/feedback``, the agent routes and ``/admin/analytics``.

``records_limit`` is a guard placed after the route's key guard: it takes one token of the calling
key's ``records`` bucket (``RateLimiter.check_records``, ``LIMITS_RECORDS_RPM``/``_BURST``; in
Redis when REDIS_URL is set) and refuses with 429 ``rate_limited`` (``Retry-After``,
``RateLimit-*``) when it is empty — before the body is read or the database is asked. The bucket is
apart from the answers' (``LIMITS_KEY_*``), so polling a conversation never spends what the key may
answer, and answering never starves the reads. ``SERVICE_ADMIN_KEY`` has one bucket of its own.
An allowed request's ``RateLimit-*`` headers ride on its response (``limit_headers``, a
``before_send`` hook), whatever its status.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Message, Scope

from service.api import guards
from service.api.errors import RateLimitedError
from service.core.types import Client
from service.quotas.rate_limits import headers

ADMIN_BUCKET = "service-admin"  # SERVICE_ADMIN_KEY's records bucket
_HEADERS = "records_limit_headers"  # where an allowed request's headers wait for the response


async def records_limit(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """One token of the caller's records budget (after the key guard), or 429."""
    built = guards.runtime(connection.app.state)
    caller: Client | None = connection.state.get("client") or connection.state.get("operator")
    key, tenant = (caller.key, caller.name) if caller is not None else (ADMIN_BUCKET, ADMIN_BUCKET)
    decision = await built.limiter.check_records(key, tenant=tenant)
    shown = headers(decision)
    if not decision.allowed:
        raise RateLimitedError(decision, shown)
    connection.state[_HEADERS] = shown


async def limit_headers(message: Message, scope: Scope) -> None:
    """The app's ``before_send`` hook: an allowed records request's ``RateLimit-*`` on its response."""
    if message["type"] != "http.response.start":
        return
    shown: dict[str, str] | None = (scope.get("state") or {}).get(_HEADERS)
    if shown:
        response_headers = MutableScopeHeaders.from_message(message)
        for name, value in shown.items():
            response_headers[name] = value
