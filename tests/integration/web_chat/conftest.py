"""The services the web chat's browser tests run against (each module starts its own: a module's
scratch folders are removed when it ends) and the headless browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from fakes import FakeAnthropic
from service.handoff.settings import HandoffSettings
from service.notify.webhooks import WebhookSettings
from service.settings.auth import AuthSettings
from service.web.settings import WebChatSettings
from tests.integration.web_chat.pages import CHROMIUM, INTRO, TITLE, WIDGET_KEY
from tests.service_harness import (
    MIN_CACHE,
    REPLY,
    Served,
    over_http,
    service_settings,
)
from tests.webhook_receiver import Receiver


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    """The shared fake, streaming slowly enough that the page shows the answer growing."""
    with FakeAnthropic(reply=REPLY, min_cache_tokens=MIN_CACHE, token_delay_s=0.02) as server:
        yield server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic) -> Iterator[Served]:
    settings = service_settings(
        template, tmp_path_factory.mktemp("svc"), api_key="test-key", base_url=fake.base_url
    )  # no AUTH_API_KEYS: the open endpoints the page works with as is
    with over_http(settings) as running:
        yield running


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic) -> Iterator[Served]:
    """A service with AUTH_API_KEYS: the page needs a key (the snippet's, or typed when asked);
    and the operator's own page title and intro (WEB_CHAT_TITLE, WEB_CHAT_INTRO)."""
    settings = service_settings(
        template,
        tmp_path_factory.mktemp("keyed"),
        api_key="test-key",
        base_url=fake.base_url,
        components={
            "auth": AuthSettings(api_keys=f"widget={WIDGET_KEY}"),  # type: ignore[arg-type]
            "web_chat": WebChatSettings(title=TITLE, intro={"*": INTRO}),
        },
    )
    with over_http(settings) as running:
        yield running


@pytest.fixture(scope="module")
def staffed(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    """A service whose handoffs go to people (a handoff webhook): the agent takeover."""
    yield from _handing_off(tmp_path_factory.mktemp("staffed"), template, fake, Receiver())


@pytest.fixture(scope="module")
def refusing(
    tmp_path_factory: pytest.TempPathFactory, template: Path, fake: FakeAnthropic
) -> Iterator[Served]:
    """A service whose handoff webhook refuses every event for good (410)."""
    yield from _handing_off(tmp_path_factory.mktemp("refusing"), template, fake, Receiver(status=410))


def _handing_off(tmp: Path, template: Path, fake: FakeAnthropic, receiver: Receiver) -> Iterator[Served]:
    """The service with a widget key, handing off to ``receiver``."""
    with receiver.running():
        settings = service_settings(
            template,
            tmp,
            api_key="test-key",
            base_url=fake.base_url,
            components={
                "auth": AuthSettings(api_keys=f"widget={WIDGET_KEY}"),  # type: ignore[arg-type]
                "handoff": HandoffSettings(webhook_url=receiver.url),
                "webhook": WebhookSettings(allow_unsigned=True, backoff_initial_s=0.01),
            },
        )
        with over_http(settings) as running:
            yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
