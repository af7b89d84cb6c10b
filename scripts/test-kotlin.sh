#!/usr/bin/env bash
# Kotlin (and the Swift sources) through UniFFI: builds the library, the bindgen
# and the emulator, checks that the checked-in bindings are what the library
# generates, then compiles the Kotlin with Maven and runs its suite against
# miosa-emulator. Swift is generated only: no Swift toolchain exists here.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
# Every emulator this suite starts runs in strict mode, so a client sending a
# field the API does not take, or a non-canonical spelling, fails here.
export MIOSA_EMULATOR_STRICT=1

# A JDK (17+) and Maven; Maven then fetches Kotlin, JNA, coroutines and JUnit from Maven Central.
if ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven openjdk-17-jdk-headless >/dev/null
fi

python3 codegen/generate.py --check
cargo build --locked -p miosa-uniffi -p uniffi-bindgen -p miosa-emulator
cargo fmt -p miosa-uniffi -p uniffi-bindgen -- --check
cargo clippy --locked -p miosa-uniffi -p uniffi-bindgen --all-targets -- -D warnings
cargo test --locked -p miosa-uniffi
bindings-uniffi/generate.sh --check

# Static checks of the generated Swift (no Swift compiler here) and Kotlin: a
# tree-sitter parse of every .swift file plus checks of the generated surface.
venv=target/swift-check-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check tree-sitter==0.26.1 tree-sitter-swift==0.7.4
"$venv/bin/python" -m unittest discover -s bindings-uniffi/tests -v

# The Android build needs the NDK and the Android Rust targets, which this machine
# lacks: the script must say so and fail rather than build something partial.
if android_log=$(ANDROID_NDK_HOME= ANDROID_NDK_ROOT= scripts/build-android.sh 2>&1); then
  echo "scripts/build-android.sh succeeded without an Android NDK" >&2
  exit 1
fi
grep -q "missing:" <<<"$android_log" || { echo "$android_log" >&2; exit 1; }
echo "build-android.sh: refuses to run without the Android NDK, as it should"

start=$(date +%s)
(cd bindings-uniffi/kotlin && mvn -B -ntp test)
echo "kotlin suite (compile + tests): $(( $(date +%s) - start )) s"
