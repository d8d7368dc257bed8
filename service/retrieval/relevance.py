"""Which retrieved passages are relevant enough to answer from: the relevance floor per
knowledge-base version.

The floor is the cut-off calibrated on the knowledge base at ingest (``knowledge.answerability``,
stored with the version's metadata), or ``SERVICE_RELEVANCE_FLOOR`` when set (an override, e.g.
to loosen or tighten it by hand). A knowledge base without a calibration (ingested by an older
version, or too small to probe) gets no floor: every retrieved passage is used and the model's own
"the passages do not answer this" signal is the only check — a warning says so, and the next
ingest calibrates it.

**A gate, then the context.** The cut-off decides whether the documents cover the question at all:
when no passage reaches it, the service hands off without asking the model. When one does, the
passages given to the model (and quoted, and cited) are every retrieved passage within
``context_margin`` under its cut-off: the calibration's own distance from the cut-off down to an
unrelated question's typical best hit (the median of the unanswerable probes). A right page that
scores just under the cut-off next to one that scores just over it (a new user's trial: "周日开门吗？"
found the house rules at 0.787 and the opening hours at 0.775 under a 0.779 cut-off; "Do you take
cash?" the printing FAQ at 0.821 and the refund page at 0.800 under 0.812) reaches the model instead
of leaving it an unrelated passage. ``relevant`` (the passages that passed the gate) is what the
handoff rule counts; ``bench/crosslingual_cutoff.py`` and ``bench/byo_documents.py`` measure it.

**What an answer without a model quotes** (``quoted``; extractive mode: no API key, or Claude
unavailable). The best passage, then at most two more, each only if it is nearly as relevant as
the best passage: its lead over its own cut-off (the cross-language one for a passage in another
language than the question's) is at most ``context_margin`` below the best passage's lead; quoted
best first. Not the retrieval's first passage and its order: the fused rank (lexical and English
companion rankings) put a page under the cut-off first (a new user's trial: "How much does roaming
cost in the USA?" quoted the SIM-replacement page, −0.35 sd, before the roaming page, +2.89 sd).
The margin is the same calibrated distance as above, read from the best passage down instead of
from the cut-off down: a passage that far under the best one is to it what an unrelated
question's best hit is to the cut-off. The model reads every selected passage and cites what it
uses; a reader of quotes reads them all, and a weak passage quoted after the right one buries it
(a new user's trial: a cross-language passage far below the best one). Measured on the Basecamp
policies (``python -m bench.quoted_passages``, docs/benchmarks.md).

**In the customer's language first.** Of the passages quoted, those in the question's language
that passed their cut-off come first (each group by its lead): in a knowledge base of several
languages the lower cross-language cut-off gave another language's passage the larger lead (a
user's "Was kostet ein E-Bike für einen Tag?" opened with the English deposit page, +3.89 sd, not
the German price table, +3.67 sd; "Wann habt ihr sonntags offen?" with the English twin of the
German opening hours). Within the margin both are nearly as relevant, and the customer reads one
of them. Ranking by the normalised score instead would not do it: a German question scores an
English passage against German probes, which score it low, so its z is not lower (the opening
hours: 3.28 English, 2.90 German). The set quoted is the same, so a page only another language has
is still quoted; a passage under its cut-off is not moved before one over it. One language of
passages (any question over one-language documents): the order is the lead's, as before
(``python -m bench.quoted_passages --set mixed``, docs/benchmarks.md).

**Normalised scores.** With a calibration of method ``probe-cohort-v5`` or later and the probes' vectors
(``relevance_floor(..., embedder)``, as the service builds it), a passage is not judged by its
cosine but by how far it lies over the shipped unanswerable questions *in the question's language*
scored against that same passage (``knowledge.cohort``; a multilingual model scores any question
higher against passages in its own language), against ``cohort_threshold`` — or
``cohort_cross_threshold`` for a passage in another language than the question's. Every "lead"
below (gate, context, quotes) is then in those units. A calibration of an older method is judged
by cosine as before, until the next ingest refits it.

**A question the detector is unsure of** (``question_language``). The detector chooses among the
configured languages; a question in a script none of them uses (Arabic, Greek, Hindi, Thai with the
default ``INGEST_LANGUAGES``), or one no language reaches the confidence floor on, is reported as the
default language, ``sure=False``. Read as a question in the default language it met the default
language's probes — the highest-scoring against passages in that language — and its same-language
cut-off: on XQuAD only 37.6 (ar), 61.5 (el), 68.9 (hi) and 58.4 % (th) of the answerable questions
were kept over English paragraphs. The gate now reads it as a question in an unknown language: the
probes of every language (``Cohort.members``) and the cut-off of ``cohort_threshold``
(docs/benchmarks.md, "Every XQuAD language"). The reply language the API reports stays the
default; Claude is told to reply in the question's own language (``Plan.own_language``). A
calibration judged by cosine has no cohort: there the default language is kept, as before.

**A message of one or two words** (``question_language`` with its text: ``knowledge.words.SHORT_WORDS``)
carries little language: the detector names one anyway ("pizza" is Italian, sure), and read as a
question in that language it met sentence probes, which score lower against a passage than a bare
word does, and the cross-language cut-off: a new user's trial (Portuguese furniture pages) had
"pizza", "Bitcoin?", "Merhaba!" and an Arabic "thank you" answered with the privacy page. With a
calibration of ``probe-cohort-v6`` such a message (``ShortMessage``) is judged against a cohort of
its own kind, short off-topic messages of every language pooled, and its own cut-off
``short_threshold`` — ``short_cross_threshold`` for a passage whose language is not written in the
message's script ("退款" over English pages; ``knowledge.short_messages``); so is its context margin. A
calibration of v5 judges it as any question until the next ingest refits it.

The second half of answerability is the model's signal: ``service.answers.prompts.ANSWER_TOOLS`` offers it
the ``NOT_IN_DOCUMENTS`` tool, ``service.llm.claude`` recognises the call in the stream, and the answer
flow turns it into a handoff with reason ``not_in_documents``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from knowledge.answerability import COHORT_METHODS, RelevanceCalibration
from knowledge.cohort import Cohort, cohort_for
from knowledge.schema import KbMeta, SearchHit
from knowledge.short_messages import across_scripts
from knowledge.sparse import shared_encoder
from knowledge.words import is_short

if TYPE_CHECKING:
    from knowledge.embedder import Embedder
    from knowledge.language import Detection

log = logging.getLogger(__name__)

FloorSource = Literal["override", "calibrated", "none"]
MAX_QUOTED = 3  # passages an extractive answer quotes at most
MIN_COVERED_TERMS = 2  # a question's terms a passage must all hold to pass the gate by its words


class ShortMessage(str):
    """The question's "language" for a message of one or two words, as ``question_language`` reads
    it: its text, judged against the short probes' cohort and cut-off (module docstring: "A message
    of one or two words")."""

    __slots__ = ()


