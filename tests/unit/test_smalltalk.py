"""Small talk (service/smalltalk/); the reply language of messages: tests/unit/test_reply_language.py.

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

from knowledge.settings import IngestSettings
from service import smalltalk
from service.answers.plan import opening
from service.conversations.follow_ups import retrieval_query
from service.conversations.store import Conversation, Turn
from service.smalltalk import (
    LEXICON,
    LISTED_KINDS,
    NEUTRAL,
    PRECEDENCE,
    REPLIES,
    SMALLTALK_LANGUAGES,
    match,
    reply,
)

# The default INGEST_LANGUAGES: every one has its phrases and replies.
LANGUAGES = IngestSettings.model_fields["languages"].default


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
    assert set(LANGUAGES) <= set(SMALLTALK_LANGUAGES)  # and tr, vi, ar beyond the defaults
    for language in SMALLTALK_LANGUAGES:
        assert set(REPLIES[language]) == set(PRECEDENCE), language
        assert set(LEXICON[language]) == set(LISTED_KINDS), language
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
        ("Hallo!", "greeting", None),  # German and Dutch alike: SmallTalk.candidates
        ("Terima kasih banyak!", "thanks", "id"),
        ("makasih kak", "thanks", "id"),
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
        # thanks that say what helped (a new user's trial: these went through retrieval and quoted)
        ("Danke, das hat geholfen!", "thanks", "de"),
        ("Vielen Dank für die schnelle Hilfe", "thanks", "de"),
        ("Thanks, that helped!", "thanks", "en"),
        ("muito útil, obrigado", "thanks", "pt"),
        ("gracias, me sirvió mucho", None, None),  # "mucho" after it: not listed, so not small talk
        # Swiss German, Austrian, Swiss French and Italian (a Swiss clinic's trial: "Merci vielmal" and
        # "Salü zäme" got a handoff, "Danke vielmal" the booking page quoted)
        ("Merci vielmal", "thanks", "de"),
        ("Danke vielmal!", "thanks", "de"),
        ("Danke vielmals", "thanks", "de"),
        ("vielen herzlichen Dank", "thanks", "de"),
        ("Salü zäme", "greeting", "de"),
        ("Hoi zäme!", "greeting", "de"),
        ("Grüessech", "greeting", "de"),
        ("Grüess di", "greeting", "de"),
        ("Grüezi mitenand", "greeting", "de"),
        ("Servus", "greeting", "de"),
        ("Uf Widerluege", "goodbye", "de"),
        ("Ade", "goodbye", "de"),
        ("Tschüss zäme", "goodbye", "de"),
        ("En schöne Tag!", "goodbye", "de"),
        ("Merci vielmal, uf Widerluege", "goodbye", "de"),
        ("passt scho, danke", "thanks", "de"),
        ("Merci", "thanks", None),  # French and Swiss German alike: SmallTalk.candidates
        ("Hoi", "greeting", None),  # Swiss German and Dutch alike
        ("Merci beaucoup, bonne fin de journée", "goodbye", "fr"),
        ("Grazie tante, buon fine settimana", "goodbye", "it"),
        ("Buongiorno a tutti", "greeting", "it"),
        ("Merci vielmal, wie lange dauert das?", None, None),  # a question: not small talk
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
    ("text", "candidates"),
    [("Merci", ("fr", "de")), ("Hoi", ("de", "nl")), ("Adieu", ("fr", "de")), ("Hallo", ("de", "nl", "id"))],
)
def test_words_of_several_languages_leave_the_choice_to_the_reply_language(
    text: str, candidates: tuple[str, ...]
) -> None:
    """``service.answers.reply_language``: the Accept-Language entry among them, else the first."""
    talk = match(text)
    assert talk is not None and talk.language is None and talk.candidates == candidates


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
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


@pytest.mark.parametrize("text", ["?!", "???", "🎉", "🌵🌵🌵", "😡😡😡", "…", "- -"])
def test_a_message_of_no_words_is_unclear_and_asks_what_the_customer_needs(text: str) -> None:
    talk = match(text)
    assert talk is not None and (talk.kind, talk.kinds, talk.language) == ("unclear", ("unclear",), None)
    assert reply(talk, "de") == REPLIES["de"]["unclear"] and "?" in reply(talk, "en")


@pytest.mark.parametrize("text", ["12345", "#4711", "[phone]", "Ω"])
def test_digits_or_any_letter_are_not_unclear(text: str) -> None:
    talk = match(text)
    assert talk is None or talk.kind != "unclear"


def test_reply_in_the_language_or_english() -> None:
    talk = match("thanks")
    assert talk is not None
    assert reply(talk, "de") == REPLIES["de"]["thanks"]
    assert reply(talk, "pt-BR") == reply(talk, "pt") == REPLIES["pt-BR"]["thanks"]  # TEXTS_PORTUGUESE
    assert reply(talk, "sv") == REPLIES["en"]["thanks"]


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
