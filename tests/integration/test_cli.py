"""The `faqstream` command as a user runs it: real subprocesses, real store, real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.store.edge import EdgeStore
from service.core.types import SCOPES
from tests.corpus import write_broken_files, write_corpus

pytestmark = pytest.mark.slow


def run(env: dict[str, str], *args: str, module: str = "faqstream") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_help_explains_every_command(child_env: dict[str, str]) -> None:
    out = run(child_env, "--help")
    assert out.returncode == 0
    for command in ("ingest", "search", "status", "eval"):
        assert command in out.stdout
    ingest_help = run(child_env, "ingest", "--help")
    for flag in ("--prune", "--rebuild", "--dry-run", "--json", "--force"):
        assert flag in ingest_help.stdout
    assert "more than half" in ingest_help.stdout and "missing or unreadable" in ingest_help.stdout


def test_help_does_not_import_the_heavy_stack(child_env: dict[str, str]) -> None:
    code = (
        "import sys; from faqstream.cli import _parser; _parser(); "
        "print(sorted(m for m in ('torch', 'onnxruntime', 'qdrant_edge', 'lingua') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_ingest_json_report_search_status_and_rerun(tmp_path: Path, child_env: dict[str, str]) -> None:
    docs = write_corpus(tmp_path / "docs")
    first = run(child_env, "ingest", str(docs), "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["counts"]["added"] == 7 and report["counts"]["skipped"] == 0
    assert report["kb_version"] > report["previous_version"]
    cutoff = report["relevance"]["threshold"]  # fitted on this knowledge base in the same run
    normalised = report["relevance"]["cohort_threshold"]  # what the service compares (in cohort SDs)
    assert 0 < report["relevance"]["kept_answerable"] <= 1
    assert 0 < report["relevance"]["cohort_kept_answerable"] <= 1

    again = run(child_env, "ingest", str(docs))  # human summary, module entry point `python -m ingest`
    assert again.returncode == 0
    assert "0 added, 0 updated, 0 deleted, 7 unchanged, 0 skipped" in again.stdout
    assert f"relevance cut-off {normalised:.2f}" in again.stdout and f"(cosine {cutoff:.3f}" in again.stdout

    alias = run(child_env, str(docs), "--dry-run", module="ingest")
    assert alias.returncode == 0 and "DRY RUN" in alias.stdout

    found = run(child_env, "search", "NW-KTL-110", "--json", "-k", "2")
    assert found.returncode == 0
    assert json.loads(found.stdout)[0]["doc_id"] == "kettle.txt"
    # Each passage's lead over the cut-off the service applies, and what the service would do.
    answered = run(child_env, "search", "How long do I have to return an item?", "-k", "2")
    assert "relevance +" in answered.stdout and "sd: over the cut-off" in answered.stdout
    assert "question language en: " in answered.stdout and "hands this question" not in answered.stdout
    # The section path leaves out the title the line already shows (not "Returns policy — returns.md
    # › Returns policy › Return window").
    assert "Returns policy — returns.md › Return window" in answered.stdout, answered.stdout
    # By default the passages the service judges (SERVICE_TOP_K: 5); with fewer, those past -k that
    # it answers from are shown too, after a line that says so, and in --json (a trial's "0 of 3
    # passages over the cut-off — the service answers it" did not say from which)
    refund = "How long does a refund take?"
    judged = json.loads(run(child_env, "search", refund, "--json").stdout)
    assert [h["rank"] for h in judged] == [1, 2, 3, 4, 5] and not any(h["past_limit"] for h in judged)
    past = [h for h in judged[1:] if h["relevance"] >= 0]
    assert past, judged  # the FAQ row first, and pages that also answer it
    one = json.loads(run(child_env, "search", refund, "-k", "1", "--json").stdout)
    assert [(h["rank"], h["past_limit"]) for h in one] == [(1, False)] + [(h["rank"], True) for h in past]
    text = run(child_env, "search", refund, "-k", "1").stdout
    shown, after = text.split(
        "passages past -k 1 the service answers from (over the cut-off among the first 5, SERVICE_TOP_K):\n"
    )
    assert shown.startswith("1. [en] How long does a refund take?"), text
    assert [line.split(".")[0] for line in after.splitlines() if line[:1].isdigit()] == [
        str(h["rank"]) for h in past
    ]
    assert f"1 of 1 passages over the cut-off, {len(past)} more among the first 5 (SERVICE_TOP_K)" in after
    assert after.rstrip().endswith("— the service answers it"), text
    off_topic = run(child_env, "search", "Who won the football world cup in 2022?", "-k", "2", "--json")
    assert all(hit["relevance"] < 0 for hit in json.loads(off_topic.stdout)), off_topic.stdout
    off_topic = run(child_env, "search", "Who won the football world cup in 2022?", "-k", "2")
    assert "0 of 2 passages over the cut-off — the service hands this question" in off_topic.stdout

    status = run(child_env, "status")
    assert f"version:    {report['kb_version']}" in status.stdout and "documents:  7" in status.stdout
    assert f"relevance:  cut-off {normalised:.2f}" in status.stdout
    assert f"a cosine cut-off of {cutoff:.3f}" in status.stdout


def test_ingest_says_which_configured_languages_ship_without_probes_or_texts(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    """A trial's operator added Turkish and Arabic to INGEST_LANGUAGES and nothing said that the
    product has no calibration questions and no texts for them."""
    docs = write_corpus(tmp_path / "docs")
    env = {**child_env, "INGEST_LANGUAGES": '["pt","en","es","tr","ar"]'}
    out = run(env, "ingest", str(docs), "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "tr, ar: no built-in calibration questions" in out.stdout
    assert "tr, ar: no built-in texts" in out.stdout
    default = run(child_env, "ingest", str(docs), "--dry-run")
    assert "no built-in" not in default.stdout


def test_exit_code_one_when_files_were_skipped(tmp_path: Path, child_env: dict[str, str]) -> None:
    docs = write_corpus(tmp_path / "docs")
    write_broken_files(docs / "broken")
    out = run({**child_env, "INGEST_MAX_FILE_MB": "1"}, "ingest", str(docs))
    assert out.returncode == 1
    assert "6 skipped" in out.stdout and "corrupt.pdf" in out.stdout and "binary file" in out.stdout
    assert "7 added" in out.stdout


def _kb(env: dict[str, str]) -> tuple[set[str], int]:
    """The documents in the knowledge base and its version, read from the store on disk."""
    with EdgeStore(Path(env["QDRANT_PATH"])) as store:
        active = store.active()
        return (set(active.document_states()) if active else set()), store.read_meta().version


def test_prune_never_wipes_the_knowledge_base_by_mistake(tmp_path: Path, child_env: dict[str, str]) -> None:
    docs = write_corpus(tmp_path / "docs")
    assert run(child_env, "ingest", str(docs)).returncode == 0
    before = _kb(child_env)
    assert len(before[0]) == 7

    typo = tmp_path / "dcos"
    missing = run(child_env, "ingest", str(typo), "--prune")
    assert missing.returncode == 2 and missing.stdout == ""
    assert f"{typo}: not found" in missing.stderr and "without --prune" in missing.stderr
    assert "Traceback" not in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run(child_env, "ingest", str(empty), "--prune", "--json")
    assert nothing.returncode == 2 and nothing.stdout == ""
    assert "no file could be read" in nothing.stderr and "all 7 documents" in nothing.stderr
    assert _kb(child_env) == before

    one = str(docs / "kettle.txt")
    dry = run(child_env, "ingest", one, "--prune", "--dry-run")
    assert dry.returncode == 2, dry.stderr
    assert "DRY RUN" in dry.stdout and "6 deleted" in dry.stdout and "REFUSED" in dry.stdout
    refused = run(child_env, "ingest", one, "--prune")
    assert refused.returncode == 2 and refused.stdout == ""
    assert "would delete the documents of 4 file(s) that are still in" in refused.stderr
    assert "--force" in refused.stderr
    assert _kb(child_env) == before

    forced = run(child_env, "ingest", one, "--prune", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["counts"]["deleted"] == 6
    documents, version = _kb(child_env)
    assert documents == {"kettle.txt"} and version > before[1]


def test_locked_store_fails_fast_with_instructions(tmp_path: Path, child_env: dict[str, str]) -> None:
    docs = write_corpus(tmp_path / "docs")
    with EdgeStore(Path(child_env["QDRANT_PATH"])):
        out = run(child_env, "ingest", str(docs))
    assert out.returncode == 3
    assert "in use by pid" in out.stderr and "QDRANT_URL" in out.stderr
    assert "Traceback" not in out.stderr


def test_invalid_setting_is_reported_not_a_traceback(tmp_path: Path, child_env: dict[str, str]) -> None:
    out = run({**child_env, "CHUNK_TOKENS": "100", "CHUNK_OVERLAP": "90"}, "ingest", str(tmp_path))
    assert out.returncode == 3 and "CHUNK_OVERLAP" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AUTH_API_KEYS": "web=k-web-123"}, "AUTH_API_KEYS"),  # a key under 16 characters
        ({"ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_MODEL": "claude-unpriced-9"}, "claude-unpriced-9"),
    ],
)
def test_serve_refuses_a_setting_that_cannot_work_before_it_starts(
    child_env: dict[str, str], env: dict[str, str], named: str
) -> None:
    out = run({**child_env, **env}, "serve", "--port", "0")
    assert out.returncode == 3 and named in out.stderr
    assert "Traceback" not in out.stderr and "serving on" not in out.stderr


def test_eval_retrieval_on_user_labels(tmp_path: Path, child_env: dict[str, str]) -> None:
    docs = write_corpus(tmp_path / "docs")
    assert run(child_env, "ingest", str(docs)).returncode == 0
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"question": "Is my NW-KTL-110 kettle recalled?", "doc_ids": ["kettle.txt"]},
                {"question": "How many days do I have to return an item?", "doc_ids": ["returns.md"]},
                {"query": "lost parcel no tracking movement", "relevant_doc_ids": ["shipping.md"]},
            ]
        ),
        encoding="utf-8",
    )
    out = run(child_env, "eval", "retrieval", str(labels), "--json")
    assert out.returncode == 0, out.stderr
    results = {r["mode"]: r for r in json.loads(out.stdout)}
    assert set(results) == {"dense", "sparse", "hybrid"}
    assert results["hybrid"]["questions"] == 3 and results["hybrid"]["hit_at_5"] == 1.0
    assert results["hybrid"]["ranking"] == "passages" and results["hybrid"]["k"] == 5
    # hit@k follows the passages the service gives an answer (SERVICE_TOP_K)
    two = run({**child_env, "SERVICE_TOP_K": "2"}, "eval", "retrieval", str(labels), "--mode", "hybrid")
    assert two.returncode == 0, two.stderr
    assert two.stdout.splitlines()[0].split() == ["set", "mode", "n", "hit@1", "hit@2", "MRR@10"]
    assert "first 2 passages" in two.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"nope": 1}\n', encoding="utf-8")
    failed = run(child_env, "eval", "retrieval", str(bad))
    assert failed.returncode == 3 and "bad.jsonl:1" in failed.stderr


def test_keys_help_and_an_empty_then_filled_key_table(tmp_path: Path, child_env: dict[str, str]) -> None:
    env = {**child_env, "DATABASE_SQLITE_PATH": str(tmp_path / "var" / "db.sqlite")}
    env.pop("DATABASE_URL", None)
    usage = run(env, "keys", "--help")
    assert usage.returncode == 0
    for action in ("create", "list", "rotate", "revoke"):
        assert action in usage.stdout
    assert "--scope" in run(env, "keys", "create", "--help").stdout
    empty = run(env, "keys", "list")
    assert empty.returncode == 0 and "no API keys" in empty.stdout  # a fresh database: migrated
    made = run(
        env, "keys", "create", "--tenant", "acme", "--name", "shop", "--scope", "answer", "--rpm", "30"
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("fqs_") and "\n" not in key and "shown once" in made.stderr
    listed = run(env, "keys", "list")
    assert "acme" in listed.stdout and "30 rpm" in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout
    assert run(env, "keys", "create", "--tenant", "acme", "--name", "x", "--scope", "root").returncode == 2
    # Every scope the service checks can be given (a helpdesk's ``agent`` key included).
    every = [arg for scope in SCOPES for arg in ("--scope", scope)]
    made = run(env, "keys", "create", "--tenant", "acme", "--name", "all", "--json", *every)
    assert made.returncode == 0, made.stderr
    assert sorted(json.loads(made.stdout)["scopes"]) == sorted(SCOPES)


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path: Path, child_env: dict[str, str]) -> None:
    """``faqstream batch status | head``: the pipe is closed before the command writes."""
    env = {**child_env, "DATABASE_SQLITE_PATH": str(tmp_path / "faqstream.db")}
    reader, writer = os.pipe()
    os.close(reader)  # the reader has gone before the first line is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "faqstream", "batch", "status"],
            env=env,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == 141
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_ingest_names_the_documents_contacts_when_a_handoff_would_give_none(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    """Three new users' trials: handed-over customers were told "contact our support team directly"
    with no address, although the documents publish one; the ingest now says which to set."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "contact.md").write_text(
        "# Contact us\n\nWrite to hilfe@beispiel-shop.de or call +49 30 12345678, Monday to Friday "
        "from 9:00 to 17:00. We answer e-mails within one business day. In an emergency, call our "
        "free line 0800 44 33 22.\n",
        encoding="utf-8",
    )
    (docs / "returns.md").write_text(
        "# Returns\n\nYou can return any item within 30 days of delivery for a full refund. "
        "Print the prepaid label from your account and drop the parcel at any post office.\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in child_env.items() if not k.startswith("HANDOFF_")}
    out = run(env, "ingest", str(docs))
    assert out.returncode == 0, out.stderr
    assert "HANDOFF_CONTACT is unset" in out.stdout
    assert "hilfe@beispiel-shop.de" in out.stdout and "+49 30 12345678" in out.stdout
    # a number written without its country code is not given one (a trial's Swiss free-phone line
    # was suggested as +33 800 44 33 22): as written, in the text and in --json
    assert "0800 44 33 22 (no country code)" in out.stdout and "+33" not in out.stdout
    report = json.loads(run(env, "ingest", str(docs), "--json").stdout)
    assert report["reachable_at"] == ["hilfe@beispiel-shop.de", "+493012345678", "0800 44 33 22"]
    told = run({**env, "HANDOFF_CONTACT": "hilfe@beispiel-shop.de"}, "ingest", str(docs), "--force")
    assert told.returncode == 0, told.stderr
    assert "HANDOFF_CONTACT is unset" not in told.stdout
