"""Scoring answers against labelled questions (``faqstream eval answers``): pure functions, no I/O
beyond reading the labels.

One labelled question (``AnswerLabel``, a JSONL row) is compared with what the service answered
(``ObservedAnswer``: the reply text, the passages it was given as citations, the handoff reason):

* **retrieval hit** — one of the expected documents is among the cited passages (answerable
  questions only; an unanswerable question has no expected document); a label naming a file
  (``faq.csv``) matches any of its rows (``knowledge.doc_ids.matches``);
* **used** and **first** — an expected document is among the passages the reply itself cites with
  ``[n]`` (what a quoted answer quotes, what a generated one draws on), and is the first of them:
  a reply can be given the right page and still quote the wrong one (a new user's trial: price rows
  quoted before the locker page the reply was given, all counted as hits);
* **citations** — every ``[n]`` marker in the reply names a passage that was given (``1..len``),
  and a marker that comes with a quote (``"…" [n]``, or the extractive ``[n] Title: text`` line)
  quotes passage ``n`` word for word (whitespace and an ellipsis for left-out words aside; a quote
  in another language than its passage is a translation and is not checked);
* **reply language** — the language detected in the reply's own words (verified quotes removed:
  they are in the document's language by design) equals the expected one; for Chinese, in the
  expected script too: a label's ``zh-TW``/``zh-Hant`` (``zh-CN``/``zh-Hans``) or else the question's
  own characters (``knowledge.chinese_script``) — a Simplified reply to a Traditional question is
  detected as ``zh-Hans`` and fails;
* **handoff** — a handoff happened when one was expected (``true`` or a reason; a reason must
  match), counted in a confusion matrix;
* **fact** — the reply states every fact of the label's ``facts`` (``knowledge.fact_match``:
  case, whitespace, Markdown emphasis, typographic variants and thousands separators aside; a
  number never as part of a longer one), for the questions labelled with facts only. "used" and
  "first" say which page a reply quotes, not that the quote holds the answer: an extractive reply
  quotes ~420 characters of a passage and can quote the wrong part of the right page (a new user's
  trial: used 0.913 while a third of the replies lacked the answer);
* **faithfulness** — a judge model's 0–1 score with its reason, when one was asked for.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from knowledge.chinese_script import tag_script, text_script
from knowledge.doc_ids import matches
from knowledge.errors import InputError
from knowledge.fact_match import fact_pattern, missing_facts
from knowledge.language import base_language

_MARKER = re.compile(r"\[(\d{1,3})\]")
# A quotation right before its marker: "text" [1], “text” [1], «text» [1], „text“ [1], 「text」[1]
_QUOTED = re.compile(
    r"(?:\"([^\"\n]{4,}?)\"|“([^”\n]{4,}?)”|«\s?([^»\n]{4,}?)\s?»|„([^“\n]{4,}?)“|「([^」\n]{2,}?)」)\s*$"
)
_EXTRACTIVE_LINE = re.compile(r"^\s*\[(\d{1,3})\] (.+)$", re.M)


class AnswerLabel(BaseModel):
    """One labelled question. ``handoff``: false, true (any reason) or the expected reason."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    question: str = Field(min_length=1)
    doc_ids: list[str] = Field(default_factory=list)
    language: str = Field(
        min_length=2,
        max_length=8,
        description="expected reply language, ISO 639-1 (zh-TW, zh-Hant: Traditional Chinese)",
    )
    handoff: bool | str = False
    answerable: bool = True
    facts: list[str] = Field(
        default_factory=list,
        description="strings the reply must contain, e.g. a phone number or an amount (one string: one fact)",
    )
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_doc_id(cls, data: Any) -> Any:
        """``"doc_id": "returns.md"`` (one document) is ``"doc_ids": ["returns.md"]``."""
        if isinstance(data, dict) and "doc_id" in data and "doc_ids" not in data:
            data = {
                **data,
                "doc_ids": [data["doc_id"]] if isinstance(data["doc_id"], str) else data["doc_id"],
            }
            del data["doc_id"]
        return data

    @field_validator("facts", mode="before")
    @classmethod
    def _one_fact(cls, value: Any) -> Any:
        """``"facts": "CHF 90"`` is one fact."""
        return [value] if isinstance(value, str) else value

    @field_validator("facts")
    @classmethod
    def _findable(cls, facts: list[str]) -> list[str]:
        for fact in facts:
            fact_pattern(fact)  # a ValueError for a fact with nothing to look for ("", "**")
        return facts

    @model_validator(mode="after")
    def _consistent(self) -> AnswerLabel:
        if self.answerable and not self.doc_ids and self.handoff is False:
            raise ValueError("an answerable question without a handoff needs doc_ids")
        if not self.answerable and self.doc_ids:
            raise ValueError("an unanswerable question has no doc_ids")
        if not self.answerable and self.facts:
            raise ValueError("an unanswerable question has no facts to state")
        return self

    @property
    def expects_handoff(self) -> bool:
        return self.handoff is not False