@dataclass(frozen=True)
class Selection:
    hits: list[SearchHit]  # the passages to answer from, in retrieval order
    relevant: int  # how many of them passed the gate (the cut-off itself)


@dataclass(frozen=True)
class RelevanceFloor:
    value: float | None  # None: no floor, every retrieved passage is used
    source: FloorSource
    kb_version: int = -1
    calibration: RelevanceCalibration | None = None
    # the unanswerable probes' vectors: with a calibration that has a cohort cut-off, passages are
    # judged by their cohort-normalised score (module docstring: "Normalised scores")
    cohort: Cohort | None = None

    def question_language(
        self, language: str | None, detection: Detection | None = None, text: str | None = None
    ) -> str | None:
        """The question's language as this cut-off reads it (module docstring: "A question the
        detector is unsure of", "A message of one or two words"): ``language`` (the reply
        language); ``ShortMessage`` when ``text`` (the text retrieved with) has at most ``SHORT_WORDS``
        words and the calibration has a short-message cut-off; None — unknown — when ``language``
        is only the detector's fallback: ``detection`` (what the detector said of the question,
        when the reply language is its verdict; None when something else decided it: the request,
        the conversation…) is unsure and reported ``language``. Both only when passages are judged
        by their normalised score."""
        if not self.normalised:
            return language
        if text is not None and self.short_messages and is_short(text):
            return ShortMessage(text)
        fallback = detection is not None and not detection.sure and detection.language == language
        return None if fallback else language

    def keep(self, hits: Sequence[SearchHit], language: str | None = None) -> list[SearchHit]:
        """The passages to answer from, in their retrieval order (``select``)."""
        return self.select(hits, language).hits

    def select(
        self, hits: Sequence[SearchHit], language: str | None = None, question: str | None = None
    ) -> Selection:
        """The gate and the context (module docstring). A passage in another language than the
        question's (``language``) is held to the calibration's cross-language cut-off; with the
        ``question`` (the text retrieved with), one that holds all its words passes too
        (``relevant``)."""
        if self.value is None:
            return Selection(list(hits), len(hits))
        leads = [self.lead(hit, language) for hit in hits]
        relevant = len(self._passing(hits, leads, language, question))
        if not relevant:
            return Selection([], 0)
        margin = self.margin(language)
        return Selection([h for h, lead in zip(hits, leads, strict=True) if lead >= -margin], relevant)

    def relevant(
        self, hits: Sequence[SearchHit], language: str | None = None, question: str | None = None
    ) -> list[SearchHit]:
        """The passages that pass the gate: at or over their cut-off — or, when none is, those
        within ``margin`` under it that hold every term of ``question`` (``covers``). A trial (a
        water utility): "¿Cuál es el horario de la oficina los jueves?" over a contact page whose
        "Horario: … los jueves también de 16:00 a 19:00" has all three of its words scored −0.27 sd,
        and the customer was handed to a person (the page's other sections and an English copy in
        the same chunk dilute its vector)."""
        if self.value is None:
            return list(hits)
        return self._passing(hits, [self.lead(hit, language) for hit in hits], language, question)

    def _passing(
        self,
        hits: Sequence[SearchHit],
        leads: Sequence[float],
        language: str | None,
        question: str | None,
    ) -> list[SearchHit]:
        """``relevant`` with each hit's lead computed once by the caller."""
        pairs = list(zip(hits, leads, strict=True))
        over = [hit for hit, lead in pairs if lead >= 0.0]
        if over or not question:
            return over
        margin = self.margin(language)
        return [h for h, lead in pairs if lead >= -margin and self.covers(h, question, language)]

    def covers(self, hit: SearchHit, question: str, language: str | None) -> bool:
        """``hit`` is in the question's own ``language`` and holds every term of ``question``, at
        least ``MIN_COVERED_TERMS`` of them (the lexical search's terms: stemmed words without stop
        words, and numbers). Not for a message of one or two words, or one in an unknown language:
        a word or two are too easily all found."""
        if not language or isinstance(language, ShortMessage) or self.other_language(hit, language):
            return False
        encoder = shared_encoder()
        wanted = encoder.terms(question, hit.payload.language)
        return len(wanted) >= MIN_COVERED_TERMS and wanted <= encoder.terms(
            hit.payload.text, hit.payload.language
        )

    def quoted(
        self, hits: Sequence[SearchHit], language: str | None = None, at_most: int = MAX_QUOTED
    ) -> list[SearchHit]:
        """The passages an extractive answer quotes, the best first (module docstring: "What an
        answer without a model quotes"): at most ``at_most`` of those whose lead over their own
        cut-off is within ``context_margin`` of the best passage's, by their lead (ties in
        retrieval order); then those of them in the question's language that passed the gate are
        moved before the others ("In the customer's language first"). Without a calibration (no
        floor, an override) there is no scale: the first ``at_most``, in retrieval order."""
        if not hits:
            return []
        margin = self.margin(language)
        if self.value is None or self.source != "calibrated" or margin <= 0.0:
            return list(hits[:at_most])
        leads = [self.lead(hit, language) for hit in hits]
        best = max(leads)
        ranked = sorted(zip(hits, leads, strict=True), key=lambda pair: -pair[1])
        near = [(hit, lead) for hit, lead in ranked if lead >= best - margin][:at_most]
        # stable: by lead within each group, the question's language (over its cut-off) first
        moved = sorted(near, key=lambda pair: pair[1] < 0.0 or self.other_language(pair[0], language))
        return [hit for hit, _lead in moved]

    @property
    def normalised(self) -> bool:
        """Passages are judged by their cohort-normalised score (else by their cosine)."""
        return (
            self.source == "calibrated"
            and self.cohort is not None
            and self.calibration is not None
            and self.calibration.cohort_threshold is not None
        )

    @property
    def short_messages(self) -> bool:
        """Messages of one or two words have their own cohort and cut-off."""
        return (
            self.normalised
            and self.cohort is not None
            and self.cohort.short is not None
            and self.calibration is not None
            and self.calibration.short_threshold is not None
        )

    def lead(self, hit: SearchHit, language: str | None = None) -> float:
        """How far ``hit`` scores over its cut-off (negative: under it), in the units of the
        cut-off: standard deviations of the cohort when ``normalised``, else cosine."""
        return self.score(hit, language) - self.cut_off(hit, language)

    def score(self, hit: SearchHit, language: str | None = None) -> float:
        """``hit``'s score as its cut-off reads it: cohort-normalised when ``normalised`` (against
        the short probes for a ``ShortMessage``), else its cosine."""
        assert self.value is not None
        if not self.normalised:
            return _cosine(hit)
        assert self.cohort is not None
        if hit.dense_score is None or hit.vector is None:
            return -math.inf
        if isinstance(language, ShortMessage):
            return self.cohort.normalise_short(hit.dense_score, hit.vector)
        return self.cohort.normalise(hit.dense_score, hit.vector, language, hit.payload.language)

    def cut_off(self, hit: SearchHit, language: str | None = None) -> float:
        """The cut-off ``hit`` is held to: the cross-language one for a passage in another language
        than the question's (``other_language``)."""
        other = self.other_language(hit, language)
        if not self.normalised:
            cross = self.calibration.cross_threshold if self.calibration is not None else None
            assert self.value is not None
            return cross if cross is not None and other else self.value
        assert self.calibration is not None and self.calibration.cohort_threshold is not None
        if isinstance(language, ShortMessage):
            assert self.calibration.short_threshold is not None
            cut = self.calibration.short_threshold
            return min(cut, self.calibration.short_cross_threshold or cut) if other else cut
        cross = self.calibration.cohort_cross_threshold
        return cross if cross is not None and other else self.calibration.cohort_threshold

    @staticmethod
    def other_language(hit: SearchHit, language: str | None) -> bool:
        """``hit`` is in another language than the question's: one it names (a passage of no
        language, "und", is in none), or for a ``ShortMessage`` one not written in its script. A
        question in an unknown language (None) has no other."""
        if isinstance(language, ShortMessage):
            return across_scripts(language, hit.payload.language)
        return bool(language) and hit.payload.language not in (language, "und", None)

    def margin(self, language: str | None) -> float:
        """``context_margin``, or for a short message (``ShortMessage``) its own: the short cut-off minus
        the short off-topic probes' median best hit."""
        if isinstance(language, ShortMessage) and self.short_messages:
            assert self.calibration is not None and self.calibration.short_threshold is not None
            median = self.calibration.short_quantiles.get("unanswerable", {}).get("p50")
            return max(self.calibration.short_threshold - median, 0.0) if median is not None else 0.0
        return self.context_margin

    @property
    def context_margin(self) -> float:
        """How far under its cut-off a passage may score and still be given to the model once
        another passed: the cut-off minus the unanswerable probes' median best hit (0 for an
        override or a calibration without that figure)."""
        if self.source != "calibrated" or self.calibration is None or self.value is None:
            return 0.0
        if self.normalised:
            assert self.calibration.cohort_threshold is not None
            median = self.calibration.cohort_quantiles.get("unanswerable", {}).get("p50")
            return max(self.calibration.cohort_threshold - median, 0.0) if median is not None else 0.0
        median = self.calibration.quantiles.get("unanswerable", {}).get("p50")
        return max(self.value - median, 0.0) if median is not None else 0.0

    def describe(self) -> str:
        if self.source == "override":
            return f"relevance floor {self.value:.3f} (SERVICE_RELEVANCE_FLOOR)"
        if self.source == "calibrated" and self.calibration is not None:
            return self.calibration.summary()
        return "no relevance floor (the knowledge base has no calibration; ingest again to fit one)"


