"""Shared plumbing for the benchmarks: eval data → real files, settings, figures → JSON files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("FAQSTREAM_EVAL_DIR", REPO.parent / "shared" / "eval"))
RESULTS = REPO / "bench" / "results"
MODEL_CACHE = REPO / "var" / "models"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def percentile(values: Iterable[float], q: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summary_ms(samples_s: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": round(percentile(ms, 0.5), 3),
        "p95_ms": round(percentile(ms, 0.95), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "n": len(ms),
    }


def write_xquad_paragraphs(folder: Path, lang: str | None = None, *, titles: bool = True) -> list[str]:
    """One .txt file per XQuAD paragraph (title line, blank line, text; or the text alone);
    returns the doc ids. The five or so paragraphs of one article share its title."""
    folder.mkdir(parents=True, exist_ok=True)
    if lang is None:
        rows = read_jsonl(EVAL / "xquad_docs.jsonl")
    else:
        rows = [r for r in read_jsonl(EVAL / "xquad_docs_all_langs.jsonl") if r["lang"] == lang]
    for row in rows:
        name = row["doc_id"].replace("@", "_")
        body = f"{row['title']}\n\n{row['text']}\n" if titles else f"{row['text']}\n"
        (folder / f"{name}.txt").write_text(body, encoding="utf-8")
    return [r["doc_id"] for r in rows]


def write_bitext_faq(folder: Path) -> Path:
    """The 81 Bitext FAQ articles as one JSONL FAQ file (question + answer per row)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bitext.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for row in read_jsonl(EVAL / "faq_docs.jsonl"):
            fh.write(
                json.dumps(
                    {
                        "id": row["doc_id"],
                        "question": row["question"],
                        "answer": row["text"],
                        "language": "en",
                    }
                )
                + "\n"
            )
    return path


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def write_result(name: str, figures: dict[str, Any]) -> Path:
    path = RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "benchmark": name,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **figures,
    }
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(REPO)}")
    return path


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
