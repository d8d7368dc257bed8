"""Short messages in a conversation: follow-ups and new subjects, before and after the topic-change rule.

A customer asked "How long does delivery to Porto take?", then "garantia?": a message of at most
three words is a follow-up by its length, so the service retrieved with "How long does delivery to
Porto take? garantia?" and answered from the delivery page. Since the topic-change rule
(``service.retrieval.topic_change``) such a message is searched merged and alone, and the message
alone wins when it passes the relevance gate on its own and the merged query's best document is
not among the ones it finds relevant.

Two knowledge bases are ingested by the real pipeline (which fits every cut-off), with the
configured model: the demo shop (``data/policies``) and the Basecamp policies
(../shared/eval/raw/basecamp_policies, as ``bench.byo_documents``). Over each, the conversations of
``bench.topic_change_data`` — about half real follow-ups (the earlier question's document is the
right one), half topic changes of one or two words in en, es, pt, de, fr and zh — are retrieved as
the answer flow does (hybrid, top SERVICE_TOP_K, the conversation's language, the calibrated gate):

* *before*: the merged query alone (``retrieval_query``);
* *after*: ``topic_change.choose`` over the merged query and the message alone.

A case is *right* when the first passage given to the model is from a right document (and
*right@k* when one of the passages is). Three looser rules are reported for comparison, computed
from the same searches: *gate only* (the message alone wins whenever it passes the gate), *top
differs* (… and its best document is not the merged query's) and *not in alone* (the shipped rule
without its confidence margin: the merged query's best document is not among the message alone's
relevant ones). Also counted: how many messages took the second search and how many texts the
model embedded (the cost). Writes bench/results/topic_change.json.

    python -m bench.topic_change
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.answerability import build
from bench.common import EVAL, REPO, write_result
from bench.topic_change_data import (
    BASECAMP_FOLLOW_UPS,
    BASECAMP_TOPIC_CHANGES,
    SHOP_FOLLOW_UPS,
    SHOP_TOPIC_CHANGES,
    Case,
)
from knowledge.schema import SearchHit
from knowledge.search import Query
from service.conversations.history import retrieval_queries
from service.conversations.store import Conversation, Turn
from service.retrieval import topic_change
from service.retrieval.relevance import RelevanceFloor, relevance_floor
from service.retrieval.retriever import BatchingRetriever, Retrieved
from service.retrieval.vector_cache import EmbeddingCache
from service.settings.service import ServiceSettings

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
Rule = Callable[[RelevanceFloor, Retrieved, Retrieved, Any], bool]


def conversation(earlier: Sequence[str], language: str) -> Conversation:
    turns: list[Turn] = []
    for text in earlier:
        turns.append(Turn(role="user", text=text, language=language, at=T0))
        turns.append(Turn(role="assistant", text="…", language=language, at=T0))
    return Conversation(id="bench", turns=turns, created_at=T0, updated_at=T0)


def is_right(hit: SearchHit, keys: Sequence[str]) -> bool:
    doc = hit.payload.doc_id.split("#", 1)[0]
    if any(doc.split("/", 1)[0] == key or Path(doc).stem == key for key in keys):
        return True
    parts = Path(doc).parts  # "en/shipping.md", "refund/hey/index.md"
    return any(key in parts or key in hit.payload.tags for key in keys)


def _gate_only(floor: RelevanceFloor, merged: Retrieved, alone: Retrieved, alone_in: Any) -> bool:
    return floor.select(alone.hits, alone_in).relevant > 0


def _top_differs(floor: RelevanceFloor, merged: Retrieved, alone: Retrieved, alone_in: Any) -> bool:
    passes = _gate_only(floor, merged, alone, alone_in)
    return passes and (not merged.hits or alone.hits[0].payload.doc_id != merged.hits[0].payload.doc_id)


def _not_in_alone(floor: RelevanceFloor, merged: Retrieved, alone: Retrieved, alone_in: Any) -> bool:
    relevant = {h.payload.doc_id for h in alone.hits if floor.lead(h, alone_in) >= 0.0}
    return bool(relevant) and (not merged.hits or merged.hits[0].payload.doc_id not in relevant)


RULES: dict[str, Rule] = {
    "gate_only": _gate_only,
    "top_differs": _top_differs,
    "not_in_alone": _not_in_alone,
}


def outcome(
    floor: RelevanceFloor, hits: list[SearchHit], asked_in: Any, keys: Sequence[str]
) -> dict[str, Any]:
    selection = floor.select(hits, asked_in)
    given = selection.hits
    return {
        "answered": selection.relevant > 0,
        "right": bool(given) and is_right(given[0], keys),
        "right_at_k": any(is_right(h, keys) for h in given),
        "given": [h.payload.doc_id for h in given][:3],
    }


async def run_case(
    retriever: BatchingRetriever, floor: RelevanceFloor, case: Case, top_k: int
) -> dict[str, Any]:
    """One conversation as the answer flow retrieves it (``topic_change.search``, no translator),
    with the merged reading kept for *before* and the comparison rules."""
    earlier, message, language, keys = case
    query = retrieval_queries(message, conversation(earlier, language))
    merged_query = Query(query.text, top_k, None, language)
    before = retriever.questions
    reading = await topic_change.search(
        retriever, None, merged_query, query, target=language, tenant="", floor=floor
    )
    row: dict[str, Any] = {
        "message": message,
        "earlier": list(earlier),
        "language": language,
        "right_documents": list(keys),
        "embedded": retriever.questions - before,
        "second_search": query.standalone is not None,
        "new_topic": reading.new_topic,
    }
    if query.standalone is None:
        merged = reading.retrieved
        for name in ("before", *RULES):
            row[name] = outcome(floor, merged.hits, floor.question_language(language, None, query.text), keys)
    else:
        merged, alone = await retriever.search_many(
            [merged_query, replace(merged_query, text=query.standalone)]
        )  # again, from the vector cache: the two readings for the comparison rules
        merged_in = floor.question_language(language, None, query.text)
        alone_in = floor.question_language(language, None, query.standalone)
        row["before"] = outcome(floor, merged.hits, merged_in, keys)
        row["alone"] = outcome(floor, alone.hits, alone_in, keys)
        leads = [floor.lead(h, alone_in) for h in alone.hits]
        row["alone_best_lead"] = round(max(leads), 2) if leads else None
        row["margin"] = round(floor.margin(alone_in), 2)
        for name, rule in RULES.items():
            won = rule(floor, merged, alone, alone_in)
            row[name] = outcome(floor, (alone if won else merged).hits, alone_in if won else merged_in, keys)
    row["after"] = outcome(
        floor, reading.retrieved.hits, floor.question_language(language, None, reading.asked), keys
    )
    return row


def share(rows: Sequence[dict[str, Any]], when: str, key: str = "right") -> str:
    return f"{sum(r[when][key] for r in rows)}/{len(rows)}"


def measure(name: str, corpus: Path, follow_ups: Sequence[Case], changes: Sequence[Case]) -> dict[str, Any]:
    top_k = ServiceSettings().top_k
    with tempfile.TemporaryDirectory(prefix="faqstream-topic-") as tmp:
        kb, _ = build(corpus, Path(tmp) / "qdrant", "e5")
        try:
            floor = relevance_floor(kb.meta(), None, kb.embedder.name, kb.embedder)
            retriever = BatchingRetriever(kb, cache=EmbeddingCache(1024))

            async def run_all(cases: Sequence[Case]) -> list[dict[str, Any]]:
                return [await run_case(retriever, floor, case, top_k) for case in cases]

            try:
                follow = asyncio.run(run_all(follow_ups))
                change = asyncio.run(run_all(changes))
            finally:
                retriever.close()
        finally:
            kb.store.close()
    summary: dict[str, Any] = {"model": kb.embedder.name, "top_k": top_k}
    for kind, rows in (("follow_ups", follow), ("topic_changes", change), ("all", follow + change)):
        summary[kind] = {
            when: {"right": share(rows, when), "right_at_k": share(rows, when, "right_at_k")}
            for when in ("before", "after", *RULES)
        }
        summary[kind]["second_search"] = sum(r["second_search"] for r in rows)
        summary[kind]["embedded"] = sum(r["embedded"] for r in rows)
        summary[kind]["new_topic"] = sum(r["new_topic"] for r in rows)
    print(f"{name} ({kb.embedder.name}, top {top_k})")
    for kind in ("follow_ups", "topic_changes", "all"):
        s = summary[kind]
        print(
            f"  {kind:14} right before {s['before']['right']}, after {s['after']['right']} "
            f"(right@k {s['before']['right_at_k']} → {s['after']['right_at_k']}); gate only "
            f"{s['gate_only']['right']}, top differs {s['top_differs']['right']}, not in alone "
            f"{s['not_in_alone']['right']}; second search "
            f"{s['second_search']}, new topic {s['new_topic']}"
        )
    for row in follow + change:
        kind = "follow" if row in follow else "change"
        print(
            f"    {kind} {row['message']!r:26} {'NEW' if row['new_topic'] else '   '} "
            f"before {'✓' if row['before']['right'] else '✗'} after {'✓' if row['after']['right'] else '✗'} "
            f"lead {row.get('alone_best_lead')} (margin {row.get('margin')})  "
            f"merged {row['before']['given'][:1]} alone {row.get('alone', {}).get('given', [])[:2]}"
        )
    return {"summary": summary, "follow_ups": follow, "topic_changes": change}


def main() -> None:
    results = {
        "shop": measure(
            "Demo shop (data/policies)", REPO / "data" / "policies", SHOP_FOLLOW_UPS, SHOP_TOPIC_CHANGES
        ),
        "basecamp": measure(
            "Basecamp policies",
            EVAL / "raw" / "basecamp_policies",
            BASECAMP_FOLLOW_UPS,
            BASECAMP_TOPIC_CHANGES,
        ),
    }
    write_result("topic_change", results)


if __name__ == "__main__":
    main()
