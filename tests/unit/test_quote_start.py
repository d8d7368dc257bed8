"""Where a quote starts when the question's terms cannot say: the packaged multilingual-e5 model
chooses (``service.answers.quote_start``), only for the passages that need it, within a cap."""

from __future__ import annotations

import asyncio

from knowledge.embedder import Embedder
from knowledge.schema import ChunkPayload, SearchHit
from service.answers.extractive import pieces, quoted_passages
from service.answers.quote_start import MAX_SENTENCES, Matrix, candidates, semantic_starts

FIRING = (  # a new user's trial: the chunk of their English firing page, as the chunker wrote it
    "You can bring pieces made elsewhere to be fired in our kilns.\n\n**What we fire**\n\n"
    "- Bisque firing (1000 °C) and glaze firing up to stoneware temperature (1260 °C).\n"
    "- Only bone-dry pieces, no thicker than 2 cm, with no glaze on the foot.\n"
    "- We do not fire porcelain from unknown clay bodies or pieces containing plaster.\n\n"
    "**Prices**\n\nFiring is charged by shelf space: €8 per 10 × 10 cm for a bisque firing and "
    "€10 per 10 × 10 cm for a glaze firing. Minimum charge €12.\n\n**Drop-off and collection**\n\n"
    "Drop pieces off at reception during opening hours. Firings take 7 to 10 days. We send an SMS "
    "when your pieces are ready. Pieces not collected within 30 days of that message are donated to "
    "the neighbourhood school."
)


def hit(n: int, text: str, title: str = "Kiln firing service", language: str = "en") -> SearchHit:
    payload = ChunkPayload(
        doc_id=f"page{n}.md", chunk_index=0, chunk_count=1, doc_hash="h", text=text, title=title,
        source=f"page{n}.md", language=language, headings=[title],
    )  # fmt: skip
    return SearchHit(id=f"c{n}", score=0.5, dense_score=0.8, payload=payload)


class Embedded:
    """The real model's passage vectors, and what it was asked to embed."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.asked: list[list[str]] = []

    async def __call__(self, texts: list[str]) -> Matrix:
        self.asked.append(texts)
        return self.embedder.embed_documents(texts)


def reply(embedder: Embedder, question: str, language: str, hits: list[SearchHit]) -> tuple[str, Embedded]:
    passages = quoted_passages(hits, question, None, language)
    embed = Embedded(embedder)
    vector = embedder.embed_queries([question])[0]
    starts = asyncio.run(semantic_starts(passages, vector, embed))
    return "".join(pieces(passages, language, starts)), embed


def test_a_question_in_another_language_is_quoted_from_the_closest_sentence(embedder: Embedder) -> None:
    text, embed = reply(
        embedder, "Ile kosztuje wypalanie moich własnych naczyń w piecu?", "pl", [hit(1, FIRING)]
    )
    assert "€8 per 10 × 10 cm" in text and "[1] Kiln firing service › Prices: … Firing is charged" in text, (
        text
    )
    assert len(embed.asked) == 1 and not any(t.startswith("**") for t in embed.asked[0])
    # Without the model (no vector: a sparse-only search) the quote starts at the top, as before.
    passages = quoted_passages([hit(1, FIRING)], "Ile kosztuje wypalanie?", None, "pl")
    plain = "".join(pieces(passages, "pl"))
    assert "You can bring pieces" in plain and "€8 per" not in plain


def test_only_passages_without_shared_terms_ask_the_model_and_never_past_the_cap(embedder: Embedder) -> None:
    long = " ".join(f"Rule {n}: members keep their shelf for a month." for n in range(40))
    hits = [hit(1, FIRING), hit(2, long, "Membership"), hit(3, "Short and whole.", "Note")]
    # English: terms decide for the firing page ("firing", "days"); the membership page shares none.
    text, embed = reply(embedder, "How many days does a firing take?", "en", hits)
    assert "Firings take 7 to 10 days" in text, text
    asked = [t for batch in embed.asked for t in batch]
    assert asked and all(t.startswith("Rule") for t in asked) and len(asked) <= MAX_SENTENCES
    # In another language every long passage needs the model: the cap is shared between them.
    text, embed = reply(embedder, "Wie lange dauert das Brennen?", "de", hits)
    asked = [t for batch in embed.asked for t in batch]
    assert len(asked) == MAX_SENTENCES and any("kiln" in t or "firing" in t.lower() for t in asked)
    assert "Firings take 7 to 10 days" in text, text


def test_candidates_take_turns_between_passages() -> None:
    passages = quoted_passages([hit(n, " ".join(f"S{n}x{i} is here." for i in range(30))) for n in (1, 2)])
    chosen = candidates(passages, 5)
    assert chosen == [(1, 0), (2, 0), (1, 1), (2, 1), (1, 2)]


def test_across_languages_shared_words_do_not_choose_the_start() -> None:
    """A Basecamp page: "Basecamp" and "2" (a link "[Basecamp 2](…)") were the terms a Spanish
    question shared with it, and its quote started at a list of help links."""
    question = "Ile kosztuje wypalanie kamionki (stoneware) w piecu?"
    lexical = quoted_passages([hit(1, FIRING)], question)  # the question's language unknown
    assert lexical[0].start is not None  # "stoneware"
    across = quoted_passages([hit(1, FIRING)], question, None, "pl")
    assert across[0].start is None  # the model chooses
    same = quoted_passages([hit(1, FIRING, language="pl")], question, None, "pl")
    assert same[0].start is not None


def test_every_section_is_a_candidate_before_any_second_sentence() -> None:
    """A trial: "删除账号" over three long English passages; 16 sentences taken in turn from each
    passage's top never reached the first one's third section, "Deleting your account"."""
    sections = "".join(
        f"**Part {k}**\n\n" + " ".join(f"P{k}s{i} is here." for i in range(5)) + "\n\n" for k in range(4)
    )
    passages = quoted_passages([hit(n, sections) for n in (1, 2, 3)])
    chosen = candidates(passages, 12)
    units = {p.n: p.units for p in passages}
    opened = {(n, units[n][i][0]) for n, i in chosen}
    assert {(n, f"P{k}s0 is here.") for n in (1, 2, 3) for k in range(4)} == opened
    assert chosen[:3] == [(1, 1), (2, 1), (3, 1)]  # each passage's top first: the opening
    # Then the other sentences, in turn.
    assert candidates(passages, 13)[12] == (1, 2)
