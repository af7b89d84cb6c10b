#!/usr/bin/env bash
# Every test suite of the project, in every language. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

suites=(rust python node kotlin c official package)

start=$(date +%s)
for suite in "${suites[@]}"; do
  echo "=== $suite ==="
  t0=$(date +%s)
  bash "scripts/test-$suite.sh"
  echo "=== $suite passed in $(( $(date +%s) - t0 )) s ==="
done
echo "all suites passed (${suites[*]}) in $(( $(date +%s) - start )) s"
