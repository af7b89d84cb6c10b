#!/usr/bin/env bash
# The official MIOSA Python SDK, pinned from PyPI and unchanged, as a client of
# the emulator: its everyday flows (create with and without wait, run, files,
# env, processes, snapshots, shares, previews, tags, webhooks, quotas, audit
# log, usage, delete) against a default (tolerant) emulator, one pytest step
# each. Needs only PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The official SDK speaks to the emulator as it would to MIOSA: no strict mode.
unset MIOSA_EMULATOR_STRICT
PY="${PYTHON:-python3}"
OFFICIAL_SDK="miosa==2.19.2"

cargo build -p miosa-emulator --locked

rm -rf .venv-official
"$PY" -m venv .venv-official
.venv-official/bin/pip install --quiet "$OFFICIAL_SDK" pytest

(cd tests/official && ../../.venv-official/bin/python -m pytest -q -p no:cacheprovider .)
echo "official: $OFFICIAL_SDK flows passed against the emulator"
