"""Fixtures shared by the service's end-to-end tests: the demo corpus, ingested once per module
(each service starts on a copy of it), and the fake Anthropic API answering with ``REPLY``.
A module that needs another corpus or fake defines its own fixture of the same name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes import FakeAnthropic
from tests.corpus import write_corpus
from tests.service_harness import MIN_CACHE, REPLY, ingested_template


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """The corpus ingested once; each service of the module starts on a copy of this store."""
    return ingested_template(tmp_path_factory.mktemp("template"), corpus)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(reply=REPLY, min_cache_tokens=MIN_CACHE) as server:
        yield server
