"""The answer flow: ``flow`` decides an answer before any byte is sent (conversation, language,
small talk, answer cache, retrieval, routing, handoff, an upstream slot) into a ``plan.Plan``;
``stream`` turns the plan into ``events`` (Meta, Delta, Done or Failed) — Claude's answer through
the LLM interface, or quoted passages (``extractive``), a handoff notice or a cached reply;
``aftercare`` does what follows an answer (turns, ledger, budgets, cache, webhook, summary).
``prompts`` builds what Claude reads; ``reply_language`` picks the reply's language."""
