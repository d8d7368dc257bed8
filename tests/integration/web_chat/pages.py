"""What the web chat's browser tests share: Debian's chromium (never a download: ``make browser``
installs it), the page's constants, and the few steps every test takes (ask by keyboard, read the
bot's label, make the fake model say something else for one test)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize

from fakes import FakeAnthropic
from service.web.texts import page_texts
from tests.service_harness import (
    REPLY,
)

CHROMIUM = Path("/usr/bin/chromium")

REPO = Path(__file__).resolve().parents[3]

ARTIFACTS = REPO / "var" / "test-artifacts"

# bench.widget points this at bench/results/; a plain test run never writes into the checkout's figures
RESULT = Path(os.environ.get("FAQSTREAM_WIDGET_FIGURES", ARTIFACTS / "widget.json"))

WIDGET_KEY = "widget-key-0123456789"

PL, ES = page_texts()["pl"], page_texts()["es"]

SPANISH_REFUND = "¿Cuánto tarda el reembolso de un pago con tarjeta?"

# The operator's texts (the keyed service's WEB_CHAT_TITLE / WEB_CHAT_INTRO): markup that must stay text.
TITLE = {"pl": "AutoRent <b>pomoc</b>", "*": "AutoRent <b>help</b>"}

INTRO = (
    "<b>Wynajem</b> aut: rezerwacje, kaucja. <img src=x onerror=\"window.__ran.push('intro')\"> "
    "</script><script>window.__ran.push('script')</script>"
)

PHONE: ViewportSize = {"width": 390, "height": 844}


BROWSER_TESTS = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is missing: `make browser` installs Debian's chromium",
    ),
]


@contextmanager
def replying(fake: FakeAnthropic, text: str) -> Iterator[None]:
    """The fake model says ``text`` instead of the module's ``REPLY``."""
    fake.reply = text
    try:
        yield
    finally:
        fake.reply = REPLY


def bot_label(page: Page) -> str:
    return str(page.locator(".msg.bot .from").last.text_content())


def ask_by_keyboard(page: Page, question: str) -> None:
    page.locator("#question").focus()
    page.keyboard.type(question)
    page.keyboard.press("Enter")