class CitedPassage(BaseModel):
    index: int
    doc_id: str
    quote: str = ""


class Judgement(BaseModel):
    """A judge model's verdict on one reply: 1 = every claim is supported by the passages."""

    score: float = Field(ge=0, le=1)
    reason: str = Field(min_length=1)


class ObservedAnswer(BaseModel):
    """What the service answered (the fields of ``POST /v1/answers`` that are scored)."""

    text: str
    mode: str = ""
    language: str = ""  # the language the service declared
    citations: list[CitedPassage] = Field(default_factory=list)
    handoff_reason: str | None = None
    error: str | None = None  # the request failed: code and message
    judgement: Judgement | None = None


@dataclass(frozen=True)
class Marker:
    index: int
    quote: str | None  # the text the reply quotes for this marker, if any
    valid: bool  # the index names a passage that was given
    quote_found: bool | None  # the quote is in that passage (None: no quote)

    @property
    def correct(self) -> bool:
        return self.valid and self.quote_found is not False


@dataclass
class AnswerScore:
    question: str
    language: str
    expected_handoff: bool | str
    answerable: bool
    mode: str
    retrieval_hit: bool | None  # None: not applicable (no expected document)
    used_hit: bool | None  # an expected document among the passages the reply's markers name
    first_hit: bool | None  # the first passage the reply's markers name is an expected document
    markers: int
    markers_correct: int
    detected_language: str
    language_ok: bool
    handoff: str | None
    handoff_ok: bool
    faithfulness: float | None = None
    faithfulness_reason: str | None = None
    error: str | None = None
    wrong_markers: list[int] = field(default_factory=list)
    fact_hit: bool | None = None  # the reply states every labelled fact (None: no facts labelled)
    facts_missing: list[str] = field(default_factory=list)
    reply: str = ""

    @property
    def citations_ok(self) -> bool | None:
        return None if self.markers == 0 else self.markers_correct == self.markers


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def quoted_in(quote: str, passage: str) -> bool:
    """``quote`` appears in ``passage`` word for word, whitespace aside; an ellipsis (``…`` or
    ``...``) marks left-out words (the pieces around it must appear in order), and the ``**``/``__``
    emphasis of Markdown is ignored."""

    def plain(text: str) -> str:
        return normalise(text.replace("**", "").replace("__", ""))  # NFKC makes … into ...

    pieces = [p.strip(" ,;:") for p in plain(quote).split("...")]
    text = plain(passage)
    at = 0
    for piece in filter(None, pieces):
        found = text.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def citation_markers(
    text: str, citations: Sequence[CitedPassage], detect: Callable[[str], str] | None = None
) -> list[Marker]:
    """Every ``[n]`` of the reply, checked against the passages given (``citations``). With
    ``detect``, a quote in another language than its passage is a translation (the answer prompt
    asks the model to translate what it quotes from a passage in another language): not checked
    word for word (``quote_found`` None)."""
    passages = {c.index: c.quote for c in citations}
    extractive = _extractive_quotes(text, passages)
    markers = []
    for match in _MARKER.finditer(text):
        index = int(match.group(1))
        valid = index in passages
        quote = extractive.get(match.start())
        if quote is None:
            before = _QUOTED.search(text[max(0, match.start() - 600) : match.start()])
            quote = next((g for g in before.groups() if g), None) if before else None
        found = None if quote is None else valid and quoted_in(quote, passages[index])
        if found is False and valid and detect and quote and detect(quote) != detect(passages[index]):
            found = None  # a translated quote
        markers.append(Marker(index, quote, valid, found))
    return markers


