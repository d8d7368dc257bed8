"""Bring your own documents: the product on policies nobody on the team wrote (Basecamp/37signals).

The 26 Basecamp policy pages (CC BY 4.0, ../shared/eval/raw/basecamp_policies; with the
repository's README.md and LICENSE.md that is 28 Markdown files) are ingested as they are, by the
real pipeline, into a temporary embedded store with the configured embedding model (``--model``
to choose another), with no intents file, prompt or setting written for this corpus: the router
uses the shipped service/routing/intents.yaml (written for the fictional Northwind shop), as a customer who
brings their own documents would get it. The labelled questions (bench/data/basecamp_questions.jsonl,
see bench/data/README.md) are then asked:

* directly through the knowledge base (``KnowledgeBase.search_many``, hybrid, as the service
  searches; documents ranked by their best chunk): hit@1/hit@3 of the gold documents, and the
  cosine of the best passage, so retrieval and the service's cut-off can be told apart;
* over HTTP to the real answer service started in-process (``POST /v1/answers``, JSON), twice:
  **extractive** (no Anthropic key) and **generative** against the protocol-faithful fake Anthropic
  server. The fake is not a model: its answers are a fixed text and its "translation" of a
  question is the question itself (as if translation were unavailable), so generative figures are
  only what the service decides itself — handoffs decided before or without the model, citations,
  the reply language — plus how many model calls it made.

Per language and overall: hit@1/hit@3 (knowledge base, and the gold document among the answer's
citations), the false handoff rate on answerable questions (target <= 10 %), the handoff rate on
uncovered and off-topic questions (target >= 90 %), the handoff reasons, the reply language
(``language``) against the question's, and cross-lingual cases (a group's English question
against the same question in another language). Writes bench/results/byo_documents.json (only
for a full run: ``--limit``/``--languages`` print the figures without writing).

    python -m bench.byo_documents [--model NAME] [--modes extractive generative]
                                  [--languages en de] [--limit GROUPS]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bench.common import EVAL, MODEL_CACHE, REPO, Timer, read_jsonl, write_result
from fakes import FakeAnthropic
from ingest.pipeline import IngestPipeline
from knowledge.schema import SearchHit
from knowledge.search import KnowledgeBase
from knowledge.settings import ChunkingSettings, EmbeddingSettings, IngestSettings, QdrantSettings
from service.api.settings import AppSettings
from service.caching import CacheSettings
from service.handoff.settings import HandoffSettings
from service.quotas import LimitSettings
from service.retrieval.relevance import RelevanceFloor, relevance_floor
from service.routing.catalog import IntentCatalog, intents_origin
from service.routing.settings import RouterSettings
from service.settings.anthropic import AnthropicSettings
from service.settings.auth import AuthSettings
from service.settings.database import DatabaseSettings
from service.settings.redis import RedisSettings
from service.settings.service import ServiceSettings
from tests.service_harness import running_service

CORPUS = EVAL / "raw" / "basecamp_policies"
QUESTIONS = REPO / "bench" / "data" / "basecamp_questions.jsonl"
KINDS = ("answerable", "uncovered", "off_topic")
MODES = ("extractive", "generative")
FETCH = 30  # chunks per direct search (documents ranked by their best chunk)
TARGETS = (  # (kind, figure, comparison, threshold, label)
    ("answerable", "handoff_rate", "<=", 0.10, "false handoff on answerable <= 10%"),
    ("uncovered", "handoff_rate", ">=", 0.90, "handoff on uncovered >= 90%"),
    ("off_topic", "handoff_rate", ">=", 0.90, "handoff on off-topic >= 90%"),
)
TRANSLATION_SYSTEM = "You translate customer-support messages"
FAKE_ANSWER = "(fake model reply: not a real answer) [1]"
CELL = {(True, True): "both", (True, False): "only_en", (False, True): "only_this", (False, False): "neither"}


@dataclass
class Question:
    qid: str
    group: str
    lang: str
    text: str
    kind: str
    gold: frozenset[str]


@dataclass
class Direct:
    """The knowledge base's own ranking for one question (before the service's relevance floor)."""

    detected: str
    docs: list[str]  # documents by best chunk
    top_cosine: float  # cosine of the best passage
    gold_rank: int | None  # first gold document, 1-based
    gold_cosine: float | None  # best cosine of a gold passage among the fetched chunks
    top_k_docs: list[str]  # documents of the service's top_k passages, before the floor


@dataclass
class Reply:
    """What the service returned for one question."""

    status: int
    language: str = ""
    mode: str = ""
    cited: list[str] = field(default_factory=list)  # cited documents, citation order, deduplicated
    top_score: float | None = None
    handoff: str | None = None
    reasons: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    intent: str | None = None
    confidence: float | None = None
    error: str | None = None


# ---------------------------------------------------------------- data and settings


def load_questions(path: Path, languages: Sequence[str] | None, limit: int | None) -> list[Question]:
    rows = read_jsonl(path)
    groups: dict[str, list[str]] = defaultdict(list)  # kind -> groups in file order
    for row in rows:
        if row["group"] not in groups[row["kind"]]:
            groups[row["kind"]].append(row["group"])
    kept = {g for kind_groups in groups.values() for g in kind_groups[:limit]}
    return [
        Question(r["qid"], r["group"], r["lang"], r["question"], r["kind"], frozenset(r["doc_ids"]))
        for r in rows
        if r["group"] in kept and (not languages or r["lang"] in languages)
    ]


def app_settings(
    work: Path, model: str | None, api_key: str | None = None, base_url: str | None = None
) -> AppSettings:
    """The configured product (defaults and environment), with only what a bench must pin:
    a private store, no Redis/PostgreSQL/webhooks, rate limits and the answer cache off (every
    question is measured on its own), and the Anthropic endpoint of the mode."""
    embedding = EmbeddingSettings(cache_dir=MODEL_CACHE)
    if model:
        embedding = embedding.model_copy(update={"model": model})
    return AppSettings(
        qdrant=QdrantSettings(path=work / "qdrant", url=None),
        embedding=embedding,
        chunking=ChunkingSettings(),
        ingest=IngestSettings(),
        service=ServiceSettings(admin_key=None),
        anthropic=AnthropicSettings(
            api_key=SecretStr(api_key) if api_key else None, base_url=base_url, timeout_s=30
        ),
        auth=AuthSettings(api_keys=None),
        redis=RedisSettings(url=None),
        database=DatabaseSettings(url=None, sqlite_path=work / "faqstream.db"),
        cache=CacheSettings(answers=False),
        limits=LimitSettings(key_rpm=0, user_rpm=0, alert_webhook_url=None),
        handoff=HandoffSettings(webhook_url=None),
    )


@contextmanager
def ingested(
    corpus: Path, prefix: str = "faqstream-bench-"
) -> Iterator[tuple[KnowledgeBase, AppSettings, RelevanceFloor]]:
    """``corpus`` ingested by the real pipeline into a temporary embedded store (``app_settings``:
    the configured model), the knowledge base open, and the service's cut-off for it (cohort-
    normalised, as the service builds it); the store is closed and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        settings = app_settings(Path(tmp), None)
        kb = KnowledgeBase.open(settings)
        try:
            IngestPipeline(kb.store, kb.embedder, kb.sparse, kb.require_languages(), settings).run([corpus])
            yield kb, settings, relevance_floor(kb.meta(), None, kb.embedder.name, kb.embedder)
        finally:
            kb.store.close()


