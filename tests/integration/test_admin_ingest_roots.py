"""Admin ingest reads only under ``SERVICE_INGEST_ROOTS``, through the real service with real
temporary folders and real symlinks: no root configured → every path refused; a path outside the
roots (``/etc``, ``..``, a symlink leading out) → 403 with nothing listed or echoed, the same
answer whether it exists or not; symlinks inside an ingested folder that lead out are skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service_harness import ADMIN_KEY, auth, in_process, service_settings

SECRET = "The vault combination is 31-41-59 and the backup key is ZEBRA-TANGO."


def ingest(client: httpx.Client, *paths: Path | str, **options: Any) -> httpx.Response:
    body = {"paths": [str(p) for p in paths], **options}
    return client.post("/admin/ingest", json=body, headers=auth(ADMIN_KEY), timeout=300)


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """root/ (the ingest root) with a policy, a symlink in it to a file inside the root, a symlink to
    a file outside and one to a folder outside; outside/ holds a secret."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "docs" / "more").mkdir(parents=True)
    (outside / "private").mkdir(parents=True)
    (outside / "secret.md").write_text(f"# Vault\n\n{SECRET}\n", encoding="utf-8")
    (outside / "private" / "notes.md").write_text(f"# Notes\n\n{SECRET}\n", encoding="utf-8")
    (root / "docs" / "gifts.md").write_text(
        "# Gift wrapping\n\nGift wrapping costs 4 euros per parcel and is available at checkout.\n",
        encoding="utf-8",
    )
    (root / "docs" / "more" / "care.md").write_text(
        "# Kettle care\n\nDescale the kettle every month with citric acid.\n", encoding="utf-8"
    )
    (root / "docs" / "leak.md").symlink_to(outside / "secret.md")
    (root / "docs" / "private").symlink_to(outside / "private", target_is_directory=True)
    (root / "docs" / "care-link.md").symlink_to(root / "docs" / "more" / "care.md")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    return {"tmp": tmp_path, "root": root, "outside": outside}


def forbidden(response: httpx.Response, index: int) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "ingest_path_forbidden" and error["details"] == {"path_index": index}
    return error


def test_without_configured_roots_every_admin_ingest_path_is_refused(
    template: Path, tmp_path: Path, layout: dict[str, Path]
) -> None:
    with in_process(service_settings(template, tmp_path / "svc", ingest_roots=())) as served:
        response = ingest(served.client, layout["root"] / "docs", dry_run=True)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "ingest_path_forbidden" and "SERVICE_INGEST_ROOTS" in error["message"]
    assert str(layout["root"]) not in response.text


def test_paths_outside_the_roots_are_refused_without_listing_or_echoing_them(
    template: Path, tmp_path: Path, layout: dict[str, Path]
) -> None:
    root = layout["root"]
    settings = service_settings(template, tmp_path / "svc", ingest_roots=(root,))
    with in_process(settings) as served:
        etc = ingest(served.client, "/etc", dry_run=True)
        missing = ingest(served.client, "/etc/no-such-file-here.md", dry_run=True)
        dotdot = ingest(served.client, root / "docs", root / ".." / "outside", dry_run=True)
        link_out = ingest(served.client, root / "escape" / "secret.md")
        prefix_twin = ingest(
            served.client, f"{root}-twin", dry_run=True
        )  # "/…/root-twin" is not under "/…/root"
        versions_before = served.runtime.kb.meta().version
    forbidden(etc, 0)
    assert etc.json() == missing.json()  # no oracle: the same answer whether the path exists or not
    assert "passwd" not in etc.text and "/etc" not in etc.text
    forbidden(dotdot, 1)
    forbidden(link_out, 0)
    forbidden(prefix_twin, 0)
    for response in (dotdot, link_out, prefix_twin):
        assert "outside" not in response.text and str(layout["tmp"]) not in response.text
    assert versions_before == served.runtime.kb.meta().version  # nothing was ingested


def test_symlinks_inside_an_ingested_folder_that_lead_out_are_skipped(
    template: Path, tmp_path: Path, layout: dict[str, Path]
) -> None:
    root = layout["root"]
    settings = service_settings(template, tmp_path / "svc", ingest_roots=(root,))
    with in_process(settings) as served:
        dry = ingest(served.client, root / "docs", dry_run=True)
        assert dry.status_code == 200, dry.text
        response = ingest(served.client, root / "docs")
        assert response.status_code == 200, response.text
        answer = served.client.post("/v1/answers", json={"question": "What is the vault combination?"})
    for report in (dry.json(), response.json()):
        skipped = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
        assert skipped == {"leak.md": "outside the ingest roots", "private": "outside the ingest roots"}
        assert str(layout["outside"]) not in json.dumps(report)
    added = set(response.json()["added"])
    # a link to a file inside the root is read (once: care-link.md and more/care.md are one file)
    assert {"gifts.md", "care-link.md"} <= added
    assert not [doc for doc in added if "leak" in doc or "private" in doc]
    assert answer.status_code == 200 and SECRET not in answer.text and "31-41-59" not in answer.text
