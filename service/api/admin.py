"""``/admin/*`` (``SERVICE_ADMIN_KEY``): run the ingest pipeline inside the service."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from litestar import MediaType, Response, Router, post
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from pydantic import BaseModel, ConfigDict, Field

from service.answers.request import JsonBool
from service.api import guards
from service.api.errors import IngestRunningError, documented
from service.api.ingest_roots import confine
from service.api.openapi import ADMIN_SECURITY, DocumentedOperation
from service.api.runtime import IngestRunner, Runtime
from service.api.schemas import IngestReport


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(
        min_length=1,
        description="files or folders on the service's machine, each under SERVICE_INGEST_ROOTS",
    )
    prune: JsonBool = False
    rebuild: JsonBool = False
    dry_run: JsonBool = False
    force: JsonBool = Field(
        default=False,
        description="allow prune or rebuild to delete more than half of the knowledge base's documents",
    )


@post(
    "/ingest",
    summary="Run the ingest pipeline inside the service (admin key)",
    description="A prune or rebuild that would lose documents by mistake is refused before any "
    "change with 422 `ingest_refused` (`details.reason`: `missing_path`, `nothing_read`, "
    "`partial_input` or `too_many_deletions`, plus `details.hint`); deleting files left out next to a "
    "file given on its own, or more than half of the source files, needs "
    '`"force": true`. A dry run reports the refusal in the report\'s `refused` field instead. '
    "Only paths under `SERVICE_INGEST_ROOTS` are read (resolved, symlinks followed); any other "
    "path, or any path when no root is configured, is refused with 403 `ingest_path_forbidden` "
    "(`details.path_index`) before anything is read or listed, and symlinks inside a folder that "
    "lead out of the roots are skipped.",
    status_code=200,
    responses={
        200: ResponseSpec(
            data_container=IngestReport, description="the ingest report", generate_examples=False
        ),
        **documented(
            400,
            401,
            403,
            404,
            409,
            413,
            415,
            422,
            429,
            500,
            503,
            described={
                403: "a database key without the `admin` scope (`insufficient_scope`), or a path not "
                "under SERVICE_INGEST_ROOTS or none configured (`ingest_path_forbidden`)",
                404: "admin is off: SERVICE_ADMIN_KEY is unset and no key has the `admin` scope",
            },
        ),
    },
    security=ADMIN_SECURITY,
    operation_class=DocumentedOperation,
)
async def ingest(data: IngestRequest, runtime: Runtime, ingest_runner: IngestRunner) -> Response[Any]:
    roots = runtime.settings.service.ingest_roots
    paths = await asyncio.to_thread(confine, data.paths, roots)  # resolving touches the disk
    if runtime.ingest_lock.locked():
        raise IngestRunningError()
    async with runtime.ingest_lock:
        report = await asyncio.to_thread(
            ingest_runner,
            runtime.kb,
            paths,
            roots=[Path(root) for root in roots],
            prune=data.prune,
            rebuild=data.rebuild,
            dry_run=data.dry_run,
            force=data.force,
        )
    await asyncio.to_thread(runtime.digest.refresh)  # the next request sees the new version
    return Response(report, media_type=MediaType.JSON)


admin = Router(
    path="/admin",
    route_handlers=[ingest],
    guards=[guards.admin_guard],
    dependencies={"ingest_runner": Provide(guards.ingest_runner, sync_to_thread=False)},
)
