"""The shipped labelled set (data/eval/answers.jsonl) through ``faqstream eval answers``, on the demo
corpus (data/policies) ingested into a fresh store: once extractive (no ANTHROPIC_API_KEY), once
generative against the fake Anthropic API (fakes/, its default reply: two markers [1] [2], no
quotes, English). The fake run measures the pipeline and the scoring, not a model.

    python -m bench.eval_answers [--store DIR]   (DIR: an ingested store to reuse)

Writes bench/results/issue14/eval_answers.json (its summaries carry every metric of the command,
``fact_hit`` over the ``fact_questions`` labelled with ``facts`` included).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import MODEL_CACHE, REPO, RESULTS, write_result
from fakes import FakeAnthropic

LABELS = REPO / "data" / "eval" / "answers.jsonl"


def run_eval(env: dict[str, str]) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "faqstream", "eval", "answers", str(LABELS), "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    report: dict[str, Any] = json.loads(out.stdout)
    return report, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, help="an already ingested store of data/policies")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "QDRANT_", "DATABASE_"))
        }
        env.update(
            QDRANT_PATH=str(args.store or Path(tmp) / "qdrant"),
            DATABASE_SQLITE_PATH=str(Path(tmp) / "eval.db"),
            EMBEDDING_CACHE_DIR=str(MODEL_CACHE),
            HF_HUB_OFFLINE="1",
            PYTHONPATH=str(REPO),
        )
        if args.store is None:
            subprocess.run(
                [sys.executable, "-m", "faqstream", "ingest", str(REPO / "data" / "policies")],
                cwd=REPO,
                env=env,
                capture_output=True,
                check=True,
            )
        runs: dict[str, Any] = {}
        report, seconds = run_eval(env)
        runs["extractive"] = {"seconds": round(seconds, 1), **report}
        with FakeAnthropic() as fake:
            report, seconds = run_eval(
                {**env, "ANTHROPIC_API_KEY": "fake", "ANTHROPIC_BASE_URL": fake.base_url}
            )
        runs["fake_anthropic"] = {"seconds": round(seconds, 1), **report}
    for name, run in runs.items():
        print(name, json.dumps(run["summaries"][0]))
    (RESULTS / "issue14").mkdir(parents=True, exist_ok=True)
    write_result(
        "issue14/eval_answers",
        {
            "command": "faqstream eval answers data/eval/answers.jsonl --json",
            "labels": str(LABELS.relative_to(REPO)),
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
