"""Small talk — greetings, thanks, goodbyes, acknowledgements, "how are you" — in the thirteen
languages of the default ``INGEST_LANGUAGES``: recognised whole (``matcher``, over the phrases of
``lexicon``) and answered with a fixed reply (``replies``), with no retrieval, model call, handoff
or cache entry. The names below are the package's API; the answer flow and the conversation
history use them as ``smalltalk.match`` etc.
"""

from service.smalltalk.fillers import SOFTENERS, TAILS
from service.smalltalk.lexicon import LEXICON, LISTED_KINDS, NEUTRAL, Kind
from service.smalltalk.matcher import MAX_CHARS, PRECEDENCE, SmallTalk, match, tokens
from service.smalltalk.replies import INTENT, REPLIES, SMALLTALK_LANGUAGES, STOP_REASON, reply

__all__ = [
    "INTENT",
    "LEXICON",
    "LISTED_KINDS",
    "MAX_CHARS",
    "NEUTRAL",
    "PRECEDENCE",
    "REPLIES",
    "SMALLTALK_LANGUAGES",
    "SOFTENERS",
    "STOP_REASON",
    "TAILS",
    "Kind",
    "SmallTalk",
    "match",
    "reply",
    "tokens",
]
