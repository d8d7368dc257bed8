"""Start-up advice on agent takeover (trial 2, finding 4): with ``HANDOFF_WEBHOOK_URL`` set and the
default takeover reasons, a service that keeps conversations in its own process (no ``REDIS_URL``)
says at start-up that conversations a person holds are lost on restart; with Redis it does not.
The real app started by Litestar's test client (its lifespan builds the runtime and advises)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from service.api.setup_advice import SETUP_LOGGER
from service.handoff.settings import HandoffSettings
from service.notify.webhooks import WebhookSettings
from service.settings.redis import RedisSettings
from tests.conftest import REDIS_URL, redis_namespace
from tests.service_harness import in_process, service_settings

pytestmark = pytest.mark.slow

LOST = "conversations, those a person holds too, live in this process only and are lost on restart"
WEBHOOK = {
    "handoff": HandoffSettings(webhook_url="http://127.0.0.1:9/helpdesk"),
    "webhook": WebhookSettings(secret="whsec-0123456789abcdef"),  # type: ignore[arg-type]
}


def advice(template: Path, tmp: Path, caplog: pytest.LogCaptureFixture, **components: Any) -> list[str]:
    """The warnings the service's start-up advice logged."""
    caplog.clear()
    settings = service_settings(template, tmp, components=components)
    with caplog.at_level(logging.WARNING, logger=SETUP_LOGGER), in_process(settings):
        pass
    return [r.getMessage() for r in caplog.records if r.name == SETUP_LOGGER and r.levelno == logging.WARNING]


def test_takeover_without_redis_warns_that_a_restart_loses_held_conversations(
    template: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warned = [m for m in advice(template, tmp_path, caplog, **WEBHOOK) if LOST in m]
    assert len(warned) == 1
    assert "set REDIS_URL" in warned[0] and "HANDOFF_WEBHOOK_URL" in warned[0]


@pytest.mark.redis
def test_takeover_with_redis_or_without_a_webhook_says_nothing_of_it(
    template: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with redis_namespace("advice") as prefix:
        redis = RedisSettings(url=REDIS_URL, key_prefix=prefix)  # type: ignore[arg-type]
        shared = advice(template, tmp_path / "redis", caplog, redis=redis, **WEBHOOK)
    assert not any(LOST in m for m in shared)
    no_webhook = advice(template, tmp_path / "plain", caplog)
    assert not any(LOST in m for m in no_webhook)
    assert any("HANDOFF_WEBHOOK_URL and HANDOFF_CONTACT are unset" in m for m in no_webhook)
