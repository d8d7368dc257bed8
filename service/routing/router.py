"""Intent routing: which of the catalog's labels a question is, with a calibrated confidence.

The local router (default) compares the question's embedding — the one the service computes for
retrieval anyway — with the embedded example phrasings of the intents file (``ROUTER_INTENTS_FILE``;
unset = the bundled example ``service/routing/intents.yaml``, see
``service.routing.catalog.intents_origin`` for what that changes): one small matrix product, no
model call. Label score = mean of the two best example similarities; probabilities = softmax(scores
/ T) with the catch-all label floored; ``T`` is fitted per language by leave-one-out on the examples
(``service.routing.calibration``), so a stated 0.8 means right about 80% of the time, and a language
the embedding model handles poorly gets honestly low confidence.
Two layers read the raw text first: multilingual keyword patterns catch requests for a person that
must never be missed, and a question that *is* a labelled example gets that example's label.

``ROUTER_KIND=llm`` asks Claude instead (``service.routing.llm_router``), falling back to this router;
``service.routing.factory.build_router`` picks the configured one.
Method and measurements: docs/routing.md.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from knowledge.embedder import Embedder
from knowledge.language import LanguageIdentifier, base_language
from service.llm.billing import Bill
from service.routing import calibration as cal
from service.routing.catalog import IntentCatalog, intents_origin
from service.routing.route import Route, Vector, wants_human
from service.routing.settings import RouterSettings

log = logging.getLogger(__name__)

GLOBAL = "*"  # calibration key used for languages without enough examples of their own
MIN_EXAMPLES_PER_LANGUAGE_FACTOR = 3  # a language gets its own temperature with ≥ 3 examples per label


class IntentRouter:
    """The local router: embedding similarity to labelled examples, calibrated per language."""

    def __init__(
        self,
        catalog: IntentCatalog,
        embedder: Embedder,
        settings: RouterSettings | None = None,
        languages: LanguageIdentifier | None = None,
        default_language: str = "en",
    ) -> None:
        self.settings = settings or RouterSettings()
        self.catalog = catalog
        self.labels = catalog.labels
        self._embedder = embedder
        self._languages = languages
        self._default_language = default_language
        self._k = self.settings.top_k
        self._fallback = self.labels.index(catalog.fallback)
        gold = np.array([self.labels.index(e.label) for e in catalog.examples], dtype=np.int64)
        self._vectors = embedder.embed_queries([e.text for e in catalog.examples])  # one batch
        self._index = cal.LabelIndex(gold, len(self.labels))
        self.calibrations = self._fit(gold, [base_language(e.language) for e in catalog.examples])

    @classmethod
    def from_settings(
        cls,
        settings: RouterSettings,
        embedder: Embedder,
        languages: LanguageIdentifier | None = None,
        default_language: str = "en",
    ) -> IntentRouter:
        catalog = IntentCatalog.load(intents_origin(settings.intents_file).path)
        return cls(catalog, embedder, settings, languages, default_language)

    # --- calibration ------------------------------------------------------------------------
    def _fit(self, gold: npt.NDArray[np.int64], langs: list[str]) -> dict[str, cal.Calibration]:
        """One calibration over all examples (floor and T), then a temperature per language."""
        loo = cal.leave_one_out_scores(self._vectors, self._index, self._k)
        fixed_t = self.settings.temperature
        overall = _with_temperature(cal.fit(loo, gold, self._fallback), fixed_t, loo, gold, self._fallback)
        fitted = {GLOBAL: overall}
        lang_arr = np.array(langs)
        needed = MIN_EXAMPLES_PER_LANGUAGE_FACTOR * len(self.labels)
        for lang in sorted(set(langs)):
            rows = lang_arr == lang
            if rows.sum() < needed:
                continue
            sub = cal.fit(loo[rows], gold[rows], self._fallback, floor=overall.floor)
            fitted[lang] = _with_temperature(sub, fixed_t, loo[rows], gold[rows], self._fallback)
        log.info(
            "intent router: %d labels, %d examples from %s; %s",
            len(self.labels),
            len(gold),
            self.catalog.source,
            ", ".join(f"{k}: T={c.temperature:.4f} loo-acc={c.accuracy:.2f}" for k, c in fitted.items()),
        )
        return fitted

    def calibration_for(self, language: str) -> cal.Calibration:
        return self.calibrations.get(base_language(language), self.calibrations[GLOBAL])

    # --- routing ----------------------------------------------------------------------------
    @property
    def fallback_index(self) -> int:
        return self._fallback

    def label_scores(self, vectors: Vector) -> npt.NDArray[np.float32]:
        """(n × dim) unit vectors → (n × labels) pooled similarities, before floor and softmax."""
        return self._index.pooled(np.asarray(vectors @ self._vectors.T, dtype=np.float32), self._k)

    def probabilities(self, vectors: Vector, languages: list[str]) -> npt.NDArray[np.float32]:
        """(n × dim) unit vectors → (n × labels) calibrated probabilities."""
        scores = self.label_scores(vectors)
        out = np.empty_like(scores)
        for lang in set(languages):
            rows = np.array([x == lang for x in languages])
            c = self.calibration_for(lang)
            out[rows] = cal.softmax(cal.apply_floor(scores[rows], self._fallback, c.floor), c.temperature)
        return out

    def route_vectors(
        self, vectors: Vector, languages: list[str], texts: list[str | None] | None = None
    ) -> list[Route]:
        matrix = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if matrix.shape[1] != self._vectors.shape[1]:
            raise ValueError(
                f"vector has {matrix.shape[1]} dimensions, the router's model {self._vectors.shape[1]}"
            )
        if len(languages) != len(matrix):
            raise ValueError("one language per vector is needed")
        probs = self.probabilities(matrix, languages)
        return [
            self._route(probs[i], languages[i], texts[i] if texts is not None else None)
            for i in range(len(matrix))
        ]

    def route_vector(self, vector: Vector, language: str, text: str | None = None) -> Route:
        """The hot path: an L2-normalised query vector (already computed for retrieval) → Route.

        Pass the question ``text`` too to enable the keyword layer (a regex scan, microseconds).
        """
        return self.route_vectors(np.asarray(vector, dtype=np.float32).reshape(1, -1), [language], [text])[0]

    def route(self, text: str, language: str | None = None) -> Route:
        """Convenience: embeds ``text`` (one model call) and detects the language when not given."""
        lang = language or self.detect_language(text)
        return self.route_vector(self._embedder.embed_query(text), lang, text)

    async def classify(
        self, text: str, language: str, vector: Vector | None = None, bill: Bill | None = None
    ) -> Route:
        """Local: no Claude call, nothing charged to ``bill``."""
        if vector is None:
            return self.route(text, language)
        return self.route_vector(vector, language, text)

    def detect_language(self, text: str) -> str:
        if self._languages is None:
            return self._default_language
        return self._languages.detect(text).language

    def wants_human(self, route: Route) -> bool:
        return wants_human(route, self.catalog.human_label)

    def text_route(self, text: str, language: str, scores: tuple[tuple[str, float], ...]) -> Route | None:
        """The layers that read the raw text: keyword patterns, then exact example matches."""
        rule = self.catalog.keyword_match(text)
        label = rule.label if rule is not None else self.catalog.exact_match(text)
        if label is None:
            return None
        model_p = dict(scores).get(label, 0.0)
        confidence = max(self.catalog.keyword_confidence, model_p)
        return Route(label, confidence, language, scores, source="keyword" if rule is not None else "example")

    def _route(self, probs: npt.NDArray[np.float32], language: str, text: str | None) -> Route:
        order = np.argsort(-probs)
        scores = tuple((self.labels[i], float(probs[i])) for i in order)
        if text:
            by_text = self.text_route(text, language, scores)
            if by_text is not None:
                return by_text
        best = int(order[0])
        return Route(self.labels[best], float(probs[best]), language, scores)


def _with_temperature(
    base: cal.Calibration,
    temperature: float | None,
    scores: npt.NDArray[np.float32],
    gold: npt.NDArray[np.int64],
    fallback: int,
) -> cal.Calibration:
    """``base`` with a configured temperature instead of the fitted one (NLL/accuracy recomputed)."""
    if temperature is None:
        return base
    probs = cal.softmax(cal.apply_floor(scores, fallback, base.floor), temperature)
    accuracy = float((probs.argmax(axis=1) == gold).mean())
    return cal.Calibration(temperature, base.floor, cal.nll(probs, gold), accuracy, len(gold))
