#!/usr/bin/env bash
# Regenerates the Kotlin and Swift sources, the C header and the modulemap from
# the built library with the workspace's own uniffi-bindgen (library mode).
#   bindings-uniffi/generate.sh          write them into bindings-uniffi/
#   bindings-uniffi/generate.sh --check  fail when a checked-in file differs
# The dev cdylib is used on purpose: a stripped library has lost UniFFI's metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
check=0
[ "${1:-}" = "--check" ] && check=1

D="target/$CARGO_BUILD_TARGET/debug"
cargo build --quiet -p miosa-uniffi -p uniffi-bindgen
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# -n: no ktlint/swiftformat here; the checked-in files are the bindgen's raw output.
"$D/uniffi-bindgen" generate "$D/libmiosa_uniffi.so" -l kotlin -l swift -n \
  --config uniffi.toml -o "$tmp/out" >/dev/null

# What UniFFI's templates do not give Kotlin and Swift users (see the script's docstring).
python3 bindings-uniffi/postprocess.py "$tmp/out/ai/miosa/miosa.kt" "$tmp/out/Miosa.swift"

# generated file -> its place in the Maven project and the Swift package
map=(
  "ai/miosa/miosa.kt:kotlin/src/main/kotlin/ai/miosa/miosa.kt"
  "Miosa.swift:swift/Sources/Miosa/Miosa.swift"
  "MiosaFFI.h:swift/Sources/MiosaFFI/MiosaFFI.h"
  "MiosaFFI.modulemap:swift/Sources/MiosaFFI/module.modulemap"
)
expected=$(printf '%s\n' "${map[@]}" | cut -d: -f1 | sort)
produced=$(cd "$tmp/out" && find . -type f | sed 's|^\./||' | sort)
if [ "$expected" != "$produced" ]; then
  echo "uniffi-bindgen produced an unexpected set of files:" >&2
  echo "$produced" >&2
  exit 1
fi

stale=0
for entry in "${map[@]}"; do
  src="$tmp/out/${entry%%:*}"
  dst="bindings-uniffi/${entry#*:}"
  if ! cmp -s "$src" "$dst"; then
    if [ "$check" = 1 ]; then
      echo "stale: $dst" >&2
      diff -u "$dst" "$src" | head -20 >&2 || true
      stale=1
    else
      mkdir -p "$(dirname "$dst")"
      cp "$src" "$dst"
      echo "wrote $dst"
    fi
  fi
done
if [ "$stale" = 1 ]; then
  echo "the UniFFI bindings are stale: run bindings-uniffi/generate.sh" >&2
  exit 1
fi
[ "$check" = 1 ] && echo "uniffi bindings: up to date"
exit 0
