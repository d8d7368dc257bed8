"""Prompt caching on any knowledge base: cached share of input tokens and cost per answer, before
and after the prefix that reaches the model's minimum (issue 11).

Three corpora, each ingested by the real pipeline into a temporary embedded store: the demo
``data/policies`` (96 documents, 65 FAQ pairs), the Basecamp policies (26 pages + README/LICENSE,
``../shared/eval/raw/basecamp_policies``) and Pedal Point, a 10-page bike-rental shop written for
this bench (``bench/data/pedalpoint``). 50 different questions each: the first 50 FAQ questions of
the demo, the 46 English answerable Basecamp questions and the first 4 uncovered ones
(``bench/data/basecamp_questions.jsonl``), the 50 Pedal Point questions
(``bench/data/pedalpoint_questions.jsonl``). Passages are retrieved as the service retrieves them
(hybrid, top 5, the knowledge base's calibrated relevance floor); a question left without
passages is not sent (the service does not call Claude then).

Each question's answer request — tools, system, user turn, exactly as the service builds them —
is sent in order to the protocol-faithful fake Anthropic API (``fakes``; it keeps each model's
minimum cacheable prefix and reports cache reads and writes), once with ``claude-sonnet-4-6``
(minimum 2048) and once with ``claude-haiku-4-5`` (4096), a fresh fake each time:

* **before** — the prompt of main before issue 11: the digest (titles, sections, FAQ pairs, capped
  at SERVICE_DIGEST_MAX_TOKENS) and the passages in full in the user turn;
* **after** — ``service.answers.digest.build_prefix`` with the default settings: the documents in
  the prefix when they fit SERVICE_PREFIX_MAX_TOKENS (passages as pointers), else the digest grown
  to the model's minimum.

Figures per corpus × model × variant: the prefix (form, estimated and counted tokens), input
tokens uncached / read from the cache / written to it, the cached share (read / all input), the
mean cost per answer (service/llm/pricing.py, the fake's fixed reply as output), the first
question whose request read the cache and whether every request from the second on did. Answer
quality: retrieval is the same for both variants (the same passages are given; hit@1/hit@5 of the
gold documents where labelled), the answer tools are offered in every request, and a scripted
``passages_do_not_answer`` call comes back as a tool call on the after-prompt (the service turns
it into a handoff: tests/integration/test_service_answerability.py).

    python -m bench.prompt_cache [--corpora demo basecamp pedalpoint]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.common import EVAL, MODEL_CACHE, REPO, Timer, read_jsonl, write_result
from fakes import FakeAnthropic
from fakes.anthropic_protocol import Reply, count_tokens
from ingest.pipeline import IngestPipeline
from knowledge.schema import SearchHit
from knowledge.search import KnowledgeBase
from knowledge.settings import ChunkingSettings, EmbeddingSettings, IngestSettings, QdrantSettings, Settings
from service.answers.cacheable import min_cacheable_tokens
from service.answers.digest import PAYLOAD_FIELDS, Prefix, PrefixSettings, build_prefix, digest_prefix
from service.answers.prompts import ANSWER_TOOLS, NOT_IN_DOCUMENTS, build_digest, build_outline, system_blocks
from service.core.types import Usage
from service.llm.pricing import PriceTable
from service.retrieval.relevance import relevance_floor
from service.settings.service import ServiceSettings

MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5")
REPLY = (
    "Thanks for asking. You can do that within 30 days of delivery [1]; the refund reaches your card "
    "within 5 working days [2]. If anything is unclear, reply here and I will help."
)
QUESTIONS = 50
TOP_K = 5


@dataclass(frozen=True)
class Corpus:
    name: str
    folder: Path
    questions: list[tuple[str, frozenset[str]]]  # (question, gold doc ids; empty: unlabelled)


def corpora() -> dict[str, Corpus]:
    with open(REPO / "data" / "policies" / "faq.csv", encoding="utf-8") as fh:
        demo = [(row["question"], frozenset[str]()) for row in csv.DictReader(fh)][:QUESTIONS]
    rows = [r for r in read_jsonl(REPO / "bench" / "data" / "basecamp_questions.jsonl") if r["lang"] == "en"]
    ordered = [r for r in rows if r["kind"] == "answerable"] + [r for r in rows if r["kind"] == "uncovered"]
    basecamp = [(r["question"], frozenset(r["doc_ids"])) for r in ordered][:QUESTIONS]
    pedal = [
        (r["question"], frozenset(r["doc_ids"]))
        for r in read_jsonl(REPO / "bench" / "data" / "pedalpoint_questions.jsonl")
    ]
    return {
        "demo": Corpus("demo", REPO / "data" / "policies", demo),
        "basecamp": Corpus("basecamp", EVAL / "raw" / "basecamp_policies", basecamp),
        "pedalpoint": Corpus("pedalpoint", REPO / "bench" / "data" / "pedalpoint", pedal),
    }


@dataclass
class Ingested:
    version: int
    rows: list[dict[str, Any]]
    hits: list[list[SearchHit]]  # per question, after the relevance floor
    documents: int
    chunks: int
    seconds: float


def ingest(corpus: Corpus, work: Path) -> Ingested:
    settings = Settings(
        qdrant=QdrantSettings(path=work / "qdrant", url=None),
        embedding=EmbeddingSettings(cache_dir=MODEL_CACHE),
        chunking=ChunkingSettings(),
        ingest=IngestSettings(),
    )
    kb = KnowledgeBase.open(settings)
    try:
        with Timer() as timer:
            report = IngestPipeline(kb.store, kb.embedder, kb.sparse, kb.require_languages(), settings).run(
                [corpus.folder]
            )
        collection = kb.store.active()
        assert collection is not None
        rows = list(collection.payloads(PAYLOAD_FIELDS))
        meta = kb.meta()
        floor = relevance_floor(meta, None, kb.embedder.name, kb.embedder)
        questions = [q for q, _ in corpus.questions]
        found = kb.search_many(questions, limit=TOP_K, mode="hybrid", languages=["en"] * len(questions))
        hits = [floor.keep(h, "en") for h in found]
        return Ingested(meta.version, rows, hits, report.documents, report.total_chunks, timer.seconds)
    finally:
        kb.store.close()


def before_prefix(data: Ingested) -> Prefix:
    """main before issue 11: the digest at SERVICE_DIGEST_MAX_TOKENS, no growth, passages in full."""
    cap = ServiceSettings().digest_max_tokens * 4
    return digest_prefix(data.version, build_digest(build_outline(data.rows), data.version, cap))


def after_prefix(data: Ingested, model: str) -> Prefix:
    service = ServiceSettings()
    settings = PrefixSettings(
        service.prefix_max_tokens, service.digest_max_tokens * 4, min_cacheable_tokens(model), "5m"
    )
    return build_prefix(data.rows, data.version, settings)


def body(model: str, prefix: Prefix, question: str, hits: Sequence[SearchHit]) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 400,
        "tools": ANSWER_TOOLS,
        "system": prefix.system(),
        "messages": [prefix.user_turn(question, hits, "en")],
    }


def run_variant(model: str, prefix: Prefix, corpus: Corpus, data: Ingested) -> dict[str, Any]:
    prices = PriceTable()
    usages: list[Usage] = []
    offered = True
    with FakeAnthropic(reply=REPLY) as fake, httpx.Client(base_url=fake.base_url, timeout=30) as client:
        for (question, _), hits in zip(corpus.questions, data.hits, strict=True):
            if not hits:
                continue
            request = body(model, prefix, question, hits)
            offered = offered and any(t["name"] == NOT_IN_DOCUMENTS for t in request["tools"])
            response = client.post("/v1/messages", json=request, headers={"x-api-key": "bench"})
            response.raise_for_status()
            u = response.json()["usage"]
            usages.append(
                Usage(
                    input_tokens=u["input_tokens"],
                    output_tokens=u["output_tokens"],
                    cache_read_input_tokens=u["cache_read_input_tokens"],
                    cache_creation_input_tokens=u["cache_creation_input_tokens"],
                )
            )
    uncached = sum(u.input_tokens for u in usages)
    read = sum(u.cache_read_input_tokens for u in usages)
    written = sum(u.cache_creation_input_tokens for u in usages)
    reads = [u.cache_read_input_tokens > 0 for u in usages]
    costs = [prices.cost(model, u) for u in usages]
    counted = count_tokens(
        " ".join([*(str(t) for t in ANSWER_TOOLS), *(b["text"] for b in system_blocks(prefix.knowledge))])
    )
    return {
        "prefix": {
            "form": prefix.form,
            "estimated_tokens_low": prefix.tokens,
            "fake_counted_tokens": counted,
            "model_minimum": min_cacheable_tokens(model),
        },
        "requests": len(usages),
        "input_tokens": {"uncached": uncached, "cache_read": read, "cache_write": written},
        "input_tokens_per_answer": round((uncached + read + written) / max(len(usages), 1), 1),
        "uncached_input_tokens_per_answer": round(uncached / max(len(usages), 1), 1),
        "cached_share": round(read / max(uncached + read + written, 1), 4),
        "cost_per_answer_usd": round(statistics.fmean(costs), 6) if costs else None,
        "cost_per_answer_from_2nd_usd": round(statistics.fmean(costs[1:]), 6) if len(costs) > 1 else None,
        "first_cache_read": next((n + 1 for n, r in enumerate(reads) if r), None),
        "reads_from_2nd_question_on": all(reads[1:]) and len(reads) > 1,
        "tools_offered_in_every_request": offered,
    }


def tool_call_still_hands_off(model: str, prefix: Prefix, corpus: Corpus, data: Ingested) -> bool:
    """The fake's scripted ``passages_do_not_answer`` call comes back on the after-prompt."""
    question, hits = next((q, h) for (q, _), h in zip(corpus.questions, data.hits, strict=True) if h)
    scripted = Reply(
        text="I can't find that in our policies.", tool=NOT_IN_DOCUMENTS, tool_input={"missing": "x"}
    )
    with FakeAnthropic(reply=scripted) as fake, httpx.Client(base_url=fake.base_url, timeout=30) as client:
        response = client.post(
            "/v1/messages", json=body(model, prefix, question, hits), headers={"x-api-key": "bench"}
        )
    message = response.json()
    return message["stop_reason"] == "tool_use" and any(
        b["type"] == "tool_use" and b["name"] == NOT_IN_DOCUMENTS for b in message["content"]
    )


