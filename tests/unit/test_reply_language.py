"""The reply language of a message (service/answers/reply_language.py): the precedence of the
conversation, the request's field, small-talk words, Accept-Language and the detector; and the
conversation's language as a prior against the real lingua detector for longer messages.
Measured: bench/short_language.py. End-to-end over HTTP: tests/integration/test_smalltalk_flows.py.
"""

from __future__ import annotations

import pytest

from knowledge.language import LanguageIdentifier
from knowledge.words import fits_script, word_count
from service.answers.reply_language import (
    LanguageDecision,
    accept_languages,
    decide_language,
    weigh_conversation,
)
from service.smalltalk import match


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, []),
        ("", []),
        ("de", ["de"]),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", ["fr", "en", "de"]),
        ("en;q=0.5, es", ["es", "en"]),
        ("en;q=0.5,es;q=0.5,it;q=0.5", ["en", "es", "it"]),  # ties keep header order
        ("pt-BR;q=1.0, ja;q=0", ["pt"]),  # q=0: not acceptable
        ("EN-us ; Q=0.8 , zh-Hans-CN", ["zh", "en"]),
        ("de;q=1.5, fr;q=abc, it;q=0.3333, es;q=0.333", ["es"]),  # malformed q-values dropped
        ("*", []),
        ("en_US, 12, x", ["x"]),  # not language tags: dropped ("x" is one, syntactically)
        (",,, ;q=1, de", ["de"]),
    ],
)
def test_accept_language(header: str | None, expected: list[str]) -> None:
    assert accept_languages(header) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("refund", 1),
        ("Rückerstattung?", 1),
        ("mot de passe", 3),
        ("c'est tout", 2),
        ("Qu’est-ce que", 2),
        ("Budapest est-elle", 2),
        ("palavra-passe", 1),
        ("ORD-12345 refund", 2),
        ("退款", 1),
        ("我要退款", 2),
        ("ありがとう", 3),
        ("ok 谢谢", 2),
        ("👍", 0),
    ],
)
def test_word_count(text: str, words: int) -> None:
    assert word_count(text) == words


def test_script_fits() -> None:
    assert fits_script("refund", "zh")  # Latin text constrains nothing
    assert fits_script("退款", "zh") and fits_script("返金", "ja")
    assert not fits_script("退款", "en")
    assert not fits_script("ありがとう", "zh")
    assert not fits_script("Привет", "de")
    assert fits_script("¿y el domingo?", "es") and not fits_script("¿y el domingo?", "en")


