"""The service's database as one process holds it: one writer of every background row
(``service.usage.writer``: one queue, one thread, one engine, migrated at start), the usage ledger
and the conversation records on it (the records unless ``RECORDS_ENABLED=false``; their retention,
``RECORDS_RETENTION_DAYS``, applied in the background), and the API keys' store on the same engine.
Built by ``open_storage`` inside the runtime's exit stack, so the writer drains and closes with the
rest of the process."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from service.api.settings import AppSettings
from service.core.identifiers import Pseudonyms
from service.privacy.redaction import Redaction
from service.records.retention import RetentionJob
from service.records.store import RecordStore
from service.tenants.store import KeyStore
from service.usage.ledger import UsageLedger
from service.usage.writer import open_writer


@dataclass(frozen=True)
class Storage:
    ledger: UsageLedger
    records: RecordStore | None
    keys: KeyStore


async def open_storage(  # the composition root hands over what it built, in order
    settings: AppSettings,
    stack: contextlib.AsyncExitStack,
    registry: CollectorRegistry,
    pseudonyms: Pseudonyms,
    redaction: Redaction,
) -> Storage:
    """Migrate the database and start its writer (closed by ``stack``). Raises
    ``LedgerUnavailableError`` when the database cannot be reached or migrated."""
    database = await stack.enter_async_context(
        open_writer(settings.database, settings.ledger, registry=registry)
    )
    days = settings.records.retention_days
    if days is not None:  # applied whether or not new records are written (RECORDS_ENABLED)
        retention = RetentionJob(database, days, settings.records.prune_every_s, registry)
        retention.start()
        stack.push_async_callback(retention.aclose)  # stopped before the writer closes
    return Storage(
        ledger=UsageLedger(database, pseudonyms=pseudonyms),
        records=RecordStore.enabled(database, settings.records, pseudonyms=pseudonyms, redaction=redaction),
        keys=KeyStore(database.database),  # the same engine, closed with the writer
    )
