# faqstream — the two commands a new machine needs:
#   make run    install, ingest the demo policies into the embedded store, serve the answer API
#   make test   install with dev tools, lint, type-check, run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: install install-dev run ingest test test-fast lint bench clean

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

test: lint
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

# The fast lane for your own loop: unit tests and the backend contracts (memory and Redis), no
# test marked slow. `make test` (what CI runs) is the whole suite.
test-fast: install-dev
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "not slow" tests/unit tests/integration/test_*_contract.py

bench: install-dev
	$(PY) -m bench.run_all

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
