"""Every language of the default INGEST_LANGUAGES has the texts the service writes itself — the
handoff notices, the passed-on notice, the extractive intro, small-talk phrases and replies, the web
chat page's labels and messages — and
the lexicons that read the customer (dissatisfaction, requests for a person). A language added to
the default without them fails here, table by table (a new user's trial: Polish customers read
English notices and got quoted policy passages for "Dzień dobry!")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType

import pytest

from knowledge.settings import IngestSettings
from service.agents import notice
from service.agents.notice import passed_on
from service.answers import extractive
from service.answers.extractive import INTRO
from service.core.languages import LANGUAGE_NAMES, PORTUGUESE_TEXTS
from service.handoff import late_notices, messages
from service.handoff.dissatisfaction import DissatisfactionDetector
from service.handoff.late_notices import lapsed_message, unnotified_message
from service.handoff.messages import HANDOFF_LANGUAGES, handoff_message
from service.handoff.signals import REASON_ORDER, Delivery
from service.routing.catalog import BUNDLED_INTENTS, IntentCatalog
from service.smalltalk import LEXICON, LISTED_KINDS, PRECEDENCE, REPLIES, SMALLTALK_LANGUAGES, match, replies
from service.web.texts import DEFAULT, page_texts

DEFAULT_LANGUAGES: tuple[str, ...] = IngestSettings.model_fields["languages"].default
DELIVERIES: tuple[Delivery, ...] = ("takeover", "notify", "none")


def _notices(language: str) -> list[str]:
    return (
        [
            handoff_message(language, reason, delivery=delivery, contact=contact)
            for reason in REASON_ORDER
            for delivery in DELIVERIES
            for contact in (None, "hello@example.com")
        ]
        + [
            lapsed_message(language, cause, contact=contact)
            for cause in ("undelivered", "unanswered")
            for contact in (None, "hello@example.com")
        ]
        + [unnotified_message(language, contact=contact) for contact in (None, "hello@example.com")]
    )


def _handoff_notices(language: str) -> bool:
    """Every notice (reason × delivery × contact) is the language's own, not the English fallback."""
    if language not in HANDOFF_LANGUAGES:
        return False
    mine, english = _notices(language), _notices("en")
    return language == "en" or all(m != e for m, e in zip(mine, english, strict=True))


def _smalltalk(language: str) -> bool:
    replies = REPLIES.get(language, {})
    phrases = LEXICON.get(language, {})
    return (
        language in SMALLTALK_LANGUAGES
        and set(replies) == set(PRECEDENCE)
        and all(replies[kind].strip() for kind in PRECEDENCE)
        and set(phrases) == set(LISTED_KINDS)
        and all(phrases[kind] for kind in LISTED_KINDS)
        # some of the language's greetings and thanks are its own ("hallo" is also Dutch)
        and all(
            any((talk := match(phrase)) is not None and talk.language == language for phrase in phrases[kind])
            for kind in ("greeting", "thanks")
        )
    )


def _dissatisfaction(language: str) -> bool:
    spec = DissatisfactionDetector.load().languages.get(language)
    return spec is not None and len(spec.patterns) >= 5


_PLACEHOLDER = re.compile(r"\{\w+\}")


