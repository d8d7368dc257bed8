"""Language identification with lingua (its models ship inside the wheel; nothing downloads).

The detector chooses among the configured languages (``INGEST_LANGUAGES``) *and* the languages a
customer may write that look like them (``INGEST_DETECT_ALSO``, by default ``NEIGHBOURS`` of the
configured ones). Before, a language outside the configured set was always reported as its nearest
configured one: Ukrainian as Russian, Czech as Polish or Spanish, Catalan as Portuguese, Danish as
German (a new user's trial: a Ukrainian customer answered in Russian).

The rule (``LanguageIdentifier.confidences``): when lingua's most likely language over the whole set
is one of the extra languages, with confidence ``OUTSIDE_CONFIDENCE`` or more, that language is the
answer; otherwise the answer is chosen among the configured languages alone, with their confidence
values renormalised to sum to one — what the detector over the configured languages alone says.
Measured (``python -m bench.language_scope``): the configured languages' accuracy on XQuAD and
Mintaka questions is unchanged, Ukrainian, Belarusian, Czech, Slovak, Catalan, Danish, Norwegian,
Swedish, Bulgarian, Serbian, Croatian, Slovene, Romanian questions are found (docs/handoff-and-languages.md).

Why not all of lingua's 75 languages by default: +1 GB of models per process and ~+0.9 ms per
question (the neighbours: ~+0.3 GB, ~+0.3 ms); and the configured languages' accuracy drops when
every language competes (the first 500 Italian Mintaka questions: 87 → 67 %) unless the rule above
guards it.
``INGEST_DETECT_ALSO=all`` takes them all, with that rule.

**Other scripts.** A message in a script none of the detector's languages uses (Arabic, Hebrew,
Greek, Thai, Devanagari… with the defaults) gets its language from a second detector over
``OTHER_SCRIPTS`` (built on first use, its models loaded per script as texts come), reported *not
sure*: the service has no calibration questions and no texts in them, so retrieval keeps treating
the question as of unknown language and Claude is asked to reply in the customer's own language, as
before; what changes is the language the API, the records and the analytics report, which was the
default. On XQuAD's questions (``python -m bench.language_scope``) Arabic, Greek and Thai are named
right 99 %, Hindi 92 % (the rest Marathi, the same script).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from knowledge.errors import ConfigError
from knowledge.settings import IngestSettings

# The extra languages lingua confuses with a configured one (measured on sentences in each: where
# the configured-only detector put them), detected when that language is configured.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "ru": ("uk", "be", "bg", "sr"),
    "uk": ("ru", "be", "bg", "sr"),
    "bg": ("ru", "uk", "mk", "sr"),
    "pl": ("cs", "sk", "sl", "hr"),
    "cs": ("sk", "pl", "sl", "hr"),
    "es": ("ca", "pt", "it"),
    "pt": ("ca", "es", "it"),
    "it": ("ro", "ca", "es"),
    "fr": ("ca", "ro"),
    "de": ("da", "nb", "sv", "nl"),
    "nl": ("da", "nb", "sv"),
    "sv": ("da", "nb", "nn"),
    "da": ("nb", "nn", "sv"),
}
# Widely written languages no configured language looks like, that the configured set misreads
# with confidence all the same (XQuAD questions, default INGEST_LANGUAGES: Turkish 0 % right —
# reported as sv/es/de/en — Vietnamese 0 % — pt/nl/fr/en; a trial's Turkish customer was answered
# in Italian, an Indonesian one in Spanish): detected with the neighbours whatever is configured.
ALWAYS_ALSO: tuple[str, ...] = ("tr", "vi", "id")
# Languages written in scripts no language of the detector uses (by default): a message in one of
# these reached the detector as no language at all, and the reply language, the API's ``language``
# and the analytics said "en". Asked only when the detector finds nothing (module docstring: "Other
# scripts"); lingua loads a language's model the first time a text in its script comes.
OTHER_SCRIPTS: tuple[str, ...] = (
    "ar", "fa", "ur", "he", "el", "th", "hi", "mr", "bn", "gu", "pa", "ta", "te", "hy", "ka",
)  # fmt: skip
OUTSIDE_CONFIDENCE = 0.5  # an extra language must be this likely to be reported (module docstring)
OUTSIDE_ODDS = 2.0  # and this many times likelier than the likeliest configured language


def base_language(code: str) -> str:
    """'pt-BR' → 'pt', 'zh_Hans' → 'zh', ' DE ' → 'de'."""
    return code.strip().replace("_", "-").split("-", 1)[0].lower()


# Tags whose base is not one of lingua's codes but names one of its languages.
_ALIASES = {"no": "nb"}  # Norwegian: its written standard, Bokmål


def _either_case(code: str) -> str:
    return "".join(f"[{c.upper()}{c}]" for c in code)


def _tag_pattern(*extra: str) -> str:
    codes = sorted({language.iso_code_639_1.name.lower() for language in Language.all()} | set(_ALIASES))
    bases = "|".join(_either_case(code) for code in [*codes, *extra])
    return rf"^(?:{bases})(?:[-_][A-Za-z0-9]{{1,8}})*$"


# A language tag as browsers and clients write one (BCP 47's shape, any case): one of lingua's
# ISO 639-1 codes, then subtags ('pt-BR', 'zh-Hant-TW'). Also the OpenAPI ``pattern`` of the fields.
LANGUAGE_TAG = _tag_pattern()
LANGUAGE_TAG_OR_UND = _tag_pattern("und")  # and 'und', the language of documents none was found for
_TAGS = {tag: re.compile(tag) for tag in (LANGUAGE_TAG, LANGUAGE_TAG_OR_UND)}


def language_code(value: str, pattern: str = LANGUAGE_TAG) -> str:
    """The ISO 639-1 code of a language tag: ``'pt-BR'`` → ``'pt'``, ``'ES'`` → ``'es'``,
    ``'zh_Hans'`` → ``'zh'``, ``'no'`` → ``'nb'``. A ``ValueError`` for a name (``'español'``,
    ``'german'``), a made-up code (``'xx'``, ``'klingon'``), a code lingua does not know or anything
    around the tag: the accepted languages are lingua's 75 (``language_name`` names each one),
    whatever ``INGEST_LANGUAGES`` says. ``pattern``: ``LANGUAGE_TAG_OR_UND`` also takes ``'und'``."""
    if not _TAGS[pattern].fullmatch(value):
        raise ValueError(f"not an ISO 639-1 language code such as 'es' or 'pt-BR': {value[:40]!r}")
    base = base_language(value)
    return _ALIASES.get(base, base)


def _lingua(code: str, setting: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code.lower()))
    except (ValueError, AttributeError) as exc:
        raise ConfigError(f"unknown language code {code!r} in {setting}") from exc


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


def language_name(code: str) -> str | None:
    """lingua's English name of an ISO 639-1 code ('uk' → 'Ukrainian', 'nb' → 'Bokmal'), or None."""
    try:
        language = Language.from_iso_code_639_1(IsoCode639_1.from_str(code.lower()))
    except (ValueError, AttributeError):
        return None
    return language.name.capitalize()


