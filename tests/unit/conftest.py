"""The ingest pipeline over a scratch copy of the test corpus (``Env``), for the pipeline's and the
ingest summary's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.embedder import Embedder
from knowledge.language import LanguageIdentifier
from knowledge.sparse import SparseEncoder
from tests.unit.test_ingest_pipeline import Env


@pytest.fixture
def env(
    tmp_path: Path, embedder: Embedder, sparse: SparseEncoder, languages: LanguageIdentifier
) -> Iterator[Env]:
    e = Env(tmp_path, embedder, sparse, languages)
    yield e
    e.store.close()
