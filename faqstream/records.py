"""``faqstream records prune``: apply a retention to the conversation records now.

The service applies ``RECORDS_RETENTION_DAYS`` by itself (``service/records/retention.py``); this
command is for a one-off clean-up, a cron job, or a service run without the setting. It deletes the
conversations not updated for ``--older-than`` days (default: ``RECORDS_RETENTION_DAYS``) with
their messages, handoffs, feedback and tags (``CHUNK`` conversations per transaction);
``--dry-run`` counts them.
"""

from __future__ import annotations

import argparse
import json

from knowledge.errors import ConfigError


class _UsageError(ConfigError):
    """The command was asked wrongly (exit 2, like argparse's own errors)."""

    exit_code = 2


def _days(text: str) -> float:
    from service.records.store import MAX_RETENTION_DAYS

    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 1 <= days <= MAX_RETENTION_DAYS:  # also nan and inf
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_RETENTION_DAYS} days")
    return days


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    records = sub.add_parser(
        "records",
        help="the conversation records in the service database (retention)",
        description="The conversation records the service stores (DATABASE_URL or DATABASE_SQLITE_PATH).",
    )
    records_sub = records.add_subparsers(dest="records_command", required=True, metavar="ACTION")
    prune = records_sub.add_parser(
        "prune",
        help="delete conversations not updated for N days, with everything recorded of them",
        description="Delete the conversations last updated more than --older-than days ago, with their "
        "messages, handoffs, feedback and batch tags (whole conversations: one still going on keeps its "
        "old messages). The usage ledger is kept (billing; no message text).",
    )
    prune.add_argument(
        "--older-than",
        type=_days,
        metavar="DAYS",
        help="days since a conversation's last message (default: RECORDS_RETENTION_DAYS)",
    )
    prune.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
    prune.add_argument("--json", action="store_true", help="print the counts as JSON")


def run(args: argparse.Namespace) -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from service.records.retention import cutoff_for, expired_counts, pruning, total
    from service.records.store import RecordSettings
    from service.settings.database import DatabaseSettings
    from service.usage.database import LedgerDatabase
    from service.usage.writer import LedgerUnavailableError

    days = args.older_than or RecordSettings().retention_days
    if days is None:
        raise _UsageError("records prune needs --older-than DAYS", hint="or set RECORDS_RETENTION_DAYS")
    settings = DatabaseSettings()
    if settings.url is None and not settings.sqlite_path.exists():  # a typo must not look like a prune
        raise ConfigError(
            f"there is no service database at {settings.sqlite_path}",
            hint="set DATABASE_SQLITE_PATH (or DATABASE_URL) as the service has it",
        )
    database = LedgerDatabase.from_settings(settings)
    try:
        database.migrate()
        cutoff = cutoff_for(days)
        if args.dry_run:
            with database.engine.connect() as connection:
                pruned = expired_counts(connection, cutoff)
        else:
            pruned = total(cutoff, pruning(database.engine, cutoff))
    except (SQLAlchemyError, CommandError, OSError) as exc:
        raise LedgerUnavailableError(
            f"service database unavailable: {type(exc).__name__}: {exc}",
            hint="check DATABASE_URL (or DATABASE_SQLITE_PATH when it is unset)",
        ) from exc
    finally:
        database.close()
    if args.json:
        print(json.dumps({"cutoff": pruned.cutoff.isoformat(), "dry_run": args.dry_run, "rows": pruned.rows}))
    else:
        verb = "would delete" if args.dry_run else "deleted"
        before = f"{pruned.cutoff:%Y-%m-%d %H:%M} UTC"
        print(f"{verb} {pruned.describe()} (conversations last updated before {before})")
    return 0
