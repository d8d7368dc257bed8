"""``faqstream eval retrieval`` scores the passages the service is given, not distinct documents:
a long page whose sections fill the first k passages pushes the page that answers out of them in
the service, and so in the figure; the bench's document ranking (``ranking="documents"``) still
finds that page among the first k documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from knowledge.doc_ids import matches
from knowledge.evaluation import LabelledQuestion, evaluate, evaluate_file, format_table
from knowledge.search import KnowledgeBase
from tests.conftest import make_settings

QUESTION = "How do I unlock the scooter with the app?"
# One long page: a section per city, each about unlocking the scooter with the app.
CITIES = ["Milan", "Rome", "Turin", "Naples", "Bologna", "Florence", "Genoa"]
LONG_PAGE = "# Unlocking scooters in every city\n\n" + "\n\n".join(
    f"## {city}\n\nIn {city} you unlock the scooter with the app: open the app, scan the QR code on "
    f"the handlebar of the scooter and the scooter unlocks. Parking zones in {city} are shown on the map."
    for city in CITIES
)
SHORT_PAGE = "# Help\n\nIf the QR code cannot be read, type the scooter number shown under it."


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    tmp = tmp_path_factory.mktemp("passages")
    docs = tmp / "docs"
    docs.mkdir()
    (docs / "cities.md").write_text(LONG_PAGE, encoding="utf-8")
    (docs / "help.md").write_text(SHORT_PAGE, encoding="utf-8")
    settings = make_settings(tmp, tokens=64, overlap=8, min_tokens=8)
    base = KnowledgeBase.open(settings)
    try:
        IngestPipeline(base.store, base.embedder, base.sparse, base.require_languages(), settings).run([docs])
        yield base
    finally:
        base.store.close()


def test_hit_at_k_counts_the_passages_the_service_is_given(kb: KnowledgeBase) -> None:
    k = 3
    served = kb.search(QUESTION, limit=k, language="en")  # what the service's retrieval returns
    assert [h.payload.doc_id for h in served] == ["cities.md"] * k  # the long page fills them
    labelled = [LabelledQuestion(QUESTION, frozenset({"help.md"}), "en")]

    passages = evaluate(kb, labelled, ranking="passages", k=k)
    documents = evaluate(kb, labelled, ranking="documents", k=k)

    assert passages.hit_at_k == 0.0  # as in the service: help.md is not among its 3 passages
    assert documents.hit_at_k == 1.0  # the second distinct document, however deep its passage
    deeper = [h.payload.doc_id for h in kb.search(QUESTION, limit=10, language="en")]
    assert passages.mrr == pytest.approx(1 / (deeper.index("help.md") + 1))
    assert documents.mrr == 0.5


def test_the_file_figures_are_the_services_top_k(kb: KnowledgeBase, tmp_path: Path) -> None:
    labelled = [
        (QUESTION, "cities.md"),
        (QUESTION, "help.md"),
        ("What if the QR code cannot be read?", "help.md"),
    ]
    path = tmp_path / "q.jsonl"
    path.write_text(
        "".join(json.dumps({"question": q, "doc_id": d, "language": "en"}) + "\n" for q, d in labelled),
        encoding="utf-8",
    )
    for k in (1, 3, 5):
        [result] = evaluate_file(kb, path, modes=["hybrid"], k=k, depth=10)
        served = [  # an expected document among the passages the service's search gives
            any(matches(h.payload.doc_id, [doc]) for h in kb.search(question, limit=k, language="en"))
            for question, doc in labelled
        ]
        assert result.ranking == "passages" and result.k == k
        assert result.hit_at_k == pytest.approx(sum(served) / len(labelled)), k
        assert result.to_dict()[f"hit_at_{k}"] == result.hit_at_k
    table = format_table([result])
    assert table.splitlines()[0].split() == ["set", "mode", "n", "hit@1", "hit@5", "MRR@10"]
    assert "among the first 5 passages" in table and "SERVICE_TOP_K" in table
