"""Conversations: the turns of each conversation and its running summary (``store``: one interface,
in-process or Redis, keyed per client), what of a conversation goes to Claude (``history``), how old
turns are folded into the summary (``summarizer``, through the LLM interface) and the customer facts
(order numbers, amounts, dates) both summaries keep (``facts``)."""
