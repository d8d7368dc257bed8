"""Small talk (service/smalltalk/) and the reply language of short messages
(service/answers/reply_language.py).

The matcher is checked exhaustively over its own lexicon: every phrase, decorated in every way a
customer decorates it (case, punctuation, emoji, repeated letters, full-width forms, missing
accents), must still match with its kind and language; every phrase glued to a real question must
not. End-to-end behaviour over HTTP: tests/integration/test_smalltalk_flows.py.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from service import smalltalk
from service.answers.flow import opening
from service.answers.reply_language import (
    LanguageDecision,
    accept_languages,
    decide_language,
    fits_script,
    word_count,
)
from service.conversations.history import retrieval_query
from service.conversations.store import Conversation, Turn
from service.smalltalk import LEXICON, NEUTRAL, PRECEDENCE, REPLIES, SMALLTALK_LANGUAGES, match, reply

EIGHT = ("en", "zh", "es", "fr", "de", "ja", "pt", "it")


def phrases() -> Iterator[tuple[str, smalltalk.Kind, str | None]]:
    """Every lexicon phrase with its kind and the language it alone shows (None: several/neutral)."""
    languages: dict[tuple[str, ...], set[str]] = {}
    for language, kinds in LEXICON.items():
        for phrase_list in kinds.values():
            for phrase in phrase_list:
                languages.setdefault(tuple(smalltalk.tokens(phrase)), set()).update(
                    [] if language == NEUTRAL else [language]
                )
    for kinds in LEXICON.values():
        for kind, phrase_list in kinds.items():
            for phrase in phrase_list:
                owners = languages[tuple(smalltalk.tokens(phrase))]
                yield phrase, kind, next(iter(owners)) if len(owners) == 1 else None


PHRASES = list(phrases())


def is_latin(text: str) -> bool:
    return all(not c.isalpha() or c.isascii() or unicodedata.name(c, "").startswith("LATIN") for c in text)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def strip_accents(text: str) -> str:
    """Latin accents only (the kana voicing marks are not accents)."""
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not "\u0300" <= c <= "\u036f")
    return unicodedata.normalize("NFC", stripped)


def decorations(phrase: str) -> list[str]:
    """How customers write ``phrase``: shouted, punctuated, with emoji, stretched, full-width…"""
    out = [
        phrase.upper(),
        phrase.title(),
        f"{phrase}!!!",
        f"{phrase}?",
        f"  {phrase} .",
        f"¡{phrase}!",
        f"{phrase} 🎉✨",
        f"{phrase}… 🙂",  # a smiley is itself an acknowledgement: the phrase's kind still wins or ties
        f"«{phrase}»",
        phrase.replace(" ", "  "),
        f"{phrase}。",
        f"{phrase}！",
        full_width(phrase),
        strip_accents(phrase),
        phrase.replace("'", "’"),
    ]
    if is_latin(phrase) and phrase[-1].isalpha():
        out.append(phrase + phrase[-1] * 3)  # "thanksss", "holaaa"
    return out


# ---------------------------------------------------------------- the lexicon itself


def test_every_language_has_a_reply_for_every_kind() -> None:
    assert SMALLTALK_LANGUAGES == EIGHT
    for language in EIGHT:
        assert set(REPLIES[language]) == set(PRECEDENCE), language
        assert set(LEXICON[language]) == set(PRECEDENCE), language
        assert all(REPLIES[language][kind].strip() for kind in PRECEDENCE)


def test_every_phrase_matches_itself_with_its_kind_and_language() -> None:
    for phrase, kind, language in PHRASES:
        talk = match(phrase)
        assert talk is not None, phrase
        assert talk.kinds == (kind,), phrase
        assert talk.language == language, phrase


def test_decorated_phrases_still_match() -> None:
    for phrase, kind, language in PHRASES:
        for written in decorations(phrase):
            talk = match(written)
            assert talk is not None, (phrase, written)
            assert kind in talk.kinds and talk.kind == next(k for k in PRECEDENCE if k in talk.kinds)
            assert talk.language == language, (phrase, written)


def test_softeners_and_tails_go_with_phrases_but_not_alone() -> None:
    for word in (*smalltalk.SOFTENERS, *smalltalk.TAILS, "hahaha", "hmmm", "lol"):
        assert match(word) is None, word
        talk = match(f"thanks {word}!")
        assert talk is not None and talk.kinds == ("thanks",), word


# Real questions, short and long, in all eight languages; some start like small talk on purpose.
QUESTIONS = [
    "how do I return a parcel?",
    "where is my order",
    "refund",
    "how are you shipping my order?",
    "what about refunds?",
    "can I change my delivery address?",
    "你的订单在哪里",
    "退款",
    "¿cuánto tarda el reembolso?",
    "mi pedido no ha llegado",
    "comment obtenir un remboursement ?",
    "wo ist meine Bestellung?",
    "返品の方法を教えてください",
    "quanto tempo demora o reembolso?",
    "il pacco non è arrivato",
    "ORD-12345",
]


def test_a_phrase_with_a_question_is_not_small_talk() -> None:
    for phrase, _, _ in PHRASES:
        for question in QUESTIONS:
            for text in (f"{phrase}, {question}", f"{question} {phrase}", f"{phrase} {question} {phrase}"):
                assert match(text) is None, text


@pytest.mark.parametrize(
    ("text", "kind", "language"),
    [
        ("Hi", "greeting", "en"),
        ("Hello!", "greeting", "en"),
        ("Thanks!", "thanks", "en"),
        ("ok thanks", "thanks", "en"),
        ("hiii there 👋", "greeting", "en"),
        ("Thank you so much!!!", "thanks", "en"),
        ("ok bye", "goodbye", "en"),
        ("Hi, how are you?", "how_are_you", "en"),
        ("That's all, thanks!", "goodbye", "en"),
        ("thats all thx", "goodbye", "en"),
        ("ＨＥＬＬＯ", "greeting", "en"),
        ("你好！", "greeting", "zh"),
        ("谢谢谢谢", "thanks", "zh"),
        ("好的，谢谢🙏", "thanks", "zh"),
        ("没有了，再见", "goodbye", "zh"),
        ("Hola", "greeting", "es"),
        ("¡¡Muchas graciaaas!!", "thanks", "es"),
        ("adios", "goodbye", "es"),
        ("Bonjour !", "greeting", "fr"),
        ("Merci, au revoir !", "goodbye", "fr"),
        ("ça va ?", "how_are_you", "fr"),
        ("d accord", None, None),  # split apostrophe: not in the lexicon
        ("Danke", "thanks", "de"),
        ("Tschüß!", "goodbye", "de"),
        ("Hallo zusammen", "greeting", "de"),
        ("ありがとうございます！", "thanks", "ja"),
        ("こんにちは", "greeting", "ja"),
        ("ｱﾘｶﾞﾄｳ", None, None),  # half-width katakana → full-width; katakana "arigatou" is not listed
        ("Obrigadaaa 😊", "thanks", "pt"),
        ("Olá, bom dia", "greeting", "pt"),
        ("Grazie mille!", "thanks", "it"),
        ("ciao grazie", "thanks", "it"),
        ("ok", "ack", None),
        ("👍", "ack", None),
        ("OK!!", "ack", None),
        ("claro, gracias", "thanks", "es"),  # "claro" is Spanish or Portuguese; "gracias" decides
        ("hola thanks", "thanks", None),  # one Spanish, one English: no language
    ],
)
def test_examples(text: str, kind: str | None, language: str | None) -> None:
    talk = match(text)
    if kind is None:
        assert talk is None
        return
    assert talk is not None
    assert (talk.kind, talk.language) == (kind, language)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "?!",
        "🎉",
        "so",  # softeners alone
        "haha",
        "no",  # answers to the assistant's own questions go to the conversation
        "yes",
        "sí",
        "はい",
        "Hi, how do I return a parcel?",
        "thanks, and what about refunds?",
        "thank you for nothing",
        "hello I want a refund",
        "ok where is my order",
        "你好，我的订单在哪里",
        "谢谢，退款呢？",
        "ありがとう、でも返金は？",
        "Hola, ¿y el reembolso?",
        "Danke für nichts",
        "merci de me rembourser",
        "grazie, ma il pacco?",
        "obrigado, e o reembolso?",
        "thanks " * 30,  # over MAX_CHARS
    ],
)
def test_not_small_talk(text: str) -> None:
    assert match(text) is None


def test_reply_in_the_language_or_english() -> None:
    talk = match("thanks")
    assert talk is not None
    assert reply(talk, "de") == REPLIES["de"]["thanks"]
    assert reply(talk, "pt-BR") == REPLIES["pt"]["thanks"]
    assert reply(talk, "nl") == REPLIES["en"]["thanks"]


# ---------------------------------------------------------------- the reply language


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


def test_long_message_keeps_the_old_rule() -> None:
    question = "How long does a refund take?"
    assert decide(question, guess="en", conversation="es", accept_language="de")[0] == LanguageDecision(
        "en", "detected"
    )
    assert decide(question, requested="pt-BR", conversation="es")[0] == LanguageDecision("pt", "request")


def test_script_overrides_the_conversation_and_the_header() -> None:
    assert decide("退款", guess="zh", conversation="en")[0] == LanguageDecision("zh", "detected")
    assert decide("返金", guess="zh", conversation="ja")[0] == LanguageDecision("ja", "conversation")
    assert decide("ok", conversation="zh")[0] == LanguageDecision("zh", "conversation")
    assert decide("退款", guess="zh", accept_language="en, zh;q=0.5")[0] == LanguageDecision(
        "zh", "accept_language"
    )


# ---------------------------------------------------------------- small talk in a conversation


def conversation(*turns: tuple[str, str, str | None], **fields: object) -> Conversation:
    now = datetime.now(UTC)
    return Conversation(
        id="c",
        turns=[Turn(role=role, text=text, intent=intent) for role, text, intent in turns],  # type: ignore[arg-type]
        created_at=now,
        updated_at=now,
        **fields,  # type: ignore[arg-type]
    )


GREETING = (("user", "Hi", smalltalk.INTENT), ("assistant", REPLIES["en"]["greeting"], None))


def test_small_talk_is_no_context_for_a_follow_up() -> None:
    assert retrieval_query("and in blue?", conversation(*GREETING)) == "and in blue?"
    asked = (("user", "Can I exchange the jacket?", "exchange"), ("assistant", "Yes [1].", None))
    after = conversation(*asked, *GREETING)
    assert retrieval_query("and in blue?", after) == "Can I exchange the jacket? and in blue?"


def test_a_conversation_with_only_small_talk_is_still_at_its_first_question() -> None:
    assert opening(None)
    assert opening(conversation())
    assert opening(conversation(*GREETING, *GREETING))
    assert not opening(conversation(*GREETING, ("user", "Where is my parcel?", "shipping")))
    assert not opening(conversation(*GREETING, first_turn=4))  # older turns were folded away
    assert not opening(conversation(*GREETING, summary="The customer asked about refunds."))
