"""Invalid settings as the user sets them: one line naming the variable (``SERVICE_PORT``) and a
hint, instead of pydantic's multi-line dump (``faqstream`` exits 3 with it)."""

from __future__ import annotations

import re

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsError


def settings_classes() -> list[type[BaseSettings]]:
    from pydantic_settings import BaseSettings

    found: list[type[BaseSettings]] = []
    pending: list[type[BaseSettings]] = [BaseSettings]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def unparsable(exc: SettingsError) -> str:
    """``error parsing value for field "x" from source …`` as the variable the user set, plus how
    to write it: list and object settings are JSON."""
    field = re.search(r'field "([^"]+)"', str(exc))
    names = sorted(
        {
            f"{cls.model_config.get('env_prefix') or ''}{field.group(1)}".upper()
            for cls in settings_classes()
            if field and field.group(1) in cls.model_fields
        }
    )
    which = " or ".join(names) if names else "a setting"
    return (
        f"invalid configuration: {which} is not valid JSON (lists and objects are written as JSON)\n"
        """  → e.g. INGEST_LANGUAGES='["en","es"]' or SERVICE_INGEST_ROOTS='["/srv/policies"]', in the """
        "environment or ./.env (every setting is described in .env.example)"
    )


def invalid(exc: ValidationError) -> str:
    """One line per invalid setting, named as the user sets it (``SERVICE_PORT``), plus a hint."""
    owner = next((c for c in settings_classes() if c.__name__ == exc.title), None)
    prefix = str(owner.model_config.get("env_prefix") or "") if owner is not None else ""
    problems = []
    for error in exc.errors(include_url=False):
        name = "_".join(str(part) for part in error["loc"]).upper()
        where = f"{prefix}{name}: " if name else ""
        shown = name and not isinstance(error["input"], dict) and not _secret(owner, error["loc"])
        got = f" (got {error['input']!r})" if shown else ""
        problems.append(f"{where}{error['msg']}{got}")
    return (
        f"invalid configuration: {'; '.join(problems)}\n"
        "  → fix it in the environment or ./.env (every setting is described in .env.example)"
    )


def _secret(owner: type[BaseSettings] | None, loc: tuple[int | str, ...]) -> bool:
    """Whether the setting at ``loc`` holds a secret (a ``SecretStr``: a key, a password, a database
    URL with its password), whose value is never repeated in a message."""
    field = owner.model_fields.get(str(loc[0])) if owner is not None and loc else None
    return field is not None and "SecretStr" in str(field.annotation)