def _web_page(language: str) -> bool:
    """The page's every text, with English's ``{placeholders}``, and its own: at most a quarter of
    them spelled as in English ("Conversation", "Sources" are French too)."""
    mine, english = page_texts().get(language), page_texts()[DEFAULT]
    if mine is None or set(mine) != set(english):
        return False
    same = sum(mine[key] == english[key] for key in english)
    return all(
        mine[key].strip() and sorted(_PLACEHOLDER.findall(mine[key])) == sorted(_PLACEHOLDER.findall(text))
        for key, text in english.items()
    ) and (language == DEFAULT or same <= len(english) // 4)


def _human_keywords(language: str) -> bool:
    catalog = IntentCatalog.load(BUNDLED_INTENTS)
    return any(r.language == language and r.label == catalog.human_label for r in catalog.keywords)


def _contact_keywords(language: str) -> bool:
    catalog = IntentCatalog.load(BUNDLED_INTENTS)
    return any(r.language == language and r.label == "contact" for r in catalog.keywords)


TABLES: dict[str, Callable[[str], bool]] = {
    "handoff, lapsed and unnotified notices (service/handoff/messages.py, late_notices.py)": _handoff_notices,
    "passed-on notice (service/agents/notice.py)": lambda lang: (
        lang == "en" or passed_on(lang) != passed_on("en")
    ),
    "extractive intro (service/answers/extractive.py INTRO)": lambda lang: lang in INTRO,
    "small talk (service/smalltalk)": _smalltalk,
    "dissatisfaction lexicon (service/handoff/dissatisfaction.yaml)": _dissatisfaction,
    "human-request keywords (service/routing/intents.yaml)": _human_keywords,
    "how-to-reach-us keywords (service/routing/intents.yaml)": _contact_keywords,
    "language name (service/core/languages.py)": lambda lang: lang in LANGUAGE_NAMES,
    "web chat page (service/web/texts.yaml)": _web_page,
}


@pytest.mark.parametrize("table", list(TABLES))
def test_every_default_language_has_its_own_texts(table: str) -> None:
    missing = [language for language in DEFAULT_LANGUAGES if not TABLES[table](language)]
    assert not missing, f"{table}: no built-in text for {missing}"


def test_the_check_fails_for_a_language_without_texts() -> None:
    assert all(TABLES[t]("en") for t in TABLES)
    assert not any(TABLES[t]("sv") for t in TABLES)  # Swedish has none: every table reports it


# ---------------------------------------------------------------- Portuguese: two variants

TEXT_MODULES: tuple[ModuleType, ...] = (messages, late_notices, notice, extractive, replies)
BRAZILIAN, EUROPEAN = PORTUGUESE_TEXTS["brazil"], PORTUGUESE_TEXTS["portugal"]


def _language_tables(name: str, value: object) -> Iterator[tuple[str, Mapping[str, object]]]:
    """The tables of built-in texts (language → text, or language → kind → text) in ``value``, a
    module attribute, by where they are: a table has English; a mapping of tables is searched."""
    if not isinstance(value, Mapping):
        return
    if "en" in value:
        yield name, value
        return
    for key, inner in value.items():
        yield from _language_tables(f"{name}[{key}]", inner)


def _texts(entry: object) -> dict[str, str]:
    """A table entry as key → text (a text alone under "")."""
    if isinstance(entry, str):
        return {"": entry}
    assert isinstance(entry, Mapping)
    return {str(key): text for key, text in entry.items()}


def _placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


def variant_gaps(tables: dict[str, Mapping[str, object]], variant: str, of: str) -> list[str]:
    """Where ``variant`` lacks a text ``of`` has, or has other ``{placeholders}``, or is ``of``'s
    copy (every text the same)."""
    gaps = []
    for name, table in tables.items():
        if of not in table:
            continue
        if variant not in table:
            gaps.append(f"{name}: no {variant}")
            continue
        mine, theirs = _texts(table[variant]), _texts(table[of])
        if set(mine) != set(theirs):
            gaps.append(f"{name}: {variant} lacks {sorted(set(theirs) - set(mine))}")
        gaps += [
            f"{name}[{key}]: {variant} placeholders differ"
            for key, text in theirs.items()
            if key in mine and (not mine[key].strip() or _placeholders(mine[key]) != _placeholders(text))
        ]
        if len(mine) > 1 and mine == theirs:
            gaps.append(f"{name}: {variant} is a copy of {of}")
    return gaps


def portuguese_tables() -> dict[str, Mapping[str, object]]:
    """Every table of built-in texts with Portuguese: the modules' and the web chat page's."""
    found = {
        f"{module.__name__}.{name}": table
        for module in TEXT_MODULES
        for attribute, value in vars(module).items()
        for name, table in _language_tables(attribute, value)
    }
    found["service/web/texts.yaml"] = page_texts()
    return {name: table for name, table in found.items() if EUROPEAN in table or BRAZILIAN in table}


def test_brazilian_portuguese_has_every_text_of_european_portuguese() -> None:
    tables = portuguese_tables()
    # the tables of the texts' own modules are found (a table renamed or moved is still checked)
    assert len(tables) >= 20 and "service/web/texts.yaml" in tables
    assert any(name.startswith("service.smalltalk.replies.REPLIES") for name in tables)
    assert variant_gaps(tables, BRAZILIAN, EUROPEAN) == []
    assert variant_gaps(tables, EUROPEAN, BRAZILIAN) == []  # and the other way round


def test_the_variant_check_reports_a_gap() -> None:
    tables: dict[str, Mapping[str, object]] = {
        "missing": {"en": "Hi {contact}", EUROPEAN: "Olá {contact}"},
        "placeholder": {"en": "Hi {contact}", EUROPEAN: "Olá {contact}", BRAZILIAN: "Oi"},
        "kind": {"en": {"a": "x", "b": "y"}, EUROPEAN: {"a": "x", "b": "y"}, BRAZILIAN: {"a": "z"}},
        "copy": {"en": {"a": "x", "b": "y"}, EUROPEAN: {"a": "c", "b": "d"}, BRAZILIAN: {"a": "c", "b": "d"}},
    }
    assert [gap.split(":")[0] for gap in variant_gaps(tables, BRAZILIAN, EUROPEAN)] == [
        "missing",
        "placeholder[]",
        "kind",
        "copy",
    ]


# ---------------------------------------------------------------- the new languages' lexicons

SMALL_TALK = {
    "pl": [
        "Dzień dobry!",
        "Dziękuję!",
        "dziekuje bardzo",
        "Cześć, co słychać?",
        "Dzięki za pomoc!",
        "Do widzenia",
    ],
    "nl": ["Goedemorgen!", "Dank je wel!", "Bedankt voor de hulp", "Oké, tot ziens", "Hoe gaat het?"],
    "ru": [
        "Здравствуйте!",
        "Спасибо большое!",
        "Спасибо за помощь",
        "Хорошо, до свидания",
        "Привет, как дела?",
    ],
    "ko": ["안녕하세요!", "감사합니다!", "정말 감사합니다", "알겠습니다, 좋은 하루 보내세요", "잘 지내세요?"],
    "uk": ["Привіт!", "Дякую!", "Щиро дякую за допомогу", "Гаразд, до побачення", "Вітаю, як справи?"],
}
# Short real requests that start like small talk: not small talk.
NOT_SMALL_TALK = [
    "Dzień dobry, ile kosztuje kurs dla początkujących?",
    "Dziękuję, a czy mogę zapłacić gotówką?",
    "Goedemorgen, wanneer zijn jullie open?",
    "Спасибо, а сколько стоит доставка?",
    "안녕하세요, 환불 받을 수 있나요?",
    "Chcę porozmawiać z człowiekiem.",
    "Добрий день, скільки коштує оренда авто на тиждень?",
    "Дякую, а чи можна заплатити карткою?",
]


@pytest.mark.parametrize(("language", "text"), [(lang, t) for lang, ts in SMALL_TALK.items() for t in ts])
def test_small_talk_in_the_new_languages(language: str, text: str) -> None:
    talk = match(text)
    assert talk is not None and talk.language == language, (text, talk)


@pytest.mark.parametrize("text", NOT_SMALL_TALK)
def test_requests_that_open_politely_are_not_small_talk(text: str) -> None:
    assert match(text) is None


# Requests for a person: the keyword layer catches them (confidence 0.95, a customer_request).
ASKS_FOR_A_PERSON = {
    "pl": [
        "Chcę porozmawiać z człowiekiem.",
        "Czy mogę rozmawiać z konsultantem?",
        "Połącz mnie z konsultantem",
    ],
    "nl": ["Ik wil met een medewerker spreken", "Kan ik praten met een echt persoon?", "Verbind me door"],
    "ru": ["Я хочу поговорить с оператором", "Соедините меня с живым человеком", "Позовите оператора"],
    "ko": ["상담원 연결해 주세요", "사람이랑 얘기하고 싶어요", "실제 사람과 대화할 수 있나요?"],
    "uk": [
        "Я хочу поговорити з оператором",
        "З’єднайте мене з живою людиною, будь ласка",
        "Покличте консультанта",
        "Можна зв'язатися зі співробітником?",
    ],
}
NOT_A_REQUEST = [
    "Ile kosztuje kurs dla osoby początkującej?",
    "Czy pracownik może mi pomóc z rezerwacją?",
    "Kan ik met een creditcard betalen?",
    "Можно ли вернуть товар, если он не подошёл?",
    "배송은 얼마나 걸리나요?",
    "Чи можна повернути товар, якщо він не підійшов?",
    "Чи допоможе співробітник на пункті видачі з дитячим кріслом?",
    "До котрої години треба повернути авто?",
    "Чому доставка не працює в неділю?",
    "Яка адреса доставки мого замовлення?",
]


@pytest.mark.parametrize("text", NOT_A_REQUEST)
def test_ordinary_questions_are_not_requests_for_a_person(text: str) -> None:
    assert IntentCatalog.load(BUNDLED_INTENTS).keyword_match(text) is None


# How to reach the company (phone, e-mail, address, opening hours): the keyword layer routes them to
# `contact`, answered from the documents, not handed off as a request for a person (the lexicons
# that read the customer include these patterns, table "how-to-reach-us keywords").
ASKS_HOW_TO_REACH_US = {
    "pl": [
        "Jaki jest numer telefonu do biura obsługi klienta?",
        "Jak mogę się z wami skontaktować?",
        "W jakich godzinach działa infolinia?",
    ],
    "nl": [
        "Wat is jullie telefoonnummer?",
        "Hoe kan ik contact met jullie opnemen?",
        "Wat zijn de openingstijden?",
    ],
    "ru": ["Какой у вас номер телефона?", "Как с вами связаться?", "Какие у вас часы работы?"],
    "ko": ["고객센터 전화번호가 어떻게 되나요?", "어떻게 연락하면 되나요?", "영업시간이 언제예요?"],
    "uk": [
        "Який номер вашої гарячої лінії?",
        "Як з вами зв’язатися?",
        "Які у вас години роботи?",
        "Яка ваша електронна пошта?",
        "Де знаходиться ваш офіс?",
        "Чи працюєте ви в неділю?",
    ],
}

KEYWORD_LABELS = {"human_agent": ASKS_FOR_A_PERSON, "contact": ASKS_HOW_TO_REACH_US}


@pytest.mark.parametrize(
    ("label", "language", "text"),
    [(label, lang, t) for label, by in KEYWORD_LABELS.items() for lang, ts in by.items() for t in ts],
)
def test_requests_for_a_person_and_how_to_reach_us_in_the_new_languages(
    label: str, language: str, text: str
) -> None:
    rule = IntentCatalog.load(BUNDLED_INTENTS).keyword_match(text)
    assert rule is not None and rule.label == label and rule.language == language, text
