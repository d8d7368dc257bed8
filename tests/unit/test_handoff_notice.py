"""The customer's notice at a handoff, in every reply language, and where each handoff goes
(``service.handoff.delivery``, ``service.handoff.messages``)."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from service.agents.settings import AgentSettings
from service.handoff.delivery import DEFAULT_TAKEOVER_REASONS, HandoffRoutes
from service.handoff.late_notices import lapsed_message
from service.handoff.messages import HANDOFF_LANGUAGES, handoff_message
from service.handoff.policy import HandoffPolicy, decide
from service.handoff.settings import CONTACT_MAX_CHARS, HandoffSettings
from service.handoff.signals import REASON_ORDER, Delivery, HandoffSignals

# ---------------------------------------------------------------- the customer's notice

SCRIPT = {
    "en": re.compile(r"colleague"),
    "zh": re.compile(r"[\u4e00-\u9fff]"),
    "es": re.compile(r"compañero"),
    "fr": re.compile(r"collègue"),
    "de": re.compile(r"Kolleg"),
    "ja": re.compile(r"[\u3040-\u30ff]"),
    "pt": re.compile(r"atendente"),  # Brazilian, the default (TEXTS_PORTUGUESE; European: "colega")
    "it": re.compile(r"collega"),
    "nl": re.compile(r"collega"),
    "ru": re.compile(r"сотрудник"),
    "ko": re.compile(r"담당자"),
    "pl": re.compile(r"konsultant"),
    "uk": re.compile(r"співробітник"),
}
# What only the takeover notice says: a colleague replies here (each language's own words).
REPLY_HERE = {
    "en": "reply here",
    "zh": "在这里接手并回复",
    "es": "le responderá aquí",
    "fr": "vous répondra ici",
    "de": "Ihnen hier",
    "ja": "こちらでご返信",
    "pt": "responder aqui",  # European: "lhe responderá aqui" (tests/unit/test_portuguese_texts.py)
    "it": "le risponderà qui",
    "nl": "u hier zo snel mogelijk antwoordt",
    "ru": "ответит вам здесь",
    "ko": "이곳에서 답변",
    "pl": "odpowie tutaj",
    "uk": "відповість вам тут",
}
CONTACT = "hello@harbourdesk.example or +34 600 000 000"
DELIVERIES: tuple[Delivery, ...] = ("takeover", "notify", "none")


@pytest.mark.parametrize("language", list(SCRIPT))
def test_handoff_message_in_the_customers_language(language: str) -> None:
    assert set(SCRIPT) == set(REPLY_HERE) == set(HANDOFF_LANGUAGES)
    for delivery in DELIVERIES:
        messages = {reason: handoff_message(language, reason, delivery=delivery) for reason in REASON_ORDER}
        assert len(set(messages.values())) == len(REASON_ORDER)  # the opening follows the reason
        if language != "en":
            english = handoff_message("en", "customer_request", delivery=delivery)
            assert messages["customer_request"] != english
        # Only a takeover promises a colleague's reply here.
        assert all((REPLY_HERE[language] in m) == (delivery == "takeover") for m in messages.values())
    takeover = [handoff_message(language, r, delivery="takeover") for r in REASON_ORDER]
    unrouted = [handoff_message(language, r, delivery="none") for r in REASON_ORDER]
    assert all(SCRIPT[language].search(m) for m in takeover + unrouted)  # "a colleague", either way


@pytest.mark.parametrize("language", list(SCRIPT))
def test_the_contact_is_shown_as_is_where_nobody_takes_over(language: str) -> None:
    for reason in REASON_ORDER:
        unrouted = handoff_message(language, reason, delivery="none", contact=CONTACT)
        notified = handoff_message(language, reason, delivery="notify", contact=CONTACT)
        assert unrouted.endswith(CONTACT) and notified.endswith(CONTACT)
        assert unrouted != handoff_message(language, reason, delivery="none")
        assert CONTACT not in handoff_message(language, reason, delivery="takeover", contact=CONTACT)


def test_a_request_for_a_person_nobody_can_take_is_not_answered_of_course() -> None:
    assert handoff_message("en", "customer_request", delivery="takeover").startswith("Of course.")
    assert handoff_message("en", "customer_request", delivery="notify").startswith("Of course.")
    unrouted = handoff_message("en", "customer_request", delivery="none")
    assert unrouted == (
        "I'm sorry. I can't pass this chat on to a colleague, but you're welcome to contact our support "
        "team directly."
    )
    assert handoff_message("en", "no_relevant_passages", delivery="none", contact="+34 600 000 000") == (
        "I couldn't find the answer to this in our documents, and I don't want to guess. I can't pass "
        "this chat on to a colleague, but you can reach our support team directly: +34 600 000 000"
    )
    assert handoff_message("en", "no_relevant_passages", delivery="notify") == (
        "I couldn't find the answer to this in our documents, and I don't want to guess. I've passed "
        "this on to our support team. In the meantime, I'm still here for any other questions."
    )


@pytest.mark.parametrize("language", HANDOFF_LANGUAGES)
def test_a_lapsed_takeover_is_explained_in_the_customers_language(language: str) -> None:
    contact = "help@example.com / +34 600 000 000"
    undelivered = lapsed_message(language, "undelivered", contact=contact)
    unanswered = lapsed_message(language, "unanswered", contact=contact)
    without = lapsed_message(language, "undelivered")
    assert undelivered.endswith(contact)  # shown as is
    assert undelivered != unanswered and unanswered.endswith(contact)
    assert contact not in without and without.startswith(undelivered[:10])
    assert REPLY_HERE[language] not in undelivered  # no colleague is promised any more
    others = {lapsed_message(other, "undelivered") for other in HANDOFF_LANGUAGES if other != language}
    assert without not in others  # its own words, not another language's
    assert lapsed_message(language + "-XX", "unanswered") == lapsed_message(language, "unanswered")


def test_handoff_message_fallbacks() -> None:
    english = handoff_message("en", "dissatisfaction", delivery="takeover")
    assert english.startswith("I'm sorry my answers haven't helped.")
    assert handoff_message("sv", "dissatisfaction", delivery="takeover") == english
    assert handoff_message("", "dissatisfaction", delivery="takeover") == english
    assert handoff_message("pt-BR", "customer_request", delivery="none") == handoff_message(
        "pt", "customer_request", delivery="none"
    )
    assert handoff_message("ZH", "llm_unavailable", delivery="notify").startswith("抱歉")


# ---------------------------------------------------------------- where a handoff goes


def test_the_default_takes_over_only_when_a_person_is_needed() -> None:
    routes = HandoffRoutes(webhook=True)
    moved = {reason for reason in REASON_ORDER if routes.delivery(reason) == "takeover"}
    assert moved == {"customer_request", "dissatisfaction", "llm_unavailable"}
    assert routes.delivery("no_relevant_passages") == routes.delivery("not_in_documents") == "notify"
    assert routes.delivery("low_confidence") == "notify"
    assert AgentSettings().takeover_reasons == DEFAULT_TAKEOVER_REASONS
    every = HandoffRoutes(webhook=True, takeover_reasons=REASON_ORDER)
    assert all(every.delivery(reason) == "takeover" for reason in REASON_ORDER)
    nowhere = HandoffRoutes(webhook=False, takeover_reasons=REASON_ORDER)
    assert all(nowhere.delivery(reason) == "none" for reason in REASON_ORDER)


def test_the_notice_follows_the_handoffs_delivery() -> None:
    found = decide(HandoffSignals(language="de", relevant_hits=0))
    asked = decide(HandoffSignals(language="de", relevant_hits=3, customer_asked=True))
    assert found is not None and asked is not None
    routes = HandoffRoutes(webhook=True)
    assert routes.notice("de", found) == handoff_message("de", "no_relevant_passages", delivery="notify")
    assert routes.notice("de", asked) == handoff_message("de", "customer_request", delivery="takeover")
    # No handoff made ("not in our documents" with handoffs off): it reaches no one.
    assert routes.notice("de", None) == handoff_message("de", "no_relevant_passages", delivery="none")
    # The opening may be another reason's; the delivery stays the handoff's.
    policy = HandoffPolicy(HandoffSettings(webhook_url="http://helpdesk.example/hook"), routes=routes)
    assert policy.notice("en", asked, "no_relevant_passages") == handoff_message(
        "en", "no_relevant_passages", delivery="takeover"
    )
    default = HandoffPolicy(HandoffSettings(contact={"*": CONTACT}))  # no webhook: nowhere to go
    assert (
        default.notice("en", found).endswith(CONTACT)
        and default.routes.delivery("customer_request") == "none"
    )


def test_a_warning_when_handoffs_reach_no_one_and_no_contact_is_given() -> None:
    warning = HandoffRoutes().startup_warning()
    assert warning is not None and "HANDOFF_WEBHOOK_URL and HANDOFF_CONTACT are unset" in warning
    assert HandoffRoutes(contact={"*": CONTACT}).startup_warning() is None
    assert HandoffRoutes(webhook=True).startup_warning() is None


def test_the_contact_setting_is_one_line_of_bounded_length() -> None:
    def contact(value: str) -> dict[str, str]:
        return HandoffSettings.model_validate({"contact": value}).contact

    assert contact("  hello@example.com\n or  +34 600 000 000 ") == {
        "*": "hello@example.com or +34 600 000 000"
    }
    assert contact("") == {} and contact("   ") == {}
    for wrong in (
        "x" * (CONTACT_MAX_CHARS + 1),
        "call us\x00",
        '{"it": "+39 02 1234 5678"',
        # a trial: Portugal's contact was silently replaced by Brazil's (both are "pt")
        '{"pt-PT": "+351 21 123 4567", "pt-BR": "0800 123 4567", "*": "help@example.com"}',
        '{"italian": "x"}',
    ):
        with pytest.raises(ValidationError, match="HANDOFF_CONTACT"):
            contact(wrong)


def test_each_language_can_have_its_own_contact(monkeypatch: pytest.MonkeyPatch) -> None:
    """A company in Italy and Poland: a Polish reply ended with both countries' numbers (a trial)."""
    monkeypatch.setenv(
        "HANDOFF_CONTACT", '{"it": "+39 02 1234 5678", "pl": "+48 22 123 45 67", "*": "help@sprinto.example"}'
    )
    settings = HandoffSettings()
    assert (
        settings.contact_for("pl") == "+48 22 123 45 67"
        and settings.contact_for("it-IT") == "+39 02 1234 5678"
    )
    assert settings.contact_for("de") == "help@sprinto.example"
    policy = HandoffPolicy(settings)  # no webhook: the customer is given the contact
    found = decide(HandoffSignals(language="pl", relevant_hits=3, customer_asked=True))
    assert found is not None and found.reason == "customer_request"
    assert policy.notice("pl", found) == handoff_message(
        "pl", "customer_request", delivery="none", contact="+48 22 123 45 67"
    )
    assert policy.notice("it", found).endswith("+39 02 1234 5678")
    assert policy.notice("uk", found).endswith("help@sprinto.example")
    # without "*" a language not listed gets no address, as with the setting unset
    monkeypatch.setenv("HANDOFF_CONTACT", '{"pl": "+48 22 123 45 67"}')
    only_polish = HandoffPolicy(HandoffSettings())
    assert only_polish.notice("en", found) == handoff_message("en", "customer_request", delivery="none")
