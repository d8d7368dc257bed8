"""When a conversation goes to a human colleague, and what the colleague and the customer get.

``policy`` decides (``HandoffPolicy.decide``: every reason that applies, in precedence order)
from the ``signals`` the answer flow collects and returns a ``signals.Handoff``;
``dissatisfaction`` scores customer messages with the curated lexicon (``dissatisfaction.yaml`` in
this package);
``summary`` writes the agent's summary; ``messages`` the customer's notice in their language;
``settings`` holds ``HANDOFF_``. Pure decisions and texts: no I/O besides reading the lexicon once.
"""
