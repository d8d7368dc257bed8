"""Bounded work per request through the real service: the question limit counts NFKC characters
(U+FDFA is 18 of them), and a flooding tenant's questions share the retrieval batches fairly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr

from knowledge.search import Query
from service.core.types import Client
from service.settings.auth import AuthSettings
from tests.service_harness import in_process, post, service_settings

KEY_A, KEY_B = "tenant-a-key-0123456789", "tenant-b-key-0123456789"


def test_the_question_limit_counts_characters_after_normalisation(template: Path, tmp_path: Path) -> None:
    auth = AuthSettings(api_keys=SecretStr(f"a={KEY_A},b={KEY_B}"))
    settings = service_settings(template, tmp_path, components={"auth": auth}, max_question_chars=2000)
    with in_process(settings) as served:
        expanding = post(served.client, "\ufdfa" * 200, key=KEY_A)  # 200 raw, 3,600 in NFKC
        assert expanding.status_code == 413, expanding.text
        assert expanding.json()["error"]["code"] == "question_too_long"
        wide = post(served.client, "ｈｏｗ ｌｏｎｇ ｄｏｅｓ ａ ｒｅｆｕｎｄ ｔａｋｅ？", key=KEY_A)
        assert wide.status_code == 200, wide.text
        assert wide.json()["citations"]  # full-width forms retrieve like the plain question
        assert served.runtime.retriever.questions == 1  # the refused one never reached the model


def test_another_tenants_question_is_served_in_the_next_batch_during_a_flood(
    template: Path, tmp_path: Path
) -> None:
    settings = service_settings(template, tmp_path, max_batch=8, retrieval_per_tenant=2)
    with in_process(settings) as served:
        retriever = served.runtime.retriever

        async def flood_then_ask() -> int:
            flood = [
                asyncio.ensure_future(retriever.search(Query(f"refund question {n}", limit=2), "a"))
                for n in range(30)
            ]
            await asyncio.sleep(0)
            await retriever.search(Query("How fast is delivery?", limit=2), Client("b").name)
            served_at = retriever.batches
            await asyncio.gather(*flood)
            return served_at

        before = retriever.batches
        # Batch 1: a's first (alone, or with a second when the worker thread started late); then
        # round-robin a, b, a (a's share is 2): b in batch 2, or 3 when a's batch 2 was taken before
        # b arrived. First in, first out would serve b in batch 5, behind 29 of a's (8 per batch).
        assert served.run(flood_then_ask) - before <= 3
