"""The service's database: one SQLAlchemy engine (PostgreSQL through psycopg 3, or a SQLite file).

``LedgerDatabase`` is blocking; the service uses it from one dedicated thread only
(``service.usage.writer.DatabaseWriter``: the usage ledger, the conversation records). SQLite
runs in WAL mode (readers and other processes' writers coexist) and every transaction starts with
``BEGIN IMMEDIATE``, so DDL is transactional and processes migrating together take turns.
PostgreSQL sessions run in UTC; a connection broken by a server restart is replaced (pre-ping).

Switching a new SQLite file to WAL needs an exclusive lock, and SQLite answers "database is
locked" at once (no busy wait: it would deadlock) to a connection that asks while another is
switching it: processes opening a new database together retry the switch (``_wal``) until the
first has done it; once the file is in WAL the switch is a no-op.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential

from service.settings.database import DatabaseSettings
from service.usage.migrate import upgrade

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
SQLITE_TIMEOUT_S = 30


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


@retry(
    retry=retry_if_exception(_locked),
    wait=wait_random_exponential(multiplier=0.01, max=0.5),
    stop=stop_after_delay(SQLITE_TIMEOUT_S),
    reraise=True,
)
def _wal(dbapi: sqlite3.Connection) -> None:
    dbapi.execute("PRAGMA journal_mode=WAL")


def _sqlite_engine(path: Path) -> Engine:
    url = URL.create("sqlite", database=str(path))
    engine = create_engine(url, connect_args={"timeout": SQLITE_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _connect(dbapi: sqlite3.Connection, _record: Any) -> None:
        dbapi.isolation_level = None  # the driver's own BEGIN is off: ours below
        _wal(dbapi)
        dbapi.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgres_engine(url: str, *, schema: str | None, connect_timeout_s: float) -> Engine:
    options = "-c TimeZone=UTC" + (f" -c search_path={schema}" if schema is not None else "")
    return create_engine(
        make_url(url).set(drivername="postgresql+psycopg"),
        pool_pre_ping=True,
        pool_size=1,
        max_overflow=4,
        connect_args={"connect_timeout": max(int(connect_timeout_s), 1), "options": options},
    )


class LedgerDatabase:
    """The engine, ``migrate``d once and ``close``d at the end."""

    def __init__(self, engine: Engine, *, schema: str | None = None, sqlite_path: Path | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.sqlite_path = sqlite_path

    @classmethod
    def sqlite(cls, path: Path) -> LedgerDatabase:
        return cls(_sqlite_engine(path), sqlite_path=path)

    @classmethod
    def postgres(
        cls, url: str, *, schema: str | None = None, connect_timeout_s: float = 5.0
    ) -> LedgerDatabase:
        """``schema``: a schema of its own (created if missing; tests use one per run), else the
        connection's default ``search_path``."""
        if schema is not None and not _IDENTIFIER.match(schema):
            raise ValueError(f"not a valid SQL identifier: {schema!r}")
        engine = _postgres_engine(url, schema=schema, connect_timeout_s=connect_timeout_s)
        return cls(engine, schema=schema)

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> LedgerDatabase:
        """PostgreSQL when ``DATABASE_URL`` is set, else SQLite at ``DATABASE_SQLITE_PATH``."""
        if settings.url is not None:
            return cls.postgres(settings.url.get_secret_value(), connect_timeout_s=settings.connect_timeout_s)
        return cls.sqlite(settings.sqlite_path)

    def migrate(self) -> None:
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        with self.engine.begin() as connection:
            upgrade(connection, schema=self.schema)

    def close(self) -> None:
        self.engine.dispose()
