#!/usr/bin/env bash
# Install faqstream the way a user does and serve from an empty folder (docs/deploy.md):
#
#   deploy/wheel-smoke.sh [WORKDIR]        # WORKDIR: a new temporary folder by default
#
# Builds the wheel from this checkout, creates a fresh virtual environment in WORKDIR/venv (or
# $VENV), installs torch and then the wheel with its pinned dependencies from the package index,
# writes three documents into WORKDIR/docs, and from WORKDIR (outside the checkout) runs
# `faqstream ingest docs`, `faqstream serve` and one POST /v1/answers. Extractive answers unless
# ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL, e.g. the fake: `python -m fakes --port 8901`) is set.
#
# Environment: PYTHON (default python3; 3.11 or 3.12), VENV, PORT (default 8765),
# TORCH_INDEX_URL (e.g. https://download.pytorch.org/whl/cpu for the CPU-only build).
# The first ingest exports the embedding models to ONNX in WORKDIR/var/models (about a minute).
# tests/integration/test_wheel.py checks the same in the test suite, with the test environment's
# dependencies instead of a fresh install.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(realpath "${1:-$(mktemp -d -t faqstream-wheel-XXXXXX)}")
VENV=${VENV:-$WORK/venv}
PYTHON=${PYTHON:-python3}
PORT=${PORT:-8765}
case "$WORK/" in "$REPO"/*) echo "WORKDIR must be outside the checkout ($REPO)" >&2; exit 2 ;; esac
mkdir -p "$WORK/dist" "$WORK/docs"
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "building the wheel from $REPO"
"$PYTHON" -m pip wheel --no-deps --quiet --wheel-dir "$WORK/dist" "$REPO"
rm -rf "$REPO/build" "$REPO"/*.egg-info # setuptools' in-tree build folders
WHEEL=$(ls -t "$WORK"/dist/faqstream-*.whl | head -n 1)
echo "$WHEEL"

step "installing it into $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} torch==2.13.0
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$WHEEL"
"$VENV/bin/pip" install --quiet "$WHEEL"

cat >"$WORK/docs/returns.md" <<'EOF'
---
title: Returns policy
---
# Returns policy

## Return window

You can return most items within 30 days of delivery. Start a return in the returns portal.
Refunds reach your card 5 to 10 business days after we receive the parcel.
EOF
cat >"$WORK/docs/shipping.md" <<'EOF'
# Shipping

## Delivery times

Standard delivery in Germany takes 1 to 3 business days. Express delivery arrives the next
business day.
EOF
cat >"$WORK/docs/hours.txt" <<'EOF'
Opening hours

Our support team answers emails Monday to Friday from 9:00 to 18:00 CET.
EOF

cd "$WORK"
unset PYTHONPATH
export HF_HUB_OFFLINE=1 SERVICE_PORT="$PORT" SERVICE_HOST=127.0.0.1

step "faqstream ingest docs (in $WORK)"
"$VENV/bin/faqstream" ingest docs

step "faqstream serve"
"$VENV/bin/faqstream" serve >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
"$VENV/bin/python" - "$PORT" "$SERVER" <<'EOF'
import os, sys, time, urllib.request

port, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 300
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("faqstream serve exited; see serve.log")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("faqstream serve did not start in 300 s; see serve.log")
        time.sleep(0.5)
EOF

step "POST /v1/answers"
"$VENV/bin/python" - "$PORT" <<'EOF'
import json, sys, urllib.request

request = urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[1]}/v1/answers",
    data=json.dumps({"question": "How long do I have to return an item?"}).encode(),
    headers={"Content-Type": "application/json"},
)
body = json.load(urllib.request.urlopen(request, timeout=60))
print(json.dumps({k: body[k] for k in ("mode", "answer", "language")}, ensure_ascii=False, indent=2))
print("cited:", [c["doc_id"] for c in body["citations"]], "intent:", (body.get("intent") or {}).get("intent"))
assert body["citations"] and body["citations"][0]["doc_id"] == "returns.md", body
EOF
step "ok: the installed wheel ingested and answered from $WORK"
