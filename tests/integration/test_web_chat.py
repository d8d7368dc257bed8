"""The web chat in a real headless browser: Debian's chromium driven by Playwright (never a browser
download: ``make browser`` installs the Debian package) against the real service over HTTP, the
fake Anthropic API streaming token by token behind it.

Keyboard only on a phone-sized screen: a question streams in, its citations become footnotes with
the quoted passage, the conversation id is kept; asking for a person where nobody can take over
promises no colleague, and where a person takes over shows the handoff notice and the bot stops
presenting itself as the agent; the one-tag widget embeds the chat in another page;
thumbs up / down and a comment under a reply reach the conversation's record, and a reload brings
the transcript back. A reply's Markdown (and an agent's) renders as it streams — bold, lists, links
that open in a new tab — while the raw HTML, event handlers and ``javascript:`` links a hostile
document could slip into a reply show as text and run nothing. The page speaks the browser's
language and then the customer's (its texts from the service: service/web/texts.yaml), shows the
operator's WEB_CHAT_TITLE / WEB_CHAT_INTRO as text, renders a footnote's passage like a reply (no
literal ``**``), and a question refused for want of a key goes back to its field, not into the log.
The run writes a screenshot (var/test-artifacts/) and the page's figures — first paint, time to the
first streamed character, page weight — to var/test-artifacts/widget.json (recorded, not asserted;
``python -m bench.widget`` runs this module and keeps them in bench/results/issue13/widget.json).
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, Response, Route, ViewportSize, expect, sync_playwright

from fakes import FakeAnthropic
from service.agents.notice import passed_on
from service.handoff.late_notices import unnotified_message
from service.handoff.messages import handoff_message
from service.handoff.settings import HandoffSettings
from service.notify.webhooks import WebhookSettings
from service.records.store import COMMENT_MAX_CHARS
from service.settings.auth import AuthSettings
from service.tenants.store import KeyStore
from service.web.settings import WebChatSettings
from service.web.texts import page_texts
from tests.service_harness import (
    MIN_CACHE,
    REFUND_FAQ,
    REPLY,
    Served,
    auth,
    eventually,
    over_http,
    service_settings,
)
from tests.webhook_receiver import Receiver

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
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
MARKDOWN_REPLY = (
    "Card refunds take **5–10 business days** [1].\n\n"
    "To check on yours:\n"
    "- open *Orders* in your account\n"
    "- look for the `refund` line\n\n"
    "More in [our help centre](https://help.example.com/refunds)."
)
# An agent's message with a numbered list, and HTML that must stay text.
AGENT_IMG = "<img src=x onerror=\"window.__ran.push('agent')\">"
AGENT_MARKDOWN = f"Two things to try:\n1. Open **Orders**\n2. Press Refresh {AGENT_IMG}"
AGENT_STEPS_TEXT = f"Two things to try: Open Orders Press Refresh {AGENT_IMG}"
# What an injected document could make a reply say: each would record itself in window.__ran (or
# open a dialog) if the page ever ran it.
HOSTILE_REPLY = (
    "Refunds take 5–10 business days [1]. <script>window.__ran.push('inline script')</script>\n\n"
    "<script>window.__ran.push('block script')</script>\n\n"
    "<img src=x onerror=\"window.__ran.push('img onerror')\"> "
    "[Check your refund](javascript:window.__ran.push('javascript link')) "
    "[x](javascript:alert(1)) [tracking](data:text/html,<script>alert(2)</script>) "
    '<a href="https://evil.example" onclick="window.__ran.push(\'onclick\')">evil</a>\n\n'
    "![pixel](https://evil.example/pixel.png)"
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is missing: `make browser` installs Debian's chromium",
    ),
]


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


WATCH_LENGTHS = """() => {
  window.__lengths = [];
  new MutationObserver(() => {
    const texts = document.querySelectorAll('.msg.bot .text');
    if (texts.length) window.__lengths.push(texts[texts.length - 1].textContent.length);
  }).observe(document.getElementById('log'), {subtree: true, childList: true, characterData: true});
}"""


def test_chat_streams_cites_hands_off_and_records_its_figures(browser: Browser, served: Served) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    loaded: list[Response] = []

    def keep(response: Response) -> None:  # (a bound builtin cannot be a Playwright handler)
        loaded.append(response)

    page.on("response", keep)
    page.goto(f"{served.base}/", wait_until="load")
    weight = {r.url.removeprefix(served.base): len(r.body()) for r in loaded}
    paints = page.evaluate(
        "Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]))"
    )

    # Accessible: labelled input, a live region for the streamed reply; keyboard only from the top.
    expect(page.get_by_label("Your question")).to_be_visible()
    assert page.locator("#log").get_attribute("aria-live") == "polite"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "question"
    page.evaluate(WATCH_LENGTHS)
    page.keyboard.type(REFUND_FAQ)
    page.keyboard.press("Enter")

    footnote = page.locator(".msg.bot .sources li").first
    expect(footnote).to_be_visible(timeout=30_000)
    answer = page.locator(".msg.bot .text").last
    assert answer.text_content() == REPLY
    lengths: list[int] = page.evaluate("window.__lengths")
    assert len({n for n in lengths if 0 < n < len(REPLY)}) > 3, lengths  # it grew while streaming
    link = answer.locator("a").first
    assert link.text_content() == "[1]"
    target = str(link.get_attribute("href"))
    assert page.locator(target).locator("blockquote").text_content()  # the quoted passage
    assert page.locator(".msg.bot").last.get_attribute("aria-busy") == "false"
    conversation = page.evaluate("sessionStorage.getItem('faqstream.conversation')")
    assert conversation and conversation.startswith("conv_")
    assert bot_label(page) == "Virtual assistant"
    timing: dict[str, float] = page.evaluate("window.faqstreamTimings.answers[0]")

    # No handoff webhook here: nobody can take over, and the page promises no colleague either —
    # the reply itself says to contact support directly.
    ask_by_keyboard(page, "I want to talk to a person")
    expect(page.locator(".msg.bot")).to_have_count(2, timeout=30_000)
    expect(page.locator(".msg.bot").last).to_have_attribute("aria-busy", "false", timeout=30_000)
    expect(page.locator(".msg.bot .text").last).to_contain_text("contact our support team directly")
    expect(page.locator(".handoff[role=status]")).to_have_count(0)
    expect(page.locator("#who")).not_to_contain_text("colleague")
    assert page.evaluate("sessionStorage.getItem('faqstream.conversation')") == conversation

    ask_by_keyboard(page, "Thanks!")
    expect(page.locator(".msg.bot")).to_have_count(3, timeout=30_000)
    expect(page.locator(".msg.bot").last).to_have_attribute("aria-busy", "false", timeout=30_000)
    assert bot_label(page) == "Virtual assistant"  # still the assistant's conversation

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-chat.png"), full_page=True)
    record(paints, timing, weight, browser.version)
    context.close()


def test_one_script_tag_embeds_the_chat_in_another_page(browser: Browser, served: Served) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_content(f'<h1>A shop</h1><script src="{served.base}/widget.js"></script>')
    button = page.get_by_role("button", name="Help")
    expect(button).to_have_attribute("aria-expanded", "false")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    frame = page.frame_locator("#faqstream-chat")
    expect(frame.get_by_label("Your question")).to_be_visible(timeout=15_000)
    # The chat runs in the frame although the browser denies a third-party frame its storage here.
    expect(frame.locator("form[data-ready]")).to_be_attached(timeout=15_000)
    context.close()


def test_with_api_keys_the_page_asks_for_one_or_takes_the_snippets(browser: Browser, keyed: Served) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{keyed.base}/")
    ask_by_keyboard(page, REFUND_FAQ)
    expect(page.get_by_role("alert")).to_contain_text("API key")
    key = page.get_by_label("API key")
    expect(key).to_be_focused()
    assert page.locator("#question").input_value() == REFUND_FAQ  # kept for the retry
    expect(page.locator(".msg")).to_have_count(0)  # not in the log as if it had been asked
    page.keyboard.type(WIDGET_KEY)
    page.keyboard.press("Enter")  # from the key field: sends the kept question
    expect(page.locator(".msg.bot .sources li").first).to_be_visible(timeout=30_000)
    assert page.locator(".msg.bot .text").last.text_content() == REPLY
    expect(page.locator(".msg.user .text")).to_have_text([REFUND_FAQ])  # shown once

    host = context.new_page()  # the key in the snippet reaches the iframe's page, not a server log
    host.set_content(
        f'<script src="{keyed.base}/widget.js" data-api-key="{WIDGET_KEY}" data-label="Support"></script>'
    )
    host.get_by_role("button", name="Support").click()
    frame = host.frame_locator("#faqstream-chat")
    expect(frame.locator("form[data-ready]")).to_be_attached(timeout=15_000)
    frame.get_by_label("Your question").fill(REFUND_FAQ)
    frame.get_by_label("Your question").press("Enter")
    expect(frame.locator(".msg.bot .sources li").first).to_be_visible(timeout=30_000)
    context.close()


def record(paints: dict[str, float], timing: dict[str, float], weight: dict[str, int], version: str) -> None:
    figures: dict[str, Any] = {
        "what": "web chat at / in headless chromium (Playwright), 390x844, service over HTTP on "
        "127.0.0.1, fake Anthropic streaming one token per 20 ms; shared busy 2-core machine",
        "browser": f"chromium {version}",
        "machine": platform.machine(),
        "first_paint_ms": round(paints.get("first-paint", -1), 1),
        "first_contentful_paint_ms": round(paints.get("first-contentful-paint", -1), 1),
        "time_to_first_streamed_char_ms": round(timing["firstChar"] - timing["submitted"], 1),
        "time_to_complete_answer_ms": round(timing["done"] - timing["submitted"], 1),
        "page_weight_bytes": sum(weight.values()),
        "page_weight_by_file": weight,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO, check=False
        ).stdout.strip(),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def test_after_a_handoff_the_page_shows_the_agents_replies_until_handed_back(
    browser: Browser, staffed: Served
) -> None:
    keys = KeyStore.from_settings(staffed.runtime.settings.database)
    _, agent_key = keys.create("widget", "helpdesk", ("agent",))
    keys.close()
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.add_init_script("window.__ran = []")
    page.goto(f"{staffed.base}/#key={WIDGET_KEY}")
    expect(page.locator("form[data-ready]")).to_be_attached(timeout=15_000)

    with page.expect_request(lambda r: r.url.endswith("/events"), timeout=30_000):
        ask_by_keyboard(page, "I want to talk to a person")  # the page listens once handed off
    expect(page.locator(".handoff[role=status]")).to_be_visible(timeout=30_000)
    conversation = page.evaluate("sessionStorage.getItem('faqstream.conversation')")
    path = f"/v1/conversations/{conversation}"

    posted = staffed.client.post(
        f"{path}/agent-messages",
        json={"text": "Hello, Ana here. How can I help?", "author": "Ana"},
        headers=auth(agent_key),
    )
    assert posted.status_code == 201, posted.text
    reply = page.locator(".msg.agent")
    expect(reply.locator(".text")).to_have_text("Hello, Ana here. How can I help?", timeout=30_000)
    expect(reply.locator(".from")).to_have_text("Ana (support team)")
    # An agent's Markdown renders like a reply's; their HTML is text, as anyone's.
    posted = staffed.client.post(
        f"{path}/agent-messages",
        json={"text": AGENT_MARKDOWN, "author": "Ana"},
        headers=auth(agent_key),
    )
    assert posted.status_code == 201, posted.text
    steps = page.locator(".msg.agent").last.locator(".text")
    expect(steps.locator("ol > li")).to_have_text(["Open Orders", f"Press Refresh {AGENT_IMG}"])
    expect(steps.locator("strong")).to_have_text("Orders")
    expect(steps.locator("img")).to_have_count(0)

    ask_by_keyboard(page, "My parcel is late")  # to the agent: the page says it was passed on
    expect(page.locator(".msg.bot .text").last).to_have_text(passed_on("en"), timeout=30_000)
    assert bot_label(page) == "Automated message (not your support agent)"
    expect(page.locator(".msg.bot").last.locator(".feedback")).to_have_count(0)  # no thumbs on the notice

    # A reload while the person has it: the transcript comes back, each agent reply once, and the
    # page listens again.
    with page.expect_request(lambda r: "/events?after=" in r.url, timeout=30_000):
        page.reload()
    expect(page.locator("#log[data-restored]")).to_be_attached(timeout=15_000)
    expect(reply.locator(".text")).to_have_text(["Hello, Ana here. How can I help?", AGENT_STEPS_TEXT])
    expect(page.locator(".msg.user .text")).to_have_text(["I want to talk to a person", "My parcel is late"])
    expect(page.locator(".msg.bot")).to_have_count(1)  # the passed-on notice is not part of the record
    expect(page.locator(".msg.bot .feedback")).to_have_count(1)
    expect(page.locator(".handoff[role=status]")).to_be_visible()

    assert staffed.client.post(f"{path}/handback", headers=auth(agent_key)).status_code == 200
    expect(page.locator(".handoff.back")).to_be_visible(timeout=30_000)
    expect(page.locator(".msg.agent")).to_have_count(2)  # the resumed stream did not repeat Ana's replies
    assert page.evaluate("window.__ran") == []
    expect(page.locator("#who")).not_to_have_class("who handed")
    ask_by_keyboard(page, REFUND_FAQ)
    expect(page.locator(".msg.bot .text").last).to_have_text(REPLY, timeout=30_000)
    assert bot_label(page) == "Virtual assistant"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-chat-agent.png"), full_page=True)
    context.close()


def test_a_handoff_the_team_never_received_is_owned_up_to_before_the_next_reply(
    browser: Browser, refusing: Served
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.goto(f"{refusing.base}/#key={WIDGET_KEY}")
    expect(page.locator("form[data-ready]")).to_be_attached(timeout=15_000)
    told = handoff_message("en", "no_relevant_passages", delivery="notify")
    ask_by_keyboard(page, "Who won the football world cup in 2022?")  # the team is told; the bot goes on
    expect(page.locator(".msg.bot .text").last).to_have_text(told, timeout=30_000)
    conversation = page.evaluate("sessionStorage.getItem('faqstream.conversation')")
    notice = unnotified_message("en")

    def stored() -> bool:
        polled = refusing.client.get(f"/v1/conversations/{conversation}/messages", headers=auth(WIDGET_KEY))
        return bool(polled.json()["messages"][-1]["text"] == notice)

    assert eventually(stored, timeout=30)  # the helpdesk refused the handoff
    ask_by_keyboard(page, REFUND_FAQ)
    expect(page.locator(".msg.bot .text")).to_have_text([told, notice, REPLY], timeout=30_000)
    expect(page.locator("#who")).not_to_have_class("who handed")
    context.close()


def test_thumbs_and_a_comment_under_a_reply_reach_its_record_by_keyboard(
    browser: Browser, served: Served
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.goto(f"{served.base}/")
    expect(page.locator("#log[data-restored]")).to_be_attached(timeout=15_000)
    ask_by_keyboard(page, REFUND_FAQ)
    reply = page.locator(".msg.bot").last
    feedback = reply.get_by_role("group", name="Was this answer helpful?")
    expect(feedback).to_be_visible(timeout=30_000)
    up = feedback.get_by_role("button", name="Helpful", exact=True)
    down = feedback.get_by_role("button", name="Not helpful")
    comment = feedback.get_by_label("What was missing or wrong? (optional)")
    expect(comment).to_be_hidden()
    conversation = page.evaluate("sessionStorage.getItem('faqstream.conversation')")
    record = served.client.get(f"/v1/conversations/{conversation}")
    assert record.status_code == 200, record.text
    answered = [m for m in record.json()["messages"] if m["role"] == "assistant"]
    assert [m["text"] for m in answered] == [REPLY]
    message_id = answered[0]["message_id"]

    # Keyboard only: back from the question field to the thumbs, Enter on one, Space on the other.
    page.locator("#question").focus()
    page.keyboard.press("Shift+Tab")
    expect(down).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Shift+Tab")
    expect(up).to_be_focused()
    with page.expect_request("**/v1/feedback") as sent:
        page.keyboard.press("Enter")
    sent_up = {"conversation_id": conversation, "message_id": message_id, "thumbs": "up"}
    assert sent.value.post_data_json == sent_up
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(feedback.get_by_role("status")).to_have_text("Thanks for your feedback.")
    expect(comment).to_be_hidden()

    # A failed send says so next to the buttons (not in the page's alert) and the buttons work again.
    page.route("**/v1/feedback", lambda route: route.abort(), times=1)
    page.keyboard.press("Tab")
    expect(down).to_be_focused()
    page.keyboard.press("Space")
    expect(feedback.get_by_role("status")).to_contain_text("could not be sent")
    expect(down).to_have_attribute("aria-pressed", "false")
    expect(down).to_have_attribute("aria-disabled", "false")
    expect(page.locator("#alert")).to_be_hidden()
    page.keyboard.press("Space")
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(feedback.get_by_role("status")).to_have_text("Thanks for your feedback.")

    # The optional comment after a thumbs down: the next stop in the tab order, then its button.
    expect(comment).to_have_attribute("maxlength", str(COMMENT_MAX_CHARS))  # the API's limit
    page.keyboard.press("Tab")
    expect(comment).to_be_focused()
    page.keyboard.type("It did not say when the money arrives.")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-chat-feedback.png"), full_page=True)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(feedback.get_by_role("status")).to_have_text("Thanks for your feedback and your comment.")
    expect(comment).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits the phone
    box = down.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44

    latest = served.client.get(f"/v1/conversations/{conversation}").json()["messages"][-1]
    assert latest["message_id"] == message_id
    assert latest["feedback"]["thumbs"] == "down"
    assert latest["feedback"]["comment"] == "It did not say when the money arrives."
    with sqlite3.connect(served.runtime.settings.database.sqlite_path) as db:
        rows = db.execute(
            "SELECT thumbs, comment FROM feedback WHERE message_id = ? ORDER BY id", (message_id,)
        ).fetchall()
    assert rows == [(1, None), (-1, None), (-1, "It did not say when the money arrives.")]

    # A reload: the conversation id is kept and the transcript comes back, with the feedback given.
    page.reload()
    expect(page.locator("#log[data-restored]")).to_be_attached(timeout=15_000)
    assert page.evaluate("sessionStorage.getItem('faqstream.conversation')") == conversation
    expect(page.locator(".msg.user .text")).to_have_text([REFUND_FAQ])
    expect(page.locator(".msg.bot .text")).to_have_text([REPLY])
    expect(page.locator(".msg.bot .sources li blockquote").first).not_to_be_empty()
    expect(page.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")
    context.close()


# The first list item the reply showed, and whether any reply element was ever replaced (a streamed
# reply is patched, not rebuilt: the nodes already shown stay).
WATCH_FIRST_ITEM = """() => {
  new MutationObserver(() => {
    window.__firstItem = window.__firstItem || document.querySelector('.msg.bot .text li');
  }).observe(document.getElementById('log'), {subtree: true, childList: true, characterData: true});
}"""


def test_a_markdown_reply_renders_as_it_streams(
    browser: Browser, served: Served, fake: FakeAnthropic
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.goto(f"{served.base}/")
    expect(page.locator("#log[data-restored]")).to_be_attached(timeout=15_000)
    page.evaluate(WATCH_FIRST_ITEM)
    with replying(fake, MARKDOWN_REPLY):
        ask_by_keyboard(page, REFUND_FAQ)
        reply = page.locator(".msg.bot").last
        expect(reply).to_have_attribute("aria-busy", "false", timeout=30_000)

    def check_rendered() -> None:
        answer = reply.locator(".text")
        expect(answer.locator("strong")).to_have_text("5–10 business days")
        expect(answer.locator("ul > li")).to_have_text(
            ["open Orders in your account", "look for the refund line"]
        )
        expect(answer.locator("li em")).to_have_text("Orders")
        expect(answer.locator("li code")).to_have_text("refund")
        assert "**" not in str(answer.text_content()) and "- open" not in str(answer.text_content())
        link = answer.get_by_role("link", name="our help centre")
        expect(link).to_have_attribute("href", "https://help.example.com/refunds")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        expect(link).to_have_accessible_description("opens in a new tab")
        # The citation marker is still a footnote link inside the Markdown.
        cite = answer.locator("p sup.cite a")
        expect(cite).to_have_text("[1]")
        expect(page.locator(str(cite.get_attribute("href"))).locator("blockquote")).not_to_be_empty()

    check_rendered()
    assert page.evaluate("window.__firstItem && window.__firstItem.isConnected"), "the list was rebuilt"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits the phone
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-chat-markdown.png"), full_page=True)

    page.reload()  # the restored transcript renders the same
    expect(page.locator("#log[data-restored]")).to_be_attached(timeout=15_000)
    reply = page.locator(".msg.bot").last
    check_rendered()
    context.close()


def test_a_hostile_reply_shows_as_text_and_runs_nothing(
    browser: Browser, served: Served, fake: FakeAnthropic
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.add_init_script("window.__ran = []")
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{served.base}/")
    expect(page.locator("#log[data-restored]")).to_be_attached(timeout=15_000)
    with replying(fake, HOSTILE_REPLY):
        ask_by_keyboard(page, REFUND_FAQ)
        reply = page.locator(".msg.bot").last
        expect(reply).to_have_attribute("aria-busy", "false", timeout=30_000)
    page.wait_for_timeout(300)  # an image's error handler or a dialog would have fired by now
    assert page.evaluate("window.__ran") == []
    assert dialogs == []
    assert not [url for url in requested if "evil.example" in url]  # the pixel was never fetched
    answer = reply.locator(".text")
    expect(answer).to_contain_text("<script>window.__ran.push('inline script')</script>")
    expect(answer).to_contain_text("<img src=x onerror=")
    expect(answer).to_contain_text("Check your refund")
    expect(answer.locator("script, img, iframe, svg, [onerror], [onclick]")).to_have_count(0)
    # Only the footnote link is a link: no javascript:, data: or handler-carrying one.
    expect(answer.locator("a")).to_have_count(1)
    expect(answer.locator("sup.cite a")).to_have_text("[1]")
    expect(reply.locator(".sources li")).to_have_count(1)
    context.close()


def test_the_page_speaks_the_browsers_language_then_the_customers(browser: Browser, served: Served) -> None:
    context = browser.new_context(viewport=PHONE, locale="pl-PL")
    page = context.new_page()
    page.goto(f"{served.base}/")
    root = page.locator("html")
    expect(root).to_have_attribute("lang", "pl")
    expect(root).to_have_attribute("dir", "ltr")
    assert page.title() == "Pomoc"
    expect(page.get_by_role("heading", level=1)).to_have_text("Pomoc")
    expect(page.locator("#who")).to_have_text(PL["tagline"])
    expect(page.locator(".hint")).to_have_text(PL["intro"])  # company-neutral: no "refunds, delivery"
    question = page.get_by_label("Twoje pytanie")
    expect(question).to_have_attribute("placeholder", "Wpisz pytanie…")
    expect(page.get_by_role("button", name="Wyślij")).to_be_visible()
    expect(page.get_by_role("button", name="Nowa rozmowa")).to_be_visible()
    expect(page.get_by_role("log", name="Rozmowa")).to_be_attached()
    expect(question).to_have_accessible_description(PL["send_hint"])
    expect(page.locator("form[data-ready]")).to_be_attached(timeout=15_000)

    # A Spanish customer on a Polish browser: once the reply comes, the page is Spanish too.
    ask_by_keyboard(page, SPANISH_REFUND)
    reply = page.locator(".msg.bot").last
    expect(reply).to_have_attribute("aria-busy", "false", timeout=30_000)
    expect(reply).to_have_attribute("lang", "es")
    expect(root).to_have_attribute("lang", "es", timeout=15_000)
    expect(page.get_by_role("heading", level=1)).to_have_text(ES["title"])
    assert page.title() == ES["title"]
    expect(page.get_by_label(ES["question_label"])).to_have_attribute("placeholder", ES["placeholder"])
    expect(page.get_by_role("button", name=ES["send"])).to_be_visible()
    expect(page.get_by_role("log", name=ES["conversation"])).to_be_attached()
    # The messages already shown are relabelled as well.
    expect(page.locator(".msg.user .from")).to_have_text([ES["you"]])
    expect(reply.locator(".from")).to_have_text(ES["assistant"])
    feedback = reply.get_by_role("group", name=ES["helpful"])
    expect(feedback.get_by_role("button", name=ES["up"], exact=True)).to_be_visible()
    expect(feedback.get_by_role("button", name=ES["down"], exact=True)).to_be_visible()
    expect(reply.get_by_role("list", name=ES["sources"])).to_be_visible()
    expect(reply.locator(".text sup.cite a")).to_have_attribute("aria-label", "fuente 1")

    # A reload: the server renders the browser's Polish, the restored conversation makes it Spanish.
    page.reload()
    expect(page.locator("#log[data-restored]")).to_be_attached(timeout=15_000)
    expect(root).to_have_attribute("lang", "es", timeout=15_000)
    expect(page.get_by_role("button", name=ES["send"])).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits the phone
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-chat-es.png"), full_page=True)
    context.close()


def test_the_operators_title_and_intro_show_as_text_in_the_browsers_language(
    browser: Browser, keyed: Served
) -> None:
    # The Accept-Language header says English (the page is rendered so); navigator.languages says
    # Polish: the page switches to Polish by itself.
    context = browser.new_context(
        viewport=PHONE, locale="pl-PL", extra_http_headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    page = context.new_page()
    page.add_init_script("window.__ran = []")
    page.goto(f"{keyed.base}/")
    heading = page.get_by_role("heading", level=1)
    expect(page.locator("html")).to_have_attribute("lang", "pl", timeout=15_000)
    expect(heading).to_have_text("AutoRent <b>pomoc</b>")
    expect(heading.locator("b")).to_have_count(0)
    assert page.title() == "AutoRent <b>pomoc</b>"
    hint = page.locator(".hint")
    expect(hint).to_have_text(INTRO)
    expect(hint.locator("*")).to_have_count(0)
    expect(page.get_by_role("button", name="Wyślij")).to_be_visible()

    # Refused for want of a key: said in Polish, and the question is back in its field, not in the log.
    expect(page.locator("form[data-ready]")).to_be_attached(timeout=15_000)
    ask_by_keyboard(page, "Ile wynosi kaucja?")
    expect(page.get_by_role("alert")).to_have_text(PL["need_key"])
    expect(page.get_by_label(PL["key_label"])).to_be_focused()
    expect(page.locator(".msg")).to_have_count(0)
    assert page.locator("#question").input_value() == "Ile wynosi kaucja?"

    page.get_by_role("button", name="Nowa rozmowa").click()
    expect(hint).to_have_text(INTRO)
    expect(page.locator(".hint *")).to_have_count(0)
    assert page.evaluate("window.__ran") == []
    context.close()


def test_footnotes_show_the_passages_markdown_not_its_markers(
    browser: Browser, served: Served, fake: FakeAnthropic
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.goto(f"{served.base}/")
    expect(page.locator("#log[data-restored]")).to_be_attached(timeout=15_000)
    with replying(
        fake, "Standard delivery takes 1–3 business days [1]; a lost parcel is investigated [2][3]."
    ):
        ask_by_keyboard(page, "How long does delivery take, and what if my parcel is lost?")
        reply = page.locator(".msg.bot").last
        expect(reply).to_have_attribute("aria-busy", "false", timeout=30_000)
    conversation = page.evaluate("sessionStorage.getItem('faqstream.conversation')")
    record = served.client.get(f"/v1/conversations/{conversation}").json()
    quotes = [c["quote"] for c in record["messages"][-1]["citations"] if c["index"] <= 3]
    headed = [q for q in quotes if "**" in q]
    assert headed, quotes  # a passage whose sub-heading the chunker wrote as **Heading**
    sources = reply.locator(".sources")
    expect(sources.locator("li")).to_have_count(len(quotes))
    assert "**" not in str(sources.text_content())
    heading = headed[0].split("**")[1]
    expect(sources.locator("blockquote strong", has_text=heading).first).to_be_visible()
    context.close()


def test_a_language_switch_overtaken_by_the_current_language_does_not_land(
    browser: Browser, served: Served
) -> None:
    """Spanish, then English again before the Spanish texts arrived: the page stays English (the
    late Spanish texts used to win, since asking for the current language cancelled nothing)."""
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    held: list[Route] = []

    def hold(route: Route) -> None:  # Playwright calls back only a Python function, not a bound builtin
        held.append(route)

    page.route("**/web-chat/texts?lang=es", hold)
    page.goto(f"{served.base}/")
    root = page.locator("html")
    expect(page.locator("form[data-ready]")).to_be_attached(timeout=15_000)
    ask_by_keyboard(page, SPANISH_REFUND)
    replies = page.locator(".msg.bot")
    expect(replies.last).to_have_attribute("lang", "es", timeout=30_000)
    expect(replies.last).to_have_attribute("aria-busy", "false", timeout=30_000)
    assert len(held) == 1  # the Spanish texts' request went out with the reply's language, and waits
    ask_by_keyboard(page, "How long does a card refund take?")
    expect(replies).to_have_count(2, timeout=30_000)
    expect(replies.last).to_have_attribute("lang", "en", timeout=30_000)
    expect(replies.last).to_have_attribute("aria-busy", "false", timeout=30_000)
    with page.expect_response("**/web-chat/texts?lang=es") as arrived:
        held[0].continue_()
    arrived.value.finished()
    # Two of the page's own turns after the texts arrived: a switch that would land has landed.
    page.evaluate("() => new Promise((done) => setTimeout(() => requestAnimationFrame(() => done()), 0))")
    expect(root).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    context.close()
