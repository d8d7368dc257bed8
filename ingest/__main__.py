"""``python -m ingest PATH...`` is ``faqstream ingest PATH...``."""

import sys

from faqstream.cli import main

raise SystemExit(main(["ingest", *sys.argv[1:]]))
