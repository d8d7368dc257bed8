"""`faqstream --help` wall time (the CLI defers heavy imports to the subcommands).

Writes bench/results/cli_startup.json.
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench.common import REPO, summary_ms, write_result


def main() -> None:
    samples = []
    for _ in range(10):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "faqstream", "--help"], cwd=REPO, check=True, capture_output=True
        )
        samples.append(time.perf_counter() - started)
    figures = {"help": summary_ms(samples), "target": "under 1 s"}
    print(figures)
    write_result("cli_startup", figures)


if __name__ == "__main__":
    main()
