"""Alembic, run from code: bring the database's schema (the usage ledger, the API keys) to the
newest revision at start-up.

``upgrade(connection)`` runs inside the caller's transaction. On PostgreSQL it first takes an
advisory lock, so replicas starting together migrate one after the other (and creates the schema
the connection's ``search_path`` names, when one is given). A database whose ``usage_ledger``
table was created before the ledger had migrations (no ``alembic_version`` table) is stamped with
the first revision, which describes exactly that table, and then upgraded like any other.

New revision: ``python -m service.usage.migrate revision -m "what changes"``.
"""

from __future__ import annotations

import argparse
import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.schema import CreateSchema

from service.usage.schema import usage_ledger

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "service.usage:migrations"
BASELINE = "0001"  # the revision that creates the table the ledger created before Alembic


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")  # a valid module name
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision in ``migrations/versions``."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, *, schema: str | None = None) -> None:
    """Create or upgrade the ledger's tables to ``head`` (idempotent, safe to run concurrently)."""
    if connection.dialect.name == "postgresql":
        lock = f"faqstream-migrate:{schema or 'public'}.{usage_ledger.name}"
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:lock))"), {"lock": lock})
        if schema is not None:
            connection.execute(CreateSchema(schema, if_not_exists=True))
    config = alembic_config(connection)
    if current_revision(connection) is None and inspect(connection).has_table(usage_ledger.name):
        log.info("usage ledger: table from before migrations found; stamping revision %s", BASELINE)
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service.usage.migrate")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="write a new, empty revision into migrations/versions")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.command == "revision":
        command.revision(alembic_config(), message=args.message)


if __name__ == "__main__":
    main()
