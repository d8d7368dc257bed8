"""kill -9 in the middle of a real ingest: the old knowledge base stays answerable; the next run repairs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.store.edge import EdgeStore

pytestmark = pytest.mark.slow

DOCS = 24


def _write(folder: Path, edition: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(DOCS):
        body = " ".join(
            f"Policy {i} clause {j}: token{i}x{j} applies to orders in edition {edition}." for j in range(60)
        )
        (folder / f"policy-{i:02d}.md").write_text(f"# Policy {i}\n\n## Terms\n\n{body}\n", encoding="utf-8")


def _ingest(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faqstream", "ingest", str(folder), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _states(path: Path) -> dict[str, tuple[str | None, bool, int]]:
    with EdgeStore(path) as store:
        coll = store.active()
        assert coll is not None
        return {d: (s.doc_hash, s.complete, len(s.chunk_indices)) for d, s in coll.document_states().items()}


def test_kill_during_ingest_keeps_old_kb_and_next_run_repairs(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    docs = tmp_path / "docs"
    _write(docs, "one")
    env = {**child_env, "QDRANT_WRITE_BATCH_SIZE": "6", "CHUNK_TOKENS": "128", "CHUNK_OVERLAP": "16"}
    first = _ingest(docs, env)
    assert first.returncode == 0, first.stderr
    before = _states(Path(env["QDRANT_PATH"]))
    assert len(before) == DOCS and all(complete for _, complete, _ in before.values())

    _write(docs, "two")  # every document changes
    proc = subprocess.Popen(
        [sys.executable, "-m", "faqstream", "--log-level", "INFO", "ingest", str(docs)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 300
    for line in proc.stderr:
        if "wrote" in line and "chunks" in line:
            break
        assert time.monotonic() < deadline, "ingest never wrote a batch"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    mid = _states(Path(env["QDRANT_PATH"]))
    assert set(mid) == set(before), "a document disappeared"
    assert all(n > 0 for _, _, n in mid.values()), "a document lost all its chunks"
    changed = [d for d, (h, _, _) in mid.items() if h != before[d][0]]
    untouched = [d for d, (h, c, _) in mid.items() if h == before[d][0] and c]
    assert untouched, "the kill came too late to leave old documents behind"
    assert len(changed) + len(untouched) == DOCS or any(h is None for h, _, _ in mid.values())

    second = _ingest(docs, env)
    assert second.returncode == 0, second.stderr
    after = _states(Path(env["QDRANT_PATH"]))
    assert all(complete for _, complete, _ in after.values())
    assert all(after[d][0] != before[d][0] for d in after), "some document still has the old content"

    # The repaired index equals a clean build of the same input.
    clean_env = {**env, "QDRANT_PATH": str(tmp_path / "clean")}
    assert _ingest(docs, clean_env).returncode == 0
    assert _states(Path(clean_env["QDRANT_PATH"])) == after
    third = _ingest(docs, env)
    assert '"chunks_written": 0' in third.stdout
