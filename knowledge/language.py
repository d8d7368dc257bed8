"""Language identification with lingua (its models ship inside the wheel; nothing downloads)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from knowledge.errors import ConfigError


def base_language(code: str) -> str:
    """'pt-BR' → 'pt', 'zh_Hans' → 'zh', ' DE ' → 'de'."""
    return code.strip().replace("_", "-").split("-", 1)[0].lower()


@dataclass(frozen=True)
class Detection:
    language: str  # ISO 639-1, or the default when nothing is confident
    confidence: float


class LanguageIdentifier:
    """Chooses among a configured set of languages; loads its models once, thread-safe after."""

    def __init__(self, languages: Sequence[str], default: str = "en", min_confidence: float = 0.3) -> None:
        chosen: list[Language] = []
        for code in languages:
            try:
                chosen.append(Language.from_iso_code_639_1(IsoCode639_1.from_str(code.lower())))
            except (ValueError, AttributeError) as exc:
                raise ConfigError(f"unknown language code {code!r} in INGEST_LANGUAGES") from exc
        if len(chosen) < 2:
            raise ConfigError("INGEST_LANGUAGES needs at least two languages")
        self._languages = chosen
        self._default = default
        self._min_confidence = min_confidence
        self._detector: LanguageDetector | None = None
        self._lock = threading.Lock()

    def _get(self) -> LanguageDetector:
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    self._detector = (
                        LanguageDetectorBuilder.from_languages(*self._languages)
                        .with_preloaded_language_models()
                        .build()
                    )
        return self._detector

    def detect(self, text: str) -> Detection:
        sample = text[:4000]
        if not sample.strip():
            return Detection(self._default, 0.0)
        values = self._get().compute_language_confidence_values(sample)
        if not values or values[0].value < self._min_confidence:
            return Detection(self._default, values[0].value if values else 0.0)
        best = values[0]
        return Detection(best.language.iso_code_639_1.name.lower(), float(best.value))

    def confidences(self, text: str) -> dict[str, float]:
        """Lingua's confidence in each configured language (ISO 639-1 → value; they sum to 1), or
        an empty dict for blank text. ``detect`` is the most confident one, or the default."""
        sample = text[:4000]
        if not sample.strip():
            return {}
        return {
            value.language.iso_code_639_1.name.lower(): float(value.value)
            for value in self._get().compute_language_confidence_values(sample)
        }
