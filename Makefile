# faqstream — the two commands a new machine needs:
#   make run    install, ingest the demo policies into the embedded store, serve the answer API
#   make test   install with dev tools, lint, type-check, run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: install install-dev run ingest test test-fast lint browser bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned: the CPU build; an unpinned torch would pull a multi-GB CUDA build.
install: $(VENV)/bin/python
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e .

install-dev: $(VENV)/bin/python
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[dev]"

ingest: install
	$(VENV)/bin/faqstream ingest data/policies --prune

run: ingest
	$(VENV)/bin/faqstream status
	$(VENV)/bin/faqstream serve

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy knowledge ingest faqstream service fakes tests bench

# The web chat's browser test drives Debian's chromium through Playwright; never a downloaded browser.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$sudo apt-get update -qq && $$sudo apt-get install -y -qq chromium chromium-driver; \
	  else echo "no /usr/bin/chromium and no apt-get: the browser test will be skipped"; fi; \
	fi

test: lint browser
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

# The fast lane for your own loop: unit tests and the backend contracts (memory and Redis), no
# test marked slow. `make test` (what CI runs) is the whole suite.
test-fast: install-dev
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "not slow" tests/unit tests/integration/test_*_contract.py

bench: install-dev
	$(PY) -m bench.run_all

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
