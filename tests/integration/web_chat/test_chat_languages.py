"""The web chat's languages, in a real headless browser: the page speaks the browser's language and
then the customer's (its texts from the service: service/web/texts.yaml), shows the operator's
WEB_CHAT_TITLE / WEB_CHAT_INTRO as text, a language switch overtaken by the next reply does not land,
and a message in a right-to-left script reads right to left in a left-to-right page."""

from __future__ import annotations

from playwright.sync_api import Browser, Route, expect

from fakes import FakeAnthropic
from tests.integration.web_chat.pages import (
    ARTIFACTS,
    BROWSER_TESTS,
    ES,
    INTRO,
    PHONE,
    PL,
    SPANISH_REFUND,
    ask_by_keyboard,
    replying,
)
from tests.service_harness import (
    Served,
)

pytestmark = BROWSER_TESTS


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


ARABIC_REFUND = "كم يستغرق استرداد المبلغ إلى البطاقة؟"
ARABIC_REPLY = "يستغرق استرداد المبلغ إلى البطاقة من 5 إلى 10 أيام عمل [1]."
DIRECTION = "(node) => getComputedStyle(node).direction"


def test_a_right_to_left_message_reads_right_to_left_in_an_english_page(
    browser: Browser, served: Served, fake: FakeAnthropic
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.goto(f"{served.base}/")
    expect(page.locator("form[data-ready]")).to_be_attached(timeout=15_000)
    expect(page.locator("#question")).to_have_attribute("dir", "auto")  # typing Arabic reads right to left
    with replying(fake, ARABIC_REPLY):
        ask_by_keyboard(page, ARABIC_REFUND)
        reply = page.locator(".msg.bot").last
        expect(reply).to_have_attribute("aria-busy", "false", timeout=30_000)
    expect(page.locator("html")).to_have_attribute("dir", "ltr")  # the page itself stays as it was
    assert page.locator(".msg.user .text").evaluate(DIRECTION) == "rtl"
    expect(reply.locator(".text")).to_have_text(ARABIC_REPLY)
    assert reply.locator(".text").evaluate(DIRECTION) == "rtl"
    passage = reply.locator(".sources blockquote").first  # an English document's passage
    assert passage.evaluate(DIRECTION) == "ltr"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-chat-rtl.png"), full_page=True)
    context.close()
