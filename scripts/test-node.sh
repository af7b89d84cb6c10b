#!/usr/bin/env bash
# Node: build the addon (debug) and the emulator, check the generated files,
# lint the crate, run the node:test suite against the emulator, run the
# examples, then `npm pack` and install the tarball into a fresh folder and use
# it there. Idempotent; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
# Every emulator this suite starts runs in strict mode, so a client sending a
# field the API does not take, or a non-canonical spelling, fails here.
export MIOSA_EMULATOR_STRICT=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The tests, examples and the fresh install find the emulator binary here.
export MIOSA_EMULATOR_BIN="${MIOSA_EMULATOR_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/$CARGO_BUILD_TARGET/debug/miosa-emulator}"

# @napi-rs/cli 3 needs Node ^20.17 (the package itself supports Node 18+).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
node -e 'const [a, b] = process.versions.node.split(".").map(Number);
  if (a < 20 || (a === 20 && b < 17)) { console.error(`Node ${process.versions.node} is too old to build (need >= 20.17)`); process.exit(1) }'

echo "--- build: emulator and addon"
cargo build -p miosa-emulator --locked
(cd bindings-node && npm ci --no-audit --no-fund --loglevel=error)
(cd bindings-node && npx napi build --platform --js native.js --dts native.d.ts)

echo "--- generated files are up to date"
python3 - <<'EOF'
import sys
sys.path.insert(0, "codegen")
from table import ROOT, load_table
from targets import node
stale = [p for p, text in node.render(load_table()).items() if (ROOT / p).read_text() != text]
if stale:
    sys.exit("stale generated files (run python3 codegen/generate.py): " + ", ".join(stale))
EOF
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git diff --exit-code -- bindings-node/native.js bindings-node/native.d.ts \
    || { echo "napi's generated loader or typings changed: commit them" >&2; exit 1; }
fi

echo "--- lint"
cargo fmt -p miosa-node -- --check
cargo clippy -p miosa-node --all-targets --locked -- -D warnings

echo "--- node:test suite"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
(cd bindings-node && node --test __test__/*.test.js) | tee "$report"
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$report" | tail -1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$report" | tail -1)

echo "--- examples"
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error)
out=$(node examples/node/quickstart.mjs)
[ "$out" = "2" ] || { echo "quickstart printed '$out', expected 2" >&2; exit 1; }
echo "quickstart.mjs printed $out"
out=$(node examples/node/transfer_progress.mjs)
[ "$out" = "copy matches: 16777216 bytes" ] || { echo "transfer_progress.mjs printed '$out'" >&2; exit 1; }
echo "transfer_progress.mjs printed $out"
bindings-node/node_modules/.bin/tsc -p examples/node
node examples/node/white-label.js

echo "--- npm pack, installed into a fresh folder"
fresh=$(mktemp -d)
trap 'rm -f "$report"; rm -rf "$fresh"' EXIT
(cd bindings-node && npm pack --silent --pack-destination "$fresh" >/dev/null)
tarball=$(ls "$fresh"/miosa-native-*.tgz)
echo "packed $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"
mkdir "$fresh/app"
cp examples/node/quickstart.mjs examples/node/connect.mjs "$fresh/app/"
(
  cd "$fresh/app"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --loglevel=error "$tarball"
  node -e "const m = require('miosa-native'); if (typeof m.Client !== 'function' || !(new m.NotFoundError('x') instanceof m.MiosaError)) process.exit(1)"
  out=$(node quickstart.mjs 2>/dev/null)
  [ "$out" = "2" ] || { echo "the installed package printed '$out', expected 2" >&2; exit 1; }
  echo "installed package: require works, quickstart.mjs printed $out"
)

echo "node: ${passed:-0} passed, ${failed:-0} failed"
[ "${failed:-1}" = "0" ]
