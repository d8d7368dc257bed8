"""Conversation records: what was asked, answered (with citations, mode and model), handed off to a
person, said by agents, and rated — durable, redacted, in the service's database (``DATABASE_URL``,
else SQLite). ``records.py`` defines the rows the service hands over and the ``Recorder`` interface.
"""
