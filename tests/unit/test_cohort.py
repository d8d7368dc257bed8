"""The cohort-normalised relevance score (``knowledge.cohort``) and the floor that uses it
(``service.retrieval.relevance``), on hand-made unit vectors: no model needed to see the rule."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from knowledge.answerability import RelevanceCalibration
from knowledge.cohort import Cohort, cross_language_drop
from knowledge.language import Detection
from knowledge.probes import Probe
from knowledge.schema import ChunkPayload, SearchHit
from knowledge.short_messages import across_scripts
from knowledge.words import is_short
from service.retrieval.relevance import RelevanceFloor, ShortMessage

PASSAGE = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)


def _at(cosine: float, axis: int = 1) -> np.ndarray:
    """A unit vector with ``cosine`` to ``PASSAGE``."""
    vector = np.zeros(4, dtype=np.float32)
    vector[0], vector[axis] = cosine, math.sqrt(1.0 - cosine**2)
    return vector


# Spanish unrelated questions score high against the (Spanish) passage, German ones low: the
# same-language inflation of a multilingual model, in miniature.
SPANISH = [0.80, 0.82, 0.84, 0.86]
GERMAN = [0.70, 0.72, 0.74, 0.76]
COHORT = Cohort(
    {
        "es": np.stack([_at(c, 1 + i % 3) for i, c in enumerate(SPANISH)]),
        "de": np.stack([_at(c, 1 + i % 3) for i, c in enumerate(GERMAN)]),
    }
)


def _hit(cosine: float, language: str, vector: np.ndarray | None = PASSAGE) -> SearchHit:
    payload = ChunkPayload(
        doc_id=f"{language}.md",
        chunk_index=0,
        chunk_count=1,
        doc_hash="h",
        text="t",
        title="t",
        source=f"{language}.md",
        language=language,
    )
    return SearchHit(
        id=f"{language}-{cosine}",
        score=0.5,
        dense_score=cosine,
        payload=payload,
        vector=tuple(float(x) for x in vector) if vector is not None else None,
    )


def test_a_score_is_read_against_unrelated_questions_in_the_questions_language() -> None:
    spanish_sd, german_sd = float(np.std(SPANISH)), float(np.std(GERMAN))
    z_es = COHORT.normalise(0.85, PASSAGE, "es", "es")
    z_de = COHORT.normalise(0.85, PASSAGE, "de", "es")
    assert z_es == pytest.approx((0.85 - 0.83) / spanish_sd, rel=1e-4)
    assert z_de == pytest.approx((0.85 - 0.73) / german_sd, rel=1e-4)
    assert z_es < 1.0 and z_de > 5.0  # the same cosine: ordinary in Spanish, far above in German


def test_the_cohort_of_a_language_without_probes_and_leaving_a_probe_out() -> None:
    # Polish has no probes: asked about a Spanish passage, it is compared with the other languages'.
    assert COHORT.members("pl", "es").shape[0] == len(GERMAN)
    assert COHORT.members("pl", "pl").shape[0] == COHORT.members(None, "es").shape[0] == 8
    assert COHORT.members("es", "de").shape[0] == len(SPANISH)
    # A probe scored against its own language's cohort is left out of it.
    left_out = COHORT.normalise(0.80, PASSAGE, "es", "es", exclude=0)
    rest = SPANISH[1:]
    assert left_out == pytest.approx((0.80 - float(np.mean(rest))) / float(np.std(rest)), rel=1e-4)


def _floor(cohort: Cohort | None = COHORT, **fitted: float | None) -> RelevanceFloor:
    calibration = RelevanceCalibration(
        threshold=0.80,
        cross_threshold=0.78,
        quantiles={"unanswerable": {"p50": 0.79}},
        cohort_quantiles={"unanswerable": {"p50": 0.5}},
        **fitted,  # type: ignore[arg-type]
    )
    return RelevanceFloor(calibration.threshold, "calibrated", 1, calibration, cohort)


def test_the_floor_hands_off_a_same_language_question_over_the_cosine_cut_off() -> None:
    floor = _floor(cohort_threshold=2.0, cohort_cross_threshold=1.5)
    assert floor.normalised
    # 0.85 clears the cosine cut-off (0.80) but is ordinary for a Spanish question here.
    assert floor.select([_hit(0.85, "es")], "es").relevant == 0
    assert floor.select([_hit(0.90, "es")], "es").relevant == 1  # (0.90 − 0.83) / 0.022 ≈ 3.1
    # A German question about the Spanish passage is held to the cross-language cut-off (1.5):
    # 0.765 is (0.765 − 0.73) / 0.022 ≈ 1.57 over the German questions — under 2.0, over 1.5.
    assert floor.lead(_hit(0.765, "es"), "de") == pytest.approx(1.565 - 1.5, abs=0.01)
    assert floor.select([_hit(0.765, "es")], "de").relevant == 1
    # The context margin is in the same units: cut-off minus the unanswerable median (2.0 − 0.5).
    assert floor.context_margin == pytest.approx(1.5)
    # No vector (a sparse-only hit): nothing to compare, as a hit without a cosine.
    assert floor.lead(_hit(0.95, "es", vector=None), "es") == -math.inf


def test_a_calibration_without_the_cohort_cut_off_keeps_the_cosine_rule() -> None:
    """A knowledge base calibrated by an older version (no ``cohort_threshold``), or a floor built
    without the probes' vectors, judges cosines as before until the next ingest recalibrates it."""
    for floor in (_floor(), _floor(None, cohort_threshold=2.0)):
        assert not floor.normalised
        assert floor.select([_hit(0.85, "es")], "es").relevant == 1  # 0.85 ≥ 0.80
        assert floor.select([_hit(0.79, "es")], "de").relevant == 1  # across languages: ≥ 0.78
        assert floor.select([_hit(0.77, "es")], "de").relevant == 0
    legacy = RelevanceCalibration.from_dict({"threshold": 0.8, "method": "probe-quantiles-v3"})
    assert legacy is not None and legacy.cohort_threshold is None


