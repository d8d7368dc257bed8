"""Run the fake Anthropic API standalone: ``python -m fakes --port 8901 --first-token-delay 0.3``."""

from __future__ import annotations

import argparse
import signal
import threading

from fakes.anthropic_server import FakeAnthropic


def main() -> None:
    parser = argparse.ArgumentParser(description="Protocol-faithful fake of the Anthropic Messages API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8901)
    parser.add_argument("--first-token-delay", type=float, default=0.0, help="seconds before the first delta")
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds between deltas")
    parser.add_argument("--tokens", type=int, default=40, help="length of the reply in stream tokens")
    args = parser.parse_args()
    reply = " ".join(f"word{i}" for i in range(args.tokens))
    fake = FakeAnthropic(
        reply=reply,
        host=args.host,
        port=args.port,
        first_token_delay_s=args.first_token_delay,
        token_delay_s=args.token_delay,
    ).start()
    print(f"fake Anthropic API on {fake.base_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
