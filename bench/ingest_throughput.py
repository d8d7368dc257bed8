"""Ingest throughput on this machine: chunks/s, MB/s, peak RSS, and the cost of an unchanged re-run.

Runs the real CLI (`python -m faqstream ingest --json`) in a fresh process per run, on the demo
corpus and on the 240 XQuAD English paragraphs. Writes bench/results/ingest_throughput.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import MODEL_CACHE, REPO, write_result, write_xquad_paragraphs


def _run(paths: list[Path], store: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "QDRANT_PATH": str(store),
        "EMBEDDING_CACHE_DIR": str(MODEL_CACHE),
        "HF_HUB_OFFLINE": "1",
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "faqstream", "ingest", *map(str, paths), "--json", "--prune"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
        text=True,
    )
    out, err = proc.communicate()  # the child has exited; its rusage is still ours to reap below
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ingest failed ({proc.returncode}): {err[-2000:]}")
    report = json.loads(out)
    return {"wall_s": wall, "report": report}


def _peak_rss_mb(paths: list[Path], store: Path) -> float:
    """Peak RSS of one first-ingest child, via wait4 (exact for that process)."""
    env = {
        **os.environ,
        "QDRANT_PATH": str(store),
        "EMBEDDING_CACHE_DIR": str(MODEL_CACHE),
        "HF_HUB_OFFLINE": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "faqstream", "ingest", *map(str, paths), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=REPO,
    )
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return usage.ru_maxrss / 1024


def measure(name: str, paths: list[Path], work: Path) -> dict[str, Any]:
    first = _run(paths, work / f"{name}-store")
    again = _run(paths, work / f"{name}-store")
    rep, rep2 = first["report"], again["report"]
    pipeline_s = rep["seconds"]
    figures = {
        "documents": rep["documents"],
        "files": rep["files"],
        "megabytes": round(rep["bytes_read"] / 1e6, 3),
        "chunks": rep["chunks_written"],
        "first_ingest_wall_s": round(first["wall_s"], 2),
        "first_ingest_pipeline_s": round(pipeline_s, 2),
        "chunks_per_s": round(rep["chunks_written"] / pipeline_s, 1),
        "mb_per_s": round(rep["bytes_read"] / 1e6 / pipeline_s, 4),
        "chunks_per_s_wall": round(rep["chunks_written"] / first["wall_s"], 1),
        "reingest_wall_s": round(again["wall_s"], 2),
        "reingest_pipeline_s": round(rep2["seconds"], 3),
        "reingest_chunks_written": rep2["chunks_written"],
        "reingest_ratio_wall": round(again["wall_s"] / first["wall_s"], 3),
        "reingest_ratio_pipeline": round(rep2["seconds"] / pipeline_s, 3),
        "peak_rss_mb": round(_peak_rss_mb(paths, work / f"{name}-rss"), 1),
    }
    print(name, json.dumps(figures))
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="faqstream-bench-") as tmp:
        work = Path(tmp)
        xquad = work / "xquad-en"
        write_xquad_paragraphs(xquad)
        results: dict[str, Any] = {
            "demo_corpus": measure("demo", [REPO / "data" / "policies"], work),
            "xquad_en_240": measure("xquad", [xquad], work),
        }
    results["target"] = "unchanged re-ingest < 10% of the first ingest's time"
    results["notes"] = (
        "pipeline_s is the run itself (report.seconds); wall_s adds process start, imports and model load. "
        "Embedding is compute-bound on 2 cores (MiniLM-L6, ~4-5k tokens/s)."
    )
    write_result("ingest_throughput", results)


if __name__ == "__main__":
    main()
