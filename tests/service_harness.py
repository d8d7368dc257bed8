"""The one harness of the service tests: settings over an ingested store, the real app served
in process (Litestar's test client, no socket) or over a real socket (uvicorn in a thread, only
where the socket is the point: disconnects, subprocess clients, other processes), and the HTTP
helpers the API tests share (a streamed answer read with a real SSE client, JSON posts, metrics).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import uvicorn
from httpx_sse import connect_sse
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from faqstream.ingesting import pipeline
from faqstream.server import build_app
from knowledge.search import KnowledgeBase
from service.api.runtime import Runtime
from service.api.settings import AppSettings
from service.caching import CacheSettings
from service.llm.policy import ResilienceSettings
from service.retrieval.translate import TranslateSettings
from service.settings.anthropic import AnthropicSettings
from service.settings.database import DatabaseSettings
from service.settings.service import ServiceSettings
from tests.conftest import make_settings

ADMIN_KEY = "admin-secret"
FAST_RETRIES = ResilienceSettings(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02, jitter_s=0)
MIN_CACHE = {"claude-sonnet-4-6": 300}  # the fake's prompt-cache minimum, as the real API's
# The fake model's reply, and two questions about tests/corpus.py's documents:
REPLY = "Thanks for asking. Card refunds take 5–10 business days [1]. Check your statement after that."
REFUND_FAQ = "How long does a refund take?"  # the title of the FAQ pair that answers refund durations
NO_PASSAGES = "Wann wurde Albert Einstein geboren?"  # under the corpus's calibrated cut-off: no Claude call


# ---------------------------------------------------------------- settings and stores


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
        # admin ingest may read the test's temporary folders (pytest's base temp, tmp's parent)
        service=ServiceSettings(
            **cast(
                dict[str, Any],
                {"admin_key": ADMIN_KEY, "keepalive_s": 0.2, "ingest_roots": (tmp.parent,), **service},
            )
        ),
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
        pipeline(kb, settings, settings.privacy).run(list(paths))
    finally:
        kb.store.close()


def ingested_template(tmp: Path, corpus: Path) -> Path:
    """The corpus ingested once; services start on copies of this store (``service_settings``)."""
    settings = app_settings(tmp)
    ingest(settings, corpus)
    assert settings.qdrant.path is not None
    return settings.qdrant.path


def ingested_pages(pages: dict[str, str], folder: Path, store: Path) -> Path:
    """``pages`` (file name → text) written into ``folder`` and ingested into a template store."""
    for name, text in pages.items():
        (folder / name).write_text(text, encoding="utf-8")
    return ingested_template(store, folder)


def service_settings(template: Path, tmp: Path, **options: Any) -> AppSettings:
    """``app_settings`` over a copy of an already ingested store (ingesting again costs seconds)."""
    settings = app_settings(tmp, **options)
    assert settings.qdrant.path is not None
    shutil.copytree(template, settings.qdrant.path)
    return settings


# ---------------------------------------------------------------- a service we can reach into


@dataclass
class Served:
    """A running service: ``client`` talks to it (paths relative to its base URL), ``runtime`` is
    its fully built state, ``run`` runs a coroutine function on the app's event loop."""

    client: httpx.Client
    app: Litestar
    run: Callable[[Callable[[], Awaitable[Any]]], Any]

    @property
    def base(self) -> str:
        return str(self.client.base_url).rstrip("/")

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def settle(self) -> None:
        """Wait for the after-answer background work (cache store, summaries, webhook queueing),
        then for the usage charges (budgets and ledger rows) of every Claude call so far."""
        self.run(self.runtime.aftercare.drain)
        self.run(self.runtime.charges.flush)


@contextmanager
def in_process(settings: AppSettings) -> Iterator[Served]:
    """The real app (``faqstream.server.build_app``) on Litestar's in-process test client: startup
    and shutdown run as under a server; requests go through the ASGI app without a socket."""
    app = build_app(settings)
    with TestClient(app, timeout=60) as client:
        yield Served(client, app, client.blocking_portal.call)


@contextmanager
def answering_with_claude(
    template: Path, tmp: Path, base_url: str, components: dict[str, Any] | None = None
) -> Iterator[Served]:
    """``in_process`` over a copy of ``template``, with a Claude key and the (fake) API at
    ``base_url``; ``components``: settings sections to replace, as ``app_settings`` takes them."""
    options: dict[str, Any] = {"api_key": "test-key", "base_url": base_url}
    if components:
        options["components"] = components
    with in_process(service_settings(template, tmp, **options)) as served:
        yield served


@contextmanager
def over_http(settings: AppSettings) -> Iterator[Served]:
    """The real app under uvicorn in a thread, on a free port (a real socket)."""
    app = build_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    )
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve())
        finally:
            loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("service did not start")
        time.sleep(0.05)

    def run(function: Callable[[], Awaitable[Any]]) -> Any:
        return asyncio.run_coroutine_threadsafe(function(), loop).result(timeout=30)  # type: ignore[arg-type]

    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            client.get("/healthz", timeout=5).raise_for_status()
            yield Served(client, app, run)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def running_service(settings: AppSettings) -> Iterator[str]:
    """The base URL of the service over a real socket (for benches and subprocess clients)."""
    with over_http(settings) as served:
        yield served.base


# ---------------------------------------------------------------- HTTP helpers


@dataclass(frozen=True)
class Answer:
    headers: httpx.Headers
    events: list[tuple[str, dict[str, Any]]]

    @property
    def meta(self) -> dict[str, Any]:
        assert self.events[0][0] == "meta", self.events
        return self.events[0][1]

    @property
    def done(self) -> dict[str, Any]:
        assert self.events[-1][0] == "done", self.events
        return self.events[-1][1]

    @property
    def text(self) -> str:
        return "".join(data["text"] for name, data in self.events if name == "delta")

    @property
    def cited(self) -> list[str]:
        return [c["title"] for c in self.meta["citations"]]


def auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def ask(
    client: httpx.Client,
    question: str,
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Answer:
    """One streamed answer, read with a real SSE client; the stream must be well-formed."""
    body = {"question": question, "stream": True, **fields}
    sent = {**auth(key), **(headers or {})}
    with connect_sse(client, "POST", "/v1/answers", json=body, headers=sent) as source:
        assert source.response.status_code == 200, source.response.read()
        assert source.response.headers["content-type"].startswith("text/event-stream")
        events = [(e.event, json.loads(e.data)) for e in source.iter_sse()]
        answer = Answer(source.response.headers, events)
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "done" and set(names[1:-1]) <= {"delta"}, names
    return answer


def post(client: httpx.Client, question: str, *, key: str | None = None, **fields: Any) -> httpx.Response:
    """One request as JSON (any status)."""
    return client.post("/v1/answers", json={"question": question, **fields}, headers=auth(key))


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last block of the last message of a Messages API request body."""
    text: str = body["messages"][-1]["content"][-1]["text"]
    return text


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: httpx.Client) -> Samples:
    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (0 when there are none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
