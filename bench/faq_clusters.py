"""Which clustering and cosine threshold group support tickets that ask the same thing
(``faqstream faq draft``)? Two methods: ``complete`` — complete-linkage agglomerative clustering,
what the command runs (``knowledge.clustering.cluster``) — and ``community`` — sentence-transformers'
``community_detection`` (every member close to a centre), measured first and dropped.

Two sets, both embedded as the command embeds tickets (``knowledge.clustering.embed_texts``: query
vectors, one per forward pass; redaction placeholders left out, ``faqstream.faq_draft.meaning``):

* **tickets** — ``tests/data/tickets.jsonl``: 40 tickets in four languages, five questions asked
  three to six times (ids T-1xxx … T-5xxx) and twelve one-offs (T-6xxx). A threshold is *clean*
  when no cluster mixes two questions (or takes a one-off); ``grouped`` counts the paraphrases that
  landed in a cluster.
* **bitext** — the Bitext customer-support requests (``faq_queries.jsonl``, English, 27 intents),
  ``--per-intent`` requests of each (first ones in file order). ``purity``: share of clustered
  requests whose cluster's majority intent is their own (a mixed cluster would become one entry
  for two questions); ``coverage``: share of requests in some cluster; ``clusters_per_intent``:
  how often an intent is split (Bitext intents are broad, so some splitting is expected).

    python -m bench.faq_clusters            # writes bench/results/faq_clusters.json
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

import numpy as np

from bench.common import EVAL, MODEL_CACHE, REPO, read_jsonl, write_result
from faqstream.faq_answered import meaning
from knowledge.clustering import Cluster, cluster, embed_texts, normalised_similarity
from knowledge.cohort import cohort_for
from knowledge.embedder import load_embedder
from knowledge.settings import DEFAULT_MODEL, EmbeddingSettings
from knowledge.tickets import read_tickets
from service.privacy.redaction import Redaction

THRESHOLDS = (0.85, 0.855, 0.86, 0.865, 0.87, 0.875, 0.88, 0.885, 0.89, 0.895, 0.9)
# ``normalised``: standard deviations over unrelated questions (knowledge.clustering.normalised_similarity)
Z_THRESHOLDS = (2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 3.75, 4.0, 4.5, 5.0)
TICKETS = REPO / "tests" / "data" / "tickets.jsonl"


def community(vectors: Any, languages: Any, threshold: float, min_size: int, embedder: Any) -> list[Cluster]:
    from sentence_transformers.util import community_detection

    found = community_detection(vectors, threshold=threshold, min_community_size=min_size)
    return [Cluster(tuple(members), 0.0) for members in found]


def complete(vectors: Any, languages: Any, threshold: float, min_size: int, embedder: Any) -> list[Cluster]:
    return cluster(vectors, threshold, min_size)


def normalised(vectors: Any, languages: Any, threshold: float, min_size: int, embedder: Any) -> list[Cluster]:
    similarity = normalised_similarity(vectors, languages, cohort_for(embedder))
    return cluster(vectors, threshold, min_size, similarity)


METHODS = {"complete": complete, "community": community, "normalised": normalised}


def thresholds(method: str) -> tuple[float, ...]:
    return Z_THRESHOLDS if method == "normalised" else THRESHOLDS


def tickets_figures(embedder: Any, min_size: int, method: str) -> list[dict[str, Any]]:
    tickets = read_tickets(TICKETS, Redaction().text)
    vectors = embed_texts(embedder, [meaning(t) for t in tickets])
    languages = [t.language for t in tickets]
    question = [t.id[:3] for t in tickets]
    rows = []
    for threshold in thresholds(method):
        found = METHODS[method](vectors, languages, threshold, min_size, embedder)
        groups = [{question[i] for i in c.members} for c in found]
        mixed = sum(1 for g in groups if len(g) > 1 or "T-6" in g)
        grouped = sum(1 for c in found for i in c.members if question[i] != "T-6")
        rows.append(
            {
                "threshold": threshold,
                "clusters": len(found),
                "mixed": mixed,
                "clean": mixed == 0,
                "grouped": grouped,
                "paraphrases": sum(1 for q in question if q != "T-6"),
            }
        )
    return rows


def bitext_figures(embedder: Any, per_intent: int, min_size: int, method: str) -> list[dict[str, Any]]:
    seen: Counter[str] = Counter()
    rows = []
    for row in read_jsonl(EVAL / "faq_queries.jsonl"):
        if seen[row["intent"]] < per_intent:
            seen[row["intent"]] += 1
            rows.append(row)
    vectors = embed_texts(embedder, [r["query"] for r in rows])
    intents = [r["intent"] for r in rows]
    languages = ["en"] * len(rows)
    out = []
    for threshold in thresholds(method):
        found = METHODS[method](vectors, languages, threshold, min_size, embedder)
        clustered = sum(len(c.members) for c in found)
        pure = 0
        per_intent_clusters: Counter[str] = Counter()
        for c in found:
            majority, count = Counter(intents[i] for i in c.members).most_common(1)[0]
            pure += count
            per_intent_clusters[majority] += 1
        out.append(
            {
                "threshold": threshold,
                "clusters": len(found),
                "purity": round(pure / clustered, 4) if clustered else None,
                "coverage": round(clustered / len(rows), 4),
                "clusters_per_intent": round(float(np.mean(list(per_intent_clusters.values()))), 2)
                if per_intent_clusters
                else None,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--per-intent", type=int, default=40)
    parser.add_argument("--min-size", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated (default: all)")
    args = parser.parse_args()
    embedder = load_embedder(EmbeddingSettings(model=args.model, cache_dir=MODEL_CACHE, english_model="none"))
    figures: dict[str, Any] = {"model": args.model, "min_size": args.min_size}
    bitext = (EVAL / "faq_queries.jsonl").is_file()
    for method in args.methods.split(","):
        figures[method] = {"tickets": tickets_figures(embedder, args.min_size, method)}
        if bitext:
            figures[method]["bitext"] = bitext_figures(embedder, args.per_intent, args.min_size, method)
        for kind, rows in figures[method].items():
            for row in rows:
                print(f"{method:9} {kind:7}", row)
    figures["bitext_per_intent"] = args.per_intent
    write_result("faq_clusters", figures)


if __name__ == "__main__":
    main()
