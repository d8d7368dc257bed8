"""An empty optional setting (``QDRANT_URL=``) means unset, in every settings class, through one type."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from pydantic import BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings

from knowledge.settings import EmptyIsNone, _none_if_empty
from tests.integration.test_compose import env_prefix, settings_classes

# (settings class, field, its environment variable) for every field declared ``EmptyIsNone[...]``
OPTIONAL = [
    (cls, name, env_prefix(cls) + name.upper())
    for cls in settings_classes()
    for name, field in cls.model_fields.items()
    if any(isinstance(m, BeforeValidator) and m.func is _none_if_empty for m in field.metadata)
]


def test_optional_settings_are_declared_with_the_shared_type() -> None:
    fields = {f"{cls.__name__}.{name}" for cls, name, _ in OPTIONAL}
    assert {
        "QdrantSettings.url",
        "QdrantSettings.api_key",
        "ServiceSettings.admin_key",
        "AnthropicSettings.api_key",
        "RouterSettings.intents_file",
        "RouterSettings.temperature",
        "HandoffSettings.webhook_url",
        "HandoffSettings.lexicon_path",
        "CacheSettings.semantic_threshold",
    } <= fields


def test_no_settings_class_writes_its_own_copy() -> None:
    copies = [
        f"{cls.__name__}.{name}"
        for cls in settings_classes()
        for name, decorator in cls.__pydantic_decorators__.field_validators.items()
        if 'value == ""' in inspect.getsource(decorator.func)
        and "return None" in inspect.getsource(decorator.func)
        and len(inspect.getsource(decorator.func).splitlines()) <= 4
    ]
    assert copies == []  # declare the field EmptyIsNone[...] instead


@pytest.mark.parametrize(("cls", "name", "env"), OPTIONAL, ids=[env for _, _, env in OPTIONAL])
def test_empty_environment_value_is_none(
    cls: type[BaseSettings], name: str, env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.setenv(env, "")
    assert getattr(cls(), name) is None


def test_the_type_keeps_the_field_constraints() -> None:
    class Example(BaseSettings):
        ratio: EmptyIsNone[float] = Field(default=None, gt=0.0, le=1.0)

    assert Example(ratio="").ratio is None  # type: ignore[arg-type]
    assert Example(ratio="0.5").ratio == 0.5  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Example(ratio="2")  # type: ignore[arg-type]
