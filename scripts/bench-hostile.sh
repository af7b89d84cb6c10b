#!/usr/bin/env bash
# Peak memory of the client under hostile servers: builds `miosa-hostile`
# (bench/src/hostile.rs) and runs each case in its own process against a small
# misbehaving server on loopback, with the client's default limits. Prints
# each process's resident memory at the start and at its peak, and how the
# case ended. Prints numbers; asserts none (the goal is < 100 MiB over start).
# Not part of the test suite.
#
#   bash scripts/bench-hostile.sh [CASE...]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
export CARGO_TERM_COLOR=never
cargo build --quiet --locked -p miosa-bench --bin miosa-hostile
BIN="target/$CARGO_BUILD_TARGET/debug/miosa-hostile"
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  cases=(endless-body absurd-content-length endless-sse-line huge-event
         clean-close-with-ids post-stream-cut cursor-cycle)
fi
for case in "${cases[@]}"; do
  timeout 120 "$BIN" "$case"
done
