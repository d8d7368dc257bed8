"""The routes of the web chat: ``/`` (the page), ``/widget.js`` (the embed loader) and the page's
assets under ``/static/``, served by Litestar's static files support from the package's ``static/``
folder (package data: found next to the installed module, whatever the working directory)."""

from __future__ import annotations

from pathlib import Path

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

STATIC = Path(__file__).resolve().parent / "static"
# Short: the files carry no version in their names; a deploy reaches browsers within minutes.
CACHE = CacheControlHeader(max_age=300, public=True)


@get("/", include_in_schema=False, cache_control=CACHE)
async def page() -> File:
    return File(
        STATIC / "index.html",
        content_disposition_type="inline",
        media_type="text/html",  # Litestar adds the charset
    )


@get("/widget.js", include_in_schema=False, cache_control=CACHE)
async def widget() -> File:
    return File(STATIC / "widget.js", content_disposition_type="inline", media_type="text/javascript")


def web_routes() -> list[ControllerRouterHandler]:
    """The route handlers of the web chat, for ``Litestar(route_handlers=…)``."""
    assets: Router = create_static_files_router(path="/static", directories=[STATIC], cache_control=CACHE)
    return [page, widget, assets]
