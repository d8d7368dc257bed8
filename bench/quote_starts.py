"""Does an extractive answer's quote hold the fact? Where a quote starts, before and after the
embedding model chooses the start of passages that share no term with the question
(``service.answers.quote_start``).

On the Basecamp policies (documents nobody on the team wrote) with the answerable questions of
``bench.byo_documents`` (bench/data/basecamp_questions.jsonl, seven languages), ingested by the
real pipeline into a temporary embedded store with the configured model; each question is searched
as the service searches it, the calibrated cut-off selects the passages and the quoted ones
(``RelevanceFloor.select``/``quoted``), and the reply is written twice:

* **before** — the quote starts at the sentence sharing the most terms with the question (in any
  language), else at the passage's top (the rule until this change);
* **after** — ``quoted_passages`` with the question's language and ``semantic_starts``, as the
  stream does: a passage in another language, or sharing no term, starts where the embedding
  model finds the question (``service.answers.quote_start``).

**The key sentence** of a quoted passage of a gold document: its sentence sharing the most terms
(at least two) with the group's note (what the answer is, in English, written from the pages
before any output was seen) — a lexical reference that neither rule reads. Counted only for
passages too long to be quoted whole (a whole one always holds it); both quotes are written as the
service writes them (``extractive.quote``: a table by the row the question names). Per language:
such passages, the share whose quote holds the key sentence before and after, how many passages
the model chose a start for, and the CPU of writing the reply per answer before and after
(``time.process_time``, all threads, the sentence LRU empty), with the model's part over the
answers that used it.

``--corpus DIR --questions JSONL`` measures other pages instead: each line ``{"qid", "lang",
"question", "expect": [substrings]}``, and a reply holds the fact when one of ``expect`` is in it
(and its first quote holds it: the ``first`` columns). ``--set`` names those of bench/data:
``lumen`` (``--corpus bench/data/lumen_pages --questions bench/data/lumen_quote_questions.jsonl``), a
new user's trial pages (a photo-storage company, English, one chunk per page) and 38 questions, 33
in Chinese, Japanese and Korean, each with its gold sentence; ``pakketpunt``, a new user's trial
pages of a Benelux parcel company (Dutch, English, French; an FAQ table, a PDF price list) and 60
questions in nl/en/fr/de/pl/tr, each with the sentence of the section that answers it
(bench/data/README.md).

The cut-off is the service's: cohort-normalised (``relevance_floor(..., embedder)``) and the
question's language as ``RelevanceFloor.question_language`` reads it.

    python -m bench.quote_starts [--set basecamp|lumen|pakketpunt] [--limit GROUPS]
        [--corpus DIR --questions JSONL] [--show]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.byo_documents import CORPUS, QUESTIONS, ingested
from bench.common import REPO, read_jsonl
from knowledge.search import Query
from knowledge.sparse import shared_encoder
from service.answers.extractive import EXCERPT_CHARS, Quoted, pieces, quote, quoted_passages
from service.answers.quote_start import MAX_SENTENCES, SENTENCE_CHARS, Matrix, semantic_starts

DATA = REPO / "bench" / "data"
SETS = {
    "lumen": (DATA / "lumen_pages", DATA / "lumen_quote_questions.jsonl"),
    "pakketpunt": (DATA / "pakketpunt", DATA / "pakketpunt_quotes_questions.jsonl"),
}


@dataclass
class Case:
    qid: str
    lang: str
    text: str
    gold: frozenset[str]
    reference: str  # Basecamp: the group's note, what the answer is (the key sentence's terms)
    expect: tuple[str, ...]  # other pages: the fact's substrings


def basecamp_cases(limit: int | None) -> list[Case]:
    rows = [r for r in read_jsonl(QUESTIONS) if r["kind"] == "answerable"]
    groups = list(dict.fromkeys(r["group"] for r in rows))[:limit]
    return [
        Case(r["qid"], r["lang"], r["question"], frozenset(r["doc_ids"]), r.get("note", ""), ())
        for r in rows
        if r["group"] in groups
    ]


def file_cases(path: Path) -> list[Case]:
    return [
        Case(r["qid"], r["lang"], r["question"], frozenset(), "", tuple(r["expect"]))
        for r in read_jsonl(path)
    ]


def key_unit(passage: Quoted, reference: str) -> str | None:
    """The passage's sentence sharing the most terms (at least two) with ``reference``."""
    encoder = shared_encoder()
    wanted = encoder.terms(reference, "en")
    overlap = [len(encoder.terms(u, "en") & wanted) for u, _ in passage.units]
    best = max(overlap)
    return passage.units[overlap.index(best)][0] if best >= 2 else None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quote_starts", description=__doc__)
    parser.add_argument("--set", choices=["basecamp", *SETS], default="basecamp", help="corpus and questions")
    parser.add_argument("--limit", type=int, help="only the first N answerable groups")
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--questions", type=Path, help="questions with an `expect` list (other pages)")
    parser.add_argument("--show", action="store_true", help="print each changed quote")
    args = parser.parse_args(argv)
    if args.set in SETS and not args.questions:
        args.corpus, args.questions = SETS[args.set]
    args.corpus = args.corpus or CORPUS
    cases = file_cases(args.questions) if args.questions else basecamp_cases(args.limit)
    with ingested(args.corpus, "faqstream-quotes-") as (kb, settings, floor):
        languages = kb.require_languages()
        detections = [languages.detect(c.text) for c in cases]
        detected = [d.language for d in detections]
        top_k = settings.service.top_k
        queries = [Query(c.text, top_k, None, lang) for c, lang in zip(cases, detected, strict=True)]
        results = kb.run(queries)
        vectors = kb.embedder.embed_queries([kb.with_language(q).text for q in queries])

    cpu: list[float] = []

    async def embed(texts: list[str]) -> Matrix:
        began = time.process_time()
        matrix = kb.embedder.embed_documents(texts)
        cpu.append(time.process_time() - began)
        return matrix

    rows: dict[str, list[tuple[bool, bool]]] = defaultdict(list)  # lang -> (before, after) per key
    chosen: dict[str, int] = defaultdict(int)
    answers: dict[str, int] = defaultdict(int)
    costs: dict[str, list[tuple[float, float, float]]] = defaultdict(list)  # before, after, model
    firsts: dict[str, list[tuple[bool, bool]]] = defaultdict(list)  # the first quote holds it
    for case, detection, hits, vector in zip(cases, detections, results, vectors, strict=True):
        lang = detection.language
        asked_in = floor.question_language(lang, detection, case.text)  # as ``service.answers.flow``
        selection = floor.select(hits, asked_in)
        if not selection.hits:
            continue
        quoted = [h.id for h in floor.quoted(selection.hits, asked_in)]
        began = time.process_time()
        old = quoted_passages(selection.hits, case.text, quoted)  # terms in any language
        texts = ["".join(pieces(old, lang))]
        cost_before = time.process_time() - began
        began = time.process_time()
        passages = quoted_passages(selection.hits, case.text, quoted, lang)
        cpu.clear()
        starts = asyncio.run(semantic_starts(passages, np.asarray(vector), embed))
        texts.append("".join(pieces(passages, lang, starts)))
        answers[case.lang] += 1
        costs[case.lang].append((cost_before, time.process_time() - began, sum(cpu)))
        chosen[case.lang] += len(starts)
        if case.expect:
            rows[case.lang].append(tuple(any(e in t for e in case.expect) for t in texts))  # type: ignore[arg-type]
            heads = [pieces(old[:1], lang), pieces(passages[:1], lang, starts)]
            firsts[case.lang].append(tuple(any(e in "".join(h) for e in case.expect) for h in heads))  # type: ignore[arg-type]
            if args.show:
                print(case.qid, "\n", texts[0], "\n---\n", texts[1])
            continue
        for previous, passage in zip(old, passages, strict=True):
            if passage.hit.payload.doc_id not in case.gold or passage.whole:
                continue
            key = key_unit(passage, case.reference)
            if key is None:
                continue
            before = quote(previous, previous.start or 0)[0]
            after = quote(passage, starts.get(passage.n, passage.start or 0))[0]
            rows[case.lang].append((key in before, key in after))
            if args.show and before != after:
                print(
                    f"{case.qid} [{passage.n}] key: {key}\n  before: {before[:200]}\n  after:  {after[:200]}"
                )
    print(f"quotes of {EXCERPT_CHARS} characters; {sum(answers.values())} answers pass the gate")
    print(
        f"{'lang':6}{'answers':>8}{'keyed':>7}{'before':>9}{'after':>8}{'model chose':>14}"
        f"{'CPU ms/answer before / after (model when used)':>50}"
    )
    langs = sorted(rows, key=lambda lang: (lang != "en", lang))
    for lang in [*langs, "all", "non-en"]:
        mine = [la for la in langs if lang in (la, "all") or (lang == "non-en" and la != "en")]
        pairs = [p for la in mine for p in rows[la]]
        spent = [c for la in mine for c in costs[la]]
        share = [sum(p[i] for p in pairs) / len(pairs) if pairs else 0.0 for i in (0, 1)]
        held = f"{sum(p[0] for p in pairs)}→{sum(p[1] for p in pairs)}"
        used = [c[2] for c in spent if c[2] > 0]
        before_ms = 1000 * statistics.fmean(c[0] for c in spent)
        after_ms = 1000 * statistics.fmean(c[1] for c in spent)
        cpu_text = f"{before_ms:.1f} / {after_ms:.1f} ({1000 * statistics.fmean(used) if used else 0:.0f})"
        led = [p for la in mine for p in firsts[la]]
        first = f"   first {sum(p[0] for p in led)}→{sum(p[1] for p in led)}" if led else ""
        print(
            f"{lang:6}{sum(answers[la] for la in mine):>8}{len(pairs):>7}{share[0]:>9.1%}{share[1]:>8.1%}"
            f"{sum(chosen[la] for la in mine):>14}{cpu_text:>42}   held {held}{first}"
        )
    print(f"sentences embedded per answer at most {MAX_SENTENCES}, {SENTENCE_CHARS} characters each")


if __name__ == "__main__":
    main()
