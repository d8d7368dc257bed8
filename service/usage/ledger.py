"""Usage ledger: what every answer used and cost, per API key, conversation and UTC day.

``UsageLedger.record(...)`` puts the row on the service database's writer (``writer.py``: one
bounded queue, one database thread, tenacity retries, drained on shutdown), so an answer never waits
for the database. Usage rows are one kind of row there (``USAGE_ROWS``): a batch of them is one
multi-row insert into ``usage_ledger``; a dropped one is logged with its tokens and cost and counted
(``faqstream_ledger_dropped_total``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from prometheus_client import Counter
from sqlalchemy import Connection

from service.core.background import DropReason
from service.core.identifiers import Pseudonyms
from service.usage.records import UsageRecord
from service.usage.schema import usage_ledger
from service.usage.writer import DROP_REASONS, DatabaseWriter, LedgerSettings, LedgerUnavailableError

__all__ = ["LedgerSettings", "LedgerUnavailableError", "UsageLedger", "UsageRecord"]

log = logging.getLogger(__name__)


class UsageRows:
    """``usage_ledger`` rows as a kind of row of the database writer."""

    name = "usage"

    def __init__(self, dropped: Counter) -> None:
        self._dropped = dropped

    def write(self, connection: Connection, rows: Sequence[UsageRecord]) -> None:
        connection.execute(usage_ledger.insert(), [record.row() for record in rows])

    def dropped(self, rows: Sequence[UsageRecord], reason: DropReason) -> None:
        for record in rows:
            self._dropped.inc()
            log.error(
                "usage ledger: dropped %s tokens / $%.6f for key %s conversation %s (%s)",
                record.tokens,
                record.cost_usd,
                record.key_id,
                record.conversation_id,
                DROP_REASONS[reason],
            )


class UsageLedger:
    """Usage rows into the service database: ``record`` (the writer is started and closed by its owner)."""

    def __init__(self, writer: DatabaseWriter, *, pseudonyms: Pseudonyms | None = None) -> None:
        self.writer = writer
        self.pseudonyms = pseudonyms or Pseudonyms()
        dropped = Counter(
            "faqstream_ledger_dropped_total",
            "Usage rows not recorded (queue full or shutdown)",
            registry=writer.registry,
        )
        self.rows = UsageRows(dropped)

    def record(self, record: UsageRecord) -> None:
        """Queue one answer's usage; returns at once, never raises for database trouble. The
        conversation id is written as its pseudonym (``service.core.identifiers``)."""
        tenant = record.tenant or record.key_id
        # The records' and session store's name for it, so ledger rows join conversations.
        pseudonym = self.pseudonyms.conversation(f"{tenant}/{record.conversation_id}")
        self.writer.offer(self.rows, dataclasses.replace(record, conversation_id=pseudonym))

    async def flush(self) -> None:
        """Wait until everything queued on the writer so far (usage rows and the rest) is written."""
        await self.writer.flush()
