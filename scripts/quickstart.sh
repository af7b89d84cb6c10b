#!/usr/bin/env bash
# The seed's "First request": against MIOSA when MIOSA_API_KEY is set, else a local emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
cargo run --quiet -p miosa --example quickstart
