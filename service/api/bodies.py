"""JSON request bodies, checked before they are decoded: the media type (415) and the shape (400).

``check_json_body`` is the app's ``before_request`` hook: it runs after the route's guards (an
anonymous caller gets 401 and learns nothing about the body) and before Litestar decodes the body
for the handler. On a route that takes a body (a ``data`` parameter) it requires ``Content-Type:
application/json`` or ``application/<anything>+json``, UTF-8 if a charset is named — so a
cross-origin "simple" POST (``text/plain``, forms) is refused, never parsed as JSON — then reads
the body (the size limit applies: 413) and requires one JSON object nested at most
``SERVICE_MAX_JSON_DEPTH`` deep.

The depth is measured on the raw bytes, without recursion: brackets inside strings do not count
(a quote preceded by an odd run of backslashes is escaped). When the body holds fewer opening
brackets than the limit — every ordinary request — nothing is scanned at all; otherwise numpy
does the scan in a few milliseconds per megabyte. A malformed body may be measured wrongly, but
never in a way that lets a deep one through: the decoder stops at the first byte that breaks JSON,
before any bracket it could hide.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from litestar import Request

from service.api.errors import BodyShapeError, UnsupportedMediaTypeError

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_LOOKUP = np.zeros(256, dtype=np.int8)
_LOOKUP[[ord("["), ord("{")]] = 1
_LOOKUP[[ord("]"), ord("}")]] = -1


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/*+json``, with no charset or UTF-8."""
    media, *params = (part.strip().lower() for part in content_type.split(";"))
    kind, _, subtype = media.partition("/")
    if kind != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in {"utf-8", "utf8"}:
            return False
    return True


def openings(body: bytes) -> int:
    """Opening brackets anywhere in ``body`` (strings included): a bound on its depth."""
    return body.count(b"[") + body.count(b"{")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body`` (0 for a scalar)."""
    if not openings(body):
        return 0
    raw = np.frombuffer(body, dtype=np.uint8)
    backslash = raw == ord("\\")
    # run[i]: the backslashes in a row ending at i (0 where raw[i] is not one)
    count = np.cumsum(backslash, dtype=np.int64)
    run = count - np.maximum.accumulate(np.where(backslash, 0, count))
    preceding = np.concatenate(([0], run[:-1]))
    quote = (raw == ord('"')) & (preceding % 2 == 0)
    inside = np.cumsum(quote, dtype=np.int64) % 2 == 1  # a quote itself is never a bracket
    steps = np.where(inside, 0, _LOOKUP[raw]).astype(np.int64)
    return int(np.cumsum(steps).max(initial=0))


def check_shape(body: bytes, max_depth: int) -> None:
    """Raise ``BodyShapeError`` unless ``body`` is one JSON object at most ``max_depth`` deep."""
    start = body.lstrip(b" \t\r\n")[:1]
    if start != b"{":
        raise BodyShapeError("the body must be one JSON object", "not_an_object")
    if openings(body) <= max_depth:
        return  # cannot be deeper than it has opening brackets
    if json_depth(body) > max_depth:
        raise BodyShapeError(
            f"the JSON body is nested deeper than {max_depth} levels", "too_deep", limit=max_depth
        )


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """The ``before_request`` hook of the app (see the module docstring)."""
    if (
        request.method not in BODY_METHODS
        or "data" not in request.route_handler.parsed_fn_signature.parameters
    ):
        return  # the route reads no body
    content_type = request.headers.get("content-type", "")
    if not is_json_media_type(content_type):
        raise UnsupportedMediaTypeError(content_type)
    body: bytes = await request.body()
    check_shape(body, request.app.state.runtime.settings.service.max_json_depth)
