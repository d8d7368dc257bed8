"""What a drafted FAQ entry is: the pydantic models, the JSON Schemas the model is forced to fill, and
the validation every model output passes before anything is written.

Two checks, both needed: ``jsonschema`` against the schema that was sent (types, lengths, required
fields, no extra keys — strictly, where pydantic would coerce ``"1"`` to ``1``) and the pydantic
models with the job's context (the source ticket ids must be tickets of the cluster; a translation
must be in the language asked for). Errors are short strings, fed back to the model on the one
retry and shown in the job's report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

TAG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


class FaqTranslation(BaseModel):
    """The texts of an entry in one language."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    question: str = Field(min_length=8, max_length=300, description="the FAQ question, as a customer asks it")
    answer: str = Field(
        min_length=20,
        max_length=3000,
        description="the answer for the knowledge base: self-contained, factual, no greeting",
    )
    reply_template: str = Field(
        min_length=20,
        max_length=3000,
        description="an agent's reply to a customer asking this, with {customer_name} and other "
        "{placeholders} where case details go",
    )


class FaqDraft(FaqTranslation):
    """One drafted entry: the texts plus what is not translated (tags, the tickets it came from)."""

    tags: list[str] = Field(
        min_length=1, max_length=8, description="lower-case topic tags, e.g. refunds, shipping"
    )
    source_ticket_ids: list[str] = Field(
        min_length=1, description="the ids of the tickets this entry answers (from the ones given)"
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        bad = [t for t in tags if not re.match(TAG_PATTERN, t)]
        if bad:
            raise ValueError(f"tags must be lower-case words with hyphens: {bad}")
        return list(dict.fromkeys(tags))

    @field_validator("source_ticket_ids")
    @classmethod
    def _known_tickets(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        known = (info.context or {}).get("ticket_ids")
        if known is not None:
            unknown = [i for i in ids if i not in known]
            if unknown:
                raise ValueError(f"not tickets of this cluster: {unknown}")
        return list(dict.fromkeys(ids))


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema["additionalProperties"] = False
    if model is FaqDraft:
        schema["properties"]["tags"]["items"]["pattern"] = TAG_PATTERN
    return schema


DRAFT_SCHEMA: dict[str, Any] = _schema(FaqDraft)
TRANSLATION_SCHEMA: dict[str, Any] = _schema(FaqTranslation)


def translations_schema(languages: Collection[str]) -> dict[str, Any]:
    """One object with an entry per language code, all required."""
    return {
        "type": "object",
        "properties": {lang: TRANSLATION_SCHEMA for lang in languages},
        "required": list(languages),
        "additionalProperties": False,
    }


def schema_errors(schema: Mapping[str, Any], value: object) -> list[str]:
    """Where ``value`` breaks ``schema`` (JSON Schema 2020-12), one line per error."""
    validator = Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _pydantic_errors(exc: ValidationError, prefix: str = "") -> list[str]:
    return [f"{prefix}{'/'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()]


def validate_draft(value: object, ticket_ids: Collection[str]) -> tuple[FaqDraft | None, list[str]]:
    """The draft, or None and why not."""
    errors = schema_errors(DRAFT_SCHEMA, value)
    if errors:
        return None, errors
    try:
        return FaqDraft.model_validate(value, context={"ticket_ids": set(ticket_ids)}), []
    except ValidationError as exc:
        return None, _pydantic_errors(exc)


def validate_translations(
    value: object,
    languages: Collection[str],
    detect: Callable[[str], str | None],
    detectable: Collection[str] | None = None,
) -> tuple[dict[str, FaqTranslation], dict[str, list[str]]]:
    """The valid translations by language, and the errors of each language that is not valid.
    ``detect`` names the language of a text (None when unsure); an answer in another language than
    asked for is an error — checked for the languages in ``detectable`` (None: all), as a detector
    choosing among a fixed set cannot recognise the others."""
    valid: dict[str, FaqTranslation] = {}
    errors: dict[str, list[str]] = {}
    if not isinstance(value, dict):
        return {}, {lang: ["(root): not an object"] for lang in languages}
    for lang in languages:
        item = value.get(lang)
        problems = schema_errors(TRANSLATION_SCHEMA, item) if item is not None else [f"{lang}: missing"]
        if not problems:
            try:
                translation = FaqTranslation.model_validate(item)
            except ValidationError as exc:
                problems = _pydantic_errors(exc, f"{lang}/")
            else:
                found = detect(translation.answer) if detectable is None or lang in detectable else None
                if found is not None and found != lang:
                    problems = [f"{lang}/answer: written in {found!r}, not {lang!r}"]
                else:
                    valid[lang] = translation
        if problems:
            errors[lang] = [p if p.startswith(f"{lang}") else f"{lang}/{p}" for p in problems]
    return valid, errors
