"""Offline jobs over the conversation records, run from the CLI: ``faqstream batch tag`` tags
finished conversations through the Message Batches API (``tagging.py``: the run; ``tag_store.py``:
its tables and transactions; ``tag_prompt.py``: the request and the result model)."""