# ---------------------------------------------------------------- direct retrieval


def _doc_order(hits: Iterable[SearchHit]) -> list[str]:
    return list(dict.fromkeys(h.payload.doc_id for h in hits))


def direct_search(kb: KnowledgeBase, questions: Sequence[Question], top_k: int) -> dict[str, Direct]:
    languages = kb.require_languages()
    detected = [languages.detect(q.text).language for q in questions]
    out: dict[str, Direct] = {}
    for start in range(0, len(questions), 32):
        part = questions[start : start + 32]
        results = kb.search_many(
            [q.text for q in part], limit=FETCH, mode="hybrid", languages=detected[start : start + 32]
        )
        for i, (q, hits) in enumerate(zip(part, results, strict=True)):
            docs = _doc_order(hits)
            gold_rank = next((n + 1 for n, d in enumerate(docs) if d in q.gold), None)
            gold_cos = [h.dense_score or 0.0 for h in hits if h.payload.doc_id in q.gold]
            out[q.qid] = Direct(
                detected=detected[start + i],
                docs=docs,
                top_cosine=max((h.dense_score or 0.0 for h in hits), default=0.0),
                gold_rank=gold_rank,
                gold_cosine=max(gold_cos) if gold_cos else None,
                top_k_docs=_doc_order(hits[:top_k]),
            )
    return out