def extra_languages(configured: Sequence[str], also: str) -> list[str]:
    """The languages detected besides ``configured`` for ``INGEST_DETECT_ALSO`` (``also``):
    'neighbours', 'all', 'none', or comma-separated ISO 639-1 codes."""
    value = also.strip().lower()
    mine = {base_language(code) for code in configured}
    if value in ("", "none"):
        wanted: list[str] = []
    elif value == "neighbours":
        wanted = [n for code in configured for n in NEIGHBOURS.get(base_language(code), ())]
        wanted += ALWAYS_ALSO
    elif value == "all":
        wanted = sorted(_code(language) for language in Language.all())
    else:
        wanted = [base_language(code) for code in value.split(",") if code.strip()]
        for code in wanted:
            _lingua(code, "INGEST_DETECT_ALSO")
    return [code for code in dict.fromkeys(wanted) if code not in mine]


_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")


def is_acronyms(text: str) -> bool:
    """Whether every word of ``text`` is an acronym or a product code: at most five letters, two or
    more of them capitals ("ZTL", "2FA", "eSIM", "PIX?") — and there is at least one word."""
    words = _LETTER_RUN_RE.findall(text)
    return bool(words) and all(len(w) <= 5 and sum(c.isupper() for c in w) >= 2 for w in words)


@dataclass(frozen=True)
class Detection:
    language: str  # ISO 639-1, or the default when nothing is confident
    confidence: float
    # False: the detector is unsure (no language reached its confidence floor, or the text is in a
    # script none of its languages uses: Arabic, Thai… by default) and ``language`` is the default
    sure: bool = True


