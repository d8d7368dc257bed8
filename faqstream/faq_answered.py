"""What a ticket asks, and whether the knowledge base already answers it (``faqstream faq draft``).

``meaning`` is the text a ticket is embedded by (clustering, search). ``coverage`` judges each
cluster as the answer service judges a question (docs/faq-drafting.md, "Already answered"):

1. **The gate** — the service's own relevance cut-off (``service.retrieval.relevance``, built as the
   service builds it: cohort-normalised, in the ticket's language, a cross-language cut-off for a
   passage in another language; the SERVICE_TOP_K passages of a hybrid search). The cluster's
   central tickets are searched; when most of them have no passage over the cut-off, the service
   would hand that question to a person (``no_relevant_passages``): a content gap, drafted.
2. **The model** — over the cut-off the service gives the passages to Claude, which says whether
   they answer (``NOT_IN_DOCUMENTS``). So does the drafting run (``faqstream.faq_claude.FaqWriter.
   answered``): the passages the gate selected and the tickets, one forced tool call; only a "yes"
   sets the cluster aside. ``--dry-run`` makes no call: it shows each cluster's relevance.

Why not a relevance bar alone: the gate is made for recall (a question close to the documents'
topic passes and the model says "not in the documents"), and no stricter bar separates a page that
answers from a page on the same subject. Measured on a water utility's pages (a new user's trial):
"Do I pay the sewer charge on water I use for watering my garden?", which no page answers,
scored +3.85 sd over the cut-off (billing.md, which gives the sewer charge), the late-fee question
billing.md answers word for word +0.87 to +2.28 sd, and every one of the 20 tickets — "Do you sell
bottled water?" too — passed the gate. On the test knowledge base (tests/integration/test_faq_draft.py)
the address-change and gift-wrapping tickets, which no page answers, passed it too (+0.2 to +1.8 sd).
The earlier rule (a cosine bar at the knowledge base's answerable probes' 10th percentile, 0.832
there) set aside all five of the trial's clusters, three of them content gaps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.clustering import Cluster
    from knowledge.schema import SearchHit
    from knowledge.search import KnowledgeBase
    from knowledge.tickets import Ticket
    from service.api.settings import AppSettings

REPRESENTATIVES = 3  # central tickets of a cluster searched in the knowledge base
PASSAGES = 6  # passages of a cluster (over the cut-off or within the context margin) shown to the model


def meaning(ticket: Ticket) -> str:
    """What a ticket asks, for embedding: its question without the redaction placeholders, which say
    nothing about the question and pulled unrelated tickets together (an "[email]" in a discount-code
    ticket drew a password-reset one into its cluster)."""
    from service.privacy.pii import PLACEHOLDERS

    text = ticket.question
    for placeholder in PLACEHOLDERS.values():
        text = text.replace(placeholder, " ")
    return " ".join(text.split())


@dataclass
class Coverage:
    """How the knowledge base covers one cluster, as the service's gate judges its central tickets."""

    number: int  # the cluster's number in the run, from 1
    group: Cluster
    over: bool  # most central tickets have a passage over the cut-off: the model decides
    passages: list[SearchHit] = field(default_factory=list)  # what the service would answer from
    leads: list[float | None] = field(default_factory=list)  # each passage's lead, in ``unit``
    lead: float | None = None  # the best passage's lead over its cut-off, in ``unit``; None: no cut-off
    doc_id: str | None = None  # the best passage's document

    def describe(self, unit: str) -> str:
        if self.lead is None:
            return "no relevance cut-off"
        side = "over" if self.over else "under"
        return f"best passage {self.doc_id}, relevance {self.lead:+.2f} {unit}: {side} the cut-off"


def coverage(
    kb: KnowledgeBase,
    settings: AppSettings,
    tickets: Sequence[Ticket],
    clusters: Sequence[Cluster],
    notes: list[str],
    *,
    progress: Callable[[str], None],
) -> tuple[list[Coverage], str]:
    """Each cluster's coverage (module docstring), and the unit of its leads ("sd" or "cosine")."""
    from service.retrieval.relevance import relevance_floor

    floor = relevance_floor(kb.meta(), settings.service.relevance_floor, kb.embedder.name, kb.embedder)
    unit = "sd" if floor.normalised else "cosine"
    if floor.value is None:
        notes.append(
            "the knowledge base has no relevance cut-off (ingest it again to calibrate one): every "
            "cluster's passages go to the model, which says whether they answer it"
        )
    top_k = settings.service.top_k
    out = []
    for n, group in enumerate(clusters, 1):
        central = [tickets[i] for i in group.central(REPRESENTATIVES)]
        texts = [meaning(t) for t in central]
        found = kb.search_many(texts, limit=top_k, languages=[t.language for t in central])
        passing = 0
        judged: dict[str, tuple[float, SearchHit]] = {}  # the passages selected, by their best lead
        best: tuple[float, SearchHit] | None = None  # the best passage retrieved, selected or not
        for ticket, text, hits in zip(central, texts, found, strict=True):
            detection = None
            language = ticket.language
            if language is None and kb.languages is not None:
                detection = kb.languages.detect(text)
                language = detection.language
            asked_in = floor.question_language(language, detection, text)
            selection = floor.select(hits, asked_in)
            passing += selection.relevant > 0
            chosen = {hit.id for hit in selection.hits}
            for hit in hits:
                lead = floor.lead(hit, asked_in) if floor.value is not None else 0.0
                if best is None or lead > best[0]:
                    best = (lead, hit)
                if hit.id in chosen and (hit.id not in judged or lead > judged[hit.id][0]):
                    judged[hit.id] = (lead, hit)
        ranked = sorted(judged.values(), key=lambda pair: -pair[0])
        over = passing * 2 > len(central)
        item = Coverage(n, group, over, [hit for _lead, hit in ranked[:PASSAGES]])
        item.leads = [lead if floor.value is not None else None for lead, _hit in ranked[:PASSAGES]]
        if best is not None and floor.value is not None:
            item.lead, item.doc_id = best[0], best[1].payload.doc_id
        progress(f"cluster {n}: {item.describe(unit)}")
        out.append(item)
    return out, unit
