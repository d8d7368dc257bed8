"""The ``faqstream`` command. Heavy imports happen inside the subcommands, so ``--help`` is instant.

Exit codes: 0 success; 1 finished but some input was skipped (see the report); 2 bad usage, or an
ingest refused before any change (see ``ingest.safeguard``; a dry run exits 2 when the real run
would be); 3 could not run (configuration, store locked or unreachable, model mismatch);
130 interrupted; 141 the output's reader went away (``faqstream … | head``), said by no traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.search import KnowledgeBase
    from knowledge.settings import Settings
    from service.api.admin_kb import Passage

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faqstream",
        description="Answer customer questions from your own policy documents. "
        "Configuration comes from environment variables or ./.env (see .env.example).",
    )
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default) or ERROR")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ing = sub.add_parser(
        "ingest",
        help="add or update documents in the knowledge base",
        description="Load Markdown, text, HTML, PDF and CSV/JSONL FAQ files into the knowledge base. "
        "Unchanged documents are not re-embedded; changed ones are replaced; bad files are skipped with "
        "a reason. Exit code 1 means something was skipped. "
        "--prune and --rebuild delete what the input does not contain, so they refuse to run (exit "
        "code 2, nothing deleted or written) when a given path is missing or unreadable, when no file "
        "could be read, or when more than half of the knowledge base's documents would be deleted "
        "(that last one is allowed with --force). --dry-run shows what would be deleted and whether "
        "the run would be refused.",
    )
    ing.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    ing.add_argument(
        "--prune",
        action="store_true",
        help="delete documents that are not in this run's input (the input is the whole KB); "
        "refused if a path is missing or unreadable, or nothing could be read",
    )
    ing.add_argument(
        "--rebuild",
        action="store_true",
        help="index into a fresh collection and switch to it when complete (zero downtime); "
        "needed after changing the embedding model",
    )
    ing.add_argument(
        "--force",
        action="store_true",
        help="allow --prune or --rebuild to delete more than half of the knowledge base's documents",
    )
    ing.add_argument(
        "--dry-run",
        action="store_true",
        help="show what would change (and whether the run would be refused), write nothing",
    )
    ing.add_argument("--json", action="store_true", help="print a machine-readable report on stdout")
    ing.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    ing.add_argument(
        "--server",
        metavar="URL",
        help="run the ingest inside a running service (POST URL/admin/ingest with SERVICE_ADMIN_KEY); "
        "needed while a service holds the embedded store. Paths are read on the service's machine.",
    )

    srv = sub.add_parser(
        "serve",
        help="run the answer service (HTTP API, SSE streaming)",
        description="Serve POST /v1/answers, /healthz, /readyz, /metrics and /schema. "
        "Without ANTHROPIC_API_KEY answers are extractive (quoted passages).",
    )
    srv.add_argument("--host", help="default SERVICE_HOST (127.0.0.1)")
    srv.add_argument("--port", type=int, help="default SERVICE_PORT (8000)")
    srv.add_argument("--workers", type=int, help="default SERVICE_WORKERS (1); >1 needs QDRANT_URL")

    srch = sub.add_parser("search", help="show the passages the knowledge base finds for a question")
    srch.add_argument("query")
    srch.add_argument(
        "-k",
        "--limit",
        type=int,
        help="passages shown (default SERVICE_TOP_K, the passages the service judges); those the "
        "service answers from past it are shown too",
    )
    srch.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default="hybrid")
    srch.add_argument("--language", help="only passages in this language (ISO 639-1)")
    srch.add_argument("--json", action="store_true")
    srch.add_argument(
        "--server",
        metavar="URL",
        help="search through a running service (URL/admin/search with SERVICE_ADMIN_KEY); "
        "needed while a service holds the embedded store",
    )

    stat = sub.add_parser("status", help="knowledge-base version, documents, chunks, model and store")
    stat.add_argument(
        "--server",
        metavar="URL",
        help="read the status through a running service (URL/admin/status with SERVICE_ADMIN_KEY); "
        "needed while a service holds the embedded store",
    )

    ev = sub.add_parser("eval", help="measure the knowledge base on your own labelled questions")
    ev_sub = ev.add_subparsers(dest="eval_command", required=True, metavar="KIND")
    evr = ev_sub.add_parser(
        "retrieval",
        help="hit@1, hit@k and MRR of retrieval on a JSONL file of labelled questions",
        description='FILE has one JSON object per line: {"question": ..., "doc_ids": [...]} '
        "(also accepted: query / relevant_doc_ids / doc_id for one id) — the `eval answers` file as it "
        "is; its questions without documents (answerable: false, or a handoff) are counted, not "
        "scored. A document is named by its id or by its file: faq.csv matches every row of faq.csv. "
        "Results are passages, as the service gets them: a question is a hit at k when one of its "
        "documents is among the first k passages of the search, k = SERVICE_TOP_K (the passages the "
        "service gives the answer; 5 by default) — hybrid mode is the service's search, before its "
        "relevance cut-off.",
    )
    evr.add_argument("file", type=Path)
    evr.add_argument(
        "--mode",
        choices=["hybrid", "dense", "sparse", "all"],
        default="all",
        help="hybrid: the service's search; dense, sparse: each half of it alone (default: all three)",
    )
    evr.add_argument("-k", type=int, default=10, help="passages ranked for MRR (default 10)")
    evr.add_argument("--json", action="store_true")
    from faqstream import eval_answers

    eval_answers.add_parser(ev_sub)

    from faqstream import batch, faq_draft, keys, records, report

    keys.add_parser(sub)
    batch.add_parser(sub)
    report.add_parser(sub)
    records.add_parser(sub)
    faq_draft.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from faqstream import config_errors
    from knowledge.errors import FaqstreamError
    from knowledge.settings import Settings

    try:
        settings = Settings()
        logging.basicConfig(
            level=(args.log_level or settings.log_level).upper(),
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if args.command == "ingest":
            from faqstream import ingesting

            return ingesting.run(args, settings)
        if args.command == "serve":
            from faqstream import serve

            return serve.run(args)
        if args.command == "search":
            return _search(args, settings)
        if args.command == "status":
            return _status(args, settings)
        if args.command == "keys":
            from faqstream import keys

            return keys.run(args)
        if args.command == "batch":
            from faqstream import batch

            return batch.run(args)
        if args.command == "report":
            from faqstream import report

            return report.run(args)
        if args.command == "records":
            from faqstream import records

            return records.run(args)
        if args.command == "faq":
            from faqstream import faq_draft

            return faq_draft.run(args)
        return _eval(args, settings)
    except FaqstreamError as exc:
        print(f"faqstream: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("faqstream: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `faqstream … | head`: the reader has what it wanted
        # Python's own flush of stdout at exit would fail again: point stdout at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except ValidationError as exc:  # a setting from the environment or .env is invalid
        print(f"faqstream: {config_errors.invalid(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except SettingsError as exc:  # a list or object setting that is not JSON
        print(f"faqstream: {config_errors.unparsable(exc)}", file=sys.stderr)
        return EXIT_FAILED


def _open_kb(settings: Settings) -> KnowledgeBase:
    from knowledge.search import KnowledgeBase

    return KnowledgeBase.open(settings)


def _require_store(settings: Settings) -> None:
    """An embedded store that does not exist is reported, not created (a misspelled QDRANT_PATH)."""
    from knowledge.errors import StoreError

    path = settings.qdrant.path
    if not settings.qdrant.url and not path.is_dir():
        raise StoreError(
            f"there is no knowledge base at {path.resolve()} (QDRANT_PATH)",
            hint="check QDRANT_PATH (a relative path is read from the current folder), or create "
            "the knowledge base with `faqstream ingest PATH`",
        )


def _search(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from service.api.admin_kb import SearchRequest, SearchResult, judged_search

    request = SearchRequest(query=args.query, limit=args.limit, mode=args.mode, language=args.language)
    if args.server:
        from faqstream import remote

        found = SearchResult(
            **remote.request(args.server, "/admin/search", request.model_dump(exclude_none=True))
        )
    else:
        from service.retrieval.relevance import relevance_floor
        from service.settings.service import ServiceSettings

        _require_store(settings)
        kb = _open_kb(settings)
        try:
            service = ServiceSettings()
            floor = relevance_floor(kb.meta(), service.relevance_floor, kb.embedder.name, kb.embedder)
            found = judged_search(kb, floor, request, service.top_k)
        finally:
            kb.store.close()
    if args.json:
        hits = [
            {
                "rank": h.rank,
                "id": h.id,
                "score": h.score,
                "dense_score": h.dense_score,
                "relevance": h.relevance,
            }
            | {"past_limit": past}
            | h.payload.model_dump()
            for past, shown in ((False, found.hits), (True, found.past_limit))
            for h in shown
        ]
        print(json.dumps(hits, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not found.hits:
        print(f"no passages found (knowledge base version {found.kb_version}; run `faqstream ingest` first?)")
    for hit in found.hits:
        _print_passage(hit, found.relevance_unit)
    if found.past_limit:
        print(
            f"passages past -k {len(found.hits)} the service answers from (over the cut-off among "
            f"the first {found.top_k}, SERVICE_TOP_K):"
        )
        for hit in found.past_limit:
            _print_passage(hit, found.relevance_unit)
    leads = [h.relevance for h in found.hits if h.relevance is not None]
    if leads:
        passing = sum(lead >= 0 for lead in leads)
        over = f"{passing} of {len(leads)} passages over the cut-off"
        worded = sum(bool(h.passes) and (h.relevance or 0.0) < 0 for h in found.hits)
        if worded:
            over += f" and {worded} under it holding every word of the question"
        if found.past_limit:
            over += f", {len(found.past_limit)} more among the first {found.top_k} (SERVICE_TOP_K)"
        if found.handoff:
            verdict = " — the service hands this question to a person (no_relevant_passages)"
            if passing:  # shown past SERVICE_TOP_K: the service does not see them
                verdict += f": none of the first {found.top_k} (SERVICE_TOP_K) is over"
        elif found.handoff is False:
            verdict = " — the service answers it"
        else:
            verdict = ""
        print(f"question language {found.language}: {over}{verdict}")
    return EXIT_OK


def _print_passage(hit: Passage, unit: str | None) -> None:
    from knowledge.schema import under_title

    p = hit.payload
    section = under_title(p.title, p.section)
    where = f"{p.doc_id}" + (f" › {section}" if section else "")
    cosine = f" cos={hit.dense_score:.3f}" if hit.dense_score is not None else ""
    print(f"{hit.rank}. [{p.language}] {p.title} — {where} (score={hit.score:.4f}{cosine})")
    if hit.relevance is not None:
        side = "over" if hit.relevance >= 0 else "under"
        words = (
            ", but it holds every word of the question: it passes" if hit.passes and hit.relevance < 0 else ""
        )
        print(f"   relevance {hit.relevance:+.2f} {unit}: {side} the cut-off{words}")
    snippet = " ".join(p.text.split())
    print(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from service.api.admin_kb import KbStatus, kb_status

    if args.server:
        from faqstream import remote

        status = KbStatus(**remote.request(args.server, "/admin/status"))
    else:
        from knowledge.store import open_store
        from service.settings.service import ServiceSettings

        _require_store(settings)
        store = open_store(settings.qdrant)
        try:
            where = settings.qdrant.url or str(settings.qdrant.path.resolve())
            floor = ServiceSettings().relevance_floor
            status = kb_status(store, where, settings.qdrant.collection, floor)
        finally:
            store.close()
    print(f"store:      {status.store} (alias {status.alias} → {status.collection or 'none'})")
    print(f"version:    {status.version} (updated {status.updated_at or 'never'})")
    print(f"documents:  {status.documents}   chunks: {status.chunks}")
    print(f"model:      {status.model or '-'} ({status.dim or '-'} dims)")
    print(f"relevance:  {status.relevance.removeprefix('relevance ')}")
    return EXIT_OK


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.eval_command == "answers":
        from faqstream import eval_answers

        return eval_answers.run(args, settings)
    from knowledge.evaluation import evaluate_file, format_table
    from knowledge.schema import SearchMode
    from service.settings.service import ServiceSettings

    top_k = ServiceSettings().top_k  # the passages the service gives an answer
    kb = _open_kb(settings)
    try:
        modes: list[SearchMode] = ["dense", "sparse", "hybrid"] if args.mode == "all" else [args.mode]
        results = evaluate_file(kb, args.file, modes=modes, k=top_k, depth=args.k)
    finally:
        kb.store.close()
    if args.json:
        import json

        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        print(format_table(results))
    return EXIT_OK
