"""Run the fake Anthropic API standalone: ``python -m fakes --port 8901 --first-token-delay 0.3``.

``--api-key KEY`` (repeatable) accepts only those keys (401 ``invalid x-api-key`` otherwise); without
it any non-empty key is accepted. ``--fault-rate 0.1 --fault-seed 1`` injects a random fault (see
``fakes.anthropic_faults.RandomFaults``) on 10% of ``POST /v1/messages`` requests. The first stdout
line is ``fake Anthropic API on <url>``; on SIGTERM/SIGINT the fake prints one JSON line of what it
served (``{"stats": {...}}``) and exits.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections import Counter
from typing import Any

from fakes.anthropic_faults import FAULT_KINDS, RandomFaults
from fakes.anthropic_server import FakeAnthropic


def _kinds(value: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"choose from {','.join(FAULT_KINDS)}")
    return kinds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Protocol-faithful fake of the Anthropic Messages API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8901)
    parser.add_argument("--first-token-delay", type=float, default=0.0, help="seconds before the first delta")
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds between deltas")
    parser.add_argument("--tokens", type=int, default=40, help="length of the reply in stream tokens")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only this key (repeatable); default: any non-empty key",
    )
    faults = parser.add_argument_group("random faults")
    faults.add_argument(
        "--fault-rate", type=float, default=0.0, help="fraction of message requests given a fault (0..1)"
    )
    faults.add_argument("--fault-seed", type=int, default=None, help="seed of the fault draws")
    faults.add_argument(
        "--fault-kinds",
        type=_kinds,
        default=FAULT_KINDS,
        help=f"comma-separated, drawn uniformly (default: {','.join(FAULT_KINDS)})",
    )
    faults.add_argument("--fault-retry-after-ms", type=int, default=200, help="retry-after-ms of 429s")
    faults.add_argument(
        "--fault-slow-s", type=float, default=3.0, help="slow_first_byte: silence before the answer"
    )
    faults.add_argument(
        "--fault-max-after-deltas",
        type=int,
        default=5,
        help="drop/error_event: text deltas sent first, drawn from 0..this",
    )
    return parser


def stats(fake: FakeAnthropic, faults: RandomFaults | None) -> dict[str, Any]:
    """What the fake served: message requests (by model, streamed or not), faults, disconnects."""
    messages = fake.message_requests()
    models = Counter(str(r.body.get("model")) for r in messages if isinstance(r.body, dict))
    streamed = sum(1 for r in messages if isinstance(r.body, dict) and r.body.get("stream") is True)
    return {
        "message_requests": len(messages),
        "streamed": streamed,
        "by_model": dict(models),
        "faults": dict(faults.counts) if faults is not None else {},
        "disconnects": len(fake.disconnects),
        "server_errors": len(fake.server_errors),
    }


def main() -> None:
    args = _parser().parse_args()
    reply = " ".join(f"word{i}" for i in range(args.tokens))
    faults = (
        RandomFaults(
            args.fault_rate,
            seed=args.fault_seed,
            kinds=args.fault_kinds,
            retry_after_ms=args.fault_retry_after_ms,
            slow_s=args.fault_slow_s,
            max_after_deltas=args.fault_max_after_deltas,
        )
        if args.fault_rate > 0
        else None
    )
    fake = FakeAnthropic(
        reply=reply,
        host=args.host,
        port=args.port,
        first_token_delay_s=args.first_token_delay,
        token_delay_s=args.token_delay,
        fault_source=faults,
        api_keys=args.api_keys,
    ).start()
    print(f"fake Anthropic API on {fake.base_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    fake.stop()
    print(json.dumps({"stats": stats(fake, faults)}), flush=True)


if __name__ == "__main__":
    main()
