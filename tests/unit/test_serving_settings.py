"""The answer service runs query embeddings on one ONNX Runtime thread unless told otherwise."""

from __future__ import annotations

from knowledge.settings import EmbeddingSettings
from service.api.app import serving
from service.api.settings import AppSettings


def test_automatic_threads_are_one_in_the_service() -> None:
    settings = AppSettings(embedding=EmbeddingSettings(threads=0))
    served = serving(settings)
    assert served.embedding.threads == 1
    assert settings.embedding.threads == 0  # the caller's settings are not changed
    assert served.embedding.model == settings.embedding.model


def test_configured_threads_are_kept() -> None:
    settings = AppSettings(embedding=EmbeddingSettings(threads=2))
    assert serving(settings).embedding.threads == 2
