"""CORS: only the origins listed in SERVICE_CORS_ORIGINS get CORS headers (preflight and actual
requests); with none listed there are none at all — the web chat at / is same-origin and needs none.
On Litestar's in-process client over an empty knowledge base (CORS is decided before retrieval)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings.service import ServiceSettings
from tests.service_harness import app_settings, in_process

pytestmark = pytest.mark.slow

SHOP = "https://shop.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    # what the OpenAI JS SDK in a browser sends besides the key and the body's type
    "Access-Control-Request-Headers": "authorization,content-type,x-stainless-os,x-stainless-lang",
}


def test_listed_origins_only(tmp_path: Path) -> None:
    settings = app_settings(tmp_path, cors_origins=f"{SHOP}/, https://help.example.org")
    with in_process(settings) as served:
        allowed = served.client.options("/v1/chat/completions", headers={"Origin": SHOP, **PREFLIGHT})
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == SHOP
        assert "POST" in allowed.headers["access-control-allow-methods"]
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()

        other = served.client.options("/v1/answers", headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert "access-control-allow-origin" not in other.headers and other.status_code == 400

        actual = served.client.get("/readyz", headers={"Origin": SHOP})
        assert actual.headers["access-control-allow-origin"] == SHOP
        assert "retry-after" in actual.headers["access-control-expose-headers"].lower()
        foreign = served.client.get("/readyz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers


def test_nothing_listed_no_cors_and_the_page_works_same_origin(tmp_path: Path) -> None:
    with in_process(app_settings(tmp_path)) as served:
        preflight = served.client.options("/v1/answers", headers={"Origin": SHOP, **PREFLIGHT})
        assert not [name for name in preflight.headers if name.startswith("access-control-")]
        page = served.client.get("/")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert '<script src="/static/chat.js"' in page.text
        assert served.client.get("/static/chat.js").headers["content-type"].startswith("text/javascript")
        assert "iframe" in served.client.get("/widget.js").text
        assert served.client.get("/static/missing.js").status_code == 404


@pytest.mark.parametrize("value", ["shop.example.com", "ftp://shop.example.com"])
def test_an_origin_needs_a_scheme(value: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        ServiceSettings(cors_origins=value)  # type: ignore[arg-type]
