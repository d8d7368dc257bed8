"""The prune safeguard judges a knowledge base by its source files: a FAQ table's rows are one file.

The knowledge base here is a co-working space's: three pages and a FAQ table of eight rows, so the
FAQ rows outnumber the pages (the case that let ``faqstream ingest faq.csv --prune`` delete every
page while the safeguard counted 3 of 11 documents).
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from knowledge.embedder import Embedder
from knowledge.errors import IngestRefusedError
from knowledge.language import LanguageIdentifier
from knowledge.sparse import SparseEncoder
from knowledge.store.edge import EdgeStore
from tests.conftest import make_settings

PAGES = {
    "plans.md": "# Membership plans\n\nA hot desk costs 180 EUR a month; a day pass costs 25 EUR.\n",
    "hours.txt": "Opening hours\nReception is open Monday to Friday from 8:00 to 20:00.\n",
    "house-rules.html": "<html lang='en'><body><h1>House rules</h1><p>Phone calls belong in the "
    "phone booths, not at the shared desks.</p></body></html>",
}
ROWS = [
    ("Can I bring my dog?", "Well-behaved dogs are welcome on Fridays."),
    ("How much is a locker?", "A locker costs 15 EUR a month."),
    ("Is there parking?", "Bicycle parking is in the courtyard; there is no car park."),
    ("Can I print in colour?", "Colour prints cost 0.30 EUR a page."),
    ("Do you have showers?", "There are two showers on the ground floor."),
    ("Can guests use the kitchen?", "Registered guests may use the kitchen."),
    ("Is coffee included?", "Coffee and tea are included in every plan."),
    ("Can I receive mail here?", "Mail handling is included with the business address plan."),
]


def _write_faq(path: Path, rows: list[tuple[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question", "answer"])
        writer.writerows(rows)


class Space:
    def __init__(self, tmp: Path, embedder: Embedder, sparse: SparseEncoder, languages: LanguageIdentifier):
        self.tmp = tmp
        self.docs = tmp / "docs"
        self.docs.mkdir()
        for name, text in PAGES.items():
            (self.docs / name).write_text(text, encoding="utf-8")
        _write_faq(self.docs / "faq.csv", ROWS)
        self.settings = make_settings(tmp)
        self.store = EdgeStore(self.settings.qdrant.path, "kb")
        self.pipeline = IngestPipeline(self.store, embedder, sparse, languages, self.settings)

    def documents(self) -> set[str]:
        active = self.store.active()
        assert active is not None
        return set(active.document_states())


@pytest.fixture
def space(
    tmp_path: Path, embedder: Embedder, sparse: SparseEncoder, languages: LanguageIdentifier
) -> Iterator[Space]:
    s = Space(tmp_path, embedder, sparse, languages)
    s.pipeline.run([s.docs])
    yield s
    s.store.close()


def test_pruning_with_only_the_faq_file_is_refused_and_the_dry_run_says_so(space: Space) -> None:
    before = space.documents()
    assert len(before) == 11  # 3 pages + 8 rows: the rows alone are more than half
    faq = space.docs / "faq.csv"
    with pytest.raises(IngestRefusedError) as refused:
        space.pipeline.run([faq], prune=True)
    assert refused.value.reason == "partial_input" and refused.value.exit_code == 2
    assert "3 file(s) that are still in" in refused.value.message
    assert refused.value.details["left_out"] == ["hours.txt", "house-rules.html", "plans.md"]
    assert refused.value.hint and str(space.docs) in refused.value.hint
    assert space.documents() == before

    dry = space.pipeline.run([faq], prune=True, dry_run=True)
    assert dry.refused is not None and dry.refused["reason"] == "partial_input"
    assert sorted(dry.deleted) == ["hours.txt", "house-rules.html", "plans.md"]
    assert "REFUSED" in dry.summary() and space.documents() == before

    forced = space.pipeline.run([faq], prune=True, force=True)
    assert len(forced.deleted) == 3 and {d.split("#")[0] for d in space.documents()} == {"faq.csv"}


def test_the_share_is_counted_in_files_not_faq_rows(space: Space) -> None:
    """The same FAQ file copied elsewhere (nothing left out next to it): 3 of 4 files would go."""
    elsewhere = space.tmp / "export"
    elsewhere.mkdir()
    shutil.copy(space.docs / "faq.csv", elsewhere / "faq.csv")
    with pytest.raises(IngestRefusedError) as refused:
        space.pipeline.run([elsewhere / "faq.csv"], prune=True)
    assert refused.value.reason == "too_many_deletions"
    assert "3 of the knowledge base's 4 source files" in refused.value.message
    assert refused.value.details == {"would_delete": 3, "documents": 11, "files_deleted": 3, "files": 4}
    assert len(space.documents()) == 11


def test_rows_removed_from_a_faq_file_are_an_edit_not_a_mass_deletion(space: Space) -> None:
    _write_faq(space.docs / "faq.csv", ROWS[:2])  # 6 of 11 documents go, but no file does
    report = space.pipeline.run([space.docs], prune=True)
    assert len(report.deleted) == 6 and report.refused is None
    assert len(space.documents()) == 5


def test_every_file_given_one_by_one_prunes_a_removed_file(space: Space) -> None:
    """`faqstream ingest docs/* --prune` after a page was deleted: nothing is left out."""
    (space.docs / "hours.txt").unlink()
    report = space.pipeline.run(sorted(space.docs.iterdir()), prune=True)
    assert report.deleted == ["hours.txt"]
    assert "hours.txt" not in space.documents() and len(space.documents()) == 10
