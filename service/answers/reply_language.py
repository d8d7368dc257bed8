"""The reply language of one message: ``decide_language``, the one place it is decided.

Language identification is reliable on sentences and unreliable on short messages ("Hello!" looks
Italian to lingua, "refund" is a coin toss, "and per week?" looks Dutch). A customer rarely
switches language mid-conversation, so the conversation's language (the language of its previous
turns, kept by the session store) is weighed against the detector:

* **Short messages** (one or two words, ``SHORT_WORDS``) and **small talk**: the conversation's
  language, then the request's ``language`` field, then the small-talk words themselves ("Hola" is
  Spanish; "Hallo", German and Dutch alike, is the ``Accept-Language`` entry among them, else
  German), then the first ``Accept-Language`` entry the service knows, then the detector's guess.
* **Longer messages**: the request's ``language`` field; then, in a conversation, the conversation's
  language as a prior against lingua's confidence values (``weigh_conversation``: the detector
  must find another language ``CONVERSATION_ODDS`` times likelier than the conversation's before
  the reply switches); in a new conversation, the first ``Accept-Language`` entry the service knows
  as a prior of ``HEADER_ODDS`` the same way (unaccented chat text such as "cual es el whatsapp de
  ustedes" is a coin toss to lingua; a sentence in another language still wins); without one, the
  detector (as before).

The conversation's language is passed over when the message's script cannot be written in it
(a Chinese "退款" in an English conversation, kana in a Chinese one): script is certain evidence,
and a customer who switches script has switched language. Spanish's opening marks count as script
("¿y el domingo?" in an English conversation is Spanish, and "¿Domingo?" too though the detector
guesses Portuguese: a guess the script rules out gives way to the likeliest language it allows).
Latin text in a Chinese or Japanese conversation ("ok", an order number) keeps the conversation's
language.

Words are counted as in ``word_count`` (``knowledge.words``): letters-only words of alphabetic
scripts (joined by apostrophes and hyphens: "qu'est-ce", "palavra-passe"), and one word per two CJK characters
(Chinese words are mostly one or two characters; "退款" is one word).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from knowledge.language import base_language
from knowledge.words import CJK as _CJK
from knowledge.words import SCRIPT_LANGUAGES as _SCRIPT_LANGUAGES
from knowledge.words import SHORT_WORDS, fits_script, word_count

# Prior odds of the conversation's language against each other configured language: the detector
# must find a language this many times likelier than the conversation's to switch the reply.
# Chosen by bench/short_language.py on Mintaka 3-8-word prefixes: the odds whose expected error
# stays closest to the best whether 5, 10 or 20 % of follow-ups switch language
# (docs/handoff-and-languages.md).
CONVERSATION_ODDS = 4.0
# Prior odds of the first Accept-Language entry the service knows, in a new conversation, for
# messages of three words or more (shorter ones take it outright). Chosen by bench/chat_language.py.
HEADER_ODDS = 4.0

Source = Literal["conversation", "request", "smalltalk", "accept_language", "detected"]

_TAG = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,8})*")
_QVALUE = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?")


@dataclass(frozen=True)
class LanguageDecision:
    language: str  # ISO 639-1 (base language: "pt-BR" → "pt")
    source: Source


def accept_languages(header: str | None) -> list[str]:
    """The base languages of an ``Accept-Language`` header, most preferred first (RFC 9110 §12.5.4):
    ordered by q-value, ties in header order; ``q=0``, ``*``, malformed entries and duplicates
    dropped. ``"fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5"`` → ``["fr", "en"]``."""
    return list(dict.fromkeys(base_language(tag) for tag in accept_language_tags(header)))


def accept_language_tags(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header as ``accept_languages`` orders them, lower-cased and
    with their regions and scripts (``"zh-TW, en;q=0.5"`` → ``["zh-tw", "en"]``)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate(header[:2000].split(",")[:50]):
        tag, *params = (p.strip() for p in entry.split(";"))
        tag = tag.lower()
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.fullmatch(value) else 0.0
        if q > 0 and _TAG.fullmatch(tag):
            ranked.append((-q, position, tag))
    return list(dict.fromkeys(tag for _, _, tag in sorted(ranked)))


def weigh_conversation(
    text: str, conversation: str, confidences: Mapping[str, float], odds: float = CONVERSATION_ODDS
) -> str | None:
    """The most probable language of ``text`` with ``conversation`` as the prior (the conversation's
    language, or in a new conversation the browser's): ``confidences`` (the detector's, over the
    configured languages) times ``odds`` for ``conversation``, times 1 for the others. None when
    the detector does not know that language (nothing to weigh: the caller detects as before).
    ``text`` must fit its script (``fits_script``).

    Han or kana characters keep a Chinese or Japanese conversation: Han without kana is Chinese or
    Japanese alike (lingua calls it Chinese by convention, not evidence), and in Japanese mixed
    with Latin names ("DrakeとLil Wayne") lingua's vote goes to the Latin words.
    """
    if conversation not in confidences:
        return None
    if conversation in ("zh", "ja") and _CJK.search(text):
        return conversation
    return max(
        confidences,
        key=lambda language: (
            confidences[language] * (odds if language == conversation else 1.0),
            language == conversation,  # a tie keeps the conversation's language
        ),
    )


def decide_language(
    text: str,
    *,
    detect: Callable[[str], str],
    confidences: Callable[[str], Mapping[str, float]] | None = None,
    odds: float = CONVERSATION_ODDS,
    header_odds: float = HEADER_ODDS,
    requested: str | None = None,
    conversation: str | None = None,
    accept_language: str | None = None,
    smalltalk: bool = False,
    smalltalk_language: str | None = None,
    smalltalk_candidates: Sequence[str] = (),
    known: Collection[str] = (),
) -> LanguageDecision:
    """The reply language of ``text`` (precedence in the module docstring).

    ``detect`` is the language detector (called only when nothing else decides); ``confidences``
    its confidence values per language, which a longer message is weighed with (in a conversation
    ``weigh_conversation`` at ``odds``, in a new one with the header at ``header_odds``; without it
    such a message is detected); ``requested`` the
    request's ``language`` field; ``conversation`` the conversation's language (None or "und" when
    new); ``smalltalk`` whether the whole message is small talk, ``smalltalk_language`` the
    language its words show and ``smalltalk_candidates`` the languages they fit equally ("Hallo":
    German and Dutch; the ``Accept-Language`` entry among them, else the first); ``known`` the
    languages an ``Accept-Language`` entry may choose.
    """
    short = smalltalk or word_count(text) <= SHORT_WORDS
    ongoing = base_language(conversation) if conversation and conversation != "und" else None
    if ongoing and not fits_script(text, ongoing):
        ongoing = None
    if short and ongoing:
        return LanguageDecision(ongoing, "conversation")
    if requested:
        return LanguageDecision(base_language(requested), "request")
    if smalltalk_language:
        return LanguageDecision(smalltalk_language, "smalltalk")
    if smalltalk_candidates:
        preferred = _header_language(text, accept_language, smalltalk_candidates)
        if preferred:
            return LanguageDecision(preferred, "accept_language")
        return LanguageDecision(smalltalk_candidates[0], "smalltalk")
    if short and (preferred := _header_language(text, accept_language, known)):
        return LanguageDecision(preferred, "accept_language")
    if ongoing and confidences is not None:
        weighed = weigh_conversation(text, ongoing, confidences(text), odds)
        if weighed is not None:
            weighed = _within_script(text, weighed, confidences)
            return LanguageDecision(weighed, "conversation" if weighed == ongoing else "detected")
    new = not conversation or conversation == "und"
    if new and confidences is not None:
        preferred = _header_language(text, accept_language, known)
        if preferred:
            weighed = weigh_conversation(text, preferred, confidences(text), header_odds)
            if weighed is not None:
                weighed = _within_script(text, weighed, confidences)
                return LanguageDecision(weighed, "accept_language" if weighed == preferred else "detected")
    return LanguageDecision(_within_script(text, base_language(detect(text)), confidences), "detected")


def _within_script(text: str, guess: str, confidences: Callable[[str], Mapping[str, float]] | None) -> str:
    """The detector's ``guess``, or, when the text's script rules it out ("¿Domingo?" guessed
    Portuguese), the likeliest language the script allows."""
    allowed = [frozenset(languages) for script, languages in _SCRIPT_LANGUAGES if script.search(text)]
    if not allowed or confidences is None or all(guess in languages for languages in allowed):
        return guess
    scores = confidences(text)
    inside = [language for language in scores if all(language in languages for languages in allowed)]
    return max(inside, key=lambda language: scores[language]) if inside else guess


def _header_language(text: str, accept_language: str | None, known: Collection[str]) -> str | None:
    """The first ``Accept-Language`` entry among ``known`` that ``text``'s script allows."""
    for preferred in accept_languages(accept_language):
        if preferred in known and fits_script(text, preferred):
            return preferred
    return None
