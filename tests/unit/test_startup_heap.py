"""``faqstream serve`` freezes what start-up built out of the garbage collector's scans once the app
has started (faqstream/startup.py ``freeze_startup_heap``, called by ``Announced``)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from litestar import Litestar

from faqstream.startup import Announced


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector as it was: frozen objects thawed, thresholds restored."""
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def _lifespan(app: Announced) -> list[str]:
    """Run the ASGI lifespan through ``app``: start-up, then shutdown; the messages it sent."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []
    frozen_at_startup: list[int] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            frozen_at_startup.append(gc.get_freeze_count())

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert frozen_at_startup and frozen_at_startup[0] > 0
    return sent


@pytest.mark.usefixtures("collector")
def test_a_completed_start_up_freezes_its_objects_and_raises_the_young_threshold() -> None:
    assert gc.get_freeze_count() == 0
    announced = Announced(Litestar(route_handlers=[]), "test", "http://127.0.0.1:0")
    sent = asyncio.run(_lifespan(announced))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert gc.get_threshold()[0] > 700  # CPython's default: a young collection every 700 objects
