"""Signs of dissatisfaction in a customer's messages, from the curated lexicon.

``dissatisfaction.yaml`` beside this module (package data; or ``HANDOFF_LEXICON_PATH``) holds
per-language phrase patterns with exceptions, weights and thresholds; it is loaded once per path. A
message scores for lexicon phrases (every language is tried; a language's ``statements`` patterns
only outside the message's questions, ``statements()``), shouting, emphasis, an angry emoji and
repeating an earlier question; ``DissatisfactionDetector.count_turns`` gives the dissatisfied turns of a
conversation, which ``service.handoff.policy`` compares with ``HANDOFF_DISSATISFACTION_COUNT``.

Each customer turn is assessed once, as it is asked (``mark``: the message's own signals and the
position of the earlier turn it repeats), and the mark is stored with the turn (``Turn.mark``);
later answers only ``judge`` the marks, so an answer costs one assessment however long the
conversation. The verdicts are those of assessing every kept turn again (``count``), the
counting window included: a repeat of a turn since dropped from storage stops counting.

The count covers one episode: the customer turns after the last one whose answer handed the
dissatisfaction on (``TurnMark.handed_off``) and from ``since`` on (the last handback). Complaints
already handed on never hand off again; a new pair of complaints does.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.errors import ConfigError
from service.conversations.marks import TurnMark
from service.conversations.store import Turn

# Package data (pyproject.toml): found the same way in a checkout and in an installed wheel.
DEFAULT_LEXICON = Path(__file__).resolve().with_name("dissatisfaction.yaml")


def normalize(text: str) -> str:
    """NFKC, lower case, straight apostrophes, Latin accents removed, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("‘", "'")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def _pattern(source: str) -> re.Pattern[str]:
    """Patterns get the accent treatment of ``normalize`` (not lower-casing: it would break escapes)."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", source))
    text = unicodedata.normalize("NFC", "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f"))
    return re.compile(text, re.IGNORECASE)


@dataclass(frozen=True)
class TurnAssessment:
    dissatisfied: bool
    score: float
    signals: tuple[str, ...]  # e.g. ("phrase:en", "shouting", "repeated_question", "emphasis")


# What keeps a pattern from being one branch of an alternation: back-references count groups from the
# start of the whole expression, and a global inline flag must come first.
_NOT_A_BRANCH = re.compile(r"\\[1-9]|\(\?P=|^\(\?[aiLmsux]+\)")


def _any_of(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One expression that matches where any of ``patterns`` does (one scan of the message instead
    of one per pattern), or None when one of them cannot be a branch (then each is tried)."""
    if not patterns or any(_NOT_A_BRANCH.search(p.pattern) for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.IGNORECASE)
    except re.error:  # e.g. two patterns naming a group alike: each is tried on its own
        return None


# A question: a sentence whose end is "?" (not "?!"/"!?": those are exclamations). "¿Es una estafa
# cobrar una fianza?" asks about a policy; "¡Es una estafa!" and "Is this a joke?!" accuse.
_QUESTION = re.compile(r"[^.!?。！？]*[?？]+(?![!！?？])")


def statements(norm: str) -> str:
    """The normalised message without its questions (``statements`` patterns are matched on this)."""
    return _QUESTION.sub(" ", norm)


def _search(patterns: Sequence[re.Pattern[str]], joined: re.Pattern[str] | None, text: str) -> bool:
    if joined is not None:
        return joined.search(text) is not None
    return any(p.search(text) for p in patterns)