def _extractive_quotes(text: str, passages: dict[int, str]) -> dict[int, str]:
    """Lines ``[n] Title › Section: quoted text`` (extractive replies), by the marker's offset:
    the quote is what follows the first ``": "`` whose remainder is in passage n, else after the
    first ``": "`` (then it is wrong)."""
    quotes: dict[int, str] = {}
    offset = 0
    for line in text.splitlines(keepends=True):
        match = _EXTRACTIVE_LINE.match(line)
        if match and ": " in match.group(2):
            body = match.group(2).rstrip()
            parts = [body[m.end() :] for m in re.finditer(r": ", body)]
            passage = passages.get(int(match.group(1)), "")
            quotes[offset + match.start(1) - 1] = next((p for p in parts if quoted_in(p, passage)), parts[0])
        offset += len(line)
    return quotes


def own_words(text: str, markers: Sequence[Marker], mode: str = "") -> str:
    """The reply without its verified quotes and markers: what the language is judged on. An
    extractive reply's own words are its introduction: every ``[n] label: quote`` after it is the
    documents' text, labels included (a Polish question over English pages is answered in Polish
    with English quotes). A cached reply replays one of either kind: cut the same way when it has
    the quoted lines."""
    if mode in ("extractive", "cached"):
        first = _EXTRACTIVE_LINE.search(text)
        text = text[: first.start()] if first else text
    for marker in markers:
        if marker.quote and marker.quote_found:
            text = text.replace(marker.quote, " ")
    return _MARKER.sub(" ", text)


def _chinese(label: AnswerLabel, words: str) -> str:
    """``zh``, or ``zh-Hans``/``zh-Hant`` for a reply whose own words are in another script than
    the label's tag names (``zh-TW``) or, without one, than the question is written in."""
    expected = tag_script(label.language) or text_script(label.question)
    written = text_script(words)
    return f"zh-{written}" if expected and written and written != expected else "zh"


def handoff_matches(expected: bool | str, actual: str | None) -> bool:
    if expected is False:
        return actual is None
    if expected is True:
        return actual is not None
    return actual == expected


def score(label: AnswerLabel, observed: ObservedAnswer, detect: Callable[[str], str]) -> AnswerScore:
    """One question's scores; ``detect`` returns the ISO 639-1 language of a text."""
    markers = citation_markers(observed.text, observed.citations, detect)
    cited = {c.doc_id for c in observed.citations}
    documents = {c.index: c.doc_id for c in observed.citations}
    used = list(dict.fromkeys(documents[m.index] for m in markers if m.valid))
    words = own_words(observed.text, markers, observed.mode)
    detected = detect(words if words.strip() else observed.text) if observed.text.strip() else ""
    if detected == "zh" and label.language.lower().startswith("zh"):
        detected = _chinese(label, words)
    missing = missing_facts(observed.text, label.facts)
    return AnswerScore(
        question=label.question,
        language=label.language,
        expected_handoff=label.handoff,
        answerable=label.answerable,
        mode=observed.mode,
        retrieval_hit=any(matches(d, label.doc_ids) for d in cited) if label.doc_ids else None,
        used_hit=any(matches(d, label.doc_ids) for d in used) if label.doc_ids else None,
        first_hit=bool(used) and matches(used[0], label.doc_ids) if label.doc_ids else None,
        markers=len(markers),
        markers_correct=sum(m.correct for m in markers),
        detected_language=detected,
        language_ok=detected == base_language(label.language),
        handoff=observed.handoff_reason,
        handoff_ok=handoff_matches(label.handoff, observed.handoff_reason) and observed.error is None,
        faithfulness=observed.judgement.score if observed.judgement else None,
        faithfulness_reason=observed.judgement.reason if observed.judgement else None,
        error=observed.error,
        wrong_markers=[m.index for m in markers if not m.correct],
        fact_hit=not missing if label.facts else None,
        facts_missing=missing,
        reply=observed.text,
    )


