"""Operating ``faqstream`` as a newcomer does: real ``faqstream serve`` processes, real embedded store.

While a service holds the embedded store, ``search``/``status``/``ingest`` work through it
(``--server URL``) and the store-locked error says so; start-up failures are one line and a hint
with exit code 3, never after "serving on"; an empty knowledge base is warned about; ``/schema``
loads nothing from elsewhere.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from knowledge.store.edge import EdgeStore
from tests.corpus import write_corpus
from tests.hostile_probes import serve_process

pytestmark = pytest.mark.slow

ADMIN_KEY = "admin-key-for-operations-0123"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faqstream", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_newcomer_runs_the_service_and_works_through_it(tmp_path: Path, child_env: dict[str, str]) -> None:
    roots = tmp_path / "roots"
    env = {**child_env, "SERVICE_ADMIN_KEY": ADMIN_KEY, "SERVICE_INGEST_ROOTS": json.dumps([str(roots)])}
    docs = write_corpus(roots / "my-policies")
    elsewhere = write_corpus(tmp_path / "elsewhere")
    with serve_process(env, tmp_path / "serve.log") as served:
        log = served.log_text()
        assert log.count(f"faqstream: serving on {served.base} (") == 1, log
        assert "knowledge base is empty" in log, log
        assert f"`faqstream ingest ./my-policies/ --server {served.base}`" in log, log

        locked = run(env, "status")  # the service holds the embedded store
        assert locked.returncode == 3 and "Traceback" not in locked.stderr
        for command in ("ingest PATH --server URL", "search QUERY --server URL", "status --server URL"):
            assert f"faqstream {command}" in locked.stderr, locked.stderr
        assert run(env, "search", "kettle").stderr == locked.stderr

        outside = run(env, "ingest", str(elsewhere), "--server", served.base)  # not under the roots
        assert outside.returncode == 3, outside.stderr
        assert "SERVICE_INGEST_ROOTS" in outside.stderr and '{"error"' not in outside.stderr, outside.stderr
        ingested = run(env, "ingest", str(docs), "--server", served.base)
        assert ingested.returncode == 0, ingested.stderr

        status = run(env, "status", "--server", served.base)
        assert status.returncode == 0, status.stderr
        assert "documents:  7   chunks: 7" in status.stdout
        assert (
            f"store:      {Path(env['QDRANT_PATH']).resolve()} (alias faqstream → faqstream-" in status.stdout
        )
        assert "relevance:  cut-off" in status.stdout

        found = run(env, "search", "NW-KTL-110", "--json", "-k", "2", "--server", served.base)
        assert found.returncode == 0, found.stderr
        hits = json.loads(found.stdout)
        assert len(hits) == 2 and hits[0]["doc_id"] == "kettle.txt" and hits[0]["dense_score"] > 0
        assert all(isinstance(hit["relevance"], float) for hit in hits), hits  # judged by the service
        text = run(env, "search", "NW-KTL-110", "-k", "1", "--server", served.base)
        assert text.returncode == 0 and text.stdout.startswith("1. [en] Kettle safety notice — kettle.txt")

        wrong = run(
            {**env, "SERVICE_ADMIN_KEY": "not-the-admin-key-0123456"}, "status", "--server", served.base
        )
        assert wrong.returncode == 3 and "401" in wrong.stderr and "SERVICE_ADMIN_KEY" in wrong.stderr

        page = httpx.get(f"{served.base}/schema", timeout=10)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "://" not in page.text  # no script, style or font from a CDN
        assert re.findall(r"(?:src|href)='([^']*)'", page.text) == ["/schema/openapi.json"]
        assert "<code>/admin/search</code>" in page.text
        document = httpx.get(f"{served.base}/schema/openapi.json", timeout=10).json()
        assert {"/admin/status", "/admin/search"} <= set(document["paths"])
        assert "Traceback" not in served.log_text()
    nobody = run(env, "status", "--server", served.base)
    assert nobody.returncode == 3 and f"cannot reach the service at {served.base}" in nobody.stderr


def test_status_does_not_create_a_misspelled_store(tmp_path: Path, child_env: dict[str, str]) -> None:
    missing = tmp_path / "qdrnat"
    for command in (["status"], ["search", "kettle"]):
        out = run({**child_env, "QDRANT_PATH": str(missing)}, *command)
        assert out.returncode == 3 and f"there is no knowledge base at {missing}" in out.stderr, out.stderr
        assert "QDRANT_PATH" in out.stderr and "Traceback" not in out.stderr
        assert not missing.exists()


def _held_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("port in use", "is already in use"),
        ("bad setting", "SERVICE_HEADER_TIMEOUT_S"),
        ("list setting not JSON", "SERVICE_INGEST_ROOTS is not valid JSON"),
        ("redis down", "Redis is unreachable"),
        ("store locked", "is in use by pid"),
    ],
)
def test_serve_start_up_failures_are_one_line_and_a_hint(
    tmp_path: Path, child_env: dict[str, str], case: str, named: str
) -> None:
    env = dict(child_env)
    args = ["serve", "--port", "0"]
    held, port = _held_port()
    try:
        if case == "port in use":
            args = ["serve", "--port", str(port)]
        elif case == "bad setting":
            env["SERVICE_HEADER_TIMEOUT_S"] = "soon"
        elif case == "list setting not JSON":
            env["SERVICE_INGEST_ROOTS"] = "/srv/policies"  # a list is written as JSON
        elif case == "redis down":
            env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"  # a socket that never speaks Redis
            held.close()
        if case == "store locked":
            with EdgeStore(Path(env["QDRANT_PATH"])):
                out = run(env, *args)
        else:
            out = run(env, *args)
    finally:
        held.close()
    assert out.returncode == 3, out.stderr
    assert named in out.stderr and "Traceback" not in out.stderr and "serving on" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if not line.startswith(tuple("0123456789"))]
    assert len(lines) == 2 and lines[0].startswith("faqstream: ") and lines[1].startswith("  → "), out.stderr