def test_the_cross_language_drop_is_measured_with_the_same_question_in_each_language() -> None:
    """The parallel probes: asked in Spanish, topic 0 finds the Spanish passage at 0.86 (over its
    Spanish cohort without it: 0.80–0.84); asked in German, the same question scores 0.74 against
    that passage (over its German cohort without it: 0.70–0.76). The drop is the difference of
    the two normalised scores."""
    probes = [
        Probe("¿…?", "es", "uncovered", topic=0),
        Probe("…?", "es", "uncovered"),
        Probe("…?", "es", "uncovered"),
        Probe("…?", "es", "uncovered"),
        Probe("…?", "de", "uncovered"),
        Probe("…?", "de", "uncovered"),
        Probe("…?", "de", "uncovered"),
        Probe("Wie…?", "de", "uncovered", topic=0),
    ]
    cohort = Cohort(
        {
            "es": np.stack([_at(c, 1 + i % 3) for i, c in enumerate([0.86, 0.80, 0.82, 0.84])]),
            "de": np.stack([_at(c, 1 + i % 3) for i, c in enumerate([0.70, 0.72, 0.76, 0.74])]),
        }
    )
    hits: list[list[SearchHit]] = [[_hit(0.86, "es")], *[[] for _ in range(7)]]
    drop = cross_language_drop(probes, hits, cohort)
    z_es = (0.86 - 0.82) / float(np.std([0.80, 0.82, 0.84]))
    z_de = (0.74 - 0.726667) / float(np.std([0.70, 0.72, 0.76]))
    assert drop == pytest.approx(z_es - z_de, rel=1e-3)
    # Without a parallel question in a language of the base, nothing is measured.
    assert cross_language_drop(probes, [[_hit(0.86, "fr")], *[[] for _ in range(7)]], cohort) is None