@dataclass
class Summary:
    """Rates over a set of scores (``None`` where no question applies)."""

    label: str
    questions: int
    retrieval_hit: float | None
    used_hit: float | None
    first_hit: float | None
    fact_hit: float | None  # replies stating every labelled fact / questions labelled with facts
    fact_questions: int  # questions labelled with facts
    citation_precision: float | None  # correct markers / markers
    replies_citations_ok: float | None  # replies whose markers are all correct / replies with markers
    language_ok: float
    handoff_ok: float
    faithfulness: float | None
    errors: int
    confusion: dict[str, int]  # tp: handoff expected and made; fp; fn; tn
    handoff_reasons: dict[str, int]
    modes: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rate(values: Sequence[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(scores: Sequence[AnswerScore], label: str) -> Summary:
    marked = [s for s in scores if s.markers]
    judged = [s.faithfulness for s in scores if s.faithfulness is not None]
    confusion = Counter(
        ("t" if (s.handoff is not None) == (s.expected_handoff is not False) else "f")
        + ("p" if s.handoff is not None else "n")
        for s in scores
        if s.error is None
    )
    return Summary(
        label=label,
        questions=len(scores),
        retrieval_hit=_rate([s.retrieval_hit for s in scores if s.retrieval_hit is not None]),
        used_hit=_rate([s.used_hit for s in scores if s.used_hit is not None]),
        first_hit=_rate([s.first_hit for s in scores if s.first_hit is not None]),
        fact_hit=_rate([s.fact_hit for s in scores if s.fact_hit is not None]),
        fact_questions=sum(s.fact_hit is not None for s in scores),
        citation_precision=(
            sum(s.markers_correct for s in marked) / sum(s.markers for s in marked) if marked else None
        ),
        replies_citations_ok=_rate([s.citations_ok is True for s in marked]),
        language_ok=_rate([s.language_ok for s in scores]) or 0.0,
        handoff_ok=_rate([s.handoff_ok for s in scores]) or 0.0,
        faithfulness=sum(judged) / len(judged) if judged else None,
        errors=sum(s.error is not None for s in scores),
        confusion={k: confusion.get(k, 0) for k in ("tp", "fp", "fn", "tn")},
        handoff_reasons=dict(Counter(s.handoff for s in scores if s.handoff is not None)),
        modes=dict(Counter(s.mode for s in scores if s.mode)),
    )


def summaries(scores: Sequence[AnswerScore], name: str) -> list[Summary]:
    """The whole set, then one summary per expected language."""
    languages = sorted({s.language for s in scores})
    return [summarise(scores, name)] + [
        summarise([s for s in scores if s.language == lang], f"  {lang}") for lang in languages
    ]


def format_table(rows: Sequence[Summary]) -> str:
    def pct(value: float | None) -> str:
        return f"{value:6.3f}" if value is not None else f"{'-':>6}"

    lines = [
        f"{'set':24} {'n':>4} {'hit':>6} {'used':>6} {'first':>6} {'fact':>6} {'cite':>6} {'cite/r':>6} "
        f"{'lang':>6} {'handof':>6} {'faith':>6} {'err':>4}"
    ]
    for r in rows:
        lines.append(
            f"{r.label[:24]:24} {r.questions:4d} {pct(r.retrieval_hit)} {pct(r.used_hit)} "
            f"{pct(r.first_hit)} {pct(r.fact_hit)} {pct(r.citation_precision)} "
            f"{pct(r.replies_citations_ok)} {pct(r.language_ok)} {pct(r.handoff_ok)} "
            f"{pct(r.faithfulness)} {r.errors:4d}"
        )
    whole = rows[0]
    c = whole.confusion
    lines.append(
        f"handoff (expected × made): tp {c['tp']}  fp {c['fp']}  fn {c['fn']}  tn {c['tn']};  reasons: "
        + (", ".join(f"{k} {v}" for k, v in sorted(whole.handoff_reasons.items())) or "none")
    )
    lines.append(
        "hit: an expected document among the passages given · used: among those the reply cites "
        "with [n] · first: the first it cites (neither says the quote holds the answer) · fact: "
        "replies stating every labelled fact / the questions with facts · cite: correct [n] "
        "markers / markers · cite/r: replies with every marker correct · lang: reply language · "
        "handof: handoff decision as labelled"
    )
    return "\n".join(lines)


def format_missing_facts(scores: Sequence[AnswerScore]) -> str:
    """The replies that do not state a labelled fact, one line each with the facts missing ("" when
    every fact is stated or none is labelled)."""
    missed = [s for s in scores if s.fact_hit is False]
    if not missed:
        return ""
    labelled = sum(s.fact_hit is not None for s in scores)
    lines = [f"replies without a labelled fact ({len(missed)} of {labelled}):"]
    for s in missed:
        question = s.question if len(s.question) <= 60 else s.question[:59] + "…"
        lines.append(f"  [{s.language}] {question}  missing: " + ", ".join(map(repr, s.facts_missing)))
    return "\n".join(lines)


def read_labels(path: Path) -> list[AnswerLabel]:
    """The labelled questions of a JSONL file (one ``AnswerLabel`` object per line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    labels = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            labels.append(AnswerLabel.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            raise InputError(f"{path}:{number}: not a labelled question: {exc}") from exc
    if not labels:
        raise InputError(f"{path} has no labelled questions")
    return labels