@dataclass(frozen=True)
class _Language:
    patterns: tuple[re.Pattern[str], ...]
    exceptions: tuple[re.Pattern[str], ...]
    any_pattern: re.Pattern[str] | None = None
    any_exception: re.Pattern[str] | None = None
    # Count only outside a question: accusations and verdicts whose words an ordinary question
    # about a policy uses too ("is it fraud to charge a deposit?", "czy to oszustwo?").
    statements: tuple[re.Pattern[str], ...] = ()
    any_statement: re.Pattern[str] | None = None

    @classmethod
    def of(
        cls,
        patterns: Sequence[re.Pattern[str]],
        exceptions: Sequence[re.Pattern[str]],
        statements: Sequence[re.Pattern[str]] = (),
    ) -> _Language:
        return cls(
            tuple(patterns),
            tuple(exceptions),
            _any_of(patterns),
            _any_of(exceptions),
            tuple(statements),
            _any_of(statements),
        )

    def matches(self, norm: str, stated: str | None = None) -> bool:
        """A pattern matches the normalised message, or a statement pattern its statements
        (``stated``: ``statements(norm)``), and no exception matches the message."""
        found = _search(self.patterns, self.any_pattern, norm)
        if not found and self.statements:
            stated = statements(norm) if stated is None else stated
            found = _search(self.statements, self.any_statement, stated)
        if not found:
            return False
        return not _search(self.exceptions, self.any_exception, norm)


_PUNCT = re.compile(r"[\W_]+")


