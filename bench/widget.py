"""The web chat's figures in a real browser: first paint, time to the first streamed character and
page weight, recorded by ``tests/integration/web_chat/test_chat_answers.py`` (Debian's chromium, the real
service, the fake Anthropic API) into ``bench/results/issue13/widget.json``.

    python -m bench.widget
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "bench" / "results" / "issue13" / "widget.json"


def main() -> int:
    env = {**os.environ, "FAQSTREAM_WIDGET_FIGURES": str(RESULT), "HF_HUB_OFFLINE": "1"}
    test = str(REPO / "tests" / "integration" / "web_chat" / "test_chat_answers.py")
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", test], cwd=REPO, env=env)
    if code == 0:
        print(RESULT.read_text(encoding="utf-8"))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
