"""``faqstream batch tag|status``: the Message Batches jobs over the conversation records.

``tag`` tags finished conversations (``service.jobs.tagging``) — resumable: run it again after a
crash or with ``--no-wait`` and it picks up the jobs in flight. Progress goes to stderr, the summary
to stdout (``--json`` for a machine-readable one). Exit codes: 0 done; 1 some conversations could not
be tagged (asked again by a later run) or jobs are still in flight; 3 could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.jobs.tag_store import TagStore
    from service.jobs.tagging import RunSummary

EXIT_OK, EXIT_INCOMPLETE = 0, 1


def _since(value: str) -> datetime:
    """A day (``2026-12-01``, midnight UTC) or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {value!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    batch = sub.add_parser(
        "batch",
        help="Message Batches jobs over the conversation records (tagging)",
        description="Jobs sent to the Message Batches API at its batch price. They need ANTHROPIC_API_KEY "
        "(ANTHROPIC_BASE_URL for another endpoint) and the database (DATABASE_URL or DATABASE_SQLITE_PATH).",
    )
    batch_sub = batch.add_subparsers(dest="batch_command", required=True, metavar="ACTION")
    tag = batch_sub.add_parser(
        "tag",
        help="tag finished conversations: satisfaction 1-5, escalate, resolved, reason",
        description="Tag the conversations updated since --since and idle for BATCH_TAG_IDLE_MINUTES, that "
        "are not tagged yet or went on after their tag (tagged again, the tag replaced), one batch "
        "request each; the summary counts those skipped as still open. Safe to interrupt or kill: the "
        "next run finds the jobs in flight, never submits a batch twice, and stores every result once. "
        "Conversations whose result failed are asked again by later runs (up to BATCH_TAG_MAX_ATTEMPTS "
        "times).",
    )
    tag.add_argument(
        "--since", required=True, type=_since, metavar="DATE", help="YYYY-MM-DD or ISO 8601 time"
    )
    tag.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait for the batches to end and store their results (default); --no-wait submits and "
        "stores what has already ended, and a later run collects the rest",
    )
    tag.add_argument(
        "--poll-max-s",
        type=float,
        metavar="SECONDS",
        help="longest wait between status checks (BATCH_TAG_POLL_MAX_S)",
    )
    tag.add_argument("--json", action="store_true", help="the summary as JSON")
    status = batch_sub.add_parser("status", help="the latest jobs: state, requests, tagged, failed, cost")
    status.add_argument("--limit", type=int, default=20, help="how many jobs (default 20)")
    status.add_argument("--json", action="store_true")


def _store() -> TagStore:
    from service.jobs.tag_store import TagStore
    from service.settings.database import DatabaseSettings
    from service.usage.database import LedgerDatabase

    database = LedgerDatabase.from_settings(DatabaseSettings())
    database.migrate()
    return TagStore(database.engine)


def run(args: argparse.Namespace) -> int:
    store = _store()
    try:
        return _tag(args, store) if args.batch_command == "tag" else _status(args, store)
    finally:
        store.engine.dispose()


def _progress(line: str) -> None:
    print(f"batch: {line}", file=sys.stderr, flush=True)


def _tag(args: argparse.Namespace, store: TagStore) -> int:
    import anthropic

    from knowledge.errors import ConfigError, FaqstreamError
    from service.jobs.settings import BatchTagSettings
    from service.jobs.tagging import BatchTagger
    from service.llm.pricing import PriceTable, PricingSettings
    from service.settings.anthropic import AnthropicSettings

    claude = AnthropicSettings()
    if claude.api_key is None:
        raise ConfigError(
            "batch tag needs ANTHROPIC_API_KEY", hint="set it (and ANTHROPIC_BASE_URL for a gateway)"
        )
    settings = BatchTagSettings()
    model = settings.model or claude.model
    prices = PriceTable(PricingSettings())
    prices.require([model])  # an unpriced model fails before anything is submitted
    client = anthropic.Anthropic(
        api_key=claude.api_key.get_secret_value(),
        base_url=claude.base_url,
        max_retries=4,  # reads only: create is sent without retries (service.jobs.tagging)
        timeout=anthropic.Timeout(claude.timeout_s, connect=claude.connect_timeout_s),
    )
    with client:
        tagger = BatchTagger(store, client, prices, settings, model=model, progress=_progress)
        try:
            summary = tagger.run(args.since, wait=args.wait, poll_max_s=args.poll_max_s)
        except anthropic.APIError as exc:  # reading a batch failed past the retries: nothing is lost
            raise FaqstreamError(
                f"the Message Batches API failed: {exc}",
                hint="run again: the jobs in flight are resumed where they stopped",
            ) from exc
    _print_summary(summary, as_json=args.json)
    return EXIT_INCOMPLETE if summary.failed or summary.in_flight else EXIT_OK


def _print_summary(summary: RunSummary, *, as_json: bool) -> None:
    figures = {
        "submitted_jobs": summary.submitted_jobs,
        "submitted": summary.submitted_requests,
        "collected_jobs": summary.collected_jobs,
        "tagged": summary.tagged,
        "failed": summary.failed,
        "in_flight_jobs": summary.in_flight,
        "cost_usd": summary.cost_usd,
        "standard_cost_usd": summary.standard_usd,
        "saved_usd": summary.saved_usd,
        "not_idle": summary.not_idle,
    }
    if as_json:
        print(json.dumps(figures))
        return
    print(
        f"submitted {summary.submitted_requests} conversations in {summary.submitted_jobs} batches; "
        f"collected {summary.collected_jobs} batches: {summary.tagged} tagged, {summary.failed} failed"
    )
    print(
        f"cost ${summary.cost_usd:.6f} at the batch price (standard ${summary.standard_usd:.6f}, "
        f"saved ${summary.saved_usd:.6f})"
    )
    if summary.in_flight:
        print(f"{summary.in_flight} jobs still in flight: run `faqstream batch tag` again to collect them")
    if summary.not_idle:
        print(
            f"skipped {summary.not_idle} conversations still open: updated less than "
            f"BATCH_TAG_IDLE_MINUTES ({summary.idle_minutes:g}) minutes ago; a later run tags them "
            "(set BATCH_TAG_IDLE_MINUTES lower to tag them sooner)"
        )


def _status(args: argparse.Namespace, store: TagStore) -> int:
    jobs = store.jobs(limit=args.limit)
    ids = [job.id for job in jobs]
    tagged, costs = store.tag_counts(ids), store.job_costs(ids)
    rows: list[dict[str, Any]] = [
        {
            "job": job.id,
            "status": job.status,
            "batch_id": job.batch_id,
            "created_at": job.created_at.isoformat(),
            "requests": job.requests,
            "tagged": tagged.get(job.id, 0),
            "failed": len(job.failures or {}),
            "cost_usd": round(costs.get(job.id, 0.0), 8),
        }
        for job in reversed(jobs)
    ]
    if args.json:
        print(json.dumps(rows))
        return EXIT_OK
    if not rows:
        print("no batch jobs yet")
    for row in rows:
        print(
            f"{row['created_at'][:19]}  {row['job']}  {row['status']:<10} {row['batch_id'] or '-'}  "
            f"requests {row['requests']}  tagged {row['tagged']}  failed {row['failed']}  "
            f"${row['cost_usd']:.6f}"
        )
    return EXIT_OK