class DissatisfactionDetector:
    """Scores one customer message for signs of dissatisfaction; counts them over a conversation."""

    def __init__(self, spec: dict[str, Any]) -> None:
        try:
            self.threshold = float(spec.get("threshold", 1.0))
            weights = spec.get("weights") or {}
            self.weights = {
                k: float(weights.get(k, 0.0))
                for k in ("phrase", "repeated_question", "shouting", "emphasis", "anger_emoji")
            }
            shouting = spec.get("shouting") or {}
            self.shout_min_letters = int(shouting.get("min_letters", 12))
            self.shout_min_words = int(shouting.get("min_words", 3))
            self.shout_ratio = float(shouting.get("min_upper_ratio", 0.9))
            repeat = spec.get("repeated_question") or {}
            self.repeat_min_chars = int(repeat.get("min_chars", 12))
            self.repeat_similarity = float(repeat.get("min_similarity", 0.85))
            self.emphasis = tuple(_pattern(p) for p in spec.get("emphasis") or [])
            self.anger_emoji = tuple(_pattern(p) for p in spec.get("anger_emoji") or [])
            self.languages = {
                str(code): _Language.of(
                    [_pattern(p) for p in entry.get("patterns") or []],
                    [_pattern(p) for p in entry.get("except") or []],
                    [_pattern(p) for p in entry.get("statements") or []],
                )
                for code, entry in (spec.get("languages") or {}).items()
            }
        except (AttributeError, TypeError, ValueError, re.error) as exc:
            raise ConfigError(f"invalid dissatisfaction lexicon: {exc}") from exc
        if not self.languages:
            raise ConfigError("the dissatisfaction lexicon defines no languages")

    @classmethod
    def load(cls, path: Path | None = None) -> DissatisfactionDetector:
        return _load(path or DEFAULT_LEXICON)

    def phrase_languages(self, text: str) -> list[str]:
        """Languages whose lexicon matches ``text`` (all languages are tried on every message)."""
        norm = normalize(text)
        stated = statements(norm)
        return [code for code, lang in self.languages.items() if lang.matches(norm, stated)]

    def shouting(self, text: str) -> bool:
        words = [w for w in text.split() if not any(c.isdigit() for c in w)]
        cased = [c for w in words for c in w if c.isupper() or c.islower()]
        cased_words = [w for w in words if len(w) >= 2 and any(c.isupper() or c.islower() for c in w)]
        if len(cased) < self.shout_min_letters or len(cased_words) < self.shout_min_words:
            return False
        return sum(c.isupper() for c in cased) / len(cased) >= self.shout_ratio

    def repeated(self, text: str, previous: Sequence[tuple[int, str]]) -> int | None:
        """The position of the latest earlier customer turn (``previous``: (position, text), oldest
        first) that is (nearly) the same message: the answer did not help. None: no such turn."""
        key = _PUNCT.sub(" ", normalize(text)).strip()
        if len(key) < self.repeat_min_chars:
            return None
        for position, earlier in reversed(previous):
            other = _PUNCT.sub(" ", normalize(earlier)).strip()
            if other and difflib.SequenceMatcher(None, key, other).ratio() >= self.repeat_similarity:
                return position
        return None

    def repeats(self, text: str, previous: Sequence[str]) -> bool:
        """(Nearly) the same message as an earlier customer turn: the answer did not help."""
        return self.repeated(text, list(enumerate(previous))) is not None

    def mark(self, text: str, previous: Sequence[tuple[int, str]] = ()) -> TurnMark:
        """One customer message assessed, once: its own signals, and which earlier customer turn
        (``previous``: (position, text), oldest first) it repeats — stored with the turn."""
        own = [f"phrase:{code}" for code in self.phrase_languages(text)]
        if self.shouting(text):
            own.append("shouting")
        norm = normalize(text)
        if any(p.search(norm) for p in self.emphasis):
            own.append("emphasis")
        if any(p.search(norm) for p in self.anger_emoji):
            own.append("anger_emoji")
        return TurnMark(signals=tuple(own), repeats=self.repeated(text, previous))

    def judge(self, mark: TurnMark, first_turn: int = 0) -> TurnAssessment:
        """The verdict on an assessed message, the conversation keeping its turns from position
        ``first_turn`` on: a repeat of a turn no longer kept does not count (nor would it were the
        message assessed again). Scored in the same order as ever, to the same float."""
        phrases = [s for s in mark.signals if s.startswith("phrase:")]
        signals: list[str] = list(phrases)
        score = self.weights["phrase"] if phrases else 0.0
        if mark.repeats is not None and mark.repeats >= first_turn:
            signals.append("repeated_question")
            score += self.weights["repeated_question"]
        for kind in ("shouting", "emphasis", "anger_emoji"):
            if kind in mark.signals:
                signals.append(kind)
                score += self.weights[kind]
        return TurnAssessment(score >= self.threshold and score > 0, round(score, 3), tuple(signals))

    def assess(self, text: str, previous: Sequence[str] = ()) -> TurnAssessment:
        """One customer message; ``previous`` are the customer's earlier messages, oldest first."""
        return self.judge(self.mark(text, list(enumerate(previous))))

    def count(self, customer_turns: Sequence[str]) -> int:
        """Dissatisfied turns among the customer's messages of one conversation, oldest first
        (each assessed now: for turns that carry no mark, e.g. a history a caller sent)."""
        return sum(
            self.assess(text, customer_turns[:i]).dissatisfied for i, text in enumerate(customer_turns)
        )

    def count_turns(self, turns: Sequence[Turn], first_turn: int = 0, *, since: int = 0) -> int:
        """Dissatisfied customer turns of a conversation's kept turns (``turns[0]`` at position
        ``first_turn``) in the current episode: from position ``since`` on, after the last turn
        marked ``handed_off``. A turn with a ``mark`` is judged from it, one without is assessed now
        against the customer turns before it — the same count as ``count`` of their texts, with one
        assessment per unmarked turn (none when every turn was marked as it was asked)."""
        earlier: list[tuple[int, str]] = []
        dissatisfied = 0
        for position, turn in enumerate(turns, first_turn):
            if turn.role != "user":
                continue
            if position >= since:
                mark = turn.mark if turn.mark is not None else self.mark(turn.text, earlier)
                dissatisfied += self.judge(mark, first_turn).dissatisfied
            if turn.mark is not None and turn.mark.handed_off:
                dissatisfied = 0  # handed on: the complaints so far are the agents' now
            earlier.append((position, turn.text))
        return dissatisfied


@lru_cache(maxsize=8)
def _load(path: Path) -> DissatisfactionDetector:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read the dissatisfaction lexicon {path}: {exc}", hint="check HANDOFF_LEXICON_PATH"
        ) from exc
    if not isinstance(spec, dict):
        raise ConfigError(f"the dissatisfaction lexicon {path} is not a YAML mapping")
    return DissatisfactionDetector(spec)
