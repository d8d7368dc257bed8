"""Progress bar on a terminal, nothing on a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus import write_corpus

pytestmark = pytest.mark.slow


def test_progress_bar_only_on_a_terminal(tmp_path: Path, child_env: dict[str, str]) -> None:
    docs = write_corpus(tmp_path / "docs")
    master, slave = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "faqstream", "ingest", str(docs)],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=slave,
        timeout=600,
        check=False,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.returncode == 0
    tty_err = b"".join(chunks).decode(errors="replace")
    assert "embedding" in tty_err and "doc" in tty_err and "7/7" in tty_err

    (docs / "returns.md").write_text("# Returns\n\nNow 45 days.", encoding="utf-8")
    piped = subprocess.run(
        [sys.executable, "-m", "faqstream", "ingest", str(docs)],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert piped.returncode == 0 and piped.stderr.strip() == ""
