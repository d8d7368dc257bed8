"""Grouping texts that ask the same thing: complete-linkage agglomerative clustering (scikit-learn)
over the knowledge base's own query vectors, by their similarity normalised over unrelated questions.

Complete linkage: every two texts of a cluster are at similarity ≥ ``threshold`` — not only each
text and a centre, as in sentence-transformers' ``community_detection``, which was measured first and
dropped (templated requests sit near one centre, and a centre-based community swallows several
questions: 49 % pure on Bitext at its best clean threshold). Clusters smaller than ``min_size`` are
dropped (their texts are left over); each text is in at most one cluster. The pairwise matrix is
n², so a run is meant for thousands of tickets, not millions.

**Normalised similarity** (``normalised_similarity``). multilingual-e5-small's cosines are
compressed and shifted by language: on a water utility's 20 tickets (a new user's trial) two
different questions in one language ("who pays for a broken meter", "how do I send my own meter
reading": 0.89) scored over the reading question asked in English and in Spanish (0.84–0.88), so at
cosine 0.86 the two questions shared a cluster in each language; on the test tickets the raw cosine split the
address-change question by language. Each pair is now scored as the service scores a passage
(``knowledge.cohort``, T-norm), from both sides (the symmetric S-norm of speaker verification):

    z(i, j) = ½ · [(cos(i, j) − μ_i,L(j)) / σ_i,L(j) + (cos(i, j) − μ_j,L(i)) / σ_j,L(i)]

where μ_i,L and σ_i,L are the mean and deviation of text i's cosines with the shipped unrelated
questions of language L (``knowledge.answerability_probes``; every language's for a text of unknown
language). A text close to everything (a long, generic ticket) and a pair in two languages are
both judged against what unrelated questions score with the same text in the same pair of
languages.

Threshold (``CLUSTER_THRESHOLDS``, in those standard deviations), measured with
``python -m bench.faq_clusters`` on the multilingual test tickets (``tests/data/tickets.jsonl``: 40
tickets, five questions asked three to six times in up to four languages, twelve one-offs) and 1,080
English Bitext requests (27 intents): clean on the tickets (no cluster mixes questions) from 2.25 to
5.0; 3.0 is the lowest threshold whose Bitext purity is at least the raw cosine default's (0.79 vs
0.79 at cosine 0.86), and it groups 25 of the 28 paraphrases (cosine 0.86: 23, the address question
split in two). docs/faq-drafting.md has the table; the trial's tickets were checked after, not tuned on.

The vectors are the embedder's query vectors, one forward pass per text
(``knowledge.search.embed_one_by_one``: an int8 model's vector must not depend on its batch, or the
same tickets would cluster differently with other tickets around them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.cohort import MIN_STD, Cohort
from knowledge.embedder import Embedder
from knowledge.search import embed_one_by_one
from knowledge.settings import PACKAGED_E5

# Measured per embedding model, in standard deviations (module docstring); other models need
# FAQ_DRAFT_CLUSTER_THRESHOLD.
CLUSTER_THRESHOLDS: dict[str, float] = {PACKAGED_E5: 3.0}


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


def normalised_similarity(
    vectors: npt.NDArray[np.float32], languages: Sequence[str | None], cohort: Cohort
) -> npt.NDArray[np.float64]:
    """Every pair's cosine in standard deviations over unrelated questions (symmetric S-norm,
    module docstring): for texts i and j, the mean of i's cosine with j normalised by i's cosines
    with the cohort of j's language, and the same from j's side. ``languages``: each text's
    (None: unknown, the cohort of every language)."""
    matrix = np.asarray(vectors, dtype=np.float64)
    keys = sorted({language if language in cohort.vectors else "" for language in languages})
    column = {key: n for n, key in enumerate(keys)}
    means = np.empty((len(matrix), len(keys)))
    stds = np.empty((len(matrix), len(keys)))
    for key, n in column.items():
        scores = np.asarray(cohort.members(key or None, None), dtype=np.float64) @ matrix.T
        means[:, n] = scores.mean(axis=0)
        stds[:, n] = np.maximum(scores.std(axis=0), MIN_STD)
    of = np.array([column[language if language in cohort.vectors else ""] for language in languages])
    cosine = matrix @ matrix.T
    # [i, j]: text i against the cohort of text j's language
    mean, std = means[:, of], stds[:, of]
    one_side = (cosine - mean) / std
    return np.asarray((one_side + one_side.T) / 2.0)


def cluster(
    vectors: npt.NDArray[np.float32],
    threshold: float,
    min_size: int,
    similarity: npt.NDArray[np.float64] | None = None,
) -> list[Cluster]:
    """Clusters of ``vectors`` (unit rows) of at least ``min_size``, largest first; the rest is left out.
    Two texts may share a cluster when their ``similarity`` is at least ``threshold``: by default
    their cosine; ``normalised_similarity`` for the scale of ``NORMALISED_THRESHOLDS``."""
    if len(vectors) < max(min_size, 2):
        return []
    from sklearn.cluster import AgglomerativeClustering

    cosine = vectors @ vectors.T
    if similarity is None:
        similarity = np.asarray(cosine, dtype=np.float64)
    # complete linkage over a distance that falls as the similarity rises (0 on the diagonal)
    top = float(similarity.max()) + 1.0
    distance = top - similarity
    np.fill_diagonal(distance, 0.0)
    labels = (
        AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage="complete", distance_threshold=top - threshold
        )
        .fit(distance)
        .labels_
    )
    clusters = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        n = len(rows)
        if n < min_size:
            continue
        block = cosine[np.ix_(rows, rows)]
        centrality = (block.sum(axis=1) - 1.0) / max(n - 1, 1)
        order = tuple(int(rows[i]) for i in np.argsort(-centrality, kind="stable"))
        cohesion = float((block.sum() - n) / max(n * (n - 1), 1))
        clusters.append(Cluster(order, cohesion))
    return sorted(clusters, key=lambda c: (-len(c.members), min(c.members)))
