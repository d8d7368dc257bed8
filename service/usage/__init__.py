"""The usage ledger: one row per answer (key, conversation, model, tokens, cost, UTC day) in
PostgreSQL or SQLite, written in the background so an answer never waits for the database.
``ledger.py`` is what the service uses (``open_ledger``, ``UsageLedger``); ``records.py`` the row,
``schema.py`` the table, ``database.py`` the engine and ``migrate.py`` with ``migrations/`` the
Alembic revisions run at start-up.
"""
