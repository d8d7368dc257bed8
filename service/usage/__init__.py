"""The service's database and the usage ledger: one row per Claude request (key, conversation,
model, tokens, cost, purpose, UTC day) in PostgreSQL or SQLite, written in the background so an
answer never waits for the database. ``writer.py`` is the database's one writer (every background
row: usage rows, conversation records); ``ledger.py`` the ledger on it (``UsageLedger``);
``records.py`` the usage row, ``schema.py`` the tables, ``database.py`` the engine and
``migrate.py`` with ``migrations/`` the Alembic revisions run at start-up.
"""
