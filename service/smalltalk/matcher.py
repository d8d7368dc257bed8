"""Small talk: greetings, thanks, goodbyes, acknowledgements and "how are you", in the thirteen
languages of the default ``INGEST_LANGUAGES`` (en, zh, es, fr, de, ja, pt, it, nl, ru, ko, pl, uk).

A message is small talk only when *all* of it is: a sequence of lexicon phrases, optionally with a
few softeners ("so", "again", "team", "haha") and what the thanks are for ("for your help") around
them. "Hi" and "ok thanks!!" are small talk; "Hi, how do I return a parcel?" is not — a phrase never
matches inside a longer message. Small talk gets a short fixed reply in the customer's language
(``service.smalltalk.replies``): no retrieval, no model call, no handoff, no answer-cache entry
(``service.answers.flow`` returns before any of them).

Matching is robust to case, punctuation, emoji, accents ("adios" = "adiós"), apostrophes
("thats all" = "that's all"), full-width forms (NFKC) and repeated letters ("thanksss", "hiii",
"holaaa"): both the lexicon and the message are normalised alike, and every run of one repeated
letter is squeezed to one letter on both sides ("hello" and "helloooo" are both "helo"). CJK text is
matched character by character, so "谢谢你" and "谢谢！你好" need no word segmentation, and in
Simplified characters on both sides (OpenCC's ``t2s``), so the Simplified lexicon also matches
Traditional Chinese ("謝謝", "再見").

The words are also evidence of the language ("Hola" is Spanish, "谢谢" Chinese, "Danke" German):
``SmallTalk.language`` is the language most of the matched phrases belong to, or ``None`` for
language-neutral ones ("ok", "👍") and ties ("Hallo" is German and Dutch: ``SmallTalk.candidates``).
``service.answers.reply_language`` decides how much it counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from service.core.chinese import simplified
from service.smalltalk.fillers import LAUGHTER, SOFTENERS, TAILS
from service.smalltalk.lexicon import LEXICON, NEUTRAL, Kind

# The reply answers the most "final" kind in the message: "ok thanks bye" is a goodbye, "ok thanks"
# a thanks, "hi, how are you?" a how-are-you.
PRECEDENCE: tuple[Kind, ...] = ("goodbye", "thanks", "how_are_you", "greeting", "ack", "unclear")
MAX_CHARS = 120  # longer messages are never small talk (and are not even scanned)


@dataclass(frozen=True)
class SmallTalk:
    """A message that is small talk, all of it."""

    kind: Kind  # what the reply answers (the first of ``kinds`` in ``PRECEDENCE``)
    kinds: tuple[Kind, ...]  # every kind in the message, in order
    language: str | None  # the language its words show; None = language-neutral or mixed
    phrases: tuple[str, ...]  # the matched phrases, normalised (for logs and tests)
    # When the words fit several languages equally ("Hallo" is German and Dutch): those languages,
    # in the lexicon's order; ``service.answers.reply_language`` chooses among them.
    candidates: tuple[str, ...] = ()


# ---------------------------------------------------------------- normalisation

_CJK = "\u3005\u3006\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_EMOJI = "\U0001f44d\U0001f44c\U0001f60a\U0001f642\u263a\U0001f64f\U0001f44b"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+|[{_EMOJI}]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_REPEAT = re.compile(r"(.)\1+")
_APOSTROPHES = str.maketrans({"'": None, "’": None, "‘": None, "`": None, "´": None, "ʼ": None})


def _is_cjk(token: str) -> bool:
    return len(token) == 1 and bool(re.match(rf"[{_CJK}]", token))


def tokens(text: str) -> list[str]:
    """The message as comparable tokens: NFKC, case-folded, Latin accents and apostrophes removed,
    Chinese characters in their Simplified form (``service.core.chinese.simplified``), punctuation
    and other emoji dropped, repeated letters squeezed ("Helloooo!!" → ["helo"]); CJK characters one
    token each."""
    # dotless ı as i: "GÜNAYDIN" folds to "gunaydin", and Turkish typed without a Turkish keyboard
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES).replace("ı", "i")
    decomposed = unicodedata.normalize("NFD", folded)
    plain = unicodedata.normalize("NFC", "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f"))
    if _HAN.search(plain):  # Traditional Chinese as Simplified: "謝謝" is "谢谢"
        plain = simplified(plain)
    return [t if _is_cjk(t) else _REPEAT.sub(r"\1", t) for t in _TOKEN.findall(plain)]


# ---------------------------------------------------------------- the index


@dataclass(frozen=True)
class _Phrase:
    tokens: tuple[str, ...]
    kind: Kind
    languages: frozenset[str]  # empty = neutral


@lru_cache(maxsize=1)
def _tails() -> dict[str, list[tuple[str, ...]]]:
    index: dict[str, list[tuple[str, ...]]] = {}
    for tail in TAILS:
        key = tuple(tokens(tail))
        index.setdefault(key[0], []).append(key)
    return index


@lru_cache(maxsize=1)
def _index() -> dict[str, list[_Phrase]]:
    """First token → phrases starting with it, longest first. Built once."""
    found: dict[tuple[str, ...], tuple[Kind, set[str]]] = {}
    for language, kinds in LEXICON.items():
        for kind, phrases in kinds.items():
            for phrase in phrases:
                key = tuple(tokens(phrase))
                if not key:
                    raise ValueError(f"small-talk phrase {phrase!r} has no words")
                known_kind, languages = found.setdefault(key, (kind, set()))
                if known_kind != kind:
                    raise ValueError(f"small-talk phrase {phrase!r} is both {known_kind} and {kind}")
                if language != NEUTRAL:
                    languages.add(language)
    index: dict[str, list[_Phrase]] = {}
    for key, (kind, languages) in found.items():
        index.setdefault(key[0], []).append(_Phrase(key, kind, frozenset(languages)))
    for candidates in index.values():
        candidates.sort(key=lambda p: -len(p.tokens))
    return index


@lru_cache(maxsize=1)
def _softeners() -> frozenset[str]:
    return frozenset(token for word in SOFTENERS for token in tokens(word))


def _softener(token: str) -> bool:
    return token in _softeners() or LAUGHTER.fullmatch(token) is not None


# ---------------------------------------------------------------- matching


def match(text: str) -> SmallTalk | None:
    """The message as small talk, or None when any part of it is something else. A message of no
    letters or digits at all ("???", "🌵🌵🌵", "😡😡") is ``unclear``: nothing to look up, so the
    customer is asked what they need instead of being quoted whatever the symbols come closest to."""
    if len(text) > MAX_CHARS:
        return None
    words = tokens(text)
    if not words:
        if text.strip() and not any(ch.isalnum() for ch in text):
            return SmallTalk("unclear", ("unclear",), None, ())
        return None
    index = _index()
    n = len(words)
    tails = _tails()
    # best[i]: the fewest pieces (phrases, softeners, tails) covering words[i:], and the phrases used.
    best: list[tuple[int, tuple[_Phrase, ...]] | None] = [None] * (n + 1)
    best[n] = (0, ())
    for i in range(n - 1, -1, -1):
        options: list[tuple[int, tuple[_Phrase, ...]]] = []
        for phrase in index.get(words[i], ()):
            end = i + len(phrase.tokens)
            rest = best[end] if end <= n else None
            if rest is not None and tuple(words[i:end]) == phrase.tokens:
                options.append((rest[0] + 1, (phrase, *rest[1])))
        for tail in tails.get(words[i], ()):
            end = i + len(tail)
            rest = best[end] if end <= n else None
            if rest is not None and tuple(words[i:end]) == tail:
                options.append((rest[0] + 1, rest[1]))
        rest = best[i + 1]
        if rest is not None and _softener(words[i]):
            options.append((rest[0] + 1, rest[1]))
        best[i] = min(options, key=lambda o: o[0]) if options else None
    cover = best[0]
    if cover is None or not cover[1]:
        return None  # something that is not small talk, or nothing but softeners
    phrases = cover[1]
    kinds = tuple(p.kind for p in phrases)
    kind = next(k for k in PRECEDENCE if k in kinds)
    language, candidates = _language(phrases)
    return SmallTalk(kind, kinds, language, tuple(" ".join(p.tokens) for p in phrases), candidates)


_ORDER = {language: n for n, language in enumerate(LEXICON)}


def _language(phrases: tuple[_Phrase, ...]) -> tuple[str | None, tuple[str, ...]]:
    """The language most of ``phrases`` belong to, or None and the languages tied for it."""
    votes = Counter(language for p in phrases for language in p.languages)
    if not votes:
        return None, ()
    most = max(votes.values())
    tied = sorted((language for language, n in votes.items() if n == most), key=_ORDER.__getitem__)
    return (tied[0], ()) if len(tied) == 1 else (None, tuple(tied))
