"""When a conversation goes to a human colleague, and what the colleague and the customer get.

``policy`` decides (``HandoffPolicy.decide``: the reasons in precedence order) from the
``signals`` the answer flow collects; ``dissatisfaction`` scores customer messages with the
curated lexicon; ``summary`` writes the agent's summary; ``messages`` the customer's notice in
their language; ``settings`` holds ``HANDOFF_``. The names below are the package's public API.
"""

from service.handoff.dissatisfaction import DissatisfactionDetector
from service.handoff.messages import HANDOFF_LANGUAGES, handoff_message
from service.handoff.policy import HandoffPolicy, decide
from service.handoff.settings import HandoffSettings
from service.handoff.signals import Handoff, HandoffReason, HandoffSignals

__all__ = [
    "HANDOFF_LANGUAGES",
    "DissatisfactionDetector",
    "Handoff",
    "HandoffPolicy",
    "HandoffReason",
    "HandoffSettings",
    "HandoffSignals",
    "decide",
    "handoff_message",
]
