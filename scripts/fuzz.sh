#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each; FUZZ_SECONDS to change).
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# New inputs go to a scratch corpus; the checked-in corpus under fuzz/corpus stays small.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
unset CARGO_BUILD_TARGET # cargo-fuzz picks its own target and sanitizer flags
seconds="${FUZZ_SECONDS:-60}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target"
  echo "=== $target: ${seconds} s ==="
  # (pipefail: the pipeline's status is cargo fuzz's; grep finding nothing is fine.)
  status=0
  CARGO_TARGET_DIR=../target/fuzz cargo +nightly fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=5 2>&1 \
    | { grep -E '^(Done|#[0-9]+ +DONE)|SUMMARY|panicked|ERROR' || true; } || status=$?
  [ "$status" -eq 0 ] || { echo "$target: crash (see fuzz/artifacts/$target)"; exit 1; }
done
