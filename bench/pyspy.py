"""Where a process's CPU goes: py-spy samples of it, summarised by the part of faqstream they belong to.

`record(pid, raw_path)` starts py-spy (non-blocking sampling, one line per distinct stack
in its "raw" collapsed format, thread names included) until `stop`; `summarise(raw_path)`
reads that file back into shares of samples per owner (the owner of the innermost frame that has one:
a stack through the embedder counts as embedding even when its leaf is numpy), per thread, and the
hottest leaf functions. py-spy is a dev tool: `pip install py-spy`.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# (owner, pattern on a frame "function (file:line)"). A stack belongs to the owner of its innermost
# frame that has one: json under the SDK is the SDK's, a uvicorn write called from our SSE relay is
# uvicorn's, numpy under the router is routing's.
OWNERS: tuple[tuple[str, str], ...] = (
    ("query embedding (ONNX, tokenizer)", r"knowledge/embedder|knowledge/packaged_e5|onnxruntime|tokenizers"),
    ("hybrid search (Qdrant, sparse)", r"qdrant|knowledge/sparse|knowledge/search|knowledge/store"),
    ("language id", r"lingua|knowledge/language|reply_language|core/languages"),
    ("small talk", r"service/smalltalk"),
    ("routing", r"service/routing"),
    ("handoff", r"service/handoff"),
    ("ledger (usage)", r"service/usage|sqlalchemy|sqlite3"),
    ("conversations, PII", r"service/conversations|service/privacy"),
    ("metrics", r"prometheus_client|core/metrics|llm/metrics"),
    ("prompt building", r"answers/prompts|answers/digest"),
    ("Anthropic SDK", r"anthropic/"),
    ("aiohttp client", r"aiohttp/|httpx/|httpcore/"),
    ("LLM wrapper (service/llm, tenacity)", r"service/llm|tenacity/"),
    ("retrieval (service/retrieval, thread hand-off)", r"service/retrieval|concurrent/futures"),
    ("answer flow (service/answers)", r"service/answers"),
    ("HTTP layer (service/api)", r"service/api"),
    ("service (other)", r"service/"),
    ("Litestar, msgspec, pydantic", r"litestar/|msgspec|pydantic"),
    ("uvicorn / httptools", r"uvicorn/|httptools"),
    ("event loop (asyncio, uvloop)", r"asyncio/|uvloop"),
)
_COMPILED = [(name, re.compile(pattern)) for name, pattern in OWNERS]


def record(pid: int, raw_path: Path) -> subprocess.Popen[bytes]:
    """Sample until stopped with `stop`."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--nonblocking",
            "--threads",
            "--format",
            "raw",
            "--rate",
            "200",
            "--output",
            str(raw_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(spy: subprocess.Popen[bytes]) -> None:
    """py-spy writes its file when interrupted."""
    spy.send_signal(signal.SIGINT)
    spy.wait(timeout=60)


def _owner(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in _COMPILED:
            if pattern.search(frame):
                return name
    return "other"


def summarise(raw_path: Path, top: int = 25) -> dict[str, Any]:
    owners: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw_path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[0] if frames and frames[0].startswith(("thread ", "process ")) else "?"
        frames = [f for f in frames if not f.startswith(("thread ", "process "))]
        total += count
        owners[_owner(frames)] += count
        threads[re.sub(r"\(0x[0-9a-fA-F]+\)", "", thread).strip()] += count
        leaves[re.sub(r":\d+\)$", ")", frames[-1]) if frames else "?"] += count

    def shares(counter: Counter[str], n: int | None = None) -> dict[str, float]:
        return {k: round(100 * v / max(total, 1), 1) for k, v in counter.most_common(n)}

    return {
        "samples": total,
        "share_pct_by_owner": shares(owners),
        "share_pct_by_thread": shares(threads),
        "share_pct_top_leaf_functions": shares(leaves, top),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(summarise(Path(sys.argv[1])), indent=1))
