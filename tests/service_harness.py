"""Run the real service on a free port (uvicorn in a thread) against a real ingested store."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr

from faqstream.server import build_app
from ingest.pipeline import IngestPipeline
from knowledge.search import KnowledgeBase
from service.caching import CacheSettings
from service.retrieval.translate import TranslateSettings
from service.settings.app import AppSettings
from service.settings.database import DatabaseSettings
from service.settings.service import AnthropicSettings, ServiceSettings
from tests.conftest import make_settings

ADMIN_KEY = "admin-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_settings(
    tmp: Path,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    components: dict[str, Any] | None = None,
    **service: object,
) -> AppSettings:
    """Settings for a test service. Cross-lingual translation and the answer cache are off unless a
    test turns them on through ``components`` (AppSettings field name → settings object), so each
    test sees exactly the upstream requests and answers it caused."""
    base = make_settings(tmp)
    parts: dict[str, Any] = {
        "translate": TranslateSettings(mode="never"),
        "cache": CacheSettings(answers=False),
        "database": DatabaseSettings(sqlite_path=tmp / "faqstream.db"),
        **(components or {}),
    }
    return AppSettings(
        qdrant=base.qdrant,
        embedding=base.embedding,
        chunking=base.chunking,
        ingest=base.ingest,
        service=ServiceSettings(admin_key=ADMIN_KEY, keepalive_s=0.2, **service),  # type: ignore[arg-type]
        **{
            "anthropic": AnthropicSettings(
                api_key=SecretStr(api_key) if api_key else None, base_url=base_url, timeout_s=10
            ),
            **parts,
        },
    )


def ingest(settings: AppSettings, *paths: Path) -> None:
    kb = KnowledgeBase.open(settings)
    try:
        IngestPipeline(kb.store, kb.embedder, kb.sparse, kb.require_languages(), settings).run(list(paths))
    finally:
        kb.store.close()


@contextmanager
def running_service(settings: AppSettings) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        build_app(settings), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("service did not start")
        time.sleep(0.05)
    httpx.get(f"{base}/healthz", timeout=5).raise_for_status()
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)
