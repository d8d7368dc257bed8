"""The web chat after a handoff, in a real headless browser: where a person takes over, the page shows
the handoff notice and the agent's replies (Markdown rendered, HTML as text) and stops presenting the
bot as the agent, until the agent hands back; a handoff the helpdesk refused is owned up to before
the next reply; thumbs up / down and a comment under a reply reach its record by keyboard, and a
reload brings the transcript back with them."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import Browser, expect

from service.agents.notice import passed_on
from service.handoff.late_notices import unnotified_message
from service.handoff.messages import handoff_message
from service.records.store import COMMENT_MAX_CHARS
from service.tenants.store import KeyStore
from tests.integration.web_chat.pages import (
    ARTIFACTS,
    BROWSER_TESTS,
    PHONE,
    WIDGET_KEY,
    ask_by_keyboard,
    bot_label,
)
from tests.service_harness import (
    REFUND_FAQ,
    REPLY,
    Served,
    auth,
    eventually,
)

pytestmark = BROWSER_TESTS

# An agent's message with a numbered list, and HTML that must stay text.
AGENT_IMG = "<img src=x onerror=\"window.__ran.push('agent')\">"


AGENT_MARKDOWN = f"Two things to try:\n1. Open **Orders**\n2. Press Refresh {AGENT_IMG}"


AGENT_STEPS_TEXT = f"Two things to try: Open Orders Press Refresh {AGENT_IMG}"


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
