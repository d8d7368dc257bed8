"""``faqstream faq draft TICKETS.jsonl`` and ``faqstream faq approve FILE…``.

The job: read the tickets (``knowledge.tickets``, personal data redacted as they are read), embed
them with the knowledge base's model and group the ones that ask the same thing
(``knowledge.clustering``), search each group's most central tickets in the knowledge base as the
answer service would and judge them by its relevance cut-off (``faqstream.faq_answered``); a group
with passages over the cut-off is set aside when Claude, given those passages, says they answer it;
draft an entry and reply template for each remaining group and translate it
(``faqstream.faq_claude``), and write a drafts folder for review (``faqstream.faq_files``). Entries
are ``status: draft`` and ingest skips them until approved (``ingest.review``).

Progress goes to stderr; the summary to stdout (``--json`` for machines) and ``summary.md``.
Exit code 1 when a cluster or a translation could not be drafted (invalid model output twice).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from faqstream.faq_answered import Coverage, coverage, meaning

if TYPE_CHECKING:
    from faqstream.faq_claude import FaqWriter
    from faqstream.faq_files import Summary
    from knowledge.embedder import Embedder
    from knowledge.search import KnowledgeBase
    from knowledge.settings import FaqDraftSettings
    from knowledge.tickets import Ticket
    from service.api.settings import AppSettings
    from service.core.types import Usage
    from service.llm.billing import Bill, UsageSink

CLI_KEY = "faqstream-cli"  # the ledger's key id for the command's calls (no API key involved)
PURPOSE: Literal["faq_draft"] = "faq_draft"


def add_parser(sub: Any) -> None:
    faq = sub.add_parser("faq", help="draft FAQ entries from support tickets, approve drafts")
    faq_sub = faq.add_subparsers(dest="faq_command", required=True, metavar="ACTION")
    draft = faq_sub.add_parser(
        "draft",
        help="cluster tickets, skip what the knowledge base answers, draft and translate entries",
        description='TICKETS is JSON Lines: one ticket per line with "text" (the customer\'s message) '
        'and optionally "id", "subject", "resolution" (the agent\'s answer), "language", "created_at". '
        "Similar tickets are grouped; groups the knowledge base already answers are reported and "
        "skipped; each other group gets an FAQ entry and a reply template from Claude, translated "
        "into --languages, validated against a JSON Schema and written as Markdown drafts "
        "(status: draft) that `faqstream ingest` takes once approved. Needs ANTHROPIC_API_KEY "
        "(not with --dry-run).",
    )
    draft.add_argument("tickets", type=Path, metavar="TICKETS.jsonl")
    draft.add_argument(
        "--languages", help="translations, comma-separated (default FAQ_DRAFT_LANGUAGES: es,fr,de)"
    )
    draft.add_argument(
        "--out", type=Path, help="the drafts folder (default FAQ_DRAFT_OUT_DIR/faq-YYYYMMDD-HHMM)"
    )
    draft.add_argument(
        "--min-cluster", type=int, help="tickets a question needs (default FAQ_DRAFT_MIN_CLUSTER_SIZE)"
    )
    draft.add_argument(
        "--threshold",
        type=float,
        help="similarity two tickets need to be one question, in standard deviations over unrelated "
        "questions (default FAQ_DRAFT_CLUSTER_THRESHOLD, else the model's measured value: 3.0 for "
        "multilingual-e5-small)",
    )
    draft.add_argument("--dry-run", action="store_true", help="cluster and check the knowledge base only")
    draft.add_argument("--json", action="store_true", help="print the summary as JSON")
    approve = faq_sub.add_parser(
        "approve",
        help="mark drafted entries approved (status: approved), so `faqstream ingest` takes them",
    )
    approve.add_argument("files", nargs="+", type=Path, metavar="FILE")


def run(args: argparse.Namespace) -> int:
    if args.faq_command == "approve":
        return _approve(args.files)
    from knowledge.settings import FaqDraftSettings
    from service.api.settings import AppSettings

    return asyncio.run(draft(args, AppSettings(), FaqDraftSettings()))


def _approve(files: Sequence[Path]) -> int:
    from ingest.review import approve
    from knowledge.errors import InputError

    failed = 0
    for path in files:
        try:
            previous = approve(path)
        except (InputError, OSError) as exc:
            print(f"faqstream: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}: {'already approved' if previous == 'approved' else f'{previous} → approved'}")
    return 1 if failed else 0


def progress(message: str) -> None:
    print(f"faq draft: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Options:
    languages: tuple[str, ...]
    source: str
    threshold: float
    min_size: int
    dry_run: bool


def options(args: argparse.Namespace, settings: AppSettings, draft_settings: FaqDraftSettings) -> Options:
    from knowledge.clustering import CLUSTER_THRESHOLDS
    from knowledge.errors import ConfigError

    raw = args.languages.split(",") if args.languages else list(draft_settings.languages)
    languages = tuple(dict.fromkeys(code.strip().lower() for code in raw if code.strip()))
    bad = [code for code in languages if not (len(code) == 2 and code.isalpha())]
    if bad:
        raise ConfigError(
            f"--languages: not ISO 639-1 codes: {', '.join(bad)}", hint="e.g. --languages es,fr,de"
        )
    threshold = args.threshold or draft_settings.cluster_threshold
    if threshold is not None and threshold < 1.0:
        raise ConfigError(
            f"--threshold {threshold:g}: the clustering threshold is in standard deviations over unrelated "
            "questions, not a cosine (since this version)",
            hint="e.g. --threshold 3 (the default for multilingual-e5-small); higher splits more",
        )
    model = settings.embedding.model
    if threshold is None:
        if model not in CLUSTER_THRESHOLDS:
            raise ConfigError(
                f"no clustering threshold is known for EMBEDDING_MODEL={model}",
                hint="set FAQ_DRAFT_CLUSTER_THRESHOLD (or --threshold): the similarity, in standard "
                "deviations over unrelated questions, above which two tickets of your model ask the "
                "same thing (measure it with `python -m bench.faq_clusters --model …`)",
            )
        threshold = CLUSTER_THRESHOLDS[model]
    if not args.dry_run and settings.anthropic.api_key is None:
        raise ConfigError(
            "faqstream faq draft needs ANTHROPIC_API_KEY to draft and translate entries",
            hint="set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a gateway), or run with --dry-run "
            "to see the clusters and what the knowledge base already answers",
        )
    source = draft_settings.draft_language.lower()
    return Options(
        tuple(code for code in languages if code != source),
        source,
        threshold,
        args.min_cluster or draft_settings.min_cluster_size,
        args.dry_run,
    )


async def draft(args: argparse.Namespace, settings: AppSettings, draft_settings: FaqDraftSettings) -> int:
    from faqstream.faq_files import Summary, new_folder
    from knowledge.clustering import cluster, embed_texts, normalised_similarity
    from knowledge.cohort import cohort_for
    from knowledge.tickets import read_tickets
    from service.privacy.redaction import Redaction

    opts = options(args, settings, draft_settings)
    kb, embedder, note = _open(settings)
    try:
        # As the answer service redacts (service.api.runtime): the company's own contact data —
        # HANDOFF_CONTACT, PRIVACY_ALLOW and what the knowledge base publishes — stays as written.
        redaction = Redaction.from_settings(settings.privacy, settings.handoff.contact.values())
        if kb is not None:
            redaction.allowed.load(kb.meta())
        tickets = read_tickets(args.tickets, redaction.text)
        progress(f"{len(tickets)} tickets read from {args.tickets}")
        vectors = embed_texts(embedder, [meaning(t) for t in tickets])
        similarity = normalised_similarity(vectors, [t.language for t in tickets], cohort_for(embedder))
        clusters = cluster(vectors, opts.threshold, opts.min_size, similarity)
        progress(
            f"{len(clusters)} clusters (similarity ≥ {opts.threshold:g} sd over unrelated questions, "
            f"at least {opts.min_size} tickets)"
        )
        stamp = datetime.now(UTC).strftime("faq-%Y%m%d-%H%M")
        folder = None if opts.dry_run else _folder(args.out, draft_settings.out_dir, stamp, new_folder)
        run_name = folder.name if folder is not None else stamp
        summary = Summary(run_name, len(tickets), (opts.source, *opts.languages), clusters=len(clusters))
        if note:
            summary.notes.append(note)
        in_cluster = {i for c in clusters for i in c.members}
        summary.unclustered = [t.id for i, t in enumerate(tickets) if i not in in_cluster]
        if kb is not None:
            todo, summary.relevance_unit = coverage(
                kb, settings, tickets, clusters, summary.notes, progress=progress
            )
        else:
            todo = [Coverage(n, group, False) for n, group in enumerate(clusters, 1)]
    finally:
        if kb is not None:
            kb.store.close()
    if folder is None:
        summary.planned = [
            {
                "cluster": item.number,
                "question": tickets[item.group.members[0]].question.splitlines()[0][:120],
                "tickets": [tickets[i].id for i in item.group.members],
                "doc_id": item.doc_id,
                "relevance": item.lead,
                "over_cut_off": item.over,
            }
            for item in todo
        ]
    else:
        await _draft_all(
            settings,
            draft_settings=draft_settings,
            opts=opts,
            tickets=tickets,
            todo=todo,
            folder=folder,
            summary=summary,
        )
        (folder / "summary.md").write_text(summary.render(), encoding="utf-8")
        progress(f"wrote {folder}")
    print(
        json.dumps(summary.to_dict(), ensure_ascii=False, indent=2)
        if args.json
        else "\n".join(summary.lines())
    )
    return 1 if summary.failed else 0


def _folder(out: Path | None, base: Path, stamp: str, new_folder: Any) -> Path:
    from knowledge.errors import ConfigError

    if out is None:
        folder: Path = new_folder(base, stamp)
        return folder
    if out.exists() and any(out.iterdir()):
        raise ConfigError(
            f"--out {out} is not empty", hint="name a new folder: drafts under review are never overwritten"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def _open(settings: AppSettings) -> tuple[KnowledgeBase | None, Embedder, str | None]:
    """The knowledge base (None when there is none yet: nothing can be answered) and its model."""
    from knowledge.embedder import load_embedder
    from knowledge.search import KnowledgeBase

    if not settings.qdrant.url and not settings.qdrant.path.is_dir():
        note = f"no knowledge base at {settings.qdrant.path} (QDRANT_PATH): no cluster was checked against it"
        return None, load_embedder(settings.embedding), note
    kb = KnowledgeBase.open(settings)
    return kb, kb.embedder, None


class Tally:
    """A ``service.llm.billing.UsageSink`` that adds up what it passes on: every upstream response of
    the run (retried attempts included) goes to the ledger through ``inner`` and into the summary."""

    def __init__(self, inner: UsageSink) -> None:
        self.inner = inner
        self.totals: Counter[str] = Counter()

    def spent(self, bill: Bill, model: str, usage: Usage) -> None:
        self.totals.update(calls=1, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)
        self.totals["cost_micro_usd"] += round(usage.cost_usd * 1_000_000)
        self.inner.spent(bill, model, usage)

    def figures(self) -> dict[str, Any]:
        return {
            "calls": self.totals["calls"],
            "input_tokens": self.totals["input_tokens"],
            "output_tokens": self.totals["output_tokens"],
            "cost_usd": self.totals["cost_micro_usd"] / 1_000_000,
        }


async def _draft_all(
    settings: AppSettings,
    *,
    draft_settings: FaqDraftSettings,
    opts: Options,
    tickets: Sequence[Ticket],
    todo: Sequence[Coverage],
    folder: Path,
    summary: Summary,
) -> None:
    from faqstream.faq_claude import FaqWriter
    from knowledge.language import LanguageIdentifier
    from service.api.runtime import preflight
    from service.llm.billing import Bill
    from service.llm.claude import ClaudeClient
    from service.llm.resilient import ResilientClaude
    from service.quotas.charges import UsageCharges
    from service.usage.ledger import UsageLedger
    from service.usage.writer import open_writer

    _keys, prices = preflight(settings)
    detector = LanguageIdentifier.from_settings(settings.ingest)
    database = open_writer(settings.database, settings.ledger)
    await database.start()
    tally = Tally(UsageCharges(UsageLedger(database), None))  # ledger rows; no API key: no budget
    claude = ResilientClaude(ClaudeClient(settings.anthropic, prices, sink=tally), settings.resilience)
    bill = Bill(CLI_KEY, CLI_KEY, PURPOSE, conversation_id=summary.run)

    def detect(text: str) -> str | None:
        found = detector.detect(text)
        return found.language if found.language != "und" else None

    writer = FaqWriter(claude, bill, detect, detectable=settings.ingest.languages, model=draft_settings.model)
    gate = asyncio.Semaphore(draft_settings.parallel)
    done: Counter[str] = Counter()

    async def one(item: Coverage) -> None:
        async with gate:
            members = [tickets[i] for i in item.group.members]
            if item.over and await _answered(writer, item, members, draft_settings.prompt_tickets, summary):
                outcome = "already answered"
            else:
                drafted = await _draft_cluster(
                    writer,
                    opts=opts,
                    number=item.number,
                    members=members,
                    prompt_tickets=draft_settings.prompt_tickets,
                    folder=folder,
                    summary=summary,
                )
                outcome = "drafted" if drafted else "failed"
        done[outcome] += 1
        tally = ", ".join(f"{done[k]} {k}" for k in ("drafted", "already answered", "failed") if done[k])
        progress(f"{done.total()}/{len(todo)} clusters done ({tally})")

    try:
        await asyncio.gather(*(one(item) for item in todo))
    finally:
        await claude.close()
        await database.aclose()
    summary.drafted.sort(key=lambda d: d["cluster"])
    summary.failed.sort(key=lambda f: (f["cluster"], f["stage"]))
    summary.usage = tally.figures()


async def _answered(
    writer: FaqWriter, item: Coverage, members: Sequence[Ticket], prompt_tickets: int, summary: Summary
) -> bool:
    """Ask the model whether the passages the service's gate let through answer the cluster
    (``faqstream.faq_answered``); a yes goes to ``summary.answered``."""
    verdict = await writer.answered(members[:prompt_tickets], item.passages)
    if verdict.errors:
        summary.notes.append(
            f"cluster {item.number}: the check against the knowledge base gave an invalid output twice "
            f"({'; '.join(verdict.errors[:2])}): drafted"
        )
    if not verdict.answered or verdict.passage is None:
        progress(f"cluster {item.number}: the passages over the cut-off do not answer it (Claude)")
        return False
    hit = verdict.passage
    lead = next((lead for p, lead in zip(item.passages, item.leads, strict=True) if p.id == hit.id), None)
    summary.answered.append(
        {
            "cluster": item.number,
            "question": members[0].question.splitlines()[0][:120],
            "doc_id": hit.payload.doc_id,
            "relevance": lead,
            "tickets": [t.id for t in members],
        }
    )
    progress(f"cluster {item.number}: already answered by {hit.payload.doc_id} (Claude)")
    return True


async def _draft_cluster(
    writer: FaqWriter,
    *,
    opts: Options,
    number: int,
    members: Sequence[Ticket],
    prompt_tickets: int,
    folder: Path,
    summary: Summary,
) -> bool:
    """Draft and translate one cluster; False: the draft was invalid twice (in ``summary.failed``)."""
    from faqstream.faq_files import Entry, slug

    ids = tuple(t.id for t in members)
    drafted = await writer.draft(members[:prompt_tickets], opts.source)
    if drafted.draft is None:
        summary.failed.append(
            {"cluster": number, "stage": "draft", "errors": drafted.errors.get("", []), "tickets": list(ids)}
        )
        progress(f"cluster {number}: invalid draft twice, skipped")
        return False
    entry = drafted.draft
    translated = await writer.translate(entry, opts.source, opts.languages) if opts.languages else None
    texts = {opts.source: entry, **(translated.translations if translated else {})}
    name = slug(entry.question)
    files = []
    for lang, text in texts.items():
        item = Entry(
            summary.run,
            number,
            lang,
            text,
            tuple(entry.tags),
            tuple(entry.source_ticket_ids),
            translated_from=None if lang == opts.source else opts.source,
        )
        filename = item.filename(name)
        (folder / filename).write_text(item.render(), encoding="utf-8")
        files.append(filename)
    for lang, errors in (translated.errors if translated else {}).items():
        summary.failed.append(
            {"cluster": number, "stage": f"translate {lang}", "errors": errors, "tickets": list(ids)}
        )
    summary.drafted.append(
        {
            "cluster": number,
            "question": entry.question,
            "tickets": list(ids),
            "languages": list(texts),
            "files": files,
        }
    )
    return True
