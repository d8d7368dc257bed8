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
model embedded (the cost).

Then the brief messages that are no follow-up by their words (trials A and C): longer elliptical
follow-ups, longer topic changes and uncovered questions mid-conversation (``*_LONG_*``,
``*_UNCOVERED``). The earlier questions are retrieved first, and their answers cite what the gate
gave the model (the conversation's topic is the first citation, as the service stores it).
*before*: the message alone; *after*: ``topic_change.choose`` over the message alone, merged and
alone within the topic document. ``TOPIC_RULES`` compares other rules from the same searches.
For an uncovered question *right* means not answered. Writes bench/results/topic_change.json.

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
    BASECAMP_LONG_FOLLOW_UPS,
    BASECAMP_LONG_TOPIC_CHANGES,
    BASECAMP_TOPIC_CHANGES,
    BASECAMP_UNCOVERED,
    SHOP_FOLLOW_UPS,
    SHOP_LONG_FOLLOW_UPS,
    SHOP_LONG_TOPIC_CHANGES,
    SHOP_TOPIC_CHANGES,
    SHOP_UNCOVERED,
    Case,
)
from knowledge.schema import SearchFilters, SearchHit
from knowledge.search import Query
from service.conversations.follow_ups import retrieval_queries
from service.conversations.store import Conversation, Turn
from service.retrieval import topic_change
from service.retrieval.relevance import RelevanceFloor, relevance_floor
from service.retrieval.retriever import BatchingRetriever, Retrieved
from service.retrieval.vector_cache import EmbeddingCache
from service.settings.service import ServiceSettings

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
Rule = Callable[[RelevanceFloor, Retrieved, Retrieved, Any], bool]


def conversation(turns: Sequence[Turn]) -> Conversation:
    return Conversation(id="bench", turns=list(turns), created_at=T0, updated_at=T0)


async def earlier_turns(
    retriever: BatchingRetriever, floor: RelevanceFloor, earlier: Sequence[str], language: str, top_k: int
) -> list[Turn]:
    """The earlier questions and their answers as the service stores them: each answer cites the
    passages its question's retrieval gave the model (none when the gate stopped it)."""
    turns: list[Turn] = []
    for text in earlier:
        rewrite = retrieval_queries(text, conversation(turns))
        query = Query(rewrite.text, top_k, None, language)
        reading = await topic_change.search(
            retriever, None, query, rewrite, target=language, tenant="", floor=floor
        )
        given = floor.select(reading.retrieved.hits, floor.question_language(language, None, reading.asked))
        turns.append(Turn(role="user", text=text, language=language, at=T0))
        cited = [hit.payload.doc_id for hit in given.hits]
        turns.append(Turn(role="assistant", text="…", language=language, at=T0, citations=cited))
    return turns


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
# For a brief message that is no follow-up (``RetrievalQuery.merged``): when the merged reading
# wins instead of the message alone, given (alone's best lead, merged's best lead, both margins,
# whether the merged query's best document is the conversation's topic). "shipped" is
# ``topic_change.keeps_topic``.
TopicRule = Callable[[dict[str, Any]], bool]
TOPIC_RULES: dict[str, TopicRule] = {
    "always_merged": lambda r: True,
    "unsure_alone": lambda r: r["a"] < r["am"],
    "confident_merged": lambda r: r["a"] < r["am"] and r["m"] >= r["mm"],
    "on_topic": lambda r: r["a"] < r["am"] and r["on_topic"],
    "conf_on_topic": lambda r: r["a"] < r["am"] and r["on_topic"] and r["m"] >= r["mm"],
    # the message alone's best passage in the conversation's topic document (``t``)
    "topic_passes": lambda r: r["a"] < r["am"] and r["t"] >= 0.0,
    "topic_passes_on_topic": lambda r: r["a"] < r["am"] and r["t"] >= 0.0 and r["on_topic"],
    "topic_near_best": lambda r: r["a"] < r["am"] and r["t"] >= r["a"] - r["am"] and r["on_topic"],
    # the same over every document the previous answer cited, not only its first
    "cited_near_best": lambda r: r["on_cited"] and r["c"] >= 0.0 and r["c"] >= r["a"] - r["am"],
    "shipped": lambda r: r["on_topic"] and r["t"] >= 0.0 and r["t"] >= r["a"] - r["am"],
}
ALL_RULES = (*RULES, *TOPIC_RULES)


