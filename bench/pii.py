"""PII detection quality and where personal data ends up (issue 12).

    python -m bench.pii [--seed 12] [--scale 1] [--probe 40] [--no-probe]

1. **Precision and recall** of ``service.privacy.pii.find_pii`` on the labelled set of
   ``bench.pii_cases`` (generated, seeded: valid and invalid-checksum cards, IBANs and national
   IDs of many countries, phone numbers in many countries' formats, e-mails; order and invoice
   numbers, SKUs, tracking numbers, prices and dates as negatives), and the Mexican and Brazilian
   cases of ``bench.pii_cases_mx_br`` (RFCs, CLABEs; postal codes and law numbers as negatives,
   from their own seed, so the rest of the set is unchanged). A positive counts as found
   when a match of its kind overlaps it; as *redacted* when ``redact`` leaves none of its
   characters' digit run behind (whatever the kind). Any other match is a false positive.
2. **PII by sink**: the real service (Redis conversations and answer cache, the SQLite usage
   ledger, a webhook receiver, translation, LLM routing and conversation summaries on) answers
   ``--probe`` questions carrying valid values from the set, in conversations of four turns, some
   asking for a person (a handoff webhook). Counted: how many of the values sent appear in the
   upstream requests the fake Anthropic server recorded, the log lines, Redis, the ledger rows and
   the webhook bodies (target 0).

Writes bench/results/issue12/pii.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sqlite3
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from bench import pii_cases, pii_cases_mx_br
from bench.common import RESULTS, write_result
from bench.pii_cases import Case, labelled_set
from bench.pii_cases_mx_br import mx_br_set
from service.privacy.pii import find_pii, redact

KINDS = ("email", "phone", "card", "iban", "national_id")
REDIS_URL = "redis://127.0.0.1:6379/0"


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _leaks(value: str, redacted: str) -> bool:
    return value in redacted or value.replace(" ", "") in redacted.replace(" ", "")


def score(cases: list[Case]) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    redacted_ok = positives = 0
    family: dict[str, Counter[str]] = defaultdict(Counter)
    misses: list[dict[str, str]] = []
    false_alarms: list[dict[str, str]] = []
    for case in cases:
        matches = find_pii(case.text)
        start = case.text.index(case.value)
        end = start + len(case.value)
        on_value = [m for m in matches if m.start < end and m.end > start]
        others = [m for m in matches if m not in on_value]
        stats = family[case.family]
        stats["cases"] += 1
        if case.kind is None:
            for m in matches:
                fp[m.kind] += 1
            if matches:
                stats["flagged"] += 1
                false_alarms.append({"family": case.family, "text": case.text})
            continue
        positives += 1
        if any(m.kind == case.kind for m in on_value):
            tp[case.kind] += 1
            stats["found"] += 1
        else:
            fn[case.kind] += 1
            for m in on_value:
                fp[m.kind] += 1
            misses.append({"family": case.family, "text": case.text})
        for m in others:
            fp[m.kind] += 1
        if not _leaks(case.value, redact(case.text)):
            redacted_ok += 1
            stats["redacted"] += 1
    per_kind = {
        k: {
            "positives": tp[k] + fn[k],
            "found": tp[k],
            "false_positives": fp[k],
            "precision": _ratio(tp[k], tp[k] + fp[k]),
            "recall": _ratio(tp[k], tp[k] + fn[k]),
        }
        for k in KINDS
    }
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    negatives = [c for c in cases if c.kind is None]
    flagged_negatives = sum(family[f]["flagged"] for f in {c.family for c in negatives})
    return {
        "cases": len(cases),
        "positives": positives,
        "negatives": len(negatives),
        "overall": {
            "precision": _ratio(all_tp, all_tp + all_fp),
            "recall": _ratio(all_tp, all_tp + all_fn),
            "redaction_recall": _ratio(redacted_ok, positives),
            "negatives_flagged": flagged_negatives,
            "negative_false_positive_rate": _ratio(flagged_negatives, len(negatives)),
        },
        "per_kind": per_kind,
        "per_family": {
            name: {
                "cases": s["cases"],
                **(
                    {"flagged": s["flagged"]}
                    if name.split("/")[0] in {"lookalike", *_NEGATIVE_FAMILIES}
                    else {"found": s["found"], "redacted": s["redacted"]}
                ),
            }
            for name, s in sorted(family.items())
        },
        "misses": misses[:40],
        "false_alarms": false_alarms[:40],
    }


_NEGATIVE_FAMILIES = {*pii_cases.NEGATIVE_FAMILIES, *pii_cases_mx_br.NEGATIVE_FAMILIES}


# --- PII by sink ---------------------------------------------------------------------------

HANDOFF_PREFIX = "I want to talk to a human agent. "
FOLLOW_UPS = ("How long does a refund take?", "And for a card payment?", "Can I change my delivery address?")


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _captured_logs() -> Iterator[_Lines]:
    handler = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _redis_dump(prefix: str) -> str:
    client = redis.Redis.from_url(REDIS_URL)
    parts: list[str] = []
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        for key in keys:
            kind = client.type(key)
            value: Any = b""
            if kind == b"string":
                value = client.get(key)
            elif kind == b"hash":
                value = client.hgetall(key)
            elif kind == b"list":
                value = client.lrange(key, 0, -1)
            elif kind == b"zset":
                value = client.zrange(key, 0, -1)
            elif kind == b"set":
                value = client.smembers(key)
            parts += [
                key.decode(errors="replace"),
                value.decode() if isinstance(value, bytes) else repr(value),
            ]
        if keys:
            client.delete(*keys)
    finally:
        client.close()
    return "\n".join(parts)


def _ledger_dump(path: Path) -> str:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        return repr([row for table in tables for row in db.execute(f'select * from "{table}"')])


def probe(cases: list[Case], questions: int, seed: int) -> dict[str, Any]:
    """Ask the real service ``questions`` questions with valid values; count the values per sink."""
    from pydantic import SecretStr

    from fakes import FakeAnthropic
    from service.caching import CacheSettings
    from service.conversations.store import ConversationSettings
    from service.handoff.settings import HandoffSettings
    from service.notify.webhooks import WebhookSettings
    from service.retrieval.translate import TranslateSettings
    from service.routing.settings import RouterSettings
    from service.settings.redis import RedisSettings
    from tests.corpus import write_corpus
    from tests.service_harness import FAST_RETRIES, MIN_CACHE, REPLY, ask, in_process, ingested_template
    from tests.service_harness import service_settings as make_settings
    from tests.webhook_receiver import Receiver

    rng = random.Random(seed)
    sample = rng.sample([c for c in cases if c.kind is not None], questions)
    prefix = f"bench-pii-{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as tmp, Receiver().running() as receiver:
        root = Path(tmp)
        template = ingested_template(root / "template", write_corpus(root / "docs"))
        with FakeAnthropic(reply=REPLY, min_cache_tokens=MIN_CACHE) as fake:
            components = {
                "resilience": FAST_RETRIES,
                "redis": RedisSettings(url=REDIS_URL, key_prefix=prefix),  # type: ignore[arg-type]
                "cache": CacheSettings(answers=True),
                "translate": TranslateSettings(mode="always"),
                "router": RouterSettings(kind="llm"),
                "conversation": ConversationSettings(max_turns=2),
                "handoff": HandoffSettings(webhook_url=receiver.url),
                "webhook": WebhookSettings(
                    backoff_initial_s=0.01, backoff_max_s=0.05, secret=SecretStr("bench-pii-webhook-secret")
                ),
            }
            settings = make_settings(
                template, root / "svc", api_key="test-key", base_url=fake.base_url, components=components
            )
            with _captured_logs() as logs, in_process(settings) as served:
                conversation: str | None = None
                for n, case in enumerate(sample):
                    text = (HANDOFF_PREFIX + case.text) if n % 8 == 7 else f"{case.text}. {FOLLOW_UPS[n % 3]}"
                    answer = ask(served.client, text, conversation_id=conversation)
                    conversation = None if n % 4 == 3 else answer.meta["conversation_id"]
                    served.settle()
                served.settle()
                upstream = "\n".join(json.dumps(r.body, ensure_ascii=False) for r in fake.message_requests())
                systems = Counter(
                    str(r.body.get("system", ""))[:24] if not r.body.get("stream") else "answer"
                    for r in fake.message_requests()
                )
            assert settings.database.sqlite_path is not None
            sinks = {
                "upstream": upstream,
                "logs": "\n".join(logs.lines),
                "redis": _redis_dump(prefix),
                "database": _ledger_dump(settings.database.sqlite_path),
                "webhooks": "\n".join(json.dumps(d.body, ensure_ascii=False) for d in receiver.deliveries),
            }
    found = {
        name: sorted({c.family for c in sample if _leaks(c.value, text)}) for name, text in sinks.items()
    }
    return {
        "values_sent": len(sample),
        "kinds_sent": dict(Counter(c.kind for c in sample)),
        "upstream_requests": dict(systems),
        "webhook_deliveries": sinks["webhooks"].count('"type"'),
        "valid_values_found": {
            name: sum(_leaks(c.value, text) for c in sample) for name, text in sinks.items()
        },
        "families_found": found,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--scale", type=int, default=1, help="multiplies the cases per family")
    parser.add_argument("--probe", type=int, default=40, help="questions sent to the service")
    parser.add_argument("--no-probe", action="store_true", help="detection figures only (no service)")
    args = parser.parse_args(argv)
    cases = labelled_set(args.seed, args.scale) + mx_br_set(args.seed, args.scale)
    figures: dict[str, Any] = {"seed": args.seed, "scale": args.scale, "detection": score(cases)}
    overall = figures["detection"]["overall"]
    print(json.dumps({"overall": overall, "per_kind": figures["detection"]["per_kind"]}, indent=2))
    if not args.no_probe:
        figures["sinks"] = probe(cases, args.probe, args.seed)
        print(json.dumps(figures["sinks"], indent=2))
    (RESULTS / "issue12").mkdir(parents=True, exist_ok=True)
    write_result("issue12/pii", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
