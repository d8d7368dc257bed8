"""The Claude calls of ``faqstream faq draft``: one forced tool call drafts a cluster's entry, one more
translates it into every requested language at once, and each output is validated
(``knowledge.faq_schema``) before it may be written.

Why one translation call for all languages and not one per language: the entry is the bulk of the
input, so per-language calls would send it (and the instructions) three times for es/fr/de while
the output is the same either way — about a third of the input tokens for the same result. Only
the retry is per language: a retry asks again for just the languages whose output was invalid.

An invalid output (breaks the JSON Schema or the pydantic model, names a ticket that is not in the
cluster, is in the wrong language) is asked for once more, with the errors, then given up: the
cluster (or that language) is reported and nothing of it is written. Every call carries the run's
``Bill`` (purpose ``faq_draft``): the client's usage sink writes each upstream response to the
ledger, invalid outputs and retried attempts included — they were paid for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.faq_schema import (
    DRAFT_SCHEMA,
    FaqDraft,
    FaqTranslation,
    schema_errors,
    translations_schema,
    validate_draft,
    validate_translations,
)
from knowledge.schema import SearchHit
from knowledge.tickets import Ticket
from service.core.languages import language_name
from service.llm.billing import Bill
from service.llm.interface import LLM

DRAFT_TOOL = "record_faq_draft"
COVERAGE_TOOL = "record_coverage"
PASSAGE_CHARS = 2000  # of each knowledge-base passage in the coverage prompt
TRANSLATE_TOOL = "record_translations"
TICKET_CHARS = 1500  # of each ticket's text and resolution in the prompt
DRAFT_SYSTEM = (
    "You write entries for a company's customer-support knowledge base from a group of support "
    "tickets that ask the same thing. Write one FAQ entry: the question as customers ask it, a "
    "self-contained factual answer, and a reply template an agent can send (greeting with "
    "{customer_name}, the answer, a closing; {placeholders} for case details such as {order_number}). "
    "Take facts only from the agents' resolutions in the tickets; where they do not state the policy, "
    "write [TO CONFIRM: what is missing] instead of guessing — a reviewer completes it. Personal data "
    "in the tickets has been replaced by placeholders like [email]; never put personal data in the "
    "entry. Give lower-case topic tags and the ids of the tickets the entry answers; if some tickets "
    "ask something else, write the entry for what most of them ask and leave the others' ids out. "
    f"Answer only with "
    f"the {DRAFT_TOOL} tool."
)
COVERAGE_SYSTEM = (
    "You check whether a company's customer-support knowledge base already answers a question its "
    "customers ask. You get support tickets that ask the same thing, with the agents' resolutions, and "
    "numbered passages of the knowledge base. The question is answered only when a passage states what "
    "the customers need to know — the fact, amount, rule or steps the agents gave — so that a customer "
    "reading it would have no need to ask; a passage on the same subject that does not say it does not "
    f"answer. Answer only with the {COVERAGE_TOOL} tool."
)
TRANSLATE_SYSTEM = (
    "You translate FAQ entries of a customer-support knowledge base. Translate the question, answer "
    "and reply template into each requested language, as a native support writer of that language "
    "would write them. Keep {placeholders}, [TO CONFIRM: …] markers, product names, codes and numbers "
    f"exactly as they are. Answer only with the {TRANSLATE_TOOL} tool."
)


@dataclass
class Outcome:
    """What a validated call produced, and the errors of the last invalid attempt if it gave up."""

    draft: FaqDraft | None = None
    translations: dict[str, FaqTranslation] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)  # by language ("" for the draft)


class FaqWriter:
    """Drafts and translations through ``llm`` (the resilient client), validated, each call charged
    to ``bill``."""

    def __init__(
        self,
        llm: LLM,
        bill: Bill,
        detect: Callable[[str], str | None],
        *,
        detectable: Collection[str] = (),
        model: str | None = None,
        max_tokens: int = 4096,
    ) -> None:
        self.llm = llm
        self.bill = bill
        self.detect = detect
        self.detectable = frozenset(detectable)  # languages ``detect`` can tell (INGEST_LANGUAGES)
        self.model = model
        self.max_tokens = max_tokens

    async def _call(
        self, system: str, prompt: str, tool: str, schema: dict[str, Any]
    ) -> dict[str, Any] | None:
        completion = await self.llm.complete(
            system,
            [{"role": "user", "content": prompt}],
            model=self.model,
            max_tokens=self.max_tokens,
            tools=[
                {"name": tool, "description": f"Record the {tool.split('_', 1)[1]}.", "input_schema": schema}
            ],
            tool_choice={"type": "tool", "name": tool},
            bill=self.bill,
        )
        return completion.tool_input

    async def draft(self, tickets: Sequence[Ticket], language: str) -> Outcome:
        """The cluster's entry in ``language``; one retry on an invalid output."""
        ids = [t.id for t in tickets]
        prompt = draft_prompt(tickets, language)
        errors: list[str] = []
        for _attempt in range(2):
            value = await self._call(DRAFT_SYSTEM, prompt + rejected(errors), DRAFT_TOOL, DRAFT_SCHEMA)
            draft, errors = validate_draft(value if value is not None else {}, ids)
            if draft is not None:
                found = self.detect(draft.answer) if language in self.detectable else None
                if found is None or found == language:
                    return Outcome(draft=draft)
                errors = [f"answer: written in {found!r}, not {language!r}"]
        return Outcome(errors={"": errors})

    async def answered(self, tickets: Sequence[Ticket], passages: Sequence[SearchHit]) -> Verdict:
        """Whether ``passages`` answer what ``tickets`` ask (the model's half of "the documents answer
        this", ``faqstream.faq_answered``); one retry on an invalid output, then not answered."""
        schema = coverage_schema(len(passages))
        prompt = draft_prompt(tickets, None) + "\n" + passages_prompt(passages)
        errors: list[str] = []
        for _attempt in range(2):
            value = await self._call(COVERAGE_SYSTEM, prompt + rejected(errors), COVERAGE_TOOL, schema)
            errors = schema_errors(schema, value if value is not None else {})
            if not errors:
                assert value is not None
                chosen = value.get("passage")
                hit = passages[chosen - 1] if isinstance(chosen, int) else (passages[0] if passages else None)
                return Verdict(bool(value["answered"]), hit if value["answered"] else None)
        return Verdict(False, None, errors)

    async def translate(self, draft: FaqDraft, source: str, languages: Sequence[str]) -> Outcome:
        """``draft`` in each of ``languages``; the languages still invalid after one retry are in
        ``errors`` and not in ``translations``."""
        outcome = Outcome()
        wanted = list(languages)
        errors: dict[str, list[str]] = {}
        for _attempt in range(2):
            if not wanted:
                break
            prompt = translate_prompt(draft, source, wanted)
            flat = [e for lang in wanted for e in errors.get(lang, [])]
            value = await self._call(
                TRANSLATE_SYSTEM, prompt + rejected(flat), TRANSLATE_TOOL, translations_schema(wanted)
            )
            valid, errors = validate_translations(value, wanted, self.detect, self.detectable)
            outcome.translations.update(valid)
            wanted = [lang for lang in wanted if lang in errors]
        outcome.errors = {lang: errors[lang] for lang in wanted}
        return outcome