def outcome(
    floor: RelevanceFloor, hits: list[SearchHit], asked_in: Any, keys: Sequence[str]
) -> dict[str, Any]:
    selection = floor.select(hits, asked_in)
    given = selection.hits
    if not keys:  # a question the documents do not cover: right when not answered
        return {
            "answered": selection.relevant > 0,
            "right": selection.relevant == 0,
            "right_at_k": False,
            "given": [h.payload.doc_id for h in given][:3],
        }
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
    turns = await earlier_turns(retriever, floor, earlier, language, top_k)
    query = retrieval_queries(message, conversation(turns))
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
        "topic": query.topic,
        "embedded": retriever.questions - before,
        "searches": 1 + (query.standalone is not None) + 2 * (query.merged is not None),
        "second_search": query.standalone is not None,
        "merged_search": query.merged is not None,
        "new_topic": reading.new_topic,
        "kept_topic": reading.kept_topic,
    }
    after = outcome(
        floor, reading.retrieved.hits, floor.question_language(language, None, reading.asked), keys
    )
    if query.merged is not None and query.topic is not None:
        cited = list(dict.fromkeys(turns[-1].citations))
        alone, merged, in_topic, in_cited = await retriever.search_many(
            [
                merged_query,
                replace(merged_query, text=query.merged),
                replace(merged_query, filters=SearchFilters(doc_id=[query.topic])),
                replace(merged_query, filters=SearchFilters(doc_id=cited)),
            ]
        )  # again, from the vector cache: the two readings (and the message alone in the
        # conversation's topic document) for the comparison rules
        alone_in = floor.question_language(language, None, query.text)
        merged_in = floor.question_language(language, None, query.merged)
        a_lead = max((floor.lead(h, alone_in) for h in alone.hits), default=-9.0)
        m_lead = max((floor.lead(h, merged_in) for h in merged.hits), default=-9.0)
        a_margin, m_margin = floor.margin(alone_in), floor.margin(merged_in)
        on_topic = bool(merged.hits) and merged.hits[0].payload.doc_id == query.topic
        t_lead = max((floor.lead(h, alone_in) for h in in_topic.hits), default=-9.0)
        c_lead = max((floor.lead(h, alone_in) for h in in_cited.hits), default=-9.0)
        on_cited = bool(merged.hits) and merged.hits[0].payload.doc_id in cited
        signals = {
            "c": c_lead,
            "on_cited": on_cited,
            "a": a_lead,
            "m": m_lead,
            "am": a_margin,
            "mm": m_margin,
            "t": t_lead,
            "on_topic": on_topic,
        }
        row["before"] = outcome(floor, alone.hits, alone_in, keys)
        row["merged"] = outcome(floor, merged.hits, merged_in, keys)
        row["alone_best_lead"], row["merged_best_lead"] = round(a_lead, 2), round(m_lead, 2)
        row["margin"] = round(a_margin, 2)
        row["merged_on_topic"], row["topic_lead"] = on_topic, round(t_lead, 2)
        for name in RULES:
            row[name] = row["before"]
        for name, topic_rule in TOPIC_RULES.items():
            won = topic_rule(signals)
            row[name] = outcome(floor, (merged if won else alone).hits, merged_in if won else alone_in, keys)
        row["after"] = after
        return row
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
    for name in TOPIC_RULES:
        row[name] = after
    row["after"] = after
    return row


def share(rows: Sequence[dict[str, Any]], when: str, key: str = "right") -> str:
    return f"{sum(r[when][key] for r in rows)}/{len(rows)}"


