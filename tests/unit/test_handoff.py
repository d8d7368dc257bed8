"""Handoff decisions, the dissatisfaction lexicon, the agent's summary and the customer's notice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest

from bench.dissatisfaction_data import ANGRY, ORDINARY
from knowledge.errors import ConfigError
from service.conversations.facts import extract_facts, facts_in
from service.conversations.store import Turn
from service.core.types import Citation
from service.handoff.dissatisfaction import DEFAULT_LEXICON, DissatisfactionDetector, normalize, statements
from service.handoff.messages import HANDOFF_LANGUAGES
from service.handoff.policy import HandoffPolicy, decide, handoff_reasons
from service.handoff.settings import HandoffSettings
from service.handoff.signals import REASON_ORDER, HandoffSignals
from tests.unit.test_dissatisfaction_languages import NEGATIVE as MORE_NEGATIVE
from tests.unit.test_dissatisfaction_languages import POSITIVE as MORE_POSITIVE

DETECTOR = DissatisfactionDetector.load()


def turn(role: Literal["user", "assistant"], text: str) -> Turn:
    return Turn(role=role, text=text)


# Dissatisfied customer messages, per language: each must count.
POSITIVE = {
    "en": [
        "that doesn't help",
        "This is useless.",
        "Not helpful at all",
        "You're not listening to me",
        "I already told you that!",
        "That didn't answer my question",
        "this is ridiculous",
        "terrible service",
    ],
    "zh": ["没用", "这个回答没用！", "一点用都没有", "答非所问", "我已经说了好几遍了", "问题还是没有解决"],
    "es": [
        "no me sirve",
        "Eso no me sirve de nada",
        "No me ayuda en absoluto",
        "Esto es inútil",
        "Ya te lo dije",
    ],
    "fr": [
        "ça ne m'aide pas",
        "Ca ne m’aide pas du tout",  # no cedilla, curly apostrophe
        "c'est inutile",
        "Je vous l'ai déjà dit",
        "j'en ai marre",
    ],
    "de": [
        "das hilft nicht",
        "Das hilft mir überhaupt nicht weiter",
        "Das ist völlig nutzlos",
        "Sie verstehen mich nicht",
        "Das ist lächerlich",
    ],
    "ja": ["役に立たない", "全然役に立ちません", "答えになっていません", "何度も言っていますが", "最悪です"],
    "pt": [
        "não ajudou",
        "Isso não me ajudou nada",
        "Não serve para nada",
        "Que perda de tempo",
        "Já disse isso",
    ],
    "it": [
        "non mi aiuta",
        "Non mi è stato utile",
        "È inutile",
        "Te l'ho già detto",
        "Sempre la stessa risposta",
    ],
}

# Ordinary support messages, per language, several close to a positive: none may count.
NEGATIVE = {
    "en": [
        "no, I meant the blue one",
        "not yet delivered",
        "If that doesn't help, can I return it?",
        "I already asked for a refund last week, how long does it take?",
        "Does that help with returns?",
        "The charger is not working, can I get a replacement?",
        "Thanks!!!",
        "Where is order ORD-12345?",
    ],
    "zh": [
        "我还没用过这个产品",
        "我没有用信用卡付款",
        "还没发货",
        "如果不合适可以退货吗？",
        "垃圾袋可以退吗",
    ],
    "es": [
        "no, quería el azul",
        "todavía no ha llegado",
        "Esta talla no me sirve, ¿puedo cambiarla?",
        "no entiendo la factura",
        "Ya pregunté en la tienda y me dijeron que escribiera aquí",
    ],
    "fr": [
        "non, je voulais le bleu",
        "pas encore livré",
        "C'est inutile de m'envoyer la facture papier",
        "Si ça ne marche pas, je peux le renvoyer ?",
        "j'ai déjà demandé un remboursement",
    ],
    "de": [
        "nein, ich meinte das blaue",
        "noch nicht geliefert",
        "Es reicht, wenn ich die Rechnung schicke?",
        "Ich habe schon eine E-Mail geschrieben",
        "Hilft es, wenn ich die Quittung schicke?",
    ],
    "ja": [
        "いいえ、青い方です",
        "まだ届いていません",
        "最悪の場合、返品できますか",
        "このクーポンは使えますか",
    ],
    "pt": [
        "não, eu queria o azul",
        "ainda não foi entregue",
        "O tamanho não serve, posso trocar?",
        "Já falei com a loja ontem",
    ],
    "it": [
        "no, intendevo quello blu",
        "non ancora consegnato",
        "non capisco la fattura",
        "ho già chiesto un rimborso",
    ],
}


@pytest.mark.parametrize(("language", "text"), [(lang, t) for lang, ts in POSITIVE.items() for t in ts])
def test_dissatisfied_messages_count(language: str, text: str) -> None:
    result = DETECTOR.assess(text)
    assert result.dissatisfied, (language, text, result)
    assert f"phrase:{language}" in result.signals


@pytest.mark.parametrize(("language", "text"), [(lang, t) for lang, ts in NEGATIVE.items() for t in ts])
def test_ordinary_messages_do_not_count(language: str, text: str) -> None:
    result = DETECTOR.assess(text)
    assert not result.dissatisfied, (language, text, result)


def test_every_supported_language_has_examples_both_ways() -> None:
    # nl, ru, ko, pl, uk (and every language's "I am unhappy"): tests/unit/test_dissatisfaction_languages.py
    both = set(POSITIVE) | set(MORE_POSITIVE)
    assert both == set(NEGATIVE) | set(MORE_NEGATIVE) == set(DETECTOR.languages) == set(HANDOFF_LANGUAGES)


def test_each_language_matches_in_one_scan_exactly_as_pattern_by_pattern() -> None:
    texts = [
        t for ts in (*POSITIVE.values(), *NEGATIVE.values(), *ANGRY.values(), *ORDINARY.values()) for t in ts
    ]
    for code, lang in DETECTOR.languages.items():
        assert lang.any_pattern is not None, code  # the shipped lexicon: one alternation per language
        assert lang.any_statement is not None, code
        for text in texts:
            norm = normalize(text)
            found = any(p.search(norm) for p in lang.patterns) or any(
                p.search(statements(norm)) for p in lang.statements
            )
            one_by_one = found and not any(e.search(norm) for e in lang.exceptions)
            assert lang.matches(norm) == one_by_one, (code, text)


def test_a_pattern_with_a_back_reference_is_tried_on_its_own() -> None:
    detector = DissatisfactionDetector(
        {"languages": {"en": {"patterns": [r"\b(\w+) \1\b", "useless"], "except": ["not useless"]}}}
    )
    lang = detector.languages["en"]
    assert lang.any_pattern is None  # "\1" would count from the alternation's first group
    assert detector.phrase_languages("no no, this is broken") == ["en"]
    assert detector.phrase_languages("useless") == ["en"]
    assert detector.phrase_languages("it is not useless") == []
    assert detector.phrase_languages("fine, thanks") == []
    named = DissatisfactionDetector({"languages": {"en": {"patterns": ["(?P<w>bad)", "(?P<w>awful)"]}}})
    assert named.languages["en"].any_pattern is None  # one name twice: no alternation
    assert named.phrase_languages("awful") == ["en"]


def test_shouting_and_emphasis() -> None:
    assert DETECTOR.assess("WHERE IS MY REFUND").signals == ("shouting",)
    assert DETECTOR.assess("WHERE IS MY REFUND").dissatisfied
    # emphasis alone is only half a sign; with shouting it is dissatisfied
    assert not DETECTOR.assess("where is my refund???").dissatisfied
    assert DETECTOR.assess("WHERE IS MY REFUND???").signals == ("shouting", "emphasis")
    assert not DETECTOR.assess("I ordered from DHL UPS").dissatisfied  # short acronyms are not shouting
    assert not DETECTOR.assess("ORD-12345 SKU NW-KTL-110 AB-99").dissatisfied  # codes are not shouting
    assert "emphasis" in DETECTOR.assess("no no no").signals


def test_repeated_question_counts_against_earlier_customer_turns() -> None:
    first = "How long does a refund take to reach my card?"
    assert not DETECTOR.assess(first).dissatisfied
    again = DETECTOR.assess("how long does a refund take to reach my card??", [first, "ok"])
    assert again.dissatisfied and again.signals[0] == "repeated_question"
    assert not DETECTOR.assess("ok", ["ok"]).dissatisfied  # short messages repeat innocently
    assert not DETECTOR.assess("Can I change my delivery address?", [first]).dissatisfied


def test_count_over_a_conversation() -> None:
    turns = ["Where is my parcel?", "no, I meant the blue one", "that doesn't help", "没用"]
    assert DETECTOR.count(turns) == 2
    assert DETECTOR.count(turns[:3]) == 1
    assert DETECTOR.count([]) == 0


# ---------------------------------------------------------------- decisions and precedence

SETTINGS = HandoffSettings()


def signals(**overrides: object) -> HandoffSignals:
    base: dict[str, object] = {
        "language": "en",
        "intent": "refund",
        "confidence": 0.9,
        "relevant_hits": 3,
        "llm_available": True,
        "dissatisfied_turns": 0,
    }
    return HandoffSignals(**{**base, **overrides})  # type: ignore[arg-type]


def test_no_handoff_when_everything_is_fine() -> None:
    assert decide(signals(), SETTINGS) is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"intent": "human_agent", "confidence": 0.95}, "customer_request"),
        ({"customer_asked": True}, "customer_request"),
        ({"dissatisfied_turns": 2}, "dissatisfaction"),
        ({"llm_available": False}, "llm_unavailable"),
        ({"confidence": 0.74}, "low_confidence"),
        ({"relevant_hits": 0}, "no_relevant_passages"),
        ({"documents_answer": False}, "not_in_documents"),
    ],
)
def test_each_reason_alone(overrides: dict[str, object], reason: str) -> None:
    handoff = decide(signals(**overrides), SETTINGS)
    assert handoff is not None
    assert handoff.reason == reason and handoff.reasons == [reason]


def test_thresholds_are_boundaries_and_configurable() -> None:
    assert decide(signals(confidence=0.75), SETTINGS) is None  # at the threshold is confident
    assert decide(signals(dissatisfied_turns=1), SETTINGS) is None
    strict = HandoffSettings(confidence_threshold=0.9, dissatisfaction_count=1, min_relevant_hits=2)
    assert handoff_reasons(signals(confidence=0.8, dissatisfied_turns=1, relevant_hits=1), strict, 1) == [
        "dissatisfaction",
        "low_confidence",
        "no_relevant_passages",
    ]
    assert decide(signals(relevant_hits=0), HandoffSettings(min_relevant_hits=0)) is None


def test_precedence_when_everything_applies() -> None:
    handoff = decide(
        signals(
            customer_asked=True,
            dissatisfied_turns=3,
            llm_available=False,
            confidence=0.1,
            relevant_hits=0,
            documents_answer=False,
        ),
        SETTINGS,
    )
    assert handoff is not None
    assert handoff.reasons == list(REASON_ORDER)
    assert handoff.reason == "customer_request"
    assert handoff.dissatisfied_turns == 3


def test_unsure_human_intent_is_low_confidence_not_a_customer_request() -> None:
    handoff = decide(signals(intent="human_agent", confidence=0.5), SETTINGS)
    assert handoff is not None and handoff.reasons == ["low_confidence"]
    assert handoff.intent == "human_agent"  # the agent still sees what the router guessed


def test_without_a_router_confidence_does_not_trigger() -> None:
    assert decide(signals(intent=None, confidence=None), SETTINGS) is None


def test_without_custom_intents_low_confidence_alone_never_hands_off() -> None:
    demo = HandoffPolicy(SETTINGS, custom_intents=False)
    assert demo.decide(signals(confidence=0.1)) is None
    assert demo.decide(signals(intent="human_agent", confidence=0.2)) is None  # an unsure guess
    for overrides, reason in (
        ({"intent": "human_agent", "confidence": 0.95}, "customer_request"),  # keyword layer: 0.95
        ({"dissatisfied_turns": 2, "confidence": 0.1}, "dissatisfaction"),
        ({"relevant_hits": 0, "confidence": 0.1}, "no_relevant_passages"),
        ({"documents_answer": False, "confidence": 0.1}, "not_in_documents"),
    ):
        handoff = demo.decide(signals(**overrides))
        assert handoff is not None and handoff.reasons == [reason], overrides
    assert HandoffPolicy(SETTINGS, custom_intents=True).decide(signals(confidence=0.1)) is not None


def test_dissatisfaction_is_counted_from_the_conversation() -> None:
    turns = [
        turn("user", "How do I return my kettle?"),
        turn("assistant", "You can return most items within 30 days [1]."),
        turn("user", "That doesn't help, it was a gift"),
        turn("assistant", "Gifts can be returned with the gift receipt [2]."),
        turn("user", "this is useless"),
    ]
    policy = HandoffPolicy(SETTINGS)
    handoff = policy.decide(signals(dissatisfied_turns=None, turns=turns))
    assert handoff is not None and handoff.reason == "dissatisfaction" and handoff.dissatisfied_turns == 2
    # assistant text never counts, even when it quotes the customer
    calm = [turn("user", "How do I return my kettle?"), turn("assistant", "Sorry that didn't help. Useless!")]
    assert policy.decide(signals(dissatisfied_turns=None, turns=calm)) is None


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_CONFIDENCE_THRESHOLD", "0.6")
    monkeypatch.setenv("HANDOFF_DISSATISFACTION_COUNT", "3")
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", "")
    monkeypatch.setenv("HANDOFF_HUMAN_INTENTS", '["human_agent", "complaint"]')
    settings = HandoffSettings()
    assert settings.confidence_threshold == 0.6 and settings.dissatisfaction_count == 3
    assert settings.webhook_url is None and settings.human_intents == ("human_agent", "complaint")
    assert decide(signals(intent="complaint", confidence=0.7), settings) is not None


# ---------------------------------------------------------------- payload and summary

CITATION = Citation(
    index=1,
    doc_id="en/returns.md",
    title="Returns policy",
    source="en/returns.md",
    section="Returns policy › Return window",
    score=0.71,
    quote="You can return most items within 30 days of delivery.",
)


def test_payload_carries_an_extractive_summary_for_the_agent() -> None:
    turns = [
        turn("user", "Hola"),
        turn("assistant", "¡Hola! ¿En qué puedo ayudarle?"),
        turn("user", "Quiero devolver el pedido ORD-55812, pagué 49,90 € el 2026-03-02"),
        turn("assistant", "Puede devolver la mayoría de los artículos en 30 días [1]. Inicie la devolución."),
        turn("user", "Quiero hablar con una persona"),
    ]
    handoff = decide(
        signals(language="es", intent="human_agent", confidence=0.93, turns=turns, citations=[CITATION]),
        SETTINGS,
    )
    assert handoff is not None
    summary = handoff.summary
    assert summary.startswith("Handoff: the customer asked for a human.")
    assert "Language: Spanish (es). Intent: human_agent, confidence 0.93." in summary
    assert 'Customer wants: "Quiero devolver el pedido ORD-55812' in summary  # not the greeting
    assert 'Latest message: "Quiero hablar con una persona"' in summary
    assert "Facts given: ORD-55812; 49,90 €; 2026-03-02" in summary
    assert 'last: "Puede devolver la mayoría de los artículos en 30 días [1]."' in summary
    assert "Sources: Returns policy" in summary
    body = json.loads(handoff.model_dump_json())
    assert body["citations"][0]["doc_id"] == "en/returns.md" and body["language"] == "es"
    assert body["reason"] == "customer_request" and body["intent"] == "human_agent"


def test_precomputed_summary_is_used_and_long_summaries_are_clipped() -> None:
    handoff = decide(signals(relevant_hits=0, summary="  Customer wants a refund for ORD-1.  "), SETTINGS)
    assert handoff is not None and handoff.summary == "Customer wants a refund for ORD-1."
    long_turns = [turn("user", "word " * 2000)]
    clipped = decide(signals(relevant_hits=0, turns=long_turns), HandoffSettings(summary_max_chars=300))
    assert clipped is not None and len(clipped.summary) <= 300 and clipped.summary.endswith("…")


def test_facts_extraction() -> None:
    facts = extract_facts(
        [
            "My order number is 884213, tracking 1Z999AA10123456784",
            "订单号 A20240517 金额 199元",
            "Bestellnummer? Rechnung Nr. RE-2026-0042 vom 12.03.2026",
            "no numbers here",
        ]
    )
    assert facts[:2] == ["884213", "1Z999AA10123456784"]
    assert "A20240517" in facts and "199元" in facts
    assert "RE-2026-0042" in facts and "12.03.2026" in facts


def test_one_fact_extractor_serves_both_summaries() -> None:
    # the conversation summary's forms (service.conversations.history) and the handoff's, together
    text = "My kettle NW-KTL-110 from order NW-2026-004817 leaks. I paid €49.99 on 3 March, ref #10029."
    assert facts_in(text) == ["NW-KTL-110", "NW-2026-004817", "€49.99", "3 March", "#10029"]
    assert facts_in("¿Puedo devolver el pedido NW-2026-000123 del 3 de marzo? Costó 120 €.") == [
        "NW-2026-000123",
        "3 de marzo",
        "120 €",
    ]
    assert facts_in("我的订单3月2日到的，花了300元。") == ["3月2日", "300元"]
    # a value inside one already found is not repeated; the handoff summary keeps at most eight
    assert facts_in("ticket ORD12345, 48213 then ORD-48213") == ["ORD12345", "48213"]
    assert len(extract_facts([f"order A{n}00{n}" for n in range(1, 10)], limit=8)) == 8


# ---------------------------------------------------------------- the lexicon file


def test_lexicon_errors_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        DissatisfactionDetector.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("languages:\n  en:\n    patterns: ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        DissatisfactionDetector.load(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("threshold: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        DissatisfactionDetector.load(empty)


def test_a_custom_lexicon_replaces_the_default(tmp_path: Path) -> None:
    custom = tmp_path / "lexicon.yaml"
    custom.write_text(
        "weights: {phrase: 1.0}\nlanguages:\n  en:\n    patterns: ['\\bmeh\\b']\n", encoding="utf-8"
    )
    policy = HandoffPolicy(HandoffSettings(lexicon_path=custom))
    assert policy.detector.assess("meh").dissatisfied
    assert not policy.detector.assess("that doesn't help").dissatisfied
    assert DEFAULT_LEXICON.is_file()


@pytest.mark.parametrize("text", ["😡", "😡😡😡", "👎", "still no refund 🤬", "💢💢", "😠"])
def test_an_angry_emoji_counts_in_any_language(text: str) -> None:
    result = DETECTOR.assess(text)
    assert result.dissatisfied and "anger_emoji" in result.signals, result


@pytest.mark.parametrize("text", ["🙂", "😊 thanks", "👍", "🙏", "😂", "let's go 😤", "❤️", "🎉"])
def test_a_friendly_or_ambiguous_emoji_does_not(text: str) -> None:
    assert not DETECTOR.assess(text).dissatisfied
