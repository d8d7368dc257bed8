"""``GET /admin/analytics`` (admin): the support figures of a range of UTC days — questions,
auto-resolution, handoffs by reason, CSAT, top intents, content gaps, cache hit rates, cost per
answer and per resolved conversation — in total and by day, language and tenant
(``service.records.analytics``; definitions in docs/analytics.md).

``SERVICE_ADMIN_KEY`` sees every tenant, or the one ``tenant`` names; a tenant's database key with
the ``admin`` scope sees its own tenant only (naming another is a 403 ``tenant_forbidden``). The
queries run in a worker thread on an engine of their own, opened and closed per request: reports
are rare, and a reader never takes SQLite's write lock, so the ledger and records writers go on.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

from litestar import Router, get
from litestar.di import Provide
from litestar.params import Parameter

from knowledge.errors import FaqstreamError
from service.api import guards
from service.api.errors import documented
from service.api.openapi import ADMIN_SECURITY, DocumentedOperation
from service.api.records_limits import records_limit
from service.api.runtime import Runtime
from service.core.types import Client
from service.records.analytics.figures import MAX_DAYS, Analytics, DateRange, default_end
from service.records.analytics.reader import reader_engine, report
from service.settings.database import DatabaseSettings


class TenantForbiddenError(FaqstreamError):
    """A tenant's admin key asked for another tenant's analytics (HTTP 403)."""

    status = 403
    code = "tenant_forbidden"

    def __init__(self) -> None:
        super().__init__("this key's analytics are its own tenant's only")


def _read(settings: DatabaseSettings, span: DateRange, tenant: str | None, top: int) -> Analytics:
    engine = reader_engine(settings)
    try:
        return report(engine, span, tenant, top=top)
    finally:
        engine.dispose()


@get(
    "/analytics",
    summary="Support analytics of a range of UTC days: resolution, handoffs, CSAT, gaps, caches, cost",
    description="Figures of `[from, to)` (UTC days; at most "
    f"{MAX_DAYS}; `to` defaults to tomorrow, UTC: up to now, today included, as `faqstream report`'s "
    "`--to`), in total and by day, language and tenant, with the top intents and the most "
    "frequent unanswered questions (content gaps). Every figure is defined in docs/analytics.md. "
    "A tenant's admin key sees its own tenant only.",
    responses=documented(
        400,
        401,
        403,
        404,
        429,
        500,
        503,
        described={
            400: "`from` or `to` not a date (YYYY-MM-DD), `to` not after `from`, or more than "
            f"{MAX_DAYS} days (`invalid_request`)",
            403: "a database key without the `admin` scope (`insufficient_scope`), or a tenant's key "
            "asking for another tenant (`tenant_forbidden`)",
            404: "admin is off: SERVICE_ADMIN_KEY is unset and no key has the `admin` scope",
            503: "the records database could not be read (`store_unavailable`, retryable)",
        },
    ),
    security=ADMIN_SECURITY,
    operation_class=DocumentedOperation,
)
async def analytics(
    *,
    runtime: Runtime,
    operator: Client | None,
    start: Annotated[date, Parameter(query="from", description="the first UTC day included")],
    end: Annotated[
        date | None,
        Parameter(
            query="to",
            description="the first UTC day not included; default tomorrow (UTC): up to now, today included",
        ),
    ] = None,
    tenant: Annotated[
        str | None,
        Parameter(description="one tenant only (a tenant's own key: its tenant, the default)", max_length=64),
    ] = None,
    top: Annotated[int, Parameter(description="how many intents and content gaps", ge=1, le=100)] = 10,
) -> Analytics:
    span = DateRange.of(start, end or default_end())
    if operator is not None:
        if tenant not in (None, operator.name):
            raise TenantForbiddenError()
        tenant = operator.name
    return await asyncio.to_thread(_read, runtime.settings.database, span, tenant, top)


admin_analytics = Router(
    path="/admin",
    route_handlers=[analytics],
    guards=[guards.admin_guard, records_limit],
    dependencies={"operator": Provide(guards.operator, sync_to_thread=False)},
)
