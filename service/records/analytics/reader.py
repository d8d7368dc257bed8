"""Where the analytics read: an engine on the service's database (``DATABASE_URL``, else the SQLite
file) and one read snapshot per report — a deferred transaction on SQLite in WAL mode (unlike the
writers' ``BEGIN IMMEDIATE`` in ``service.usage.database``, a report never takes the write lock,
so it never holds up the ledger or the records writer), ``REPEATABLE READ`` read-only on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from knowledge.errors import FaqstreamError
from service.records.analytics.figures import Analytics, Cells, DateRange, analytics
from service.records.analytics.queries import AnalyticsQueries
from service.settings.database import DatabaseSettings
from service.usage.database import LedgerDatabase


class AnalyticsUnavailableError(FaqstreamError):
    """The records database could not be read (HTTP 503, retryable)."""

    status = 503
    code = "store_unavailable"
    retryable = True


def reader_engine(settings: DatabaseSettings) -> Engine:
    """An engine for reading: PostgreSQL (``DATABASE_URL``) or the SQLite file, which must exist
    (a misspelled ``DATABASE_SQLITE_PATH`` is reported, not created empty)."""
    if settings.url is not None:
        url = settings.url.get_secret_value()
        return LedgerDatabase.postgres(url, connect_timeout_s=settings.connect_timeout_s).engine
    path = settings.sqlite_path
    if not Path(path).is_file():
        raise AnalyticsUnavailableError(
            f"there is no database at {Path(path).resolve()} (DATABASE_SQLITE_PATH)",
            hint="point DATABASE_SQLITE_PATH (or DATABASE_URL) at the service's database",
        )
    return sqlite_reader(Path(path))


def sqlite_reader(path: Path) -> Engine:
    """A SQLite engine whose transactions begin deferred: a read snapshot, no write lock."""
    engine = create_engine(URL.create("sqlite", database=str(path)), connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi: sqlite3.Connection, _record: Any) -> None:
        dbapi.isolation_level = None  # the driver's own transaction handling is off: ours below

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One read-only transaction over a consistent snapshot."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin():
            yield connection


def report(engine: Engine, span: DateRange, tenant: str | None = None, *, top: int = 10) -> Analytics:
    """The analytics of ``span`` (one tenant, or all); blocking. Raises ``AnalyticsUnavailableError``."""
    try:
        with snapshot(engine) as connection:
            queries = AnalyticsQueries(connection, span, tenant)
            cells: Cells = {}
            intents = queries.messages(cells)
            queries.conversations(cells)
            queries.feedback(cells)
            queries.ledger(cells)
            gaps = queries.gaps(top)
    except SQLAlchemyError as exc:
        raise AnalyticsUnavailableError(
            f"the records database could not be read: {type(exc).__name__}: {str(exc).splitlines()[0]}",
            hint="check DATABASE_URL (or DATABASE_SQLITE_PATH); a database from before the records "
            "tables is migrated when the service starts",
        ) from exc
    return analytics(span, tenant, cells, intents, gaps, top=top)
