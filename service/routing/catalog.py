"""The intent catalog: labels, their descriptions and example phrasings, and keyword patterns.

Read from a YAML file (``ROUTER_INTENTS_FILE``; unset = the example ``intents.yaml`` that ships
inside this package, written for a demo shop); see that file for the format. Everything is
validated at load time so a bad file fails the start-up with a clear message instead of misrouting later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from knowledge.errors import ConfigError

# The example catalog that ships with faqstream: a fictional shop's intents (Northwind Goods). It is
# package data (pyproject.toml), so it is found the same way in a checkout and in an installed wheel.
BUNDLED_INTENTS = Path(__file__).resolve().with_name("intents.yaml")
# Where the example lived before it moved into the package: old .env files name it, and it means the
# bundled file (in any working directory that has no file there).
FORMER_BUNDLED_PATH = Path("data/intents.yaml")
_LABEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_NOT_WORD = re.compile(r"[\W_]+")


class LabelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1)
    examples: dict[str, list[str]]

    @field_validator("examples")
    @classmethod
    def _examples(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for lang, texts in value.items():
            if not _LANG_RE.match(lang):
                raise ValueError(f"{lang!r} is not an ISO 639-1 language code")
            if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
                raise ValueError(f"examples for {lang!r} must be a non-empty list of non-empty strings")
        if not value:
            raise ValueError("at least one example is needed")
        return value


class CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    fallback: str = "other"
    human_label: str = "human_agent"
    keyword_confidence: float = Field(default=0.95, gt=0.0, le=1.0)
    labels: dict[str, LabelSpec]
    keywords: dict[str, dict[str, list[str]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> CatalogFile:
        if len(self.labels) < 2:
            raise ValueError("at least two labels are needed")
        for name in self.labels:
            if not _LABEL_RE.match(name):
                raise ValueError(f"label {name!r}: use lowercase letters, digits and '_'")
        if self.fallback not in self.labels:
            raise ValueError(f"fallback label {self.fallback!r} is not among the labels")
        if self.human_label not in self.labels:
            raise ValueError(f"human_label {self.human_label!r} is not among the labels")
        for name, by_lang in self.keywords.items():
            if name not in self.labels:
                raise ValueError(f"keywords for unknown label {name!r}")
            for lang, patterns in by_lang.items():
                for pattern in patterns:
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        raise ValueError(f"keywords.{name}.{lang}: bad pattern {pattern!r}: {exc}") from exc
        return self


@dataclass(frozen=True)
class Example:
    label: str
    language: str
    text: str


@dataclass(frozen=True)
class KeywordRule:
    label: str
    language: str
    pattern: re.Pattern[str]


class IntentCatalog:
    """Validated catalog contents, in file order."""

    def __init__(self, spec: CatalogFile, source: str = "<memory>") -> None:
        self.source = source
        self.labels: tuple[str, ...] = tuple(spec.labels)
        self.descriptions = {name: " ".join(item.description.split()) for name, item in spec.labels.items()}
        self.fallback = spec.fallback
        self.human_label = spec.human_label
        self.keyword_confidence = spec.keyword_confidence
        self.examples: tuple[Example, ...] = tuple(
            Example(label, lang, text.strip())
            for label, item in spec.labels.items()
            for lang, texts in item.examples.items()
            for text in texts
        )
        labels_of: dict[str, set[str]] = {}
        for example in self.examples:
            labels_of.setdefault(normalise(example.text), set()).add(example.label)
        # a question that *is* one of the examples (ignoring case, spaces and punctuation)
        self._exact = {key: next(iter(found)) for key, found in labels_of.items() if len(found) == 1}
        # The request for a person first, whatever the file order: "what is your number? I want
        # to talk to a person" asks for a person.
        ordered = sorted(spec.keywords.items(), key=lambda item: item[0] != spec.human_label)
        self.keywords: tuple[KeywordRule, ...] = tuple(
            KeywordRule(label, lang, re.compile(pattern, re.IGNORECASE))
            for label, by_lang in ordered
            for lang, patterns in by_lang.items()
            for pattern in patterns
        )

    @classmethod
    def from_dict(cls, data: object, source: str = "<memory>") -> IntentCatalog:
        try:
            return cls(CatalogFile.model_validate(data), source)
        except ValidationError as exc:
            raise ConfigError(
                f"invalid intents file {source}: {_first_error(exc)}",
                hint=f"see the bundled example {BUNDLED_INTENTS} for the format",
            ) from exc

    @classmethod
    def load(cls, path: Path) -> IntentCatalog:
        resolved = resolve_intents_file(path)
        try:
            data = yaml.safe_load(resolved.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read intents file {resolved}: {exc}") from exc
        return cls.from_dict(data, str(resolved))

    def languages(self) -> list[str]:
        return sorted({e.language for e in self.examples})

    def keyword_match(self, text: str) -> KeywordRule | None:
        """The first keyword rule matching ``text`` (all languages are checked: mixed text is common);
        the human label's rules come before every other label's."""
        for rule in self.keywords:
            if rule.pattern.search(text):
                return rule
        return None

    def exact_match(self, text: str) -> str | None:
        """The label of the example ``text`` is, when it is one (and only one label has it)."""
        return self._exact.get(normalise(text))

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)


def normalise(text: str) -> str:
    return _NOT_WORD.sub("", text.casefold())


def resolve_intents_file(path: Path) -> Path:
    """Absolute paths as given; relative ones from the working directory (never from the installed
    code: the service must behave the same from a checkout and from a wheel). The former location
    of the bundled example, ``data/intents.yaml``, means the bundled file unless the working
    directory has its own file there."""
    candidate = path if path.is_absolute() else Path.cwd() / path
    if candidate.is_file():
        return candidate
    if path == FORMER_BUNDLED_PATH:
        return BUNDLED_INTENTS
    raise ConfigError(
        f"intents file {path} not found (looked in {candidate.parent})",
        hint="set ROUTER_INTENTS_FILE to the YAML file with the intent labels and examples (a relative "
        "path is read from the working directory), or unset it for the bundled example",
    )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', '')}" if where else str(err.get("msg", ""))


@dataclass(frozen=True)
class IntentsOrigin:
    """Where the intent labels come from, and whether they are the team's own.

    Only the team's own labels describe its customers' requests, so only then may a low intent
    confidence hand a customer to a person (``service.handoff.policy``). The bundled example catalog still
    labels questions (reports, the webhook) and its keyword patterns still catch explicit requests
    for a person in eight languages."""

    path: Path
    custom: bool
    reason: str


def intents_origin(configured: Path | None) -> IntentsOrigin:
    """Decide from ``ROUTER_INTENTS_FILE``: unset, or a file with the bundled catalog's exact
    content (a copy, or ``.env.example``'s old ``data/intents.yaml``, now the bundled file itself), is not
    the team's own."""
    if configured is None:
        return IntentsOrigin(
            BUNDLED_INTENTS,
            False,
            "ROUTER_INTENTS_FILE is unset: intents come from the bundled example catalog (a demo shop's); "
            "they label questions, but a low intent confidence never hands a customer to a person. Write "
            "your own intents file and set ROUTER_INTENTS_FILE to enable that",
        )
    path = resolve_intents_file(configured)
    try:
        same = path.read_bytes() == BUNDLED_INTENTS.read_bytes()
    except OSError:
        same = False
    if same:
        return IntentsOrigin(
            path,
            False,
            f"ROUTER_INTENTS_FILE={configured} has the bundled example catalog's content (a demo shop's): "
            "treated as unset, a low intent confidence never hands a customer to a person",
        )
    return IntentsOrigin(
        path,
        True,
        f"intents from your own file {path}: a route under HANDOFF_CONFIDENCE_THRESHOLD hands off "
        "(low_confidence)",
    )
