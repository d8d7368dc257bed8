"""Agent takeover: after a handoff a person has the conversation (``state`` ``agent`` in the session
store), the assistant stays silent, the customer's messages go to the agents' webhook, agents'
replies reach the customer live (``events``) or on the next poll, and an agent hands it back.
``takeover.py`` owns the state changes and messages, ``events.py`` the live delivery, ``notice.py``
what the customer reads while a person has it (the reply itself: ``service.answers.with_agent``)."""
