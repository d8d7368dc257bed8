"""The wheel carries everything the code reads at run time: built from a copy of the sources,
installed into a fresh virtual environment outside the checkout, and run from an empty folder
(``faqstream ingest`` a few documents, ``faqstream serve``, ``POST /v1/answers``), as a user or the
Docker image does.

The fresh environment gets the wheel only; its dependencies come from the test's own environment
through a ``.pth`` line added after the install (a full ``pip install`` of torch and the rest takes
minutes: ``deploy/wheel-smoke.sh`` does exactly that by hand, docs/deploy.md). That line adds the
folder to ``sys.path`` without running the ``.pth`` files in it, so the checkout's editable install
stays invisible: every faqstream module is the wheel's, which the first test checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fakes import FakeAnthropic
from tests.conftest import MODEL_CACHE, REPO
from tests.service_harness import free_port

pytestmark = pytest.mark.slow

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGES = tuple(p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"])
REPLY = "Items can go back within 30 days of delivery [1]."
DOCS = {
    "returns.md": "# Returns\n\n## Return window\n\nYou can return most items within 30 days of delivery. "
    "Start a return in the returns portal.\n",
    "shipping.md": "# Shipping\n\n## Delivery times\n\nStandard delivery in Germany takes 1 to 3 business "
    "days. Express delivery arrives the next business day.\n",
}
SETTING_PREFIXES = (
    *("QDRANT_", "EMBEDDING_", "CHUNK_", "INGEST_", "SERVICE_", "ANTHROPIC_", "AUTH_", "ROUTER"),
    *("HANDOFF_", "REDIS_", "DATABASE_", "CACHE_", "LIMITS_", "FAQSTREAM_", "TRANSLATE_", "WEBHOOK_"),
)
STARTUP_S = 180.0  # loading the model and fitting the router on a busy 2-core machine


@dataclass(frozen=True)
class Venv:
    root: Path
    python: Path
    faqstream: Path
    site_packages: Path


def _run(
    args: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def source_files() -> list[Path]:
    """The packages' files as a checkout has them (no byte code)."""
    return [
        path.relative_to(REPO)
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of pyproject.toml, README.md and the packages (no stale build/ folder)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for relative in source_files():
        (src / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, src / relative)
    dist = tmp_path_factory.mktemp("dist")
    # No build isolation: the test environment's setuptools builds it (torch depends on setuptools,
    # so every environment with faqstream's dependencies has one), no index needed.
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, src])
    (built,) = dist.glob("faqstream-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Venv:
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", root])
    python = root / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel])
    purelib = Path(
        _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "_faqstream_test_dependencies.pth").write_text(
        "\n".join(sorted(ours)) + "\n", encoding="utf-8"
    )
    return Venv(root, python, root / "bin" / "faqstream", purelib)


@pytest.fixture
def empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    assert REPO not in folder.parents
    return folder


def clean_env(**settings: str) -> dict[str, str]:
    """No PYTHONPATH and none of the parent's faqstream settings: only what the test sets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES) and k != "PYTHONPATH"}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        # the models already exported by the test suite: no ONNX export in this test
        EMBEDDING_CACHE_DIR=str(MODEL_CACHE),
        INGEST_LANGUAGES='["en","de"]',
        FAQSTREAM_LOG_LEVEL="WARNING",
    )
    env.update(settings)
    return env


def test_the_wheel_carries_every_file_of_the_packages(wheel: Path) -> None:
    """Package data included: a data file added under a package without a package-data entry fails here."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [str(p) for p in source_files() if p.as_posix() not in names]
    assert not missing, f"not in the wheel (add them to [tool.setuptools.package-data]): {missing}"
    assert {"service/routing/intents.yaml", "service/handoff/dissatisfaction.yaml"} <= names
    assert not [n for n in names if n.startswith(("data/", "tests/", "bench/", "fakes/"))]


def test_the_installed_code_is_the_wheels_and_finds_its_data(venv: Venv, empty_folder: Path) -> None:
    probe = (
        "import faqstream, knowledge, ingest, service\n"
        "from service.routing.catalog import BUNDLED_INTENTS\n"
        "from service.handoff.dissatisfaction import DEFAULT_LEXICON\n"
        "for m in (faqstream, knowledge, ingest, service): print(m.__file__)\n"
        "print(BUNDLED_INTENTS, BUNDLED_INTENTS.is_file())\n"
        "print(DEFAULT_LEXICON, DEFAULT_LEXICON.is_file())\n"
    )
    lines = _run([venv.python, "-c", probe], cwd=empty_folder, env=clean_env()).stdout.splitlines()
    for line in lines:
        path = Path(line.split()[0])
        assert venv.site_packages in path.parents, f"{path} is not the installed wheel's"
    assert lines[-2].endswith(" True") and lines[-1].endswith(" True")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=REPLY) as server:
        yield server


def test_the_installed_command_ingests_and_serves_from_an_empty_folder(
    venv: Venv, empty_folder: Path, fake: FakeAnthropic
) -> None:
    docs = empty_folder / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    port = free_port()
    env = clean_env(
        ANTHROPIC_API_KEY="test-key",
        ANTHROPIC_BASE_URL=fake.base_url,
        SERVICE_PORT=str(port),
        TRANSLATE_MODE="never",
    )
    report = _run([venv.faqstream, "ingest", "docs"], cwd=empty_folder, env=env).stdout
    assert "2 added" in report, report
    assert (empty_folder / "var" / "qdrant").is_dir()  # state lands in the working directory

    log = empty_folder / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [venv.faqstream, "serve"], cwd=empty_folder, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "faqstream serve did not start"
            time.sleep(0.2)
        ready = httpx.get(f"{base}/readyz", timeout=10).json()
        assert ready["ready"] and ready["mode"] == "generative"
        response = httpx.post(
            f"{base}/v1/answers", json={"question": "How long do I have to return an item?"}, timeout=60
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["answer"] == REPLY and body["mode"] == "generative"
        assert body["citations"][0]["doc_id"] == "returns.md"
        assert body["intent"]["intent"] == "return"  # the bundled intents were loaded from the wheel
        (request,) = fake.message_requests()
        assert "30 days of delivery" in str(request.body)
    finally:
        process.terminate()
        process.wait(timeout=30)
