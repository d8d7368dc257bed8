"""A saved web page: its cookie banner, navigation, header, footer and hidden parts are not in any
chunk; its content, including a section about cookies, is."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders import SourceFile, load
from ingest.pipeline import IngestPipeline
from knowledge.embedder import Embedder
from knowledge.language import LanguageIdentifier
from knowledge.settings import IngestSettings
from knowledge.sparse import SparseEncoder
from knowledge.store.edge import EdgeStore
from tests.conftest import make_settings

PAGE = """<!doctype html>
<html lang="en"><head><title>Opening hours</title><style>.x{}</style></head>
<body>
<div id="cookie-banner" class="fixed-bottom">We use cookies.
  <a href="#">Accept all</a> <a href="#">Reject</a></div>
<div id="onetrust-consent-sdk"><h2>We value your privacy</h2><button>Allow every cookie</button></div>
<div class="cc-window" role="dialog" aria-label="cookieconsent">This site stores crumbs.</div>
<header><a href="/">Harbour Desk home</a><span>Book a tour today</span></header>
<nav><ul><li><a href="/plans">Membership plans menu</a></li></ul></nav>
<div role="navigation">Breadcrumb trail here</div>
<main>
  <article>
    <header><h1>Opening hours and access</h1></header>
    <p>Reception is open Monday to Friday from 8:00 to 20:00 and on Saturdays from 10:00 to 15:00.</p>
    <section id="cookie-notice"><h2>Cookie notice</h2>
      <p>Our website uses only the cookies needed for online bookings.</p></section>
    <section id="cookies"><h2>Cookies on the booking page</h2>
      <p>The booking cookie expires after a day.</p></section>
    <p hidden>Secret staff door code 4411.</p>
    <p style="display: none">Old winter schedule from 2019.</p>
    <span aria-hidden="true">Decorative glyph text</span>
    <dialog><p>Subscribe to our newsletter popup</p></dialog>
  </article>
</main>
<div role="contentinfo">Copyright Harbour Desk S.L.</div>
<footer><p>Follow us on social media</p></footer>
<script>var tracking = "analytics snippet";</script>
</body></html>
"""
FURNITURE = [
    "We use cookies",
    "Accept all",
    "Reject",
    "We value your privacy",
    "Allow every cookie",
    "stores crumbs",
    "Harbour Desk home",
    "Book a tour",
    "Membership plans menu",
    "Breadcrumb trail",
    "door code",
    "winter schedule",
    "Decorative glyph",
    "newsletter popup",
    "Copyright",
    "social media",
    "analytics snippet",
]
CONTENT = [
    "Opening hours and access",
    "Monday to Friday from 8:00 to 20:00",
    "Cookie notice",
    "only the cookies needed for online bookings",
    "The booking cookie expires after a day",
]


def test_the_loader_keeps_the_content_and_drops_the_furniture(tmp_path: Path) -> None:
    page = tmp_path / "hours.html"
    page.write_text(PAGE, encoding="utf-8")
    [doc] = load(SourceFile(page, tmp_path), IngestSettings())
    for text in CONTENT:
        assert text in doc.text or any(text in h for s in doc.sections for h in s.headings), text
    for text in FURNITURE:
        assert text not in doc.text, text


def test_no_chunk_holds_page_furniture(
    tmp_path: Path, embedder: Embedder, sparse: SparseEncoder, languages: LanguageIdentifier
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hours.html").write_text(PAGE, encoding="utf-8")
    settings = make_settings(tmp_path)
    store = EdgeStore(settings.qdrant.path, "kb")
    try:
        IngestPipeline(store, embedder, sparse, languages, settings).run([docs])
        active = store.active()
        assert active is not None
        chunks = " ".join(f"{c.title} {c.section} {c.text}" for c in active.chunks("hours.html"))
    finally:
        store.close()
    assert all(text in chunks for text in CONTENT)
    assert [text for text in FURNITURE if text in chunks] == []
