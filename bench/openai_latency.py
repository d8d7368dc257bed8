"""What the OpenAI-compatible adapter adds to time-to-first-token: /v1/chat/completions vs /v1/answers.

The setup of ``bench.service_latency`` (all loopback, one worker): the fake Anthropic API in its own
process (first token after 300 ms, 40 tokens 10 ms apart), ``faqstream serve`` on the demo knowledge
base, no answer cache, a raw asyncio HTTP client. At 1 and 64 concurrent streams both endpoints are
measured in the same run, in alternating rounds (native, OpenAI, native, OpenAI…) so a busy
machine's drift falls on both alike: time to the first text (native ``event: delta``; OpenAI the
first chunk with ``content``) and to the end (``event: done`` / ``data: [DONE]``); the adapter's
added time is the difference of the p50s. Also the service's CPU per answer for each endpoint, and
the adapter's own CPU per answer measured in process (the chunk encoder over a real answer's events
vs the native SSE encoder).

    python -m bench.openai_latency [--rounds 2]

Writes bench/results/issue13/openai_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import psutil

from bench.common import EVAL, REPO, RESULTS, percentile, read_jsonl, write_result
from bench.service_latency import (
    FIRST_TOKEN_S,
    TOKEN_S,
    TOKENS,
    _ms,
    _request,
    _run,
    bench_env,
    ingest_demo,
    start_fake,
)
from tests.service_harness import free_port

LEVELS = ((1, 20), (64, 320))  # streams, requests per endpoint per round
NATIVE = ("/v1/answers", b"event: delta", b"event: done")
OPENAI = ("/v1/chat/completions", b'"delta":{"content":"', b"data: [DONE]")


def _body(path: str, question: str) -> bytes:
    if path == NATIVE[0]:
        return json.dumps({"question": question, "stream": True}).encode()
    messages = [{"role": "user", "content": question}]
    return json.dumps({"model": "faqstream", "messages": messages, "stream": True}).encode()


def encoder_cost_us(repeat: int = 2000) -> dict[str, float]:
    """CPU of serialising one answer (meta, 40 deltas, done) natively and as chat chunks, in µs."""
    from service.answers.events import Delta, Done, Event, Meta
    from service.api.openai_wire import ChatChunks
    from service.api.sse import encode
    from service.core.types import Citation, Usage

    citations = [
        Citation(
            index=i,
            doc_id=f"d{i}",
            title="Refunds",
            source="refunds.md",
            section="Cards",
            score=0.8,
            quote="q" * 400,
        )
        for i in range(1, 6)
    ]
    events: list[Event] = [
        Meta("conv_x", "msg_x", "en", "generative", citations, 3, model="claude-sonnet-4-6"),
        *(Delta(" word") for _ in range(TOKENS)),
        Done("end_turn", Usage(input_tokens=900, output_tokens=40)),
    ]

    def native() -> None:
        for event in events:
            encode(event)

    def openai() -> None:
        chunks = ChatChunks("faqstream", sources=False, include_usage=True)
        for event in events:
            chunks(event)

    def native_first() -> None:
        encode(events[0])
        encode(events[1])

    def openai_first() -> None:
        chunks = ChatChunks("faqstream", sources=False, include_usage=True)
        chunks(events[0])
        chunks(events[1])

    per = {
        name: min(timeit.repeat(fn, number=repeat, repeat=3)) / repeat * 1e6
        for name, fn in (
            ("native", native),
            ("openai", openai),
            ("native_first", native_first),
            ("openai_first", openai_first),
        )
    }
    return {
        "answer_native_us": round(per["native"], 1),
        "answer_openai_us": round(per["openai"], 1),
        "answer_added_us": round(per["openai"] - per["native"], 1),
        "to_first_token_added_us": round(per["openai_first"] - per["native_first"], 1),
    }


def request_cost_us(repeat: int = 5000) -> dict[str, float]:
    """CPU of taking a request body up to the ``AnswerRequest`` the flow is given, in µs: the native
    body, and a chat body (validation, the messages → question and history, the ``AnswerRequest``)."""
    from service.answers.request import AnswerRequest
    from service.api.openai_compat import answer_request, conversation
    from service.api.openai_schemas import ChatCompletionRequest

    question = "How long does a refund to my card take?"
    native_body = json.dumps({"question": question, "stream": True})
    chat_body = json.dumps(
        {"model": "faqstream", "stream": True, "messages": [{"role": "user", "content": question}]}
    )

    def native() -> None:
        AnswerRequest.model_validate_json(native_body)

    def openai() -> None:
        data = ChatCompletionRequest.model_validate_json(chat_body)
        asked, _ = conversation(data.messages)
        answer_request(data, asked, data.conversation_id)

    per = {
        name: min(timeit.repeat(fn, number=repeat, repeat=3)) / repeat * 1e6
        for name, fn in (("native", native), ("openai", openai))
    }
    return {
        "native_us": round(per["native"], 1),
        "openai_us": round(per["openai"], 1),
        "added_us": round(per["openai"] - per["native"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per endpoint and level")
    args = parser.parse_args()
    questions = [r["query"] for r in read_jsonl(EVAL / "faq_queries.jsonl")][:2000]
    fake_port, service_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="faqstream-openai-latency-") as tmp:
        env = bench_env(Path(tmp), service_port, fake_port)
        ingest_demo(env)
        fake = start_fake(fake_port)
        service = subprocess.Popen(
            [sys.executable, "-m", "faqstream", "serve"], cwd=REPO, env=env, stderr=subprocess.DEVNULL
        )
        try:
            assert fake.stdout is not None
            fake.stdout.readline()
            deadline = time.time() + 120
            while True:
                try:
                    for path, first, end in (NATIVE, OPENAI):  # both ready (and warm)
                        asyncio.run(_request(service_port, path, _body(path, "refund?"), "", first, end))
                    break
                except (OSError, RuntimeError):
                    if time.time() > deadline:
                        raise
                    time.sleep(0.5)
            proc = psutil.Process(service.pid)
            results: dict[str, Any] = {
                "upstream": {
                    "first_token_ms": FIRST_TOKEN_S * 1000,
                    "tokens": TOKENS,
                    "token_ms": TOKEN_S * 1000,
                },
                "rounds": args.rounds,
            }
            asked = 0
            for concurrency, per_round in LEVELS:
                seen: dict[str, dict[str, Any]] = {
                    p: {"firsts": [], "ends": [], "errors": 0, "cpu_s": 0.0} for p in (NATIVE[0], OPENAI[0])
                }
                for _ in range(args.rounds):
                    for path, first_marker, end_marker in (NATIVE, OPENAI):
                        offset = asked

                        def call(
                            i: int,
                            path: str = path,
                            offset: int = offset,
                            fm: bytes = first_marker,
                            em: bytes = end_marker,
                        ) -> Any:
                            question = questions[(offset + i) % len(questions)]
                            return _request(service_port, path, _body(path, question), "", fm, em)

                        cpu_before = sum(proc.cpu_times()[:2])
                        run = asyncio.run(_run(concurrency, per_round, call))
                        asked += per_round
                        acc = seen[path]
                        acc["cpu_s"] += sum(proc.cpu_times()[:2]) - cpu_before
                        acc["firsts"] += run["firsts"]
                        acc["ends"] += run["ends"]
                        acc["errors"] += run["errors"]
                level: dict[str, Any] = {}
                for path, acc in seen.items():
                    name = "openai" if path == OPENAI[0] else "native"
                    level[name] = {
                        "requests": len(acc["ends"]),
                        "errors": acc["errors"],
                        "ttft_p50_ms": _ms(acc["firsts"], 0.5),
                        "ttft_p95_ms": _ms(acc["firsts"], 0.95),
                        "end_p50_ms": _ms(acc["ends"], 0.5),
                        "service_cpu_ms_per_answer": round(acc["cpu_s"] * 1000 / max(len(acc["ends"]), 1), 2),
                    }
                native_p50 = percentile(seen[NATIVE[0]]["firsts"], 0.5)
                level["added_ttft_p50_ms"] = round(
                    (percentile(seen[OPENAI[0]]["firsts"], 0.5) - native_p50) * 1000, 2
                )
                level["added_cpu_ms_per_answer"] = round(
                    level["openai"]["service_cpu_ms_per_answer"]
                    - level["native"]["service_cpu_ms_per_answer"],
                    2,
                )
                results[f"streams_{concurrency}"] = level
                print(concurrency, level, flush=True)
            results["encoder_cpu_per_answer"] = encoder_cost_us()
            results["request_cpu"] = request_cost_us()
            added_cpu_ms = (
                results["request_cpu"]["added_us"]
                + results["encoder_cpu_per_answer"]["to_first_token_added_us"]
            ) / 1000
            results["targets"] = {
                "adapter adds < 1 ms p50 at 1 stream (end to end)": results["streams_1"]["added_ttft_p50_ms"],
                "adapter adds < 1 ms p50 at 64 streams (end to end)": results["streams_64"][
                    "added_ttft_p50_ms"
                ],
                "adapter CPU before the first token, ms (in process)": round(added_cpu_ms, 3),
            }
            (RESULTS / "issue13").mkdir(parents=True, exist_ok=True)
            write_result("issue13/openai_latency", results)
            print(json.dumps(results, indent=1))
        finally:
            service.terminate()
            fake.terminate()
            service.wait(timeout=20)
            fake.wait(timeout=20)


if __name__ == "__main__":
    main()
