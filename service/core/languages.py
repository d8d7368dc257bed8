"""Display names of the languages the service replies in, for prompts, summaries and translation
requests (English names: they go to the model, not to customers). ``language_name`` names any
other language the detector reports (``INGEST_DETECT_ALSO``: "cs" → "Czech") by lingua's name."""

from __future__ import annotations

from knowledge.language import language_name as _lingua_name

LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Chinese (Simplified)",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "ja": "Japanese",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian",
    "ko": "Korean",
    "pl": "Polish",
    "uk": "Ukrainian",
}
# lingua's names that read oddly in a prompt
_NAMES = {"nb": "Norwegian (Bokmål)", "nn": "Norwegian (Nynorsk)", "sl": "Slovenian", "el": "Greek"}


def language_name(code: str) -> str:
    """The English name of ``code`` (ISO 639-1), or the code itself when no name is known."""
    return LANGUAGE_NAMES.get(code) or _NAMES.get(code) or _lingua_name(code) or code