def _cosine(hit: SearchHit) -> float:
    return hit.dense_score if hit.dense_score is not None else -1.0


NO_FLOOR = RelevanceFloor(None, "none")


def no_floor() -> RelevanceFloor:
    return NO_FLOOR


def relevance_floor(
    meta: KbMeta, override: float | None, model: str, embedder: Embedder | None = None
) -> RelevanceFloor:
    """The floor for one knowledge-base version, served with embedding model ``model``. With
    ``embedder`` (the service's), a calibration of this version that has a cohort cut-off judges
    passages by their cohort-normalised score; the probes are embedded once per process."""
    if override is not None:
        return RelevanceFloor(override, "override", meta.version)
    calibration = RelevanceCalibration.from_dict(meta.relevance)
    if calibration is None:
        return RelevanceFloor(None, "none", meta.version)
    if calibration.model and calibration.model != model:
        # The scores of another model say nothing about this one's (the index would not match either).
        log.warning(
            "the relevance cut-off of knowledge-base version %d was fitted with %s, the service runs %s: "
            "not used",
            meta.version,
            calibration.model,
            model,
        )
        return RelevanceFloor(None, "none", meta.version)
    cohort = None
    if (
        embedder is not None
        and calibration.cohort_threshold is not None
        and calibration.method in COHORT_METHODS
    ):
        cohort = cohort_for(embedder)
    return RelevanceFloor(calibration.threshold, "calibrated", meta.version, calibration, cohort)