# ---------------------------------------------------------------- the service over HTTP


def ask_all(base: str, questions: Sequence[Question]) -> dict[str, Reply]:
    out: dict[str, Reply] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for q in questions:
            response = client.post("/v1/answers", json={"question": q.text})
            if response.status_code != 200:
                out[q.qid] = Reply(response.status_code, error=response.text[:300])
                continue
            body = response.json()
            handoff = body.get("handoff")
            intent = body.get("intent") or {}
            citations = body.get("citations") or []
            out[q.qid] = Reply(
                status=200,
                language=body.get("language", ""),
                mode=body.get("mode", ""),
                cited=list(dict.fromkeys(c["doc_id"] for c in citations)),
                top_score=max((c["similarity"] or 0.0 for c in citations), default=None),
                handoff=handoff["reason"] if handoff else None,
                reasons=list(handoff["reasons"]) if handoff else [],
                stop_reason=body.get("stop_reason"),
                intent=intent.get("intent"),
                confidence=intent.get("confidence"),
            )
    return out


class FakeModel:
    """The fake's replies: a question sent for translation comes back unchanged (the service then
    searches the original only, as when translation is unavailable); anything else is a fixed text."""

    def __init__(self) -> None:
        self.translations = 0
        self.answers = 0
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> str:
        system = body.get("system") or ""
        system_text = system if isinstance(system, str) else " ".join(b.get("text", "") for b in system)
        if system_text.startswith(TRANSLATION_SYSTEM):
            with self._lock:
                self.translations += 1
            content = body["messages"][-1]["content"]
            text = content if isinstance(content, str) else content[0]["text"]
            return text.replace("<text>", "").replace("</text>", "").strip()
        with self._lock:
            self.answers += 1
        return FAKE_ANSWER


def run_mode(
    mode: str, work: Path, model: str | None, questions: Sequence[Question]
) -> tuple[dict[str, Reply], dict[str, Any]]:
    if mode == "extractive":
        settings = app_settings(work, model)
        with Timer() as timer, running_service(settings) as base:
            replies = ask_all(base, questions)
        return replies, {"seconds": round(timer.seconds, 1)}
    fake_model = FakeModel()
    with FakeAnthropic(reply=fake_model) as fake:
        settings = app_settings(work, model, api_key="bench", base_url=fake.base_url)
        with Timer() as timer, running_service(settings) as base:
            replies = ask_all(base, questions)
        upstream = {
            "seconds": round(timer.seconds, 1),
            "requests_to_fake": len(fake.message_requests()),
            "answer_calls": fake_model.answers,
            "translation_calls": fake_model.translations,
        }
    return replies, upstream


# ---------------------------------------------------------------- figures


