#!/usr/bin/env bash
# Benchmarks (issue #9): builds the release artefacts, starts one miosa-emulator,
# runs the Rust (bench/, `miosa-bench`), Python (bench/python/bench.py, in its
# own venv .venv-bench) and Node (bench/node/bench.mjs) benchmarks against it,
# and writes BENCHMARKS.md. Prints numbers; asserts none. Not part of the test
# suite (scripts/test-*.sh and .ci never call it).
#
#   bash scripts/bench.sh
#
# Environment: BENCH_RUNS (3: measured runs per figure; tables show medians),
# BENCH_SCALE (1.0: multiplies the call counts), BENCH_PIN (0; 1 pins the
# emulator to CPU 1 and the clients to CPU 0 with taskset), BENCH_ONLY
# (rust,python,node,import,callgrind), BENCH_OUT (BENCHMARKS.md),
# BENCH_PROFILE (dist: the Cargo profile of the shipped artefacts; release
# builds quicker), BENCH_CALLGRIND_CALLS (50,250: the two call counts whose
# difference callgrind measures).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
export CARGO_TERM_COLOR=never
PROFILE="${BENCH_PROFILE:-dist}"
R="target/$CARGO_BUILD_TARGET/$PROFILE"
OUT=target/bench
RUNS="${BENCH_RUNS:-3}"
SCALE="${BENCH_SCALE:-1}"
ONLY="${BENCH_ONLY:-rust,python,node,import,callgrind}"
REPORT="${BENCH_OUT:-BENCHMARKS.md}"
mkdir -p "$OUT"
rm -f "$OUT"/rust.json "$OUT"/python.json "$OUT"/node.json "$OUT"/import.json "$OUT"/callgrind.json "$OUT"/build-times.tsv
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

# Pinning (emulator on CPU 1, clients on CPU 0) is off by default: on the
# 2-CPU machine of BENCHMARKS.md it made every figure slower and noisier (the
# client's runtime threads then share one core with whatever else runs there;
# floor p50 at c=1 went from ~37 to ~65 µs, p99 from ~0.1 to ~4 ms).
PIN="${BENCH_PIN:-0}"
if [ "$PIN" = 1 ] && { [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null; }; then PIN=0; fi
SERVER=() CLIENT=()
if [ "$PIN" = 1 ]; then SERVER=(taskset -c 1) CLIENT=(taskset -c 0); fi

timed() { # timed NAME CMD... : runs CMD, appends "NAME<TAB>seconds" to build-times.tsv
  local name=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  awk -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s\t%.1f\n", n, b - a }' >>"$OUT/build-times.tsv"
}

echo "--- $PROFILE builds (same commands as the binding scripts, plus --profile $PROFILE)"
timed "emulator + miosa-bench (cargo build --profile $PROFILE)" \
  cargo build --profile "$PROFILE" --locked -p miosa-emulator -p miosa-bench

if wants python || wants import || wants callgrind; then
  if [ ! -x .venv-bench/bin/python ]; then
    python3 -m venv .venv-bench
  fi
  .venv-bench/bin/pip install --quiet maturin==1.16.0 httpx==0.28.1 miosa==2.19.2
  rm -rf "$OUT/wheels"
  timed "Python wheel (maturin build --profile $PROFILE)" \
    .venv-bench/bin/maturin build --quiet --profile "$PROFILE" --locked -m bindings-python/Cargo.toml -i .venv-bench/bin/python -o "$OUT/wheels"
  .venv-bench/bin/pip install --quiet --force-reinstall --no-deps "$OUT"/wheels/miosa_native-*.whl
fi
if wants node || wants import || wants callgrind; then
  [ -d bindings-node/node_modules/@napi-rs/cli ] || (cd bindings-node && npm ci --no-audit --no-fund --loglevel=error)
  # Staged outside bindings-node so the binding's own (debug) build is left alone.
  rm -rf "$OUT/node-pkg"
  mkdir -p "$OUT/node-pkg"
  timed "Node addon (napi build --profile $PROFILE)" \
    bash -c "cd bindings-node && npx napi build --platform --profile '$PROFILE' --output-dir '$ROOT/$OUT/node-pkg' --js native.js --dts native.d.ts >/dev/null"
  cp -r bindings-node/lib bindings-node/package.json "$OUT/node-pkg/"
fi
timed "C library libmiosa.so/.a (cargo build --profile $PROFILE -p miosa-c)" \
  cargo build --profile "$PROFILE" --locked -p miosa-c
timed "UniFFI cdylib (cargo build --profile $PROFILE -p miosa-uniffi)" \
  cargo build --profile "$PROFILE" --locked -p miosa-uniffi

size() { stat -c %s "$1" 2>/dev/null || echo null; }
cargo_profile() { # the settings of [profile.NAME] in Cargo.toml, on one line
  awk -v want="[profile.$1]" '$0 == want { on = 1; next } /^\[/ { on = 0 } on && /=/ { gsub(/"/, ""); printf "%s%s", sep, $0; sep = ", " }' Cargo.toml
}
wheel=$(ls "$OUT"/wheels/miosa_native-*.whl 2>/dev/null | head -1 || true)
wheel_so=null
if [ -n "$wheel" ]; then
  wheel_so=$(python3 -c 'import sys, zipfile; print(max(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist() if i.filename.endswith(".so")))' "$wheel")
fi
cat >"$OUT/artefacts.json" <<EOF
{
  "wheel": $( [ -n "$wheel" ] && size "$wheel" || echo null ),
  "wheel_so": $wheel_so,
  "node": $(size "$OUT/node-pkg/miosa.linux-x64-gnu.node"),
  "libmiosa_so": $(size "$R/libmiosa.so"),
  "libmiosa_a": $(size "$R/libmiosa.a"),
  "uniffi_so": $(size "$R/libmiosa_uniffi.so"),
  "emulator": $(size "$R/miosa-emulator"),
  "profile_name": "$PROFILE",
  "profile": "$(cargo_profile "$PROFILE")"
}
EOF

echo "--- machine"
cat >"$OUT/machine.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "nproc": $(nproc),
  "cpu": "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)",
  "mem_total_kb": $(awk '/^MemTotal/ {print $2}' /proc/meminfo),
  "os": "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)",
  "rustc": "$(rustc --version)",
  "python": "$(.venv-bench/bin/python --version 2>&1 || python3 --version)",
  "node": "$(node --version 2>/dev/null || echo none)",
  "load_before": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "pinned": $PIN,
  "runs": $RUNS,
  "scale": $SCALE
}
EOF
cat "$OUT/machine.json"

