"""Run every benchmark in turn (each writes bench/results/<name>.json)."""

from __future__ import annotations

from bench import cli_startup, ingest_throughput, load_faults, query_speed, retrieval_quality


def main() -> None:
    cli_startup.main()
    ingest_throughput.main()
    retrieval_quality.main()
    query_speed.main()
    load_faults.main([])


if __name__ == "__main__":
    main()
