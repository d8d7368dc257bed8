"""What tagging conversations through the Message Batches API costs, against the same requests at the
standard price (issue 14).

N conversations are seeded into a fresh SQLite database (``tests.conversation_seed``), each 1–4
exchanges drawn from the demo FAQ (``data/policies/faq.csv``: the customer asks the question, the
assistant answers with the FAQ answer), so the transcripts have the length of real ones. ``faqstream
batch tag``'s engine (``service.jobs.tagging``, the real anthropic SDK) tags them through the
protocol-faithful fake (``fakes``), which counts tokens like the API and answers the forced tool
with a valid tag. The figures are the ledger's: input and output tokens, the cost at the batch price
(``PriceTable.cost(..., batch=True)``), the standard price of the same usage, and the saving.

    python -m bench.batch_savings [--conversations 200] [--model claude-haiku-4-5]
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anthropic
from sqlalchemy import func, select

from bench.common import REPO, Timer, write_result
from fakes.anthropic_server import FakeAnthropic
from service.jobs.settings import BatchTagSettings
from service.jobs.tag_store import TagStore
from service.jobs.tagging import BatchTagger
from service.llm.pricing import PriceTable
from service.usage.database import LedgerDatabase
from service.usage.schema import usage_ledger
from tests.conversation_seed import seed_conversation


def _exchanges(count: int, seed: int) -> list[list[tuple[str, str]]]:
    with (REPO / "data" / "policies" / "faq.csv").open(encoding="utf-8") as f:
        pairs = [(row["question"], row["answer"]) for row in csv.DictReader(f)]
    rng = random.Random(seed)
    conversations = []
    for _ in range(count):
        exchange: list[tuple[str, str]] = []
        for question, answer in rng.sample(pairs, rng.randint(1, 4)):
            exchange += [("customer", question), ("assistant", answer)]
        conversations.append(exchange)
    return conversations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--model", default="claude-haiku-4-5")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic() as fake:
        db = LedgerDatabase.sqlite(Path(tmp) / "faqstream.db")
        db.migrate()
        for i, exchange in enumerate(_exchanges(args.conversations, args.seed)):
            seed_conversation(db.engine, f"bench-{i}", updated_at=now - timedelta(hours=1), exchange=exchange)
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="bench", max_retries=0)
        tagger = BatchTagger(TagStore(db.engine), client, PriceTable(), BatchTagSettings(), model=args.model)
        with Timer() as timer:
            summary = tagger.run(now - timedelta(days=1), wait=True)
        with db.engine.connect() as c:
            tokens = c.execute(
                select(func.sum(usage_ledger.c.input_tokens), func.sum(usage_ledger.c.output_tokens))
            ).one()
        db.close()
        creates = len(fake.batch_creates())
    per = max(summary.tagged, 1)
    write_result(
        "batch_savings",
        {
            "model": args.model,
            "conversations": args.conversations,
            "batches": creates,
            "tagged": summary.tagged,
            "failed": summary.failed,
            "input_tokens": int(tokens[0] or 0),
            "output_tokens": int(tokens[1] or 0),
            "batch_cost_usd": summary.cost_usd,
            "standard_cost_usd": summary.standard_usd,
            "saved_usd": summary.saved_usd,
            "saved_share": round(summary.saved_usd / summary.standard_usd, 4)
            if summary.standard_usd
            else 0.0,
            "batch_cost_per_conversation_usd": round(summary.cost_usd / per, 8),
            "standard_cost_per_conversation_usd": round(summary.standard_usd / per, 8),
            "run_s": round(timer.seconds, 3),
            "fake": "fakes.anthropic_server (tokens counted like the API; a valid minimal tag as the answer)",
        },
    )
    print(
        f"{summary.tagged} conversations tagged in {creates} batch: ${summary.cost_usd:.6f} at the batch "
        f"price, ${summary.standard_usd:.6f} standard, saved ${summary.saved_usd:.6f}"
    )


if __name__ == "__main__":
    main()
