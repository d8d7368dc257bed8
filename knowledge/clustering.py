"""Grouping texts that ask the same thing: sentence-transformers' ``community_detection`` over the
knowledge base's own query vectors.

A community is a text with at least ``min_size - 1`` others at cosine ≥ ``threshold`` (the text
included), grown greedily from the densest centre; every text is in at most one community, and
texts in none are left over. The vectors are the embedder's query vectors, one forward pass per
text (``knowledge.search.embed_one_by_one``: an int8 model's vector must not depend on its batch,
or the same tickets would cluster differently with other tickets around them).

The threshold depends on the model's score range: multilingual-e5-small puts paraphrases in
different languages at 0.82–0.95 and unrelated support questions at 0.75–0.88. Measured on
``tests/data/tickets.jsonl`` (40 tickets, five questions asked three to six times in up to four
languages, redacted, placeholders left out — ``bench/faq_clusters.py``): every
threshold from 0.88 to 0.89 gives the five groups and mixes none; 0.87 pulls a refund and a
password ticket into the discount-code group, 0.895 splits the Spanish and German address-change
tickets off. ``CLUSTER_THRESHOLDS`` takes the middle, 0.885; a tenth of a point matters with this
model, so check a new ticket source with ``faqstream faq draft --dry-run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.embedder import Embedder
from knowledge.search import embed_one_by_one
from knowledge.settings import PACKAGED_E5

# Measured per embedding model (module docstring); other models need FAQ_DRAFT_CLUSTER_THRESHOLD.
CLUSTER_THRESHOLDS: dict[str, float] = {PACKAGED_E5: 0.885}


@dataclass(frozen=True)
class Cluster:
    """Indexes into the clustered texts, the most central first (highest mean cosine to the rest)."""

    members: tuple[int, ...]
    cohesion: float  # mean pairwise cosine of the members

    def central(self, count: int) -> tuple[int, ...]:
        return self.members[:count]


def embed_texts(embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Unit query vectors of ``texts``, each independent of the others."""
    return embed_one_by_one(embedder, texts)


def cluster(vectors: npt.NDArray[np.float32], threshold: float, min_size: int) -> list[Cluster]:
    """Communities of ``vectors`` (unit rows), largest first; texts in no community are left out."""
    if len(vectors) < min_size or len(vectors) == 0:
        return []
    from sentence_transformers.util import community_detection

    found = community_detection(vectors, threshold=threshold, min_community_size=min_size)
    similarity = vectors @ vectors.T
    clusters = []
    for members in found:
        rows = np.asarray(members)
        block = similarity[np.ix_(rows, rows)]
        n = len(rows)
        centrality = (block.sum(axis=1) - 1.0) / max(n - 1, 1)
        order = tuple(int(rows[i]) for i in np.argsort(-centrality, kind="stable"))
        cohesion = float((block.sum() - n) / max(n * (n - 1), 1))
        clusters.append(Cluster(order, cohesion))
    return sorted(clusters, key=lambda c: (-len(c.members), c.members[0]))
