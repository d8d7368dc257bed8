"""A short message in a conversation: a follow-up, or a new subject? Decided per message by
retrieving both readings.

``service.conversations.follow_ups.retrieval_query`` puts the earlier question(s) in front of a
follow-up, and a message of at most three words is a follow-up by its length alone. That is right
for "In the UK?" after "How long do I have to return an item?", and wrong for "garantia?" after
"How long does delivery to Porto take?": the merged query finds the delivery page and the customer
gets the delivery answer. Words cannot tell the two apart ("In the UK?" and "opening hours" are
both a bare noun phrase); the documents can.

**The rule.** A follow-up that opens with a continuation ("and…", "what about", "¿y…", "und…",
"还有…") or points back ("it", "that one", "eso", "它") is searched merged, as before. One that is
a follow-up only by its length (``follow_ups.is_short_only``) is searched twice, merged and alone, in
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

**The other way round: a brief message that is no follow-up by its words.** "Gibt es eine
Kostengrenze?" after a roaming question, "パスワードは付けられますか？" after sharing an album: no
continuation, nothing that points back, more than three words — searched alone, such a message
finds whatever page mentions a cost limit or a password, not the conversation's. When it has at
most ``follow_ups.BRIEF_WORDS`` words (CJK: ``BRIEF_CJK_CHARS`` characters) and the previous answer
cited a document (``follow_ups.conversation_topic``: its first citation, the conversation's topic),
it is searched merged as well, and alone within the topic document (a search filtered to that
``doc_id``: the same text, so no other embedding), in the same batch. The merged reading wins when

* the merged query's best document is the conversation's topic (the context leads back to the page
  the customer was just given, not to a third one), and
* the message alone finds something relevant in that page: its best passage there is over the
  cut-off, and no worse than its best passage anywhere by more than the context margin (a message
  that points to a page of its own much more clearly — "How do I report a security
  vulnerability?" after an uptime question — keeps its reading).

The second condition is what keeps a new question the documents do not cover ("Do you offer
student discounts?" after questions about cancelling) from being dragged to the previous page:
merged with the earlier question it finds that page confidently — the earlier question's words do
— but alone it finds nothing there. Looser rules (the merged reading whenever the message alone is
not confidently relevant, or whenever the merged one is) dragged most such questions to the
previous page in ``python -m bench.topic_change`` (docs/benchmarks.md).

Cost: one more query embedding and search for a short message (the batch shares the model call);
for a brief one in a conversation whose previous answer cited something, one more embedding and
two more searches (the filtered search reuses the message's vector from the vector cache); other
questions take the old path. With cross-lingual retrieval (an English-only model and a
translator), the other readings are searched untranslated (no second translation call), so a
non-English short message rarely passes the gate and keeps the merged reading, and a non-English
brief one rarely finds its topic page on its own and keeps its own reading. ``python -m
bench.topic_change`` measures it (docs/conversations.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from knowledge.schema import SearchFilters, SearchHit
from knowledge.search import Query
from service.conversations.follow_ups import RetrievalQuery
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
    reads), and which reading won when there were two (``new_topic``: the message alone over the
    merged query; ``kept_topic``: the merged query over the message alone)."""

    retrieved: Retrieved
    asked: str
    new_topic: bool = False
    kept_topic: bool = False  # a brief message that is no follow-up by its words: the merged reading won


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


def keeps_topic(
    floor: RelevanceFloor,
    alone: list[SearchHit],
    merged: list[SearchHit],
    in_topic: list[SearchHit],
    *,
    topic: str,
    alone_in: str | None,
) -> bool:
    """Whether a brief message that is no follow-up by its words continues the conversation's
    ``topic`` (the document the previous answer cited first), given the hits of the message alone
    (``alone``), merged (``merged``) and alone within the topic document (``in_topic``), the
    message read by the gate as ``alone_in``: the rule of the module docstring."""
    if floor.value is None or floor.source != "calibrated" or not merged or not in_topic:
        return False
    if merged[0].payload.doc_id != topic:
        return False  # the context leads elsewhere than the conversation's page
    in_topic_lead = max(floor.lead(hit, alone_in) for hit in in_topic)
    if in_topic_lead < 0.0:
        return False  # the topic's page says nothing the message asks about
    best = max((floor.lead(hit, alone_in) for hit in alone), default=in_topic_lead)
    return in_topic_lead >= best - floor.margin(alone_in)


def choose(
    floor: RelevanceFloor,
    query: RetrievalQuery,
    merged: Retrieved,
    alone: Retrieved | None,
    *,
    language: str | None,
    detection: Detection | None = None,
    in_topic: Retrieved | None = None,
) -> Reading:
    """The reading to answer from, given both searches (``alone`` None: only the merged one ran).

    ``merged`` is the search of ``query.text``; ``alone`` the other reading's (``query.standalone``
    or ``query.merged``): for a brief message that is no follow-up, ``query.text`` is the message
    alone, the other reading the merged one, and ``in_topic`` the message alone searched within
    the conversation's topic document."""
    if query.merged is not None and query.topic is not None and alone is not None:
        text_in = floor.question_language(language, detection, query.text)
        topic_hits = in_topic.hits if in_topic is not None else []
        if keeps_topic(floor, merged.hits, alone.hits, topic_hits, topic=query.topic, alone_in=text_in):
            return Reading(alone, query.merged, kept_topic=True)
        return Reading(merged, query.text)
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
    ``rewrite`` has another reading (standalone or merged), that one as well; then ``choose``."""
    other = rewrite.standalone if rewrite.standalone is not None else rewrite.merged
    if other is None:
        merged = await crosslingual.search(retriever, translator, query, target, tenant, bill=bill)
        return Reading(merged, rewrite.text)
    single = replace(query, text=other)
    extra = [single]
    if rewrite.merged is not None and rewrite.topic is not None:  # the message alone, in the topic
        extra.append(replace(query, filters=within(query.filters, rewrite.topic)))
    if translator is None or query.language == target:
        first, *others = await retriever.search_many([query, *extra], tenant)
    else:  # ``query`` with its translation; the other readings untranslated
        first, others = await asyncio.gather(
            crosslingual.search(retriever, translator, query, target, tenant, bill=bill),
            retriever.search_many(extra, tenant),
        )
    return choose(
        floor,
        rewrite,
        first,
        others[0],
        language=query.language,
        detection=detection,
        in_topic=others[1] if len(others) > 1 else None,
    )


def within(filters: SearchFilters | None, doc_id: str) -> SearchFilters:
    """``filters`` narrowed to the document ``doc_id``."""
    if filters is None:
        return SearchFilters(doc_id=[doc_id])
    return filters.model_copy(update={"doc_id": [doc_id]})
