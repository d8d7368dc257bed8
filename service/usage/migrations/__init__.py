"""Alembic environment of the usage ledger (``script_location = service.usage:migrations``).

``service.usage.migrate.upgrade`` runs it at start-up with its own connection; a new revision goes
in ``versions/`` (``python -m service.usage.migrate revision -m "what changes"`` writes one).
"""
