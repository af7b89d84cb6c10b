#!/usr/bin/env bash
# Rust: formatting, lints, generated files, and every Rust test (core against the emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
# Every emulator this suite starts runs in strict mode, so a client sending a
# field the API does not take, or a non-canonical spelling, fails here.
export MIOSA_EMULATOR_STRICT=1

python3 codegen/generate.py --check
cargo fmt --all -- --check
cargo clippy -p miosa -p miosa-emulator --all-targets --locked -- -D warnings
cargo test -p miosa -p miosa-emulator --locked
