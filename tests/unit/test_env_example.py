"""`.env.example` documents real settings only, and its values load."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values
from pydantic_settings import BaseSettings

from knowledge.settings import Settings
from service.api.settings import AppSettings
from tests.integration.test_compose import env_names, is_real_setting, settings_classes

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


SERVICE_CLASSES: list[type[BaseSettings]] = [
    cls for cls in settings_classes() if cls.__module__.startswith("service.")
]


def _service_names() -> set[str]:
    return {n for cls in SERVICE_CLASSES for n in env_names(cls)}


def test_every_variable_in_env_example_is_a_setting() -> None:
    names = list(dotenv_values(EXAMPLE))
    assert len(names) > 30
    assert [n for n in names if not is_real_setting(n) and n not in _service_names()] == []


def test_every_setting_is_documented_in_env_example() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    knowledge = {n for cls in settings_classes() if not issubclass(cls, Settings) for n in env_names(cls)}
    assert sorted(n for n in knowledge | _service_names() if n not in text) == []


def test_env_example_values_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in dotenv_values(EXAMPLE).items():
        monkeypatch.setenv(name, value or "")
    monkeypatch.chdir(tmp_path)
    settings = AppSettings()
    assert settings.qdrant.url is None and settings.qdrant.api_key is None
    assert settings.anthropic.api_key is None and settings.service.admin_key is None
    assert settings.embedding.model == "multilingual-e5-small"
    assert settings.cache.semantic_threshold is None  # the model's own: 0.99 for the default
    assert settings.cache.for_model(settings.embedding.model).semantic_threshold == 0.99
    assert settings.ingest.languages[0] == "en"
