"""Routing quality: intent accuracy, macro-F1, confident coverage/precision, calibration, language id.

Intent sets (English only; their labels mapped to ours — tables below and in docs/routing.md):
  * Bitext customer-support requests, test split (the dev split is used only for the comparison
    calibration "T fitted on Bitext dev");
  * BANKING77 test.csv (train.csv is used only for the comparison calibration "T fitted on train").
The router as shipped is fitted on service/routing/intents.yaml alone (leave-one-out); neither set was used to
write the examples or choose the method. Also: off-topic questions (Mintaka trivia, 7 languages)
→ `other`; the keyword layer's recall and false positives; language identification of short
questions (Mintaka, XQuAD); the cost of the hot path. Writes bench/results/routing_quality.json.

    .venv/bin/python -m bench.routing_quality [--quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.common import EVAL, MODEL_CACHE, REPO, read_jsonl, summary_ms, write_result
from knowledge.embedder import Embedder, load_embedder
from knowledge.language import LanguageIdentifier
from knowledge.settings import EmbeddingSettings, IngestSettings
from service.handoff.policy import handoff_reasons
from service.handoff.settings import HandoffSettings
from service.handoff.signals import HandoffSignals
from service.routing import calibration as cal
from service.routing.catalog import BUNDLED_INTENTS
from service.routing.route import Route
from service.routing.router import IntentRouter
from service.routing.settings import RouterSettings

# The service's one "confident enough" threshold: HANDOFF_CONFIDENCE_THRESHOLD's default.
THRESHOLD: float = HandoffSettings.model_fields["confidence_threshold"].default
TARGET_LANGUAGES = ("en", "zh", "es", "fr", "de", "ja", "pt", "it")

# Bitext's 27 intents → ours. No Bitext intent is a return or an exchange.
BITEXT_TO_OURS = {
    "get_refund": "refund",
    "track_refund": "refund",
    "check_refund_policy": "refund",
    "track_order": "shipping",
    "delivery_period": "shipping",
    "delivery_options": "shipping",
    "change_shipping_address": "shipping",
    "set_up_shipping_address": "shipping",
    "check_invoice": "invoice",
    "get_invoice": "invoice",
    "check_payment_methods": "payment",
    "payment_issue": "payment",
    "create_account": "account",
    "delete_account": "account",
    "edit_account": "account",
    "switch_account": "account",
    "recover_password": "account",
    "registration_problems": "account",
    "complaint": "complaint",
    "contact_human_agent": "human_agent",
    # mixes both: "what hours can I call customer service" (contact) and "I need to speak to
    # customer service" (a person): split by SPEAKS, see bitext_to_ours
    "contact_customer_service": "contact",
    "cancel_order": "other",
    "change_order": "other",
    "place_order": "other",
    "check_cancellation_fee": "other",
    "newsletter_subscription": "other",
    "review": "other",
}

# BANKING77's 77 categories → ours (a bank, not a shop: most of it is `other`). Paying by card and
# topping up are payments; card delivery is shipping; identity and profile are the account.
# Currency *exchange* is not a product exchange: `other`.
BANKING_REFUND = ("request_refund", "Refund_not_showing_up")
BANKING_SHIPPING = ("card_arrival", "card_delivery_estimate")
BANKING_ACCOUNT = (
    "edit_personal_details",
    "passcode_forgotten",
    "terminate_account",
    "verify_my_identity",
    "why_verify_identity",
    "unable_to_verify_identity",
    "age_limit",
    "lost_or_stolen_phone",
    "verify_source_of_funds",
)
BANKING_PAYMENT = (
    "apple_pay_or_google_pay",
    "card_acceptance",
    "card_not_working",
    "card_payment_fee_charged",
    "card_payment_not_recognised",
    "card_payment_wrong_exchange_rate",
    "contactless_not_working",
    "declined_card_payment",
    "direct_debit_payment_not_recognised",
    "extra_charge_on_statement",
    "pending_card_payment",
    "reverted_card_payment?",
    "supported_cards_and_currencies",
    "transaction_charged_twice",
    "virtual_card_not_working",
    "visa_or_mastercard",
    "automatic_top_up",
    "pending_top_up",
    "top_up_by_bank_transfer_charge",
    "top_up_by_card_charge",
    "top_up_by_cash_or_cheque",
    "top_up_failed",
    "top_up_limits",
    "top_up_reverted",
    "topping_up_by_card",
    "verify_top_up",
)


# Requests for a person, 3 per language, written for this benchmark (none is in service/routing/intents.yaml):
# no public multilingual set of such requests was available. Small; shows what the keyword layer adds.
ASKS_FOR_A_PERSON = {
    "en": ["I want to talk to a person", "get me a live agent please", "is there a human I can chat with"],
    "zh": ["转人工", "我想找人工客服", "能不能让真人来处理"],
    "es": ["quiero hablar con un agente", "pásame con una persona real", "necesito hablar con un asesor"],
    "fr": ["je veux parler à un conseiller", "je voudrais parler à un humain", "un agent humain svp"],
    "de": [
        "Ich will mit einem Menschen sprechen",
        "bitte mit einem Mitarbeiter verbinden",
        "echte Person bitte",
    ],
    "ja": ["オペレーターと話したい", "担当者につないでほしい", "人間と話せますか"],
    "pt": ["quero falar com um atendente", "me transfere para um humano", "posso falar com uma pessoa?"],
    "it": [
        "voglio parlare con un operatore",
        "posso parlare con una persona?",
        "mi passi un operatore umano",
    ],
}


# Bitext's contact_customer_service asking to speak/talk/chat with customer service: a person now.
SPEAKS = re.compile(r"\b(speak|talk|chat)\w*\b", re.IGNORECASE)


def bitext_to_ours(intent: str, query: str) -> str:
    """Bitext's intent → ours; contact_customer_service is a request for a person when it asks to
    speak, talk or chat with customer service, otherwise a question about how to reach it."""
    if intent == "contact_customer_service" and SPEAKS.search(query):
        return "human_agent"
    return BITEXT_TO_OURS[intent]


def contact_or_person(router: IntentRouter, embedder: Embedder) -> dict[str, Any]:
    """Asking how to reach the company vs asking for a person now (bench/data/contact_or_person.jsonl,
    written for this benchmark before the `contact` label existed): per language, the share of
    contact-detail questions that do *not* hand off as ``customer_request`` (they are answered from
    the documents) and the share of requests for a person that do."""
    rows = read_jsonl(REPO / "bench" / "data" / "contact_or_person.jsonl")
    settings = HandoffSettings()
    out: dict[str, Any] = {}
    for lang in dict.fromkeys(r["lang"] for r in rows):
        mine = [r for r in rows if r["lang"] == lang]
        texts = [r["text"] for r in mine]
        routes = router.route_vectors(embedder.embed_queries(texts), [lang] * len(texts), list(texts))
        figures: dict[str, Any] = {}
        for kind, want in (("contact", False), ("person", True)):
            pairs = [(r, route) for r, route in zip(mine, routes, strict=True) if r["kind"] == kind]
            right = [r["id"] for r, route in pairs if customer_request(route, settings) == want]
            figures[kind] = {
                "n": len(pairs),
                "accuracy": round(len(right) / len(pairs), 4),
                "wrong": {
                    r["id"]: f"{route.intent} {route.confidence:.2f} {route.source}"
                    for r, route in pairs
                    if r["id"] not in right
                },
                "intents": dict(Counter(route.intent for _, route in pairs)),
            }
        out[lang] = figures
    return out


def customer_request(route: Route, settings: HandoffSettings) -> bool:
    """Whether the handoff policy makes a ``customer_request`` of ``route`` (passages found)."""
    signals = HandoffSignals(route.language, route.intent, route.confidence, relevant_hits=1)
    return "customer_request" in handoff_reasons(signals, settings, 0, custom_intents=False)


def banking_to_ours(category: str) -> str:
    for label, group in (
        ("refund", BANKING_REFUND),
        ("shipping", BANKING_SHIPPING),
        ("account", BANKING_ACCOUNT),
        ("payment", BANKING_PAYMENT),
    ):
        if category in group:
            return label
    return "other"


# ---------------------------------------------------------------- metrics


def macro_f1(gold: list[str], pred: list[str]) -> dict[str, Any]:
    """Macro-F1 over the labels that occur in the gold set (predicting an absent label costs precision)."""
    per: dict[str, float] = {}
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        per[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "macro_f1": round(float(np.mean(list(per.values()))), 4),
        "f1": {k: round(v, 4) for k, v in per.items()},
    }


def score_routes(gold: list[str], routes: list[Route]) -> dict[str, Any]:
    pred = [r.intent for r in routes]
    conf = np.array([r.confidence for r in routes], dtype=np.float32)
    correct = np.array([g == p for g, p in zip(gold, pred, strict=True)])
    confident = conf >= THRESHOLD
    return {
        "n": len(gold),
        "accuracy": round(float(correct.mean()), 4),
        **macro_f1(gold, pred),
        "coverage_at_0.75": round(float(confident.mean()), 4),
        "precision_at_0.75": round(float(correct[confident].mean()), 4) if confident.any() else None,
        "mean_confidence": round(float(conf.mean()), 4),
        "ece_10_bins": round(cal.expected_calibration_error(conf, correct), 4),
        "reliability": cal.reliability(conf, correct),
        "sources": dict(Counter(r.source for r in routes)),
        "gold_distribution": dict(Counter(gold)),
    }


def calibration_variant(
    router: IntentRouter,
    fit_vectors: npt.NDArray[np.float32],
    fit_gold: list[str],
    vectors: npt.NDArray[np.float32],
    gold: list[str],
) -> dict[str, Any]:
    """The same scores with a single temperature fitted on in-domain labelled data instead. Gold
    labels the intents file lacks (an older file measured with --intents-file) are left out of the
    fit and count as wrong."""
    idx = {label: i for i, label in enumerate(router.labels)}
    floor = router.calibrations["en"].floor
    known = np.array([g in idx for g in fit_gold])
    fit_scores = cal.apply_floor(router.label_scores(fit_vectors[known]), router.fallback_index, floor)
    temperature = cal.fit_temperature(fit_scores, np.array([idx[g] for g in fit_gold if g in idx]))
    probs = cal.softmax(
        cal.apply_floor(router.label_scores(vectors), router.fallback_index, floor), temperature
    )
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    correct = pred == np.array([idx.get(g, -1) for g in gold])
    confident = conf >= THRESHOLD
    return {
        "temperature": round(temperature, 5),
        "fitted_on_n": len(fit_gold),
        "ece_10_bins": round(cal.expected_calibration_error(conf, correct), 4),
        "coverage_at_0.75": round(float(confident.mean()), 4),
        "precision_at_0.75": round(float(correct[confident].mean()), 4) if confident.any() else None,
        "note": "similarity layer only (no keyword/example layers)",
    }


def route_all(
    router: IntentRouter, embedder: Embedder, texts: list[str], language: str, use_text: bool = True
) -> tuple[list[Route], npt.NDArray[np.float32]]:
    vectors = embedder.embed_queries(texts)
    routes = router.route_vectors(vectors, [language] * len(texts), list(texts) if use_text else None)
    return routes, vectors


# ---------------------------------------------------------------- sets


def bitext(router: IntentRouter, embedder: Embedder) -> dict[str, Any]:
    rows = read_jsonl(EVAL / "faq_queries.jsonl")
    test = [r for r in rows if r["split"] == "test"]
    dev = [r for r in rows if r["split"] == "dev"]
    gold = [bitext_to_ours(r["intent"], r["query"]) for r in test]
    texts = [r["query"] for r in test]
    routes, vectors = route_all(router, embedder, texts, "en")
    result = score_routes(gold, routes)
    per_intent: dict[str, list[bool]] = defaultdict(list)
    for r, g, route in zip(test, gold, routes, strict=True):
        per_intent[r["intent"]].append(route.intent == g)
    result["accuracy_per_bitext_intent"] = {
        k: round(sum(v) / len(v), 3) for k, v in sorted(per_intent.items())
    }
    similarity_only = router.route_vectors(vectors, ["en"] * len(texts), None)
    result["similarity_only"] = {
        k: v for k, v in score_routes(gold, similarity_only).items() if k != "reliability"
    }
    result["human_agent"] = human_agent_figures(gold, routes, similarity_only, texts, router)
    result["handed_off_as_customer_request"] = bitext_handoffs(test, routes)
    dev_vectors = embedder.embed_queries([r["query"] for r in dev])
    result["calibration_fitted_on_bitext_dev"] = calibration_variant(
        router, dev_vectors, [bitext_to_ours(r["intent"], r["query"]) for r in dev], vectors, gold
    )
    return result


def bitext_handoffs(test: list[dict[str, Any]], routes: list[Route]) -> dict[str, Any]:
    """The share of Bitext's two "contact" intents the handoff policy makes a ``customer_request``
    of: contact_human_agent (asks for a person), and contact_customer_service split by SPEAKS."""
    settings = HandoffSettings()
    groups: dict[str, list[bool]] = defaultdict(list)
    for row, route in zip(test, routes, strict=True):
        intent = row["intent"]
        if intent == "contact_customer_service":
            intent += ":speak" if SPEAKS.search(row["query"]) else ":how_to_reach"
        if intent.startswith("contact_"):
            groups[intent].append(customer_request(route, settings))
    return {k: {"n": len(v), "share": round(sum(v) / len(v), 4)} for k, v in sorted(groups.items())}


def human_agent_figures(
    gold: list[str], routes: list[Route], similarity_only: list[Route], texts: list[str], router: IntentRouter
) -> dict[str, Any]:
    human = [g == "human_agent" for g in gold]
    fired = [
        (rule := router.catalog.keyword_match(t)) is not None and rule.label == router.catalog.human_label
        for t in texts
    ]

    def recall(rs: list[Route]) -> float:
        hits = [router.wants_human(r) for r, h in zip(rs, human, strict=True) if h]
        return round(sum(hits) / len(hits), 4)

    def precision(rs: list[Route]) -> float:
        said = [h for r, h in zip(rs, human, strict=True) if router.wants_human(r)]
        return round(sum(said) / len(said), 4) if said else float("nan")

    keyword_hits = [h for f, h in zip(fired, human, strict=True) if f]
    return {
        "recall_with_keywords": recall(routes),
        "recall_similarity_only": recall(similarity_only),
        "precision_with_keywords": precision(routes),
        "precision_similarity_only": precision(similarity_only),
        "keyword_fired": sum(fired),
        "keyword_precision": round(sum(keyword_hits) / len(keyword_hits), 4) if keyword_hits else None,
        "keyword_fired_on_non_human": sum(f and not h for f, h in zip(fired, human, strict=True)),
    }


def multilingual_human(router: IntentRouter, embedder: Embedder) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang, texts in ASKS_FOR_A_PERSON.items():
        vectors = embedder.embed_queries(texts)
        with_text = router.route_vectors(vectors, [lang] * len(texts), list(texts))
        similarity = router.route_vectors(vectors, [lang] * len(texts), None)
        out[lang] = {
            "n": len(texts),
            "detected_with_keywords": sum(router.wants_human(r) for r in with_text),
            "detected_similarity_only": sum(router.wants_human(r) for r in similarity),
            "confident_similarity_only": sum(
                router.wants_human(r) and r.confidence >= THRESHOLD for r in similarity
            ),
        }
    return out


def banking77(router: IntentRouter, embedder: Embedder, quick: bool) -> dict[str, Any]:
    def load(name: str) -> list[dict[str, str]]:
        with open(EVAL / "raw" / "banking77" / name, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    test = load("test.csv")
    train = load("train.csv")[:: 10 if quick else 3]
    gold = [banking_to_ours(r["category"]) for r in test]
    routes, vectors = route_all(router, embedder, [r["text"] for r in test], "en")
    result = score_routes(gold, routes)
    train_vectors = embedder.embed_queries([r["text"] for r in train])
    result["calibration_fitted_on_banking77_train"] = calibration_variant(
        router, train_vectors, [banking_to_ours(r["category"]) for r in train], vectors, gold
    )
    return result


def off_topic(router: IntentRouter, embedder: Embedder, quick: bool) -> dict[str, Any]:
    """Trivia questions are not support requests: they should land in `other` (or be unsure)."""
    rows = [r for r in read_jsonl(EVAL / "mintaka_queries.jsonl") if r["lang"] in TARGET_LANGUAGES]
    ids = sorted({r["doc_id"] for r in rows})[: 150 if quick else 500]
    keep = set(ids)
    out: dict[str, Any] = {}
    for lang in sorted({r["lang"] for r in rows}):
        texts = [r["question"] for r in rows if r["lang"] == lang and r["doc_id"] in keep]
        routes, _ = route_all(router, embedder, texts, lang)
        out[lang] = {
            "n": len(texts),
            "routed_to_other": round(sum(r.intent == "other" for r in routes) / len(routes), 4),
            "confident_support_intent": round(
                sum(r.intent != "other" and r.confidence >= THRESHOLD for r in routes) / len(routes), 4
            ),
            "keyword_false_positives": sum(r.source == "keyword" for r in routes),
        }
    return out


def language_id(quick: bool) -> dict[str, Any]:
    """Per-language accuracy of the configured detector (INGEST_LANGUAGES) on short questions."""
    ingest = IngestSettings()
    detector = LanguageIdentifier.from_settings(ingest)
    samples: dict[str, dict[str, list[str]]] = {"mintaka": defaultdict(list), "xquad": defaultdict(list)}
    for r in read_jsonl(EVAL / "mintaka_queries.jsonl"):
        samples["mintaka"][r["lang"]].append(r["question"])
    for lang in ("en", "es", "de", "zh", "ru"):
        data = json.loads((EVAL / "raw" / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                samples["xquad"][lang].extend(qa["question"] for qa in paragraph["qas"])
    detector.detect("warm up the models")
    out: dict[str, Any] = {"configured_languages": list(ingest.languages), "sets": {}}
    timings: list[float] = []
    for name, by_lang in samples.items():
        out["sets"][name] = {}
        for lang, every in sorted(by_lang.items()):
            questions = every[:: 4 if quick else 1]
            wrong: Counter[str] = Counter()
            low = 0
            for q in questions:
                start = time.perf_counter()
                found = detector.detect(q)
                timings.append(time.perf_counter() - start)
                if found.language != lang:
                    wrong[found.language] += 1
                low += found.confidence < 0.3
            out["sets"][name][lang] = {
                "n": len(questions),
                "in_configured_list": lang in ingest.languages,
                "accuracy": round(1 - sum(wrong.values()) / len(questions), 4),
                "median_chars": int(np.median([len(q) for q in questions])),
                "low_confidence": low,
                "confused_with": dict(wrong.most_common(3)),
            }
    out["detect_latency"] = summary_ms(timings)
    return out


def hot_path_cost(router: IntentRouter, embedder: Embedder) -> dict[str, Any]:
    text = "Where is my parcel? It should have arrived on Monday."
    vector = embedder.embed_query(text)
    embed_t, route_t, route_text_t = [], [], []
    for _ in range(300):
        start = time.perf_counter()
        embedder.embed_query(text)
        embed_t.append(time.perf_counter() - start)
    for _ in range(3000):
        start = time.perf_counter()
        router.route_vector(vector, "en")
        route_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        router.route_vector(vector, "en", text)
        route_text_t.append(time.perf_counter() - start)
    return {
        "examples": len(router.catalog.examples),
        "route_vector": summary_ms(route_t),
        "route_vector_with_text_layers": summary_ms(route_text_t),
        "embed_query_for_comparison": summary_ms(embed_t),
    }


def shown(path: Path) -> str:
    """A path in the checkout relative to it (the results do not name the machine's folders)."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--quick", action="store_true", help="subsample BANKING77 train, Mintaka, language id"
    )
    parser.add_argument(
        "--intents-file",
        type=Path,
        default=BUNDLED_INTENTS,
        help="the intents file to measure (default: the bundled one), e.g. an older version of it",
    )
    parser.add_argument("--out", default="routing_quality", help="result name under bench/results/")
    args = parser.parse_args()
    embedder = load_embedder(EmbeddingSettings(cache_dir=MODEL_CACHE))
    start = time.perf_counter()
    router = IntentRouter.from_settings(RouterSettings(intents_file=args.intents_file), embedder)
    build_s = time.perf_counter() - start
    results: dict[str, Any] = {
        "model": embedder.name,
        "intents_file": shown(args.intents_file),
        "threshold": THRESHOLD,
        "router_build_s": round(build_s, 2),
        "calibration": {
            lang: {
                "temperature": round(c.temperature, 5),
                "floor": c.floor,
                "loo_accuracy": round(c.accuracy, 4),
                "loo_nll": round(c.nll, 4),
                "examples": c.examples,
            }
            for lang, c in router.calibrations.items()
        },
    }
    print("Bitext (test split)")
    results["bitext_test"] = bitext(router, embedder)
    results["human_agent_multilingual"] = multilingual_human(router, embedder)
    results["contact_or_person"] = contact_or_person(router, embedder)
    print("BANKING77 (test.csv)")
    results["banking77_test"] = banking77(router, embedder, args.quick)
    print("off-topic: Mintaka")
    results["off_topic_mintaka"] = off_topic(router, embedder, args.quick)
    print("language identification")
    results["language_id"] = language_id(args.quick)
    results["hot_path"] = hot_path_cost(router, embedder)
    for name in ("bitext_test", "banking77_test"):
        r = results[name]
        print(
            f"  {name:15} acc={r['accuracy']:.3f} macroF1={r['macro_f1']:.3f} "
            f"cov@.75={r['coverage_at_0.75']:.3f} prec@.75={r['precision_at_0.75']} "
            f"ece={r['ece_10_bins']:.3f}"
        )
    print(json.dumps(results["bitext_test"]["human_agent"], indent=1))
    for lang, by_kind in results["contact_or_person"].items():
        print(f"  {lang}: " + ", ".join(f"{k} {v['accuracy']:.3f} (n={v['n']})" for k, v in by_kind.items()))
    for set_name, langs in results["language_id"]["sets"].items():
        print(f"  lang-id {set_name}: " + ", ".join(f"{k}={v['accuracy']:.3f}" for k, v in langs.items()))
    write_result(args.out, results)


if __name__ == "__main__":
    main()
