"""Display names of the languages the service replies in, for prompts, summaries and translation
requests (English names: they go to the model, not to customers)."""

from __future__ import annotations

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
}