class LanguageIdentifier:
    """Chooses among the configured languages and the ``also`` ones (module docstring); loads its
    models once, thread-safe after."""

    def __init__(
        self,
        languages: Sequence[str],
        default: str = "en",
        min_confidence: float = 0.3,
        also: Sequence[str] = (),
    ) -> None:
        chosen = [_lingua(code, "INGEST_LANGUAGES") for code in languages]
        if len(chosen) < 2:
            raise ConfigError("INGEST_LANGUAGES needs at least two languages")
        self._configured = frozenset(chosen)
        self._languages = list(
            dict.fromkeys([*chosen, *(_lingua(code, "INGEST_DETECT_ALSO") for code in also)])
        )
        self._default = default
        self._min_confidence = min_confidence
        self._detector: LanguageDetector | None = None
        self._other_scripts: LanguageDetector | None = None
        others = [_lingua(code, "OTHER_SCRIPTS") for code in OTHER_SCRIPTS]
        self._other_languages = [language for language in others if language not in self._languages]
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, ingest: IngestSettings) -> LanguageIdentifier:
        """The configured detector: ``INGEST_LANGUAGES``, ``INGEST_DEFAULT_LANGUAGE`` and the extra
        languages of ``INGEST_DETECT_ALSO``."""
        also = extra_languages(ingest.languages, ingest.detect_also)
        return cls(ingest.languages, ingest.default_language, also=also)

    @property
    def languages(self) -> list[str]:
        """Every language the detector may report (configured first)."""
        return [_code(language) for language in self._languages]

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

    def _other(self) -> LanguageDetector | None:
        """The detector over ``OTHER_SCRIPTS`` the main one does not cover, or None when fewer than
        two are left (``INGEST_DETECT_ALSO=all`` covers them all)."""
        left = self._other_languages
        if len(left) < 2:
            return None
        if self._other_scripts is None:
            with self._lock:
                if self._other_scripts is None:
                    self._other_scripts = LanguageDetectorBuilder.from_languages(*left).build()
        return self._other_scripts

    def detect(self, text: str) -> Detection:
        """The most confident language, or the default, not ``sure``, when none reaches the
        confidence floor or the text is nothing but acronyms ("ZTL", "eSIM", "DSL": no language in
        them, though lingua calls "ZTL" German at 0.64 and "eSIM" Italian)."""
        if is_acronyms(text):
            return Detection(self._default, 0.0, sure=False)
        values = self.confidences(text)
        if not values:
            return self._other_script(text)
        best = max(values, key=values.__getitem__)
        if values[best] < self._min_confidence:
            return Detection(self._default, values[best], sure=False)
        return Detection(best, values[best])

    def _other_script(self, text: str) -> Detection:
        """The language of a text in a script none of the detector's languages uses (module
        docstring: "Other scripts"), not sure; the default when that is not one of them either."""
        other = self._other() if text.strip() else None
        values = other.compute_language_confidence_values(text[:4000]) if other is not None else []
        if not values or values[0].value < self._min_confidence:
            return Detection(self._default, 0.0, sure=False)
        return Detection(_code(values[0].language), float(values[0].value), sure=False)

    def confidences(self, text: str) -> dict[str, float]:
        """Confidence per language (ISO 639-1 → value; they sum to 1), or an empty dict for blank
        text or text in no script lingua knows: the configured languages' values, renormalised
        among them, plus an extra language's when it is lingua's first choice at
        ``OUTSIDE_CONFIDENCE`` or more (the configured ones then share the rest). ``detect`` is the
        most confident one, or the default."""
        sample = text[:4000]
        if not sample.strip():
            return {}
        values = self._get().compute_language_confidence_values(sample)
        if not values:
            return {}
        top = values[0]
        inside = [value for value in values if value.language in self._configured]
        runner_up = max((value.value for value in inside), default=0.0)
        outside = (
            top.language not in self._configured
            and top.value >= OUTSIDE_CONFIDENCE
            and top.value >= OUTSIDE_ODDS * runner_up
        )
        total = sum(value.value for value in inside)
        share = 1.0 - top.value if outside else 1.0
        found = {_code(v.language): float(v.value) / total * share for v in inside} if total > 0 else {}
        if outside:  # the configured ones share the rest (nothing: the look-alike is all)
            found[_code(top.language)] = float(top.value) if found else 1.0
        return found
