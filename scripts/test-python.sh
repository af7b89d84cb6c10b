#!/usr/bin/env bash
# Python: build the `miosa-native` wheel with maturin, install it into a fresh
# venv, and run the pytest suite (which starts its own miosa-emulator, walks all
# 169 seed operations, checks stubs, and `mypy --strict` and pyright strict on the
# examples and the typed user program), then
# run the examples against the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
# Every emulator this suite starts runs in strict mode, so a client sending a
# field the API does not take, or a non-canonical spelling, fails here.
export MIOSA_EMULATOR_STRICT=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
PY="${PYTHON:-python3}"

cargo fmt -p miosa-python -- --check
cargo clippy -p miosa-python --no-deps --all-targets --locked -- -D warnings
cargo build -p miosa-emulator --locked

# A fresh venv every run, so the suite sees only what the wheel installs.
rm -rf .venv
"$PY" -m venv .venv
# pyright (from PyPI; it fetches its Node package on first use) checks the typed user program.
.venv/bin/pip install --quiet maturin==1.16.0 pytest mypy pyright hypothesis tqdm

rm -f dist/miosa_native-*.whl
.venv/bin/maturin build --locked -m bindings-python/Cargo.toml -i .venv/bin/python -o dist
.venv/bin/pip install --quiet --force-reinstall dist/miosa_native-*.whl

# Run from outside the checkout so `import miosa_native` resolves to the installed wheel.
(cd bindings-python/tests && ../../.venv/bin/python -m pytest -q -p no:cacheprovider .)

# The examples, against an emulator they start themselves.
out=$(.venv/bin/python examples/python/quickstart.py)
[ "$out" = "2" ] || { echo "quickstart printed '$out', expected 2" >&2; exit 1; }
.venv/bin/python examples/python/white_label.py
.venv/bin/python examples/python/flows.py >/dev/null
out=$(.venv/bin/python examples/python/transfer_progress.py 2>/dev/null)
[ "$out" = "identical" ] || { echo "transfer_progress printed '$out', expected identical" >&2; exit 1; }
out=$(.venv/bin/python examples/python/flows_async.py)
[ "$out" = "2" ] || { echo "flows_async printed '$out', expected 2" >&2; exit 1; }
echo "python: wheel $(du -h dist/miosa_native-*.whl | cut -f1), suite and examples passed"
