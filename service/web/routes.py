"""The routes of the web chat: ``/`` (the page), ``/web-chat/texts`` (its texts in another language),
``/widget.js`` (the embed loader) and the page's assets under ``/static/``, served by Litestar's
static files support from the package's ``static/`` folder (package data: found next to the
installed module, whatever the working directory).

``/`` is ``static/index.html`` with its ``${key}`` placeholders filled in the language the browser
asks for (``Accept-Language``; texts from ``service.web.texts``, the operator's title and intro from
``WEB_CHAT_*``), every text HTML-escaped, and the same texts as JSON for ``chat.js``: the page shows
no English first, and is cached per language (``Vary: Accept-Language``)."""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from litestar import Request, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File, Response
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from service.web.settings import WebChatSettings
from service.web.texts import bundle, page_language, page_texts

STATIC = Path(__file__).resolve().parent / "static"
# Short: the files carry no version in their names; a deploy reaches browsers within minutes.
CACHE = CacheControlHeader(max_age=300, public=True)
# JSON inside <script>: no "</script>", "<!--" or "&" can end or bend it.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def render_page(template: str, texts: dict[str, Any]) -> str:
    """``index.html`` for one language: each ``${key}`` the key's text (escaped), ``${lang}``,
    ``${dir}`` and ``${texts}`` (the bundle, as JSON the page reads)."""
    values = {key: html.escape(text) for key, text in texts["texts"].items()}
    values.update(lang=texts["language"], dir=texts["dir"])
    values["texts"] = json.dumps(texts, ensure_ascii=False).translate(_SCRIPT_SAFE)
    return Template(template).substitute(values)


def web_routes(settings: WebChatSettings | None = None) -> list[ControllerRouterHandler]:
    """The route handlers of the web chat, for ``Litestar(route_handlers=…)``."""
    own = (settings or WebChatSettings()).own()
    template = (STATIC / "index.html").read_text(encoding="utf-8")
    page_texts()  # read and checked at start, not by the first visitor

    @cache
    def rendered(language: str) -> str:
        return render_page(template, bundle(language, own))

    @get("/", include_in_schema=False, cache_control=CACHE)
    async def page(request: Request[Any, Any, Any]) -> Response[str]:
        language = page_language(request.headers.get("accept-language"))
        return Response(
            rendered(language),
            media_type="text/html",  # Litestar adds the charset
            headers={"Vary": "Accept-Language", "Content-Language": language},
        )

    @get("/web-chat/texts", include_in_schema=False, cache_control=CACHE)
    async def texts(lang: str | None = None) -> dict[str, Any]:
        """The page's texts for the first language of ``lang`` (comma-separated, most preferred
        first) it has; English otherwise."""
        return bundle(page_language(lang), own)

    @get("/widget.js", include_in_schema=False, cache_control=CACHE)
    async def widget() -> File:
        return File(STATIC / "widget.js", content_disposition_type="inline", media_type="text/javascript")

    assets: Router = create_static_files_router(path="/static", directories=[STATIC], cache_control=CACHE)
    return [page, texts, widget, assets]