echo "--- emulator"
log="$OUT/emulator.log"
"${SERVER[@]}" "$R/miosa-emulator" --port 0 >"$log" 2>&1 &
EMU=$!
trap 'kill "$EMU" 2>/dev/null || true; wait "$EMU" 2>/dev/null || true' EXIT
line=""
for _ in $(seq 1 200); do
  line=$(head -n 1 "$log" 2>/dev/null || true)
  [[ "$line" == "miosa-emulator listening "* ]] && break
  sleep 0.05
done
[[ "$line" == "miosa-emulator listening "* ]] || { echo "the emulator did not start: $(cat "$log")" >&2; exit 1; }
BASE=$(sed -n 's/.* base_url=\([^ ]*\).*/\1/p' <<<"$line")
KEY=$(sed -n 's/.* api_key=\([^ ]*\).*/\1/p' <<<"$line")
echo "$line (pid $EMU, pinned: $PIN)"
reset() { curl -fsS -X POST -H "Authorization: Bearer $KEY" "$BASE/_emulator/reset" >/dev/null; }

if wants rust; then
  echo "--- Rust: floor, core, SSE, 1,000 in flight"
  reset
  "${CLIENT[@]}" "$R/miosa-bench" --base-url "$BASE" --api-key "$KEY" --emulator-pid "$EMU" \
    --runs "$RUNS" --scale "$SCALE" --json "$OUT/rust.json"
fi
if wants python; then
  echo "--- Python"
  reset
  "${CLIENT[@]}" .venv-bench/bin/python bench/python/bench.py --base-url "$BASE" --api-key "$KEY" \
    --runs "$RUNS" --scale "$SCALE" --json "$OUT/python.json"
fi
if wants node; then
  echo "--- Node"
  reset
  "${CLIENT[@]}" node bench/node/bench.mjs --pkg "$OUT/node-pkg" --base-url "$BASE" --api-key "$KEY" \
    --runs "$RUNS" --scale "$SCALE" --json "$OUT/node.json"
fi

if wants import; then
  echo "--- start-up: import and require against a bare interpreter"
  python3 bench/import_time.py --python .venv-bench/bin/python --node-pkg "$OUT/node-pkg" --runs 20 --json "$OUT/import.json"
fi
if wants callgrind; then
  if command -v valgrind >/dev/null; then
    echo "--- callgrind: instructions per sandboxes.get call"
    reset
    python3 bench/callgrind.py --base-url "$BASE" --api-key "$KEY" --bench-bin "$R/miosa-bench" \
      --python .venv-bench/bin/python --node-pkg "$OUT/node-pkg" --calls "${BENCH_CALLGRIND_CALLS:-50,250}" \
      --json "$OUT/callgrind.json"
  else
    echo "--- callgrind: skipped, valgrind is not installed (apt-get install -y valgrind)"
  fi
fi

python3 - "$OUT/machine.json" <<'EOF'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
m["load_after"] = " ".join(open("/proc/loadavg").read().split()[:3])
json.dump(m, open(p, "w"), indent=2)
EOF
python3 bench/report.py "$OUT" >"$REPORT"
echo "wrote $REPORT"
