"""Grouping texts that ask the same thing: complete-linkage agglomerative clustering (scikit-learn)
over the knowledge base's own query vectors.

Complete linkage: every two texts of a cluster are at cosine ≥ ``threshold`` — not only each text
and a centre, as in sentence-transformers' ``community_detection``, which was measured first and
dropped. With the compressed score range of multilingual-e5-small, templated requests ("can you
help me cancel…", "can you help me change…") all sit near one centre, and a centre-based community
swallows several questions: on 1,080 Bitext support requests (27 intents, ``bench/faq_clusters.py``)
its best clean threshold on the tickets fixture, 0.885, gave clusters only 49 % pure (majority
intent), complete linkage at 0.86 79 % (0.87: 82 %), with 97 % of the requests in a cluster.
Clusters smaller than ``min_size`` are dropped (their texts are left over); each text is in at most
one cluster. The pairwise matrix is n², so a run is meant for thousands of tickets, not millions.

The vectors are the embedder's query vectors, one forward pass per text
(``knowledge.search.embed_one_by_one``: an int8 model's vector must not depend on its batch, or the
same tickets would cluster differently with other tickets around them).

Threshold for multilingual-e5-small (``CLUSTER_THRESHOLDS``), measured on ``tests/data/tickets.jsonl``
(40 tickets, five questions asked three to six times in up to four languages, twelve one-offs;
redacted, placeholders left out): 0.85 joins a Spanish gift-wrap ticket with two one-offs; from
0.855 on no cluster mixes questions; from 0.86 the address-change tickets split in two (English;
French, Spanish and German) — a question drafted twice, which a reviewer merges, is cheaper than
two questions drafted as one. The default is 0.86; check a new ticket source with
``faqstream faq draft --dry-run``.
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
CLUSTER_THRESHOLDS: dict[str, float] = {PACKAGED_E5: 0.86}


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
    """Clusters of ``vectors`` (unit rows) of at least ``min_size``, largest first; the rest is left out."""
    if len(vectors) < max(min_size, 2):
        return []
    from sklearn.cluster import AgglomerativeClustering

    labels = (
        AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="complete", distance_threshold=1.0 - threshold
        )
        .fit(vectors)
        .labels_
    )
    similarity = vectors @ vectors.T
    clusters = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        n = len(rows)
        if n < min_size:
            continue
        block = similarity[np.ix_(rows, rows)]
        centrality = (block.sum(axis=1) - 1.0) / max(n - 1, 1)
        order = tuple(int(rows[i]) for i in np.argsort(-centrality, kind="stable"))
        cohesion = float((block.sum() - n) / max(n * (n - 1), 1))
        clusters.append(Cluster(order, cohesion))
    return sorted(clusters, key=lambda c: (-len(c.members), min(c.members)))
