"""A short message in a conversation: a follow-up, or a new subject? Decided per message by
retrieving both readings.

``service.conversations.history.retrieval_query`` puts the earlier question(s) in front of a
follow-up, and a message of at most three words is a follow-up by its length alone. That is right
for "In the UK?" after "How long do I have to return an item?", and wrong for "garantia?" after
"How long does delivery to Porto take?": the merged query finds the delivery page and the customer
gets the delivery answer. Words cannot tell the two apart ("In the UK?" and "opening hours" are
both a bare noun phrase); the documents can.

**The rule.** A follow-up that opens with a continuation ("and…", "what about", "¿y…", "und…",
"还有…") or points back ("it", "that one", "eso", "它") is searched merged, as before. One that is
a follow-up only by its length (``history.is_short_only``) is searched twice, merged and alone, in
one retrieval batch (``BatchingRetriever.search_many``: one model call embeds both). The message
alone wins — it is a new subject — when

* alone, it is confidently relevant: its best passage scores over the knowledge base's calibrated
  cut-off (for one or two words, the short-message one: ``RelevanceFloor.question_language``) by at
  least the calibration's context margin (``RelevanceFloor.margin``: as far over the cut-off as an
  off-topic message's typical best passage lies under it), and
* the merged query's best document is not among the documents the message alone finds relevant
  (its passages at or over the cut-off): the context pulls to a page the message itself does not
  point to.

Otherwise the merged query stays: a message that means nothing alone ("on Sundays?", "XL?") or
whose own relevant pages include the earlier question's page ("In the UK?" finds the returns page
among others) continues the conversation. Without a calibrated cut-off (no floor, an override)
there is no evidence and the merged query stays, as before.

Cost: one more query embedding and search for such a message only (the batch shares the model
call); other questions take the old path. With cross-lingual retrieval (an English-only model and
a translator), the message alone is searched untranslated (no second translation call), so a
non-English one rarely passes the gate and keeps the merged reading. ``python -m
bench.topic_change`` measures it (docs/conversations.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from knowledge.schema import SearchHit
from knowledge.search import Query
from service.conversations.history import RetrievalQuery
from service.llm.billing import Bill
from service.retrieval import crosslingual
from service.retrieval.relevance import RelevanceFloor
from service.retrieval.retriever import BatchingRetriever, Retrieved
from service.retrieval.translate import QueryTranslator

if TYPE_CHECKING:
    from knowledge.language import Detection


@dataclass(frozen=True)
class Reading:
    """The retrieval the answer uses: its hits and vector, the text retrieved with (what the gate
    reads), and whether the message alone won (``new_topic``)."""

    retrieved: Retrieved
    asked: str
    new_topic: bool = False


def is_new_topic(
    floor: RelevanceFloor, merged: list[SearchHit], alone: list[SearchHit], alone_in: str | None
) -> bool:
    """Whether the message alone (its hits ``alone``, read by the gate as ``alone_in``) is a new
    subject against the merged query's hits (``merged``): the rule of the module docstring."""
    if floor.value is None or floor.source != "calibrated" or not alone:
        return False
    leads = [floor.lead(hit, alone_in) for hit in alone]
    if max(leads) < floor.margin(alone_in):
        return False  # not confidently relevant on its own: no evidence against the context
    relevant = {hit.payload.doc_id for hit, lead in zip(alone, leads, strict=True) if lead >= 0.0}
    return not merged or merged[0].payload.doc_id not in relevant


def choose(
    floor: RelevanceFloor,
    query: RetrievalQuery,
    merged: Retrieved,
    alone: Retrieved | None,
    *,
    language: str | None,
    detection: Detection | None = None,
) -> Reading:
    """The reading to answer from, given both searches (``alone`` None: only the merged one ran)."""
    if query.standalone is None or alone is None:
        return Reading(merged, query.text)
    alone_in = floor.question_language(language, detection, query.standalone)
    if is_new_topic(floor, merged.hits, alone.hits, alone_in):
        return Reading(alone, query.standalone, new_topic=True)
    return Reading(merged, query.text)


async def search(
    retriever: BatchingRetriever,
    translator: QueryTranslator | None,
    query: Query,
    rewrite: RetrievalQuery,
    *,
    target: str,
    tenant: str,
    floor: RelevanceFloor,
    detection: Detection | None = None,
    bill: Bill | None = None,
) -> Reading:
    """Retrieve ``query`` (its text: ``rewrite.text``) as ``crosslingual.search`` does and, when
    ``rewrite`` has a standalone reading, the message alone as well; then ``choose``."""
    if rewrite.standalone is None:
        merged = await crosslingual.search(retriever, translator, query, target, tenant, bill=bill)
        return Reading(merged, rewrite.text)
    single = replace(query, text=rewrite.standalone)
    if translator is None or query.language == target:
        merged, alone = await retriever.search_many([query, single], tenant)
    else:  # the merged query with its translation; the message alone untranslated
        merged, alone = await asyncio.gather(
            crosslingual.search(retriever, translator, query, target, tenant, bill=bill),
            retriever.search(single, tenant),
        )
    return choose(floor, rewrite, merged, alone, language=query.language, detection=detection)
