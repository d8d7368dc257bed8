"""What to retrieve with for a message in a conversation.

``retrieval_query`` rewrites a follow-up question ("and for the blue one?") for retrieval by putting
the previous question(s) in front of it; local and instant, no model call. ``retrieval_queries``
adds the message alone when only its length made it a follow-up ("garantia?" after a delivery
question may be a new subject), and the merged reading of a brief message that is no follow-up by
its words ("Gibt es eine Kostengrenze?" after a roaming question may continue it) when the previous
answer cited a document: ``service.retrieval.topic_change`` decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.conversations.store import Conversation
from service.core.text import collapse
from service.core.tokens import CJK_RE as _CJK_RE
from service.smalltalk import INTENT as SMALLTALK_INTENT

# Words that open a question continuing the previous one, per language (lower case, no punctuation).
_CONTINUATIONS = (
    "and ", "what about", "how about", "also ", "same ", "then ", "but ", "or ",
    "y ", "e ", "o ", "pero ", "también", "tambien", "entonces", "qué tal", "que tal",
    "et ", "mais ", "aussi", "alors",
    "und ", "aber ", "auch ", "dann ", "oder ", "was ist mit", "wie ist es mit",
    "还有", "那", "那么", "另外", "如果是", "要是",
)  # fmt: skip
# Words that point back to something said before.
# Words that are also articles or common verbs ("la", "das", "es", "sie", "that") are left out.
_ANAPHORA = frozenset(
    [
        "it", "its", "it's", "this", "these", "those", "them", "they", "one", "ones", "same",
        "eso", "esto", "ese", "esa", "esos", "esas", "ello", "mismo", "misma",
        "ça", "cela", "celui", "celle", "celles", "ceux", "même",
        "dies", "diese", "dieser", "dieses", "ihn", "ihm", "dort", "gleiche", "gleichen",
    ]
)  # fmt: skip
# Prepositions that open a fragment ("in the UK?", "on Sundays?", "para Canarias?", "für Kinder?"):
# a short message that opens with one hangs on an earlier question. Only for short messages
# (``is_short_only``): a whole question may well open with one ("In which countries…").
_ELLIPTICAL = (
    "in ", "on ", "for ", "to ", "at ", "with ", "from ", "by ", "via ", "during ", "after ", "before ",
    "en ", "para ", "al ", "con ", "por ", "desde ", "durante ",
    "em ", "na ", "nos ", "nas ", "ao ", "com ", "pelo ", "pela ",
    "im ", "für ", "nach ", "mit ", "am ", "bei ", "ab ", "ins ",
    "pour ", "à ", "au ", "aux ", "avec ", "par ", "chez ", "pendant ",
    "寄到", "对于",
)  # fmt: skip
# Left out: "a" and "no" (English words too: "a refund?", "no receipt?"), "在"/"到" (在线, 到货).
_ANAPHORA_ZH = ("它", "这个", "那个", "这些", "那些", "这", "同样")
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
SHORT_WORDS = 3
SHORT_CJK_CHARS = 8
# A message up to this long that is no follow-up by its words may still continue the conversation
# ("Is there a cost limit?" after a roaming question): ``topic_change`` searches it merged as well.
BRIEF_WORDS = 8
BRIEF_CJK_CHARS = 20
ANAPHORIC_MAX_WORDS = 12
MAX_CONTEXT_CHARS = 300


def _normal(question: str) -> str:
    return question.strip().lstrip("¿¡\"'(").lower()


def _is_short(text: str) -> bool:
    cjk = len(_CJK_RE.findall(text))
    return cjk <= SHORT_CJK_CHARS if cjk else len(_WORD_RE.findall(text)) <= SHORT_WORDS


def _is_brief(text: str) -> bool:
    cjk = len(_CJK_RE.findall(text))
    return cjk <= BRIEF_CJK_CHARS if cjk else len(_WORD_RE.findall(text)) <= BRIEF_WORDS


def _points_back(text: str) -> bool:
    """Opens with a continuation ("and…", "¿y…", "还有…") or holds a word that points back."""
    if text.startswith(_CONTINUATIONS):
        return True
    if _CJK_RE.search(text):
        return any(a in text for a in _ANAPHORA_ZH)
    words = _WORD_RE.findall(text)
    return len(words) <= ANAPHORIC_MAX_WORDS and any(w in _ANAPHORA for w in words)


def is_follow_up(question: str) -> bool:
    """Whether ``question`` likely depends on earlier turns: short, opens with 'and…', or points back."""
    text = _normal(question)
    return _is_short(text) or _points_back(text)


def is_short_only(question: str) -> bool:
    """A follow-up by its length alone: short, with no continuation, no word that points back and
    not a fragment that opens with a preposition ("garantia?", "XL?", "opening hours"; not "and in
    blue?", "that one?", "in the UK?"). Such a message may as well be a new subject;
    ``service.retrieval.topic_change`` decides which with both searches."""
    text = _normal(question)
    return _is_short(text) and not _points_back(text) and not text.startswith(_ELLIPTICAL)


@dataclass(frozen=True)
class RetrievalQuery:
    """What to retrieve with: ``text`` (the question, with the earlier question(s) in front when it
    is a follow-up) and at most one other reading, searched as well (``service.retrieval.topic_change``
    picks one; None: ``text`` is the only query):

    * ``standalone``, for a follow-up by its length alone (``is_short_only``): the message itself,
      to tell a new subject ("garantia?") from a continuation;
    * ``merged``, for a brief message that is no follow-up by its words (``BRIEF_WORDS``) when the
      previous answer cited a document (``topic``, its first citation): the message with the
      earlier question(s) in front, to tell a continuation ("Is there a cost limit?" after a
      roaming question) from a new question."""

    text: str
    standalone: str | None = None
    merged: str | None = None
    topic: str | None = None


def conversation_topic(conversation: Conversation) -> str | None:
    """The document the previous answer cited first: the reply to the customer's latest question
    (small talk and its reply passed over). None when that reply cited nothing (a handoff, no
    relevant passage) or a person wrote it."""
    turns = conversation.turns
    for i in range(len(turns) - 1, -1, -1):
        if turns[i].role == "user" and turns[i].intent != SMALLTALK_INTENT:
            for reply in turns[i + 1 :]:
                if reply.role == "agent":
                    return None
                if reply.role == "assistant" and not reply.notice:
                    return reply.citations[0] if reply.citations else None
            return None
    return None


def retrieval_queries(question: str, conversation: Conversation | None) -> RetrievalQuery:
    """``retrieval_query`` and the other reading to search, if any (``RetrievalQuery``)."""
    merged = retrieval_query(question, conversation)
    if merged != question:
        if is_short_only(question):
            return RetrievalQuery(merged, question.strip())
        return RetrievalQuery(merged)
    if conversation is None or not _is_brief(_normal(question)):
        return RetrievalQuery(question)
    topic = conversation_topic(conversation)
    context = _with_context(question, conversation) if topic is not None else question
    if topic is None or context == question:
        return RetrievalQuery(question)
    return RetrievalQuery(question, merged=context, topic=topic)


def retrieval_query(question: str, conversation: Conversation | None) -> str:
    """The text to retrieve with: ``question``, preceded by the earlier question(s) when it is a follow-up.

    Walks back over the customer's previous questions while they are follow-ups themselves (so
    "and in blue?" after "and for the XL one?" after "Can I exchange the NW-JKT-220 jacket?"
    carries the jacket), at most ``MAX_CONTEXT_CHARS`` of context, newest kept.
    """
    if conversation is None or not is_follow_up(question):
        return question
    return _with_context(question, conversation)


def _with_context(question: str, conversation: Conversation) -> str:
    """``question`` preceded by the earlier question(s), as ``retrieval_query`` describes."""
    context: list[str] = []
    size = 0
    for turn in reversed(conversation.turns):
        if turn.role != "user" or turn.intent == SMALLTALK_INTENT:  # "Hi" is no context
            continue
        text = collapse(turn.text)
        if size + len(text) > MAX_CONTEXT_CHARS:
            if not context:
                context.append(text[-MAX_CONTEXT_CHARS:])
            break
        context.append(text)
        size += len(text) + 1
        if not is_follow_up(text):
            break
    if not context:
        return question
    return " ".join([*reversed(context), question.strip()])
