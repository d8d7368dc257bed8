"""Where a quote starts when the question's terms cannot say: the passage's window the
embedding model finds closest to the question.

``extractive.lexical_start`` starts a quote at the sentence sharing the most lexical terms with
the question. A question in another language than the passage shares none (a trial: a Polish
question over an English price page; the quote ran from the top for ``EXCERPT_CHARS`` and stopped
at the heading "**Prices**", before "€8 per 10 × 10 cm"), or only names and numbers ("Basecamp",
"2"), which started Basecamp quotes at a list of help links; a paraphrase may share none either.
For those passages only (``Quoted.start`` None: too long to quote whole, and another language or
no shared term), each candidate sentence's ``window`` (it and what follows, ``SENTENCE_CHARS``
characters: what the quote would open with) is embedded as a passage (the model's document
prompt: "passage: " for multilingual-e5) and compared with the question's vector that retrieval
already computed (``Retrieved.vector``, the query prompt). The quote starts at the closest window
when it beats the passage's opening by ``TOP_MARGIN``, else at the top as before. Sub-headings
are not candidates (the line before the chosen sentence is kept when short, so its heading comes
with it).

CPU: the windows are embedded on the retriever's thread (``BatchingRetriever.embed_passages``),
never on the event loop, at most ``MAX_SENTENCES`` per answer (``candidates``: each section's
first sentence before any section's second, taken in turn from each passage, each from its top; a
trial's PDF page of three sections never had its third, "Deleting your account", embedded for
"删除账号"), and windows seen before come from an LRU. Only extractive replies do this.
Measured (``python -m bench.quote_starts``): docs/service.md "An answer without a model".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import numpy as np
import numpy.typing as npt

from service.answers.extractive import Quoted, heading

MAX_SENTENCES = 16  # embedded per answer at most
SENTENCE_CHARS = 160  # of each window: what the quote would open with
# How much closer than the passage's opening a later window must be to move the quote there
# (chosen on the Basecamp policies: 0 → 0.01 → 0.02 → 0.04 held the key sentence in 51.2 %,
# 52.8 %, 52.5 %, 47.5 % of the non-English quotes; docs/service.md).
TOP_MARGIN = 0.01

Matrix = npt.NDArray[np.float32]
EmbedPassages = Callable[[list[str]], Awaitable[Matrix]]


def needing(passages: Sequence[Quoted]) -> list[Quoted]:
    """The passages whose start the model chooses: too long to quote whole, no term shared."""
    return [p for p in passages if p.start is None and not p.whole]


def openings(passage: Quoted) -> list[int]:
    """The units that open a section of ``passage``: its first sentence and each one right after
    a sub-heading."""
    units = passage.units
    return [
        i
        for i, (unit, _) in enumerate(units)
        if heading(unit) is None and (i == 0 or heading(units[i - 1][0]) is not None)
    ]


def candidates(passages: Sequence[Quoted], limit: int = MAX_SENTENCES) -> list[tuple[int, int]]:
    """(``[n]``, unit index) of the sentences to embed, at most ``limit``: first each passage's
    section openings (``openings``), then its other non-heading units, each from its top and
    taken in turn from each passage. A passage's first candidate is its top."""
    first = [[(p.n, i) for i in openings(p)] for p in passages]
    rest = [
        [(p.n, i) for i, (u, _) in enumerate(p.units) if heading(u) is None and (p.n, i) not in q]
        for p, q in zip(passages, first, strict=True)
    ]
    chosen: list[tuple[int, int]] = []
    for queues in (first, rest):
        depth = 0
        while len(chosen) < limit and any(depth < len(q) for q in queues):
            for queue in queues:
                if depth < len(queue) and len(chosen) < limit:
                    chosen.append(queue[depth])
            depth += 1
    return chosen


def window(units: Sequence[tuple[str, bool]], start: int, chars: int = SENTENCE_CHARS) -> str:
    """What a quote starting at ``start`` opens with: that sentence and the ones after it, the
    first ``chars`` characters (a sentence alone often says too little: "That's it.")."""
    text = ""
    for unit, _ in units[start:]:
        if len(text) >= chars:
            break
        text = f"{text} {unit}" if text else unit
    return text[:chars]


async def semantic_starts(
    passages: Sequence[Quoted],
    vector: npt.NDArray[np.float32] | None,
    embed: EmbedPassages,
    limit: int = MAX_SENTENCES,
) -> dict[int, int]:
    """``[n]`` → the unit the quote of passage ``n`` starts at, for the passages that share no
    term with the question: the candidate whose ``window`` is closest (cosine) to ``vector`` (the
    question's, as retrieval embedded it), when it beats the passage's opening by ``TOP_MARGIN``;
    else the opening. Empty without a vector or such passages."""
    if vector is None:
        return {}
    chosen = candidates(needing(passages), limit)
    if not chosen:
        return {}
    units = {p.n: p.units for p in passages}
    matrix = np.asarray(await embed([window(units[n], i) for n, i in chosen]), dtype=np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    scores = (matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)).tolist()
    opening: dict[int, tuple[float, int]] = {}
    best: dict[int, tuple[float, int]] = {}
    for (n, i), score in zip(chosen, scores, strict=True):
        opening.setdefault(n, (score, i))
        if n not in best or score > best[n][0]:
            best[n] = (score, i)
    return {n: i if score > opening[n][0] + TOP_MARGIN else opening[n][1] for n, (score, i) in best.items()}
