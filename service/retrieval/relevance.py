"""Which retrieved passages are relevant enough to answer from: the relevance floor per
knowledge-base version.

The floor is the cut-off calibrated on the knowledge base at ingest (``knowledge.answerability``,
stored with the version's metadata), or ``SERVICE_RELEVANCE_FLOOR`` when set (an override, e.g.
to loosen or tighten it by hand). A knowledge base without a calibration (ingested by an older
version, or too small to probe) gets no floor: every retrieved passage is used and the model's own
"the passages do not answer this" signal is the only check — a warning says so, and the next
ingest calibrates it.

The second half of answerability is the model's signal: ``service.answers.prompts.ANSWER_TOOLS`` offers it
the ``NOT_IN_DOCUMENTS`` tool, ``service.llm.claude`` recognises the call in the stream, and the answer
flow turns it into a handoff with reason ``not_in_documents``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from knowledge.answerability import RelevanceCalibration
from knowledge.schema import KbMeta, SearchHit

log = logging.getLogger(__name__)

FloorSource = Literal["override", "calibrated", "none"]


@dataclass(frozen=True)
class RelevanceFloor:
    value: float | None  # None: no floor, every retrieved passage is used
    source: FloorSource
    kb_version: int = -1
    calibration: RelevanceCalibration | None = None

    def keep(self, hits: Sequence[SearchHit], language: str | None = None) -> list[SearchHit]:
        """The hits at or above the floor, in their retrieval order. A passage in another language
        than the question's (``language``) is held to the calibration's cross-language cut-off."""
        if self.value is None:
            return list(hits)
        cross = self.calibration.cross_threshold if self.calibration is not None else None
        kept = []
        for hit in hits:
            floor = self.value
            other = hit.payload.language not in (language, "und", None)
            if cross is not None and language and other:
                floor = cross
            if (hit.dense_score if hit.dense_score is not None else -1.0) >= floor:
                kept.append(hit)
        return kept

    def describe(self) -> str:
        if self.source == "override":
            return f"relevance floor {self.value:.3f} (SERVICE_RELEVANCE_FLOOR)"
        if self.source == "calibrated" and self.calibration is not None:
            return self.calibration.summary()
        return "no relevance floor (the knowledge base has no calibration; ingest again to fit one)"


NO_FLOOR = RelevanceFloor(None, "none")


def no_floor() -> RelevanceFloor:
    return NO_FLOOR


def relevance_floor(meta: KbMeta, override: float | None, model: str) -> RelevanceFloor:
    """The floor for one knowledge-base version, served with embedding model ``model``."""
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
    return RelevanceFloor(calibration.threshold, "calibrated", meta.version, calibration)