def test_a_question_the_detector_is_unsure_of_is_read_as_an_unknown_language() -> None:
    """An Arabic question with Spanish and German configured: the detector reports the default
    (here Spanish), unsure. Read as Spanish, it met the Spanish probes — the highest against this
    Spanish passage — and 0.845 was ordinary; read as an unknown language it meets every language's
    probes (mean 0.78) and the same-language cut-off, and passes."""
    floor = _floor(cohort_threshold=1.0, cohort_cross_threshold=0.5)
    unsure = Detection("es", 0.0, sure=False)
    assert floor.question_language("es", unsure) is None
    hit = _hit(0.845, "es")
    assert floor.select([hit], "es").relevant == 0  # (0.845 − 0.83) / 0.022 ≈ 0.67 < 1.0
    every = SPANISH + GERMAN
    z = (0.845 - float(np.mean(every))) / float(np.std(every))
    assert floor.lead(hit, None) == pytest.approx(z - 1.0, rel=1e-4)  # the same-language cut-off
    assert floor.select([hit], floor.question_language("es", unsure)).relevant == 1
    # A sure detection, a language decided otherwise (the request, the conversation: no detection),
    # or one the script chose over the detector's fallback keeps the language.
    assert floor.question_language("es", Detection("es", 0.9)) == "es"
    assert floor.question_language("es", None) == "es"
    assert floor.question_language("de", unsure) == "de"
    # Judged by cosine (an older calibration, or no probes' vectors), there is no cohort to read an
    # unknown language against: the default language is kept, as before.
    for cosine in (_floor(), _floor(None, cohort_threshold=1.0)):
        assert cosine.question_language("es", unsure) == "es"


# The short off-topic probes (``knowledge.short_messages``): one or two words each, every language
# pooled; they score higher against the passage than the German sentence probes.
SHORT = [0.80, 0.82, 0.84, 0.86]


def _short_floor(**fitted: float | None) -> RelevanceFloor:
    cohort = Cohort(COHORT.vectors, np.stack([_at(c, 1 + i % 3) for i, c in enumerate(SHORT)]))
    floor = _floor(cohort, cohort_threshold=1.0, cohort_cross_threshold=0.5, **fitted)
    assert floor.calibration is not None
    calibration = replace(floor.calibration, short_quantiles={"unanswerable": {"p50": 0.3}})
    return RelevanceFloor(floor.value, "calibrated", 1, calibration, cohort)


def test_a_short_message_is_judged_against_short_messages_and_its_own_cut_off() -> None:
    """ "pizza" detected (surely) as German over a Spanish passage at 0.84: read as a German
    question it met the German sentence probes (0.70–0.76) and the cross-language cut-off and
    passed by far; against the short probes (0.80–0.86: a bare word scores higher against any
    passage than a question does) it is ordinary."""
    floor = _short_floor(short_threshold=1.0, short_cross_threshold=0.2)
    asked_in = floor.question_language("de", Detection("de", 0.9), "pizza")
    assert isinstance(asked_in, ShortMessage) and asked_in == "pizza"
    hit = _hit(0.84, "es")
    z = (0.84 - float(np.mean(SHORT))) / float(np.std(SHORT))
    assert floor.lead(hit, asked_in) == pytest.approx(z - 1.0, rel=1e-4)
    assert floor.select([hit], asked_in).relevant == 0
    assert floor.lead(hit, "de") > 2.0  # read as a question: far over its cut-off
    assert floor.select([_hit(0.90, "es")], asked_in).relevant == 1
    # A message in a script the passage's language is not written in: the cross-script cut-off.
    assert across_scripts("退款", "en") and not across_scripts("Rückerstattung", "en")
    assert across_scripts("Привет", "es")
    chinese = floor.question_language("zh", Detection("zh", 0.9), "退款")
    assert floor.lead(hit, chinese) == pytest.approx(z - 0.2, rel=1e-4)
    # Its context margin is the short calibration's: cut-off minus the short probes' median.
    assert floor.margin(asked_in) == pytest.approx(1.0 - 0.3)
    # Three words or more are a question as before.
    assert floor.question_language("es", Detection("es", 0.9), "¿pizza a domicilio?") == "es"
    assert is_short("退款") and not is_short("") and not is_short("Wann kommt mein Paket?")