@dataclass
class Verdict:
    """The model's word on a cluster: answered, by which passage; the errors of an invalid output."""

    answered: bool
    passage: SearchHit | None
    errors: list[str] = field(default_factory=list)


def coverage_schema(passages: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "answered": {
                "type": "boolean",
                "description": "true only if a passage states the answer the customers need",
            },
            "passage": {
                "type": "integer",
                "minimum": 1,
                "maximum": max(passages, 1),
                "description": "the number of the passage that answers (when answered)",
            },
        },
        "required": ["answered"],
        "additionalProperties": False,
    }


def passages_prompt(passages: Sequence[SearchHit]) -> str:
    parts = ["<passages>"]
    for n, hit in enumerate(passages, 1):
        p = hit.payload
        parts.append(f'<passage n="{n}" document="{p.doc_id}" language="{p.language}">')
        parts.append(f"{p.text[:PASSAGE_CHARS]}\n</passage>")
    parts.append("</passages>")
    parts.append("Do these passages already answer what the tickets ask?")
    return "\n".join(parts)


def draft_prompt(tickets: Sequence[Ticket], language: str | None) -> str:
    parts = ["<tickets>"]
    for ticket in tickets:
        lang = f' language="{ticket.language}"' if ticket.language else ""
        parts.append(f'<ticket id="{ticket.id}"{lang}>')
        parts.append(f"<customer>\n{ticket.question[:TICKET_CHARS]}\n</customer>")
        if ticket.resolution:
            parts.append(f"<resolution>\n{ticket.resolution[:TICKET_CHARS]}\n</resolution>")
        parts.append("</ticket>")
    parts.append("</tickets>")
    if language is not None:
        parts.append(f"Write the FAQ entry in {language_name(language)} ({language}).")
    return "\n".join(parts)


def translate_prompt(draft: FaqDraft, source: str, languages: Sequence[str]) -> str:
    entry = draft.model_dump(include={"question", "answer", "reply_template"})
    targets = ", ".join(f"{lang} ({language_name(lang)})" for lang in languages)
    return (
        f'<entry language="{source}">\n{json.dumps(entry, ensure_ascii=False, indent=2)}\n</entry>\n'
        f"Translate it into: {targets}. Give one object per language code."
    )


def rejected(errors: Sequence[str]) -> str:
    """The note that asks the model to fix its previous output (empty on the first attempt)."""
    if not errors:
        return ""
    listed = "\n".join(f"- {e}" for e in errors[:20])
    return (
        f"\n\nYour previous tool input was rejected:\n{listed}\n"
        "Call the tool again with input that fixes these."
    )
