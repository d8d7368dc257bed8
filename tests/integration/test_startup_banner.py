"""The start-up banner (``faqstream: serving on … (…)``) says what the started service answers with,
as /readyz does: a key the Anthropic API rejected at the start-up check is extractive mode, not the
model the settings name. The real app wrapped as ``faqstream serve`` wraps it (``Announced``), its
lifespan run by Litestar's test client; the real SDK against the fake Anthropic server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from fakes import FakeAnthropic
from faqstream.server import build_app
from faqstream.startup import Announced, banner
from tests.service_harness import service_settings

pytestmark = pytest.mark.slow

RIGHT = "sk-right-0123456789"
WRONG = "sk-wrong-9876543210"
MODEL = "claude-sonnet-4-6"
URL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply="Refunds take 5–10 business days [1].", api_keys=[RIGHT]) as server:
        yield server


def started(
    template: Path, tmp: Path, capsys: pytest.CaptureFixture[str], key: str | None, base_url: str
) -> tuple[str, str]:
    """The banner line of a start-up, and /readyz's ``mode``."""
    settings = service_settings(template, tmp, api_key=key, base_url=base_url)
    announced = Announced(build_app(settings), banner(settings), URL)
    capsys.readouterr()
    with TestClient(announced, timeout=60) as client:  # type: ignore[type-var]  # an ASGI app, not a Litestar
        mode = str(client.get("/readyz").json()["mode"])
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("faqstream: serving on")]
    return line, mode


def test_a_rejected_key_is_announced_as_extractive_mode(
    template: Path, tmp_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    line, mode = started(template, tmp_path, capsys, WRONG, fake.base_url)
    assert mode == "extractive"
    assert line.startswith(f"faqstream: serving on {URL} (extractive mode: the Anthropic API rejected"), line
    assert "generative" not in line and WRONG not in line


def test_an_accepted_key_is_announced_with_its_model(
    template: Path, tmp_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    line, mode = started(template, tmp_path, capsys, RIGHT, fake.base_url)
    assert mode == "generative" and line == f"faqstream: serving on {URL} (generative: {MODEL})"


def test_no_key_is_announced_as_extractive_by_choice(
    template: Path, tmp_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    line, mode = started(template, tmp_path, capsys, None, fake.base_url)
    assert mode == "extractive"
    assert line == f"faqstream: serving on {URL} (extractive mode: ANTHROPIC_API_KEY is unset)"
