"""Composition root of the service: wires ingest into the app (service/ never imports ingest/)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar import Litestar

from faqstream.startup import Announced, banner, quiet_uvicorn
from knowledge.search import KnowledgeBase
from service.api.app import create_app
from service.api.settings import AppSettings


def ingest_runner(settings: AppSettings) -> Any:
    def run(
        kb: KnowledgeBase,
        paths: list[Path],
        *,
        roots: Sequence[Path],
        prune: bool,
        rebuild: bool,
        dry_run: bool,
        force: bool,
    ) -> dict[str, Any]:
        from faqstream.ingesting import pipeline

        report = pipeline(kb, settings, settings.privacy).run(
            paths, roots=roots, prune=prune, rebuild=rebuild, dry_run=dry_run, force=force
        )
        return report.to_dict()

    return run


def build_app(settings: AppSettings | None = None, kb: KnowledgeBase | None = None) -> Litestar:
    app_settings = settings or AppSettings()
    return create_app(app_settings, kb=kb, ingest_runner=ingest_runner(app_settings))


def app_factory() -> Announced:
    """For uvicorn --factory (one call per worker process of ``faqstream serve --workers N``, which
    sets SERVICE_HOST and SERVICE_PORT to where it listens)."""
    settings = AppSettings()
    quiet_uvicorn()  # in the worker, whose logging uvicorn has just configured
    url = f"http://{settings.service.host}:{settings.service.port}"
    return Announced(build_app(settings), banner(settings), url)