class Detector:
    """The language detector's role, answering a fixed language and counting its calls."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.calls: list[str] = []

    def __call__(self, text: str) -> str:
        self.calls.append(text)
        return self.language


KNOWN = ("en", "zh", "es", "fr", "de", "ja", "pt", "it", "nl", "ru", "ko", "pl")


def decide(text: str, guess: str = "it", **context: object) -> tuple[LanguageDecision, int]:
    detect = Detector(guess)
    talk = match(text)
    decision = decide_language(
        text,
        detect=detect,
        smalltalk=talk is not None,
        smalltalk_language=talk.language if talk else None,
        smalltalk_candidates=talk.candidates if talk else (),
        known=KNOWN,
        **context,  # type: ignore[arg-type]
    )
    return decision, len(detect.calls)


def test_short_message_takes_the_conversation_language_first() -> None:
    decision, calls = decide("refund", conversation="es", requested="de", accept_language="fr")
    assert decision == LanguageDecision("es", "conversation") and calls == 0
    decision, _ = decide("ok", conversation="pt-BR")
    assert decision == LanguageDecision("pt", "conversation")
    # small talk of any length keeps the conversation's language; "und" is no language
    assert decide("thank you so much for your help", conversation="de")[0].language == "de"
    assert decide("refund", conversation="und", accept_language="fr")[0].source == "accept_language"


def test_short_message_then_request_field_then_header_then_detector() -> None:
    assert decide("refund", requested="de", accept_language="fr")[0] == LanguageDecision("de", "request")
    assert decide("refund", accept_language="fr-CA,en;q=0.5")[0] == LanguageDecision("fr", "accept_language")
    assert decide("refund", accept_language="sv, en;q=0.2")[0] == LanguageDecision("en", "accept_language")
    assert decide("refund", accept_language="sv")[0] == LanguageDecision("it", "detected")
    assert decide("refund")[0] == LanguageDecision("it", "detected")


def test_small_talk_words_decide_before_the_header() -> None:
    assert decide("Hello!", guess="it")[0] == LanguageDecision("en", "smalltalk")
    assert decide("Hola", accept_language="en-US")[0] == LanguageDecision("es", "smalltalk")
    assert decide("谢谢", accept_language="en")[0] == LanguageDecision("zh", "smalltalk")
    assert decide("Danke", requested="en")[0] == LanguageDecision("en", "request")  # the field wins
    assert decide("ok", accept_language="ja")[0] == LanguageDecision("ja", "accept_language")  # neutral


def test_small_talk_words_of_several_languages_take_the_header_among_them() -> None:
    """A Dutch customer's "Hallo!" (with ``Accept-Language: nl-NL``) was answered in German: the
    word is German and Dutch alike. The header chooses among those languages, else the first."""
    assert decide("Hallo!", accept_language="nl-NL,nl;q=0.9")[0] == LanguageDecision("nl", "accept_language")
    assert decide("Hallo!", accept_language="en-US,nl;q=0.5")[0] == LanguageDecision("nl", "accept_language")
    assert decide("Hallo!", accept_language="en-US")[0] == LanguageDecision("de", "smalltalk")
    assert decide("Hallo!")[0] == LanguageDecision("de", "smalltalk")
    assert decide("Hallo!", conversation="nl")[0] == LanguageDecision("nl", "conversation")
    assert decide("hallo allemaal", accept_language="de")[0] == LanguageDecision("nl", "smalltalk")


def test_long_message_without_confidence_values_is_detected() -> None:
    question = "How long does a refund take?"
    assert decide(question, guess="en", conversation="es", accept_language="de")[0] == LanguageDecision(
        "en", "detected"
    )
    assert decide(question, requested="pt-BR", conversation="es")[0] == LanguageDecision("pt", "request")


def test_spanish_opening_marks_override_the_conversation(languages: LanguageIdentifier) -> None:
    """A short Spanish follow-up in an English conversation (a new user's trial): the prior kept
    English; the opening mark is evidence no other configured language writes."""
    for text in ("¿y el domingo?", "¿Domingo?", "¡Gracias por todo!"):
        decided = decide_real(text, languages, conversation="en")
        assert decided.language == "es", (text, decided)
    assert decide_real("and on Sunday?", languages, conversation="en").language == "en"


def test_script_overrides_the_conversation_and_the_header() -> None:
    assert decide("退款", guess="zh", conversation="en")[0] == LanguageDecision("zh", "detected")
    assert decide("返金", guess="zh", conversation="ja")[0] == LanguageDecision("ja", "conversation")
    assert decide("ok", conversation="zh")[0] == LanguageDecision("zh", "conversation")
    assert decide("退款", guess="zh", accept_language="en, zh;q=0.5")[0] == LanguageDecision(
        "zh", "accept_language"
    )


# ---------------------------------------------------------------- the conversation as a prior


def decide_real(text: str, languages: LanguageIdentifier, **context: object) -> LanguageDecision:
    """``decide_language`` as the answer flow calls it, with the configured lingua detector."""
    talk = match(text)
    return decide_language(
        text,
        detect=lambda t: languages.detect(t).language,
        confidences=languages.confidences,
        smalltalk=talk is not None,
        smalltalk_language=talk.language if talk else None,
        smalltalk_candidates=talk.candidates if talk else (),
        known=KNOWN,
        **context,  # type: ignore[arg-type]
    )


def test_a_short_follow_up_keeps_the_conversation_language(languages: LanguageIdentifier) -> None:
    follow_up = "and per week?"  # the trial's message: three words, lingua alone says Dutch
    assert word_count(follow_up) == 3
    assert languages.detect(follow_up).language != "en"
    assert decide_real(follow_up, languages, conversation="en") == LanguageDecision("en", "conversation")
    assert decide_real(follow_up, languages, conversation="en-GB").language == "en"


def test_a_confident_sentence_in_another_language_switches(languages: LanguageIdentifier) -> None:
    switch = "Können Sie mir bitte helfen, wo ist mein Paket?"
    assert decide_real(switch, languages, conversation="en") == LanguageDecision("de", "detected")
    assert decide_real("¿Cuánto tarda el reembolso de mi pedido devuelto?", languages, conversation="de") == (
        LanguageDecision("es", "detected")
    )


def test_a_new_conversation_without_a_header_is_detected_as_before(languages: LanguageIdentifier) -> None:
    follow_up = "and per week?"
    detected = LanguageDecision(languages.detect(follow_up).language, "detected")
    assert decide_real(follow_up, languages) == detected
    assert decide_real(follow_up, languages, conversation="und") == detected
    assert decide_real(follow_up, languages, accept_language="sv") == detected  # a header not configured


# ---------------------------------------------------------------- Accept-Language as a prior

# A new user's trial (Accept-Language es-MX / pt-BR): unaccented chat messages lingua reads as
# another language, or as nothing sure (→ the default, English).
TRIAL = [
    ("cual es el whatsapp de ustedes", "es"),
    ("cuanto tarda el envio a yucatan?", "es"),
    ("tem frete gratis?", "pt"),
    ("vcs montam o armario?", "pt"),
    ("a nota fiscal vem no email?", "pt"),
]


@pytest.mark.parametrize(("text", "language"), TRIAL)
def test_the_header_is_a_prior_for_longer_messages_in_a_new_conversation(
    languages: LanguageIdentifier, text: str, language: str
) -> None:
    assert word_count(text) > 2 and languages.detect(text).language != language  # lingua alone: wrong
    header = {"es": "es-MX,es;q=0.9,en;q=0.8", "pt": "pt-BR,pt;q=0.9"}[language]
    assert decide_real(text, languages, accept_language=header) == LanguageDecision(
        language, "accept_language"
    )
    assert decide_real(text, languages).language != language  # without the header: as before


def test_a_confident_sentence_beats_the_header(languages: LanguageIdentifier) -> None:
    spanish = "¿Cuánto tarda el reembolso de mi pedido devuelto?"
    assert decide_real(spanish, languages, accept_language="en-US,en;q=0.9") == LanguageDecision(
        "es", "detected"
    )
    german = "Können Sie mir bitte helfen, wo ist mein Paket?"
    assert decide_real(german, languages, accept_language="es-MX") == LanguageDecision("de", "detected")
    english = "How long does a refund take?"
    assert decide_real(english, languages, accept_language="pt-BR").language == "en"


def test_the_header_prior_keeps_every_earlier_precedence(languages: LanguageIdentifier) -> None:
    text = "cual es el whatsapp de ustedes"
    # the request's field is absolute; the conversation's language is the prior once there is one
    assert decide_real(text, languages, accept_language="es", requested="pt-BR") == LanguageDecision(
        "pt", "request"
    )
    assert decide_real(
        "and per week?", languages, accept_language="es", conversation="en"
    ) == LanguageDecision("en", "conversation")
    # the first header entry the service knows is the prior; one the script rules out is passed over
    assert decide_real(text, languages, accept_language="sv, es;q=0.5").language == "es"
    assert decide_real("我的退款什么时候到账？", languages, accept_language="es-MX").language == "zh"
    # in a conversation the header is no prior, even when the script rules the conversation's out
    assert decide_real(text, languages, accept_language="es", conversation="ru") == decide_real(
        text, languages, conversation="ru"
    )


def test_the_header_odds_decide_how_sure_the_detector_must_be() -> None:
    confidences = {"es": 0.07, "pt": 0.58, "it": 0.18}  # "nesesito factura de mi conpra"
    for odds, expected in ((4.0, "pt"), (9.0, "es")):
        decision = decide_language(
            "nesesito factura de mi conpra",
            detect=Detector("pt"),
            confidences=lambda _: confidences,
            header_odds=odds,
            accept_language="es-MX",
            known=KNOWN,
        )
        assert decision.language == expected, odds


def test_the_prior_keeps_every_earlier_precedence(languages: LanguageIdentifier) -> None:
    # the request's field beats the conversation for longer messages, as it beat the detector
    assert decide_real("and per week?", languages, conversation="en", requested="fr") == LanguageDecision(
        "fr", "request"
    )
    # one or two words keep the conversation even when lingua is sure ("ü" rules English out)
    assert languages.confidences("Rückerstattung?")["de"] > 0.99
    assert decide_real("Rückerstattung?", languages, conversation="en") == LanguageDecision(
        "en", "conversation"
    )
    # small talk of any length keeps it too
    assert decide_real("vielen Dank für Ihre Hilfe", languages, conversation="en").language == "en"
    # a script the conversation's language cannot be written in is a switch, whatever the prior
    assert decide_real("我的退款什么时候到账？", languages, conversation="en").language == "zh"
    # a conversation language the detector does not know: detection as before
    assert (
        decide_real("and per week?", languages, conversation="sv").language
        == languages.detect("and per week?").language
    )


def test_han_characters_keep_a_chinese_or_japanese_conversation(languages: LanguageIdentifier) -> None:
    kanji = "返品送料無料"  # Han only: Chinese or Japanese alike (lingua: Chinese)
    assert word_count(kanji) == 3 and languages.detect(kanji).language == "zh"
    assert decide_real(kanji, languages, conversation="ja") == LanguageDecision("ja", "conversation")
    assert decide_real(kanji, languages, conversation="zh") == LanguageDecision("zh", "conversation")
    mixed = "DrakeとLil Wayneの曲"  # kana among Latin names: Japanese
    assert decide_real(mixed, languages, conversation="ja") == LanguageDecision("ja", "conversation")


def test_weighing_multiplies_the_conversation_language_by_the_odds() -> None:
    confidences = {"en": 0.2, "nl": 0.5, "de": 0.3}
    assert weigh_conversation("and per week?", "en", confidences, odds=2.0) == "nl"  # 0.4 < 0.5
    assert weigh_conversation("and per week?", "en", confidences, odds=3.0) == "en"  # 0.6 > 0.5
    assert weigh_conversation("and per week?", "en", confidences, odds=2.5) == "en"  # a tie keeps it
    assert weigh_conversation("and per week?", "sv", confidences) is None