def measure(name: str, corpus: Path, groups: dict[str, Sequence[Case]]) -> dict[str, Any]:
    top_k = ServiceSettings().top_k
    with tempfile.TemporaryDirectory(prefix="faqstream-topic-") as tmp:
        kb, _ = build(corpus, Path(tmp) / "qdrant", "e5")
        try:
            floor = relevance_floor(kb.meta(), None, kb.embedder.name, kb.embedder)
            retriever = BatchingRetriever(kb, cache=EmbeddingCache(1024))

            async def run_all(cases: Sequence[Case]) -> list[dict[str, Any]]:
                return [await run_case(retriever, floor, case, top_k) for case in cases]

            try:
                rows = {kind: asyncio.run(run_all(cases)) for kind, cases in groups.items()}
            finally:
                retriever.close()
        finally:
            kb.store.close()
    summary: dict[str, Any] = {"model": kb.embedder.name, "top_k": top_k}
    for kind, group in (*rows.items(), ("all", [r for g in rows.values() for r in g])):
        summary[kind] = {
            when: {"right": share(group, when), "right_at_k": share(group, when, "right_at_k")}
            for when in ("before", "after", *ALL_RULES)
        }
        summary[kind]["answered"] = {when: share(group, when, "answered") for when in ("before", "after")}
        for count in ("second_search", "merged_search", "embedded", "searches", "new_topic", "kept_topic"):
            summary[kind][count] = sum(r[count] for r in group)
        summary[kind]["messages"] = len(group)
    print(f"{name} ({kb.embedder.name}, top {top_k})")
    for kind in (*rows, "all"):
        s = summary[kind]
        print(
            f"  {kind:20} right before {s['before']['right']}, after {s['after']['right']} "
            f"(right@k {s['before']['right_at_k']} → {s['after']['right_at_k']}; answered "
            f"{s['answered']['before']} → {s['answered']['after']}); "
            + ", ".join(f"{rule} {s[rule]['right']}" for rule in ALL_RULES)
            + f"; searches {s['searches']} for {s['messages']}, new topic {s['new_topic']}, "
            f"kept topic {s['kept_topic']}"
        )
    for kind, group in rows.items():
        for row in group:
            print(
                f"    {kind[:12]:12} {row['message']!r:40} "
                f"{'NEW' if row['new_topic'] else 'KEPT' if row['kept_topic'] else '   '} "
                f"before {'✓' if row['before']['right'] else '✗'} "
                f"after {'✓' if row['after']['right'] else '✗'} "
                f"lead {row.get('alone_best_lead')} merged {row.get('merged_best_lead')} (margin "
                f"{row.get('margin')}) in topic {row.get('topic_lead')} "
                f"on topic {row.get('merged_on_topic')} "
                f"topic {row['topic']} "
                f"given {row['before']['given'][:1]} merged {row.get('merged', {}).get('given', [])[:1]}"
            )
    for group in rows.values():  # the rules' outcomes as right or not: the file stays small
        for row in group:
            row["rules"] = {rule: row.pop(rule)["right"] for rule in ALL_RULES}
    return {"summary": summary, **rows}


def main() -> None:
    results = {
        "shop": measure(
            "Demo shop (data/policies)",
            REPO / "data" / "policies",
            {
                "follow_ups": SHOP_FOLLOW_UPS,
                "topic_changes": SHOP_TOPIC_CHANGES,
                "long_follow_ups": SHOP_LONG_FOLLOW_UPS,
                "long_topic_changes": SHOP_LONG_TOPIC_CHANGES,
                "uncovered": SHOP_UNCOVERED,
            },
        ),
        "basecamp": measure(
            "Basecamp policies",
            EVAL / "raw" / "basecamp_policies",
            {
                "follow_ups": BASECAMP_FOLLOW_UPS,
                "topic_changes": BASECAMP_TOPIC_CHANGES,
                "long_follow_ups": BASECAMP_LONG_FOLLOW_UPS,
                "long_topic_changes": BASECAMP_LONG_TOPIC_CHANGES,
                "uncovered": BASECAMP_UNCOVERED,
            },
        ),
    }
    write_result("topic_change", results)


if __name__ == "__main__":
    main()