def test_a_calibration_without_a_short_cut_off_reads_a_short_message_as_before() -> None:
    """A v5 calibration (no ``short_threshold``) until the next ingest; a cosine one too."""
    sure = Detection("de", 0.9)
    assert _short_floor().question_language("de", sure, "pizza") == "de"
    assert _floor(cohort_threshold=1.0, short_threshold=1.0).question_language("de", sure, "pizza") == "de"
    assert _floor(short_threshold=1.0).question_language("de", sure, "pizza") == "de"  # by cosine


def test_quotes_in_the_questions_language_first_among_passages_nearly_as_relevant() -> None:
    """``RelevanceFloor.quoted`` in a knowledge base of several languages: a passage in the
    question's language that passed its cut-off comes before a passage in another language that
    leads by more (the lower cross-language cut-off gives it the larger lead: a user's "Was kostet
    ein E-Bike für einen Tag?" opened with the English deposit page, +3.89 sd, not the German price
    table, +3.67 sd); the other-language passage is still quoted after it."""
    floor = _floor(cohort_threshold=2.0, cohort_cross_threshold=1.5)  # context margin 1.5
    # A German question: the German probes' mean cosine 0.73, sd 0.0224.
    german = _hit(0.785, "de")  # z 2.46: lead 0.46 over 2.0
    spanish = _hit(0.79, "es")  # z 2.68: lead 1.18 over the cross cut-off 1.5
    assert floor.lead(spanish, "de") > floor.lead(german, "de") > 0.0
    assert floor.score(spanish, "de") > floor.score(german, "de")  # z alone would not change it
    assert [h.payload.doc_id for h in floor.quoted([spanish, german], "de")] == ["de.md", "es.md"]
    # A passage of no language ("und": a table of figures) is read by every reader.
    figures = replace(
        german, payload=german.payload.model_copy(update={"doc_id": "und.md", "language": "und"})
    )
    assert [h.payload.doc_id for h in floor.quoted([spanish, figures], "de")] == ["und.md", "es.md"]
    # Only the other language's page answers: a German passage under its own cut-off (within the
    # margin of the best) does not open the answer; it comes after, as before.
    weak = _hit(0.77, "de")  # z 1.79: lead −0.21, within the margin of 1.18
    assert [h.payload.doc_id for h in floor.quoted([weak, spanish], "de")] == ["es.md", "de.md"]
    # Beyond the margin, a German passage is not quoted at all, whatever its language.
    assert [h.payload.doc_id for h in floor.quoted([_hit(0.74, "de"), spanish], "de")] == ["es.md"]
    # A question in an unknown language (None) has no own language: by lead, as before.
    assert floor.quoted([german, spanish], None) == sorted(
        [german, spanish], key=lambda h: -floor.lead(h, None)
    )


def test_one_language_of_passages_is_quoted_by_lead_as_before() -> None:
    """All passages in one language (a question over one-language documents, in its language or
    not): the order is the lead's, which is then the normalised score's."""
    floor = _floor(cohort_threshold=2.0, cohort_cross_threshold=1.5)
    hits = [_hit(c, "es") for c in (0.78, 0.80, 0.79)]
    for language in ("de", "es"):
        by_lead = sorted(hits, key=lambda h: -floor.lead(h, language))
        assert floor.quoted(hits, language) == by_lead[:3]
        assert by_lead == sorted(hits, key=lambda h: -floor.score(h, language))
