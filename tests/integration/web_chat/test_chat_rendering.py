"""How the web chat shows a reply, in a real headless browser: its Markdown (and a footnote's passage)
renders as it streams — bold, lists, links that open in a new tab, no literal ``**`` — while the raw
HTML, event handlers and ``javascript:`` links a hostile document could slip into a reply show as
text and run nothing."""

from __future__ import annotations

from playwright.sync_api import Browser, Dialog, expect

from fakes import FakeAnthropic
from tests.integration.web_chat.pages import (
    ARTIFACTS,
    BROWSER_TESTS,
    PHONE,
    ask_by_keyboard,
    replying,
)
from tests.service_harness import (
    REFUND_FAQ,
    Served,
)

pytestmark = BROWSER_TESTS

MARKDOWN_REPLY = (
    "Card refunds take **5–10 business days** [1].\n\n"
    "To check on yours:\n"
    "- open *Orders* in your account\n"
    "- look for the `refund` line\n\n"
    "More in [our help centre](https://help.example.com/refunds)."
)


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
