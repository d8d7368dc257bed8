"""Shared fixtures: the real packaged model (loaded once), real stores in temporary folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from knowledge.embedder import Embedder, load_embedder
from knowledge.language import LanguageIdentifier
from knowledge.settings import ChunkingSettings, EmbeddingSettings, IngestSettings, QdrantSettings, Settings
from knowledge.sparse import SparseEncoder

REPO = Path(__file__).resolve().parent.parent
MODEL_CACHE = REPO / "var" / "test-models"


def embedding_settings(**overrides: object) -> EmbeddingSettings:
    return EmbeddingSettings(cache_dir=MODEL_CACHE, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder(embedding_settings())


@pytest.fixture(scope="session")
def torch_embedder() -> Embedder:
    return load_embedder(embedding_settings(backend="torch"))


@pytest.fixture(scope="session")
def sparse() -> SparseEncoder:
    return SparseEncoder()


@pytest.fixture(scope="session")
def languages() -> LanguageIdentifier:
    return LanguageIdentifier(IngestSettings().languages)


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