def retrieval(corpus: Corpus, data: Ingested) -> dict[str, Any] | None:
    labelled = [(gold, hits) for (_, gold), hits in zip(corpus.questions, data.hits, strict=True) if gold]
    if not labelled:
        return None
    docs = [list(dict.fromkeys(h.payload.doc_id for h in hits)) for _, hits in labelled]
    return {
        "labelled_questions": len(labelled),
        "hit_at_1": round(
            sum(bool(d[:1] and d[0] in g) for (g, _), d in zip(labelled, docs, strict=True)) / len(labelled),
            3,
        ),
        "hit_at_5": round(
            sum(bool(set(d[:5]) & g) for (g, _), d in zip(labelled, docs, strict=True)) / len(labelled), 3
        ),
        "questions_without_passages": sum(not h for h in data.hits),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.prompt_cache", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--corpora", nargs="+", choices=("demo", "basecamp", "pedalpoint"), default=None)
    args = parser.parse_args(argv)
    chosen = args.corpora or ["demo", "basecamp", "pedalpoint"]
    results: dict[str, Any] = {"questions_per_corpus": QUESTIONS, "reply": REPLY, "corpora": {}}
    for name in chosen:
        corpus = corpora()[name]
        with tempfile.TemporaryDirectory(prefix="faqstream-prompt-cache-") as tmp:
            data = ingest(corpus, Path(tmp))
        print(f"{name}: {data.documents} documents / {data.chunks} chunks, ingested in {data.seconds:.1f}s")
        figures: dict[str, Any] = {
            "documents": data.documents,
            "chunks": data.chunks,
            "questions": len(corpus.questions),
            "retrieval": retrieval(corpus, data),
            "models": {},
        }
        for model in MODELS:
            before = run_variant(model, before_prefix(data), corpus, data)
            after_p = after_prefix(data, model)
            after = run_variant(model, after_p, corpus, data)
            after["scripted_tool_call_hands_off"] = tool_call_still_hands_off(model, after_p, corpus, data)
            figures["models"][model] = {"before": before, "after": after}
            for label, f in (("before", before), ("after", after)):
                prefix = f"{f['prefix']['form']:9} prefix≈{f['prefix']['fake_counted_tokens']:>6}"
                print(
                    f"  {model:18} {label:6} {prefix} share {f['cached_share']:6.1%}  "
                    f"${f['cost_per_answer_usd']:.5f}/answer first read at q{f['first_cache_read']}  "
                    f"reads from 2nd on: {f['reads_from_2nd_question_on']}"
                )
        results["corpora"][name] = figures
    if args.corpora is None:
        write_result("prompt_cache", results)


if __name__ == "__main__":
    main()
