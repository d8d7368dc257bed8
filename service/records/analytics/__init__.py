"""Analytics over the conversation records and the usage ledger (``GET /admin/analytics``,
``faqstream report``): ``figures.py`` defines every figure (pydantic models) and rolls additive
counts up into totals and breakdowns by day, language and tenant; ``queries.py`` reads the tables
(SQLAlchemy Core, SQLite and PostgreSQL) in one snapshot. Definitions: docs/analytics.md.
"""
