"""What the ingest summary tells a person: documents the input no longer holds (kept without
``--prune``), a FAQ row by its question rather than its hash alone, and counts in the singular when
there is one. The real pipeline on the real embedded store and packaged models."""

from __future__ import annotations

import csv
import json

from tests.corpus import FAQ_ROWS
from tests.unit.test_ingest_pipeline import Env

KEPT = "(kept; `--prune` deletes them)"


def faq_rows(env: Env) -> dict[str, str]:
    """The knowledge base's FAQ rows: id → question."""
    coll = env.store.active()
    assert coll is not None
    return {d: s.title for d, s in coll.document_states().items() if d.startswith("faq.csv#")}


def test_a_file_deleted_from_the_folder_is_named_and_kept_until_prune(env: Env) -> None:
    env.pipeline().run([env.docs])
    (env.docs / "shipping.md").unlink()
    kept = env.pipeline().run([env.docs])
    summary = kept.summary()
    assert kept.not_in_input == ["shipping.md"] and kept.deleted == []
    assert f"1 document in the knowledge base is no longer in the input {KEPT}:" in summary, summary
    assert "\n           shipping.md" in summary and "knowledge base unchanged" in summary
    assert json.loads(kept.to_json())["counts"]["not_in_input"] == 1
    pruned = env.pipeline().run([env.docs], prune=True)
    assert pruned.deleted == ["shipping.md"] and pruned.not_in_input == []
    assert "no longer in the input" not in pruned.summary()


def test_a_faq_row_removed_from_its_file_is_named_by_its_question(env: Env) -> None:
    env.pipeline().run([env.docs])
    rows = faq_rows(env)
    with open(env.docs / "faq.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question", "answer", "tags"])
        writer.writerows(FAQ_ROWS[1:])
    report = env.pipeline().run([env.docs])
    (gone,) = [d for d, q in rows.items() if q == FAQ_ROWS[0][0]]
    assert report.not_in_input == [gone]
    assert f'{gone} "How long does a refund take?"' in report.summary(), report.summary()


def test_a_single_file_or_a_sub_folder_given_on_purpose_names_nothing(env: Env) -> None:
    env.pipeline().run([env.docs])
    alone = env.pipeline().run([env.docs / "kettle.txt"])  # the rest is still on disk next to it
    assert alone.unchanged == ["kettle.txt"] and alone.not_in_input == []
    sub = env.pipeline().run([env.docs / "es"])  # ids relative to es/: none the knowledge base has
    assert sub.added == ["devoluciones.md"] and sub.not_in_input == []
    for report in (alone, sub):
        assert "no longer in the input" not in report.summary()


def test_faq_rows_are_listed_with_their_question_and_the_json_keeps_ids(env: Env) -> None:
    report = env.pipeline().run([env.docs])
    rows = faq_rows(env)
    summary = report.summary()
    for doc_id, question in rows.items():
        assert f"  added    {doc_id} {json.dumps(question, ensure_ascii=False)}" in summary, summary
    data = json.loads(report.to_json())
    assert sorted(d for d in data["added"] if "#" in d) == sorted(rows)  # ids, not questions
    assert data["questions"] == rows


def test_one_chunk_is_one_chunk(env: Env) -> None:
    first = env.pipeline().run([env.docs])
    assert first.chunks_written > 1 and f"  {first.chunks_written} chunks written," in first.summary()
    (env.docs / "kettle.txt").write_text("Kettle safety notice\n\nDescale it monthly.", encoding="utf-8")
    one = env.pipeline().run([env.docs])
    assert one.updated == ["kettle.txt"] and one.chunks_written == 1
    assert "  1 chunk written," in one.summary(), one.summary()