def _rate(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _hit(docs: Sequence[str], gold: frozenset[str], k: int) -> bool:
    return any(d in gold for d in docs[:k])


def _quantiles(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    data = sorted(values)

    def q(p: float) -> float:
        return round(data[min(len(data) - 1, int(p * (len(data) - 1) + 0.5))], 3)

    return {"p10": q(0.1), "median": q(0.5), "p90": q(0.9)}


def direct_figures(questions: Sequence[Question], direct: dict[str, Direct]) -> dict[str, Any]:
    answerable = [q for q in questions if q.kind == "answerable"]
    out: dict[str, Any] = {
        "n": len(answerable),
        "hit_at_1": _rate([(direct[q.qid].gold_rank or 99) <= 1 for q in answerable]),
        "hit_at_3": _rate([(direct[q.qid].gold_rank or 99) <= 3 for q in answerable]),
        "hit_at_10": _rate([(direct[q.qid].gold_rank or 99) <= 10 for q in answerable]),
        "gold_in_service_top_k_before_floor": _rate(
            [_hit(direct[q.qid].top_k_docs, q.gold, 99) for q in answerable]
        ),
        "question_language_detected": _rate([direct[q.qid].detected == q.lang for q in questions]),
    }
    out["best_passage_cosine"] = {
        kind: _quantiles([direct[q.qid].top_cosine for q in questions if q.kind == kind]) for kind in KINDS
    }
    return out


def service_figures(questions: Sequence[Question], replies: dict[str, Reply]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in KINDS:
        rows = [q for q in questions if q.kind == kind]
        if not rows:
            continue
        got = [replies[q.qid] for q in rows]
        fig: dict[str, Any] = {
            "n": len(rows),
            "errors": sum(r.status != 200 for r in got),
            "handoff_rate": _rate([r.handoff is not None for r in got]),
            "handoff_reasons": dict(Counter(r.handoff for r in got if r.handoff).most_common()),
            "handoff_reasons_all": dict(Counter(x for r in got for x in r.reasons).most_common()),
            # what the relevance floor alone decided (no_relevant_passages among the reasons)
            "handoff_rate_floor_only": _rate(["no_relevant_passages" in r.reasons for r in got]),
            "reply_language_matches": _rate([r.language == q.lang for q, r in zip(rows, got, strict=True)]),
        }
        if kind == "answerable":
            fig["cited_hit_at_1"] = _rate([_hit(r.cited, q.gold, 1) for q, r in zip(rows, got, strict=True)])
            fig["cited_hit_at_3"] = _rate([_hit(r.cited, q.gold, 3) for q, r in zip(rows, got, strict=True)])
            fig["no_citation"] = _rate([not r.cited for r in got])
            fig["answered_citing_gold"] = _rate(
                [r.handoff is None and _hit(r.cited, q.gold, 3) for q, r in zip(rows, got, strict=True)]
            )
        else:
            fig["answered_with_citations"] = _rate([r.handoff is None and bool(r.cited) for r in got])
        out[kind] = fig
    return out


def targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for kind, name, op, threshold, label in TARGETS:
        value = figures.get(kind, {}).get(name)
        met = value is not None and (value <= threshold if op == "<=" else value >= threshold)
        rows.append({"target": label, "value": value, "met": "met" if met else "not met"})
    return rows


def by_language(
    questions: Sequence[Question], figures: Callable[[list[Question]], dict[str, Any]]
) -> dict[str, Any]:
    """``figures`` over all questions ("overall") and over each language's."""
    out = {"overall": figures(list(questions))}
    for lang in dict.fromkeys(q.lang for q in questions):
        out[lang] = figures([q for q in questions if q.lang == lang])
    return out


def crosslingual(
    questions: Sequence[Question], direct: dict[str, Direct], replies: dict[str, Reply]
) -> dict[str, Any]:
    """Each language's answerable question against its group's English one (documents are English)."""
    english = {q.group: q for q in questions if q.lang == "en" and q.kind == "answerable"}
    out: dict[str, Any] = {}
    for lang in dict.fromkeys(q.lang for q in questions if q.lang != "en"):
        pairs = [(english[q.group], q) for q in questions if q.lang == lang and q.group in english]
        if not pairs:
            continue
        cells: Counter[str] = Counter()
        same_decision = good_en = good = 0
        drops: list[float] = []
        lost: list[str] = []
        for en, other in pairs:
            en_hit = (direct[en.qid].gold_rank or 99) <= 3
            hit = (direct[other.qid].gold_rank or 99) <= 3
            cells[CELL[(en_hit, hit)]] += 1
            if en_hit and not hit:
                lost.append(other.group)
            same_decision += (replies[en.qid].handoff is None) == (replies[other.qid].handoff is None)
            en_cos, cos = direct[en.qid].gold_cosine, direct[other.qid].gold_cosine
            if en_cos is not None and cos is not None:
                drops.append(en_cos - cos)
            good_en += replies[en.qid].handoff is None and _hit(replies[en.qid].cited, en.gold, 3)
            good += replies[other.qid].handoff is None and _hit(replies[other.qid].cited, other.gold, 3)
        out[lang] = {
            "pairs": len(pairs),
            "kb_hit_at_3": dict(cells),
            "lost_vs_english": lost,
            "same_handoff_decision_as_english": round(same_decision / len(pairs), 4),
            "answered_citing_gold": {"en": good_en, lang: good},
            "mean_gold_cosine_drop_vs_english": round(statistics.fmean(drops), 3) if drops else None,
        }
    return out


def _cosine_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def retrieval_misses(questions: Sequence[Question], direct: dict[str, Direct]) -> list[str]:
    """Answerable questions whose gold document is not the knowledge base's first, one line each."""
    return [
        f"{q.qid}: gold rank {d.gold_rank or '>' + str(FETCH)}, gold cosine {_cosine_text(d.gold_cosine)}, "
        f"kb top {', '.join(d.docs[:3])}"
        for q in questions
        if q.kind == "answerable" and (d := direct[q.qid]).gold_rank != 1
    ]


def failures(
    questions: Sequence[Question], direct: dict[str, Direct], replies: dict[str, Reply]
) -> dict[str, list[str]]:
    """The questions the service got wrong, one line each (the question text is in the data file)."""
    out: dict[str, list[str]] = defaultdict(list)
    for q in questions:
        r, d = replies[q.qid], direct[q.qid]
        confidence = "-" if r.confidence is None else f"{r.confidence:.2f}"
        line = (
            f"{q.qid}: handoff {r.handoff}, intent {r.intent} {confidence}, "
            f"cited {', '.join(r.cited[:3]) or '-'}; kb gold rank {d.gold_rank}, "
            f"best cosine {d.top_cosine:.3f}"
        )
        if q.kind == "answerable" and r.handoff is not None:
            out["answerable_handed_off"].append(line)
        elif q.kind == "answerable" and not _hit(r.cited, q.gold, 3):
            out["answerable_without_gold_citation"].append(line)
        elif q.kind != "answerable" and r.handoff is None:
            out[f"{q.kind}_answered"].append(line)
        if r.handoff == "customer_request":  # no question in the set asks for a person
            out["customer_request_not_asked"].append(line)
        if r.language != q.lang:
            out["reply_language_mismatch"].append(f"{q.qid}: replied in {r.language}")
    return dict(out)


def failure_diff(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, Any]:
    """Failure lines of ``after`` that ``before`` does not have, and the reverse, per category."""
    out: dict[str, Any] = {}
    for key in sorted({*before, *after}):
        added = sorted(set(after.get(key, [])) - set(before.get(key, [])))
        gone = sorted(set(before.get(key, [])) - set(after.get(key, [])))
        if added or gone:
            out[key] = {"only_here": added, "only_in_extractive": gone}
    return {"differences_from_extractive": out}


# ---------------------------------------------------------------- output


def _pct(value: float | None) -> str:
    return "   -" if value is None else f"{value * 100:4.0f}"


def print_table(mode: str, per_lang: dict[str, Any], direct_lang: dict[str, Any]) -> None:
    print(f"\n{mode}: rates in %")
    print(
        f"{'lang':8} {'n':>4} {'kb@1':>5} {'kb@3':>5} {'cit@1':>5} {'cit@3':>5} "
        f"{'falseHO':>7} {'uncovHO':>7} {'offHO':>6} {'lang=':>5}"
    )
    for lang, fig in per_lang.items():
        ans, unc, off = fig.get("answerable", {}), fig.get("uncovered", {}), fig.get("off_topic", {})
        replies = [f.get("reply_language_matches") for f in (ans, unc, off) if f]
        ns = [f["n"] for f in (ans, unc, off) if f]
        lang_ok = sum((v or 0) * n for v, n in zip(replies, ns, strict=True)) / max(sum(ns), 1)
        print(
            f"{lang:8} {ans.get('n', 0):4d} {_pct(direct_lang[lang]['hit_at_1']):>5} "
            f"{_pct(direct_lang[lang]['hit_at_3']):>5} {_pct(ans.get('cited_hit_at_1')):>5} "
            f"{_pct(ans.get('cited_hit_at_3')):>5} {_pct(ans.get('handoff_rate')):>7} "
            f"{_pct(unc.get('handoff_rate')):>7} {_pct(off.get('handoff_rate')):>6} {_pct(lang_ok):>5}"
        )


def _shown(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(REPO.parent)) if resolved.is_relative_to(REPO.parent) else str(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.byo_documents",
        description="The answer service on the Basecamp policies (documents nobody on the team wrote), "
        "with labelled answerable, uncovered and off-topic questions in several languages. Writes "
        "bench/results/byo_documents.json after a full run.",
    )
    parser.add_argument(
        "--model",
        help="embedding model (default: the configured one, EMBEDDING_MODEL or the packaged default)",
    )
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--languages", nargs="+", help="only these question languages (no results file)")
    parser.add_argument(
        "--limit",
        type=int,
        help="only the first N groups of each kind (all their languages; no results file)",
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="labelled questions (JSONL)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder to ingest")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"corpus folder {args.corpus} not found (set FAQSTREAM_EVAL_DIR or --corpus)")

    questions = load_questions(args.questions, args.languages, args.limit)
    counts = Counter((q.kind, q.lang) for q in questions)
    print(
        f"{len(questions)} questions: "
        + ", ".join(f"{k}/{lang} {n}" for (k, lang), n in sorted(counts.items()))
    )
    results: dict[str, Any] = {"modes": {}}
    with tempfile.TemporaryDirectory(prefix="faqstream-byo-") as tmp:
        work = Path(tmp)
        settings = app_settings(work, args.model)
        kb = KnowledgeBase.open(settings)
        try:
            report = IngestPipeline(kb.store, kb.embedder, kb.sparse, kb.require_languages(), settings).run(
                [args.corpus]
            )
            print(
                f"ingested {report.documents} documents / {report.total_chunks} chunks "
                f"in {report.seconds:.1f}s"
            )
            collection = kb.store.active()
            documents = sorted(collection.document_states()) if collection is not None else []
            unknown = sorted({d for q in questions for d in q.gold} - set(documents))
            if unknown:
                raise SystemExit(f"gold doc_ids the pipeline did not produce: {unknown}")
            direct = direct_search(kb, questions, settings.service.top_k)
            embedder_name = kb.embedder.name
        finally:
            kb.store.close()
        router = RouterSettings()
        catalog = IntentCatalog.load(intents_origin(router.intents_file).path)
        results["setup"] = {
            "corpus": _shown(args.corpus),
            "documents": len(documents),
            "chunks": report.total_chunks,
            "embedding_model": embedder_name,
            "relevance_floor": settings.service.relevance_floor,
            "top_k": settings.service.top_k,
            "handoff_confidence_threshold": settings.handoff.confidence_threshold,
            "router": {
                "kind": router.kind,
                "intents_file": _shown(Path(catalog.source)),
                "labels": list(catalog.labels),
            },
            "translate_mode": settings.translate.mode,
            "answer_cache": "off",
            "rate_limits": "off",
        }
        results["questions"] = {f"{k}/{lang}": n for (k, lang), n in sorted(counts.items())}
        direct_lang = by_language(questions, partial(direct_figures, direct=direct))
        results["retrieval_direct"] = direct_lang
        results["retrieval_direct_misses"] = retrieval_misses(questions, direct)
        for mode in args.modes:
            print(f"\n{mode}: asking {len(questions)} questions over HTTP")
            replies, extra = run_mode(mode, work, args.model, questions)
            per_lang = by_language(questions, partial(service_figures, replies=replies))
            mode_out: dict[str, Any] = {
                **extra,
                "per_language": per_lang,
                "targets": {lang: targets(fig) for lang, fig in per_lang.items()},
                "crosslingual": crosslingual(questions, direct, replies),
                "failures": failures(questions, direct, replies),
            }
            extractive = results["modes"].get("extractive")
            if extractive is not None:  # only what differs (mostly citation order: see the notes)
                mode_out["failures"] = failure_diff(extractive["failures"], mode_out["failures"])
            if mode == "generative":
                mode_out["model_called_with_handoff_decided"] = sum(
                    1 for r in replies.values() if r.mode == "generative" and r.handoff is not None
                )
                mode_out["model_not_called"] = sum(1 for r in replies.values() if r.mode != "generative")
            results["modes"][mode] = mode_out
            print_table(mode, per_lang, direct_lang)
            for row in mode_out["targets"]["overall"]:
                print(f"  {row['target']:38} {row['value']}  {row['met']}")
            reasons: Counter[str] = Counter()
            for fig in per_lang["overall"].values():
                reasons.update(fig.get("handoff_reasons", {}))
            print(f"  handoff reasons: {dict(reasons)}")
            for lang, row in mode_out["crosslingual"].items():
                print(
                    f"  {lang} vs en: kb hit@3 {row['kb_hit_at_3']}, same handoff decision "
                    f"{row['same_handoff_decision_as_english']:.0%}, gold cosine "
                    f"-{row['mean_gold_cosine_drop_vs_english']}"
                )
            print(f"  {extra}")
    results["notes"] = [
        "retrieval_direct: KnowledgeBase.search_many, hybrid, 30 chunks, documents ranked by best chunk, "
        "the question's detected language for the lexical stemmer (as the service does); "
        "gold_in_service_top_k_before_floor: a gold document among the service's top_k passages before "
        "SERVICE_RELEVANCE_FLOOR; best_passage_cosine: the best passage's cosine per kind.",
        "handoff_reasons: the first reason (the service's precedence); handoff_reasons_all: every reason "
        "that applied; handoff_rate_floor_only: share with no_relevant_passages among the reasons, i.e. "
        "what the relevance floor alone would have decided without the router.",
        "cited_hit_at_k: a gold document among the first k documents of the answer's citations (after the "
        "floor); a handed-off answer still counts its citations.",
        "generative: the fake Anthropic server is not a model; its 'translation' returns the question "
        "unchanged (the service then searches the original only) and its answers are a fixed text. "
        "Its figures are what the service decides before or without the model.",
        "failures: one line per question the service got wrong (the question text is in the data file); "
        "for generative, only the lines that differ from extractive. Hybrid search breaks exact RRF "
        "ties arbitrarily, so citation order (and a few hits) can differ between two identical runs.",
        "The router uses the shipped intents file (written for another corpus): nothing was tuned for "
        "this one.",
    ]
    if args.limit is None and not args.languages and len(args.modes) == len(MODES):
        write_result("byo_documents", results)
    else:
        print("partial run (--limit/--languages/--modes): results file not written")


if __name__ == "__main__":
    main()
