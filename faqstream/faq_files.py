"""The drafts folder ``faqstream faq draft`` writes: one Markdown file per cluster and language, and an
index (``summary.md``) for the reviewer.

An entry is a file ``faqstream ingest`` reads as it is once approved: front matter with ``title``
(the question), ``language``, ``status: draft`` (``ingest.review`` keeps it out of the knowledge
base until it says ``approved``), ``tags``, ``source_tickets``, the ``reply_template`` for agents
(front matter, so it is kept with the entry but not embedded as answer text), the run and cluster;
the body is the question as heading and the answer. File names carry the run's name, so entries of
two runs never share a document id. ``summary.md`` has ``status: index`` and is never ingested.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.review import DRAFT, INDEX
from knowledge.faq_schema import FaqTranslation

SUMMARY = "summary.md"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as ``|`` blocks, so a reviewer edits them as text."""


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _text)


def slug(text: str, limit: int = 40) -> str:
    """ASCII words of ``text`` joined by hyphens (``entry`` when none are left)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", folded)
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > limit:
            break
        out = f"{out}-{word}" if out else word
    return out or "entry"


@dataclass(frozen=True)
class Entry:
    """One file to write: a cluster's entry in one language."""

    run: str
    cluster: int
    language: str
    texts: FaqTranslation
    tags: tuple[str, ...]
    ticket_ids: tuple[str, ...]
    translated_from: str | None = None  # None: the drafted original

    def filename(self, name_slug: str) -> str:
        return f"{self.run}-{self.cluster:02d}-{name_slug}.{self.language}.md"

    def render(self) -> str:
        meta: dict[str, Any] = {
            "title": self.texts.question,
            "language": self.language,
            "status": DRAFT,
            "tags": list(self.tags),
            "source_tickets": list(self.ticket_ids),
            "faq_draft_run": self.run,
            "cluster": self.cluster,
        }
        if self.translated_from:
            meta["translated_from"] = self.translated_from
        meta["reply_template"] = self.texts.reply_template
        head = yaml.dump(meta, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
        return f"---\n{head}---\n\n# {self.texts.question}\n\n{self.texts.answer}\n"


@dataclass
class Summary:
    """What the run did, cluster by cluster, for ``summary.md`` and the command's output."""

    run: str
    tickets: int
    languages: tuple[str, ...]
    clusters: int = 0
    # dry run: cluster, question, tickets, doc_id and relevance of the best passage, over_cut_off
    planned: list[dict[str, Any]] = field(default_factory=list)
    drafted: list[dict[str, Any]] = field(default_factory=list)  # cluster, question, tickets, files
    answered: list[dict[str, Any]] = field(default_factory=list)  # cluster, question, doc_id, relevance
    relevance_unit: str = "sd"  # of the relevance figures: "sd" (calibrated cut-off) or "cosine"
    failed: list[dict[str, Any]] = field(default_factory=list)  # cluster, stage, errors
    unclustered: list[str] = field(default_factory=list)  # ticket ids in no cluster
    notes: list[str] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)  # calls, input/output tokens, cost_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "tickets": self.tickets,
            "languages": list(self.languages),
            "clusters": self.clusters,
            "relevance_unit": self.relevance_unit,
            "planned": self.planned,
            "drafted": self.drafted,
            "answered": self.answered,
            "failed": self.failed,
            "unclustered": self.unclustered,
            "notes": self.notes,
            "usage": self.usage,
        }

    def lines(self) -> list[str]:
        failed = len({f["cluster"] for f in self.failed if f["stage"] == "draft"})
        check = sum(1 for item in self.planned if item.get("over_cut_off"))
        done = (
            f"{len(self.planned) - check} to draft, {check} to check with Claude"
            if self.planned
            else f"{len(self.drafted)} drafted"
        )
        out = [
            f"{self.tickets} tickets, {self.clusters} clusters: {done}, "
            f"{len(self.answered)} already answered, {failed} failed; "
            f"{len(self.unclustered)} tickets in no cluster"
        ]
        if self.usage:
            out.append(
                f"{self.usage['calls']} Claude calls, {self.usage['input_tokens']} input and "
                f"{self.usage['output_tokens']} output tokens, ${self.usage['cost_usd']:.4f} "
                "(usage ledger, purpose faq_draft)"
            )
        out += [f"note: {n}" for n in self.notes]
        for item in self.drafted:
            langs = ", ".join(item["languages"])
            count = len(item["tickets"])
            out.append(f"drafted   #{item['cluster']:02d} {item['question']} ({count} tickets; {langs})")
        for item in self.planned:
            label = "to check" if item.get("over_cut_off") else "to draft"
            out.append(
                f"{label}  #{item['cluster']:02d} {item['question']} ({len(item['tickets'])} tickets)"
                f"{self._coverage(item)}"
            )
        for item in self.answered:
            out.append(
                f"answered  #{item['cluster']:02d} {item['question']}: already answered by {item['doc_id']} "
                f"({self._relevance(item)}Claude: it answers)"
            )
        for item in self.failed:
            out.append(f"failed    #{item['cluster']:02d} {item['stage']}: {'; '.join(item['errors'][:3])}")
        return out

    def _relevance(self, item: dict[str, Any]) -> str:
        lead = item.get("relevance")
        return f"relevance {lead:+.2f} {self.relevance_unit}; " if lead is not None else ""

    def _coverage(self, item: dict[str, Any]) -> str:
        """A dry run's word on what the knowledge base has for a cluster (``faqstream.faq_answered``)."""
        if item.get("doc_id") is None:
            return ""
        lead = item.get("relevance")
        best = f"best passage {item['doc_id']}" + (
            f", relevance {lead:+.2f} {self.relevance_unit}" if lead is not None else ""
        )
        if item.get("over_cut_off"):
            return f": {best}, over the cut-off — the drafting run asks Claude whether it answers"
        return f": {best}, under the cut-off — not covered"

    def render(self) -> str:
        head = yaml.dump(
            {"title": f"FAQ drafts {self.run}", "status": INDEX, "faq_draft_run": self.run},
            Dumper=_Dumper,
            sort_keys=False,
        )
        body = [f"# FAQ drafts {self.run}", ""]
        body += [
            "Review each entry, edit it, and set `status: approved` in its front matter (or run "
            "`faqstream faq approve FILE…`); then `faqstream ingest` this folder: only approved "
            "entries are ingested.",
            "",
            "| cluster | question | tickets | files |",
            "|---|---|---|---|",
        ]
        for item in self.drafted:
            files = " ".join(f"[{f}]({f})" for f in item["files"])
            question = item["question"].replace("|", "\\|")  # a cell of the table
            body.append(f"| {item['cluster']} | {question} | {', '.join(item['tickets'])} | {files} |")
        if self.answered:
            body += ["", "## Already answered by the knowledge base", ""]
            body += [
                f"- cluster {a['cluster']}: {a['question']} — already answered by `{a['doc_id']}` "
                f"({self._relevance(a)}tickets {', '.join(a['tickets'])})"
                for a in self.answered
            ]
        if self.failed:
            body += ["", "## Not drafted: invalid model output", ""]
            body += [
                f"- cluster {f['cluster']} ({f['stage']}): {'; '.join(f['errors'])}" for f in self.failed
            ]
        if self.unclustered:
            body += [
                "",
                f"## Tickets in no cluster ({len(self.unclustered)})",
                "",
                ", ".join(self.unclustered),
            ]
        if self.notes:
            body += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        return f"---\n{head}---\n\n" + "\n".join(body) + "\n"


def new_folder(base: Path, run: str) -> Path:
    """``base/run``, or ``base/run-2``… when a folder of that name exists (never overwrite a review)."""
    candidate, n = base / run, 1
    while candidate.exists():
        n += 1
        candidate = base / f"{run}-{n}"
    candidate.mkdir(parents=True)
    return candidate
