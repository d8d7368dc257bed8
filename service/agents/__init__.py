"""Agent takeover: after a handoff a person has the conversation (``state`` ``agent`` in the session
store), the assistant stays silent, the customer's messages go to the agents' webhook, agents'
replies reach the customer live (``events``) or on the next poll, and an agent hands it back.
``takeover.py`` owns the state changes and messages, ``events.py`` the live delivery, ``relay.py``
the reply to a customer while an agent has the conversation, ``notice.py`` what that reply says."""
