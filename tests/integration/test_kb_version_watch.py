"""A running service follows the knowledge base when someone else writes it: replicas behind a load
balancer share one Qdrant, and the ingest job (or another replica's ``/admin/ingest``) bumps the
version in the store, not in this process. ``DigestCache.watch`` checks the version in the
background and rebuilds the cached prompt prefix and the relevance cut-off — no restart.

Here the other writer is an ingest pipeline on the same store the service reads, outside the
service's request path (the embedded store admits one process, so "another replica" is played
by code that never goes through the service's routes)."""

from __future__ import annotations

import time
from pathlib import Path

from fakes import FakeAnthropic
from ingest.pipeline import IngestPipeline
from tests.service_harness import MIN_CACHE, in_process, service_settings

NEW_POLICY = """# Gift wrapping

Gift wrapping costs 4 EUR per parcel and can be added at checkout until the order ships.
Wrapped parcels include a handwritten card on request.
"""


def test_an_ingest_by_another_writer_reaches_the_running_service_without_a_restart(
    template: Path, fake: FakeAnthropic, tmp_path: Path
) -> None:
    settings = service_settings(
        template, tmp_path, api_key="sk-fake", base_url=fake.base_url, prompt_cache_min_tokens=MIN_CACHE
    )
    docs = tmp_path / "more"
    docs.mkdir()
    (docs / "gift-wrapping.md").write_text(NEW_POLICY, encoding="utf-8")

    with in_process(settings) as served:
        before = served.client.get("/readyz").json()["kb_version"]
        old_prefix = served.runtime.digest.prefix()
        assert old_prefix.kb_version == before and "Gift wrapping" not in old_prefix.knowledge

        kb = served.runtime.kb
        IngestPipeline(kb.store, kb.embedder, kb.sparse, kb.require_languages(), settings).run([docs])
        after = kb.version()
        assert after > before

        deadline = time.monotonic() + 30  # the watch checks every second; a bound, not a measurement
        while served.runtime.digest.prefix().kb_version != after and time.monotonic() < deadline:
            time.sleep(0.1)
        prefix = served.runtime.digest.prefix()
        assert prefix.kb_version == after
        assert "Gift wrapping" in prefix.knowledge  # the rebuilt prefix holds the new document
        assert served.client.get("/readyz").json()["kb_version"] == after
