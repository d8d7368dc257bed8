"""What a ticket asks, and whether the knowledge base already answers it (``faqstream faq draft``).

``meaning`` is the text a ticket is embedded by (clustering, search); ``set_aside_answered`` moves
the clusters the knowledge base answers into the summary, by ``answered_bar``: the service's
relevance floor raised to the knowledge base's own answerable probes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faqstream.faq_files import Summary
    from knowledge.clustering import Cluster
    from knowledge.search import KnowledgeBase
    from knowledge.tickets import Ticket
    from service.api.settings import AppSettings
    from service.retrieval.relevance import RelevanceFloor

REPRESENTATIVES = 3  # central tickets of a cluster searched in the knowledge base
SEARCH_LIMIT = 5


def meaning(ticket: Ticket) -> str:
    """What a ticket asks, for embedding: its question without the redaction placeholders, which say
    nothing about the question and pulled unrelated tickets together (an "[email]" in a discount-code
    ticket drew a password-reset one into its cluster)."""
    from service.privacy.pii import PLACEHOLDERS

    text = ticket.question
    for placeholder in PLACEHOLDERS.values():
        text = text.replace(placeholder, " ")
    return " ".join(text.split())


def answered_bar(floor: RelevanceFloor) -> tuple[float | None, float | None]:
    """The cosine a ticket's best passage needs for the ticket to count as answered: the service's
    floor, raised to the 10th percentile of the knowledge base's own answerable probes when the
    floor is calibrated, and for a passage in another language lowered by the calibration's
    cross-language offset. (same language, other language); None: no floor, nothing is answered.

    The floor alone is made for recall — it lets a question close to the topic through and leaves
    the model to say "not in the documents" — so it would set aside exactly the content gaps this
    job looks for: on the test knowledge base (tests/integration/test_faq_draft.py) its 0.790 let
    the address-change tickets through to privacy.md at 0.851 and gift-wrapping ones at 0.829, while
    the refund and delivery-time tickets the pages answer scored 0.90–0.91 (answerable p10 0.862)."""
    if floor.value is None:
        return None, None
    calibration = floor.calibration
    if calibration is None:  # SERVICE_RELEVANCE_FLOOR: the operator's number, as it is
        return floor.value, floor.value
    same = max(floor.value, calibration.quantiles.get("answerable", {}).get("p10", floor.value))
    cross = calibration.cross_threshold if calibration.cross_threshold is not None else calibration.threshold
    return same, same - max(calibration.threshold - cross, 0.0)


def set_aside_answered(
    kb: KnowledgeBase,
    settings: AppSettings,
    tickets: Sequence[Ticket],
    clusters: Sequence[Cluster],
    summary: Summary,
    *,
    progress: Callable[[str], None],
) -> list[Cluster]:
    """The clusters the knowledge base does not answer; the others go to ``summary.answered``.

    A cluster is answered when most of its central tickets find a passage at or above
    ``answered_bar`` for the current knowledge-base version."""
    from service.retrieval.relevance import relevance_floor

    floor = relevance_floor(kb.meta(), settings.service.relevance_floor, kb.embedder.name)
    same, cross = answered_bar(floor)
    if same is None or cross is None:
        summary.notes.append(
            "the knowledge base has no relevance cut-off (ingest it again to calibrate one): "
            "no cluster was set aside as already answered"
        )
        return list(clusters)
    todo = []
    for n, group in enumerate(clusters, 1):
        central = [tickets[i] for i in group.central(REPRESENTATIVES)]
        found = kb.search_many(
            [meaning(t) for t in central], limit=SEARCH_LIMIT, languages=[t.language for t in central]
        )
        best = []
        for ticket, hits in zip(central, found, strict=True):
            for hit in floor.keep(hits, ticket.language):
                other = ticket.language is not None and hit.payload.language not in (ticket.language, "und")
                if (hit.dense_score or 0.0) >= (cross if other else same):
                    best.append(hit)
                    break
        if len(best) * 2 > len(central):
            doc_id = Counter(hit.payload.doc_id for hit in best).most_common(1)[0][0]
            score = max(hit.dense_score or 0.0 for hit in best if hit.payload.doc_id == doc_id)
            summary.answered.append(
                {
                    "cluster": n,
                    "question": central[0].question.splitlines()[0][:120],
                    "doc_id": doc_id,
                    "score": score,
                    "tickets": [tickets[i].id for i in group.members],
                }
            )
            progress(f"cluster {n}: already answered by {doc_id}")
        else:
            todo.append(group)
    return todo
