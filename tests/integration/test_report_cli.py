"""``faqstream report`` on the database itself (DATABASE_SQLITE_PATH): the text summary, JSON, and
the HTML page — parsed, with its four charts as inline SVG and its tables — plus what it says when
the range makes no sense, the database is missing, or matplotlib is not installed."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import update

from faqstream.cli import main
from service.usage.database import LedgerDatabase
from service.usage.schema import messages
from tests.records_fixture import seed_database

RANGE = ["--from", "2026-03-02", "--to", "2026-03-06"]
INJECTED = "<script>alert('gap')</script> Can I pay with gold bars?"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "faqstream.db"
    database = LedgerDatabase.sqlite(path)
    seed_database(database)
    database.close()
    return path


@pytest.fixture
def database(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_SQLITE_PATH", str(seeded))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return seeded


def test_the_text_summary(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *RANGE]) == 0
    out = capsys.readouterr().out
    assert "2026-03-02 to 2026-03-05 inclusive (UTC, 4 days), all tenants" in out
    assert "auto-resolved 88 (43.6 %)" in out and "handed off 50 (24.8 %)" in out
    assert "per answer $0.0088" in out and "per resolved $0.0219" in out
    assert "[acme/en] Do you ship to Mars?  (no_relevant_passages 4, low_confidence 1)" in out


def test_json_is_the_endpoints_model(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *RANGE, "--tenant", "globex", "--top", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tenant"] == "globex" and report["totals"]["conversations"] == 101
    assert [i["intent"] for i in report["top_intents"]] == ["refund", "shipping"]
    assert len(report["content_gaps"]) == 2


def test_the_html_page_has_its_charts_and_escapes_what_customers_typed(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "faqstream.db"
    shutil.copy(seeded, copy)
    database = LedgerDatabase.sqlite(copy)
    with database.engine.begin() as connection:
        connection.execute(
            update(messages).where(messages.c.text == "Can I pay with gold bars?").values(text=INJECTED)
        )
    database.close()
    monkeypatch.setenv("DATABASE_SQLITE_PATH", str(copy))
    page = tmp_path / "report.html"
    assert main(["report", *RANGE, "--html", str(page), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["questions"] == 218  # --json still prints
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    charts = soup.select("figure.chart > svg")
    assert len(charts) == 4
    titles = [" ".join(svg.get_text(" ").split()) for svg in charts]
    for title, chart in zip(
        [
            "Questions and auto-resolved rate per day",
            "Handoffs by reason",
            "CSAT distribution",
            "Cost per day",
        ],
        titles,
        strict=True,
    ):
        assert title in chart
    assert "no_relevant_passages" in titles[1] and "batch_tag" in titles[3]
    assert soup.find("script") is None and not soup.select("[src], link")  # self-contained, no script
    gaps = soup.select("table.gaps tbody tr")
    assert len(gaps) == 10
    assert [td.get_text() for td in gaps[0].find_all("td")][:4] == ["5", "Do you ship to Mars?", "acme", "en"]
    assert INJECTED in [td.get_text() for row in gaps for td in row.find_all("td")]  # shown as text
    assert [row.select("td")[0].get_text() for row in soup.select("table.by-tenant tbody tr")] == [
        "acme",
        "globex",
    ]


def test_without_matplotlib_it_says_how_to_install_it(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # as if not installed: import fails
    assert main(["report", *RANGE, "--html", str(tmp_path / "r.html")]) == 3
    assert "pip install 'faqstream[report]'" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_an_html_file_in_a_missing_folder_is_one_line_and_exit_3(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Trial 2, finding 12: a traceback (FileNotFoundError, exit 1) before."""
    target = tmp_path / "nonexistent" / "dir" / "x.html"
    assert main(["report", *RANGE, "--html", str(target)]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before the report is read
    lines = captured.err.strip().splitlines()
    assert lines[0] == f"faqstream: cannot write the HTML report to {target}: no such folder {target.parent}"
    assert lines[1].strip().startswith("→ give --html a file in a folder that exists")
    assert len(lines) == 2 and "Traceback" not in captured.err
    assert main(["report", *RANGE, "--html", str(tmp_path)]) == 3  # a folder, not a file
    assert f"cannot write the HTML report to {tmp_path}: it is a folder" in capsys.readouterr().err


def test_a_range_that_makes_no_sense_is_a_usage_error(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--from", "2026-03-06", "--to", "2026-03-02"]) == 2
    assert "must be after" in capsys.readouterr().err


def test_a_missing_database_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_SQLITE_PATH", str(tmp_path / "missing.db"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["report", *RANGE]) == 3
    assert "there is no database at" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()
