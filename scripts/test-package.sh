#!/usr/bin/env bash
# Install-as-a-user tests of the release artefacts: builds dist/ once with
# scripts/package.sh, then uses every artefact the way a user would, outside
# the repository, against one miosa-emulator installed from its own wheel:
#
#   emulator  `pip install` of the miosa-emulator wheel in a fresh venv, started
#             as the `miosa-emulator` command; the bare binary starts too
#   python    fresh venv: the manylinux2014 wheel, then the sdist built from source
#   node      fresh npm folder: main + platform tarballs, `require` and `import`;
#             without the platform package, the loader's error names the platform
#   kotlin    a separate Maven project resolving ai.miosa:miosa-kotlin from dist/maven
#   c         the prefix copied elsewhere: the quickstart built with
#             `pkg-config --cflags --libs miosa`, and with CMake's find_package
#
# Every check runs the seed's quickstart (create, start, `print(1 + 1)`, destroy).
# SKIP_PACKAGE=1 reuses an existing dist/ instead of building it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST="$ROOT/dist"
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"

if [ "${SKIP_PACKAGE:-0}" != 1 ] || [ ! -d "$DIST" ]; then
  t0=$(date +%s)
  bash scripts/package.sh
  echo "package.sh took $(( $(date +%s) - t0 )) s"
fi
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)

work=$(mktemp -d /tmp/miosa-install-XXXXXX)
emu=""
cleanup() {
  [ -z "$emu" ] || { kill "$emu" 2>/dev/null || true; wait "$emu" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() { # NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then
    passed=$((passed + 1)); echo "ok: $1"
  else
    failed=$((failed + 1)); echo "FAILED: $1: expected '$2', got '$3'" >&2
  fi
}

# Starts an emulator command with --port 0 in the background; sets `emu`,
# MIOSA_API_KEY and MIOSA_BASE_URL from its first line.
start_emulator() {
  local log="$work/emulator.log" line=""
  "$@" --port 0 >"$log" 2>&1 &
  emu=$!
  for _ in $(seq 1 200); do
    line=$(head -n 1 "$log")
    [[ "$line" == "miosa-emulator listening "* ]] && break
    sleep 0.05
  done
  [[ "$line" == "miosa-emulator listening "* ]] || { echo "$1 did not start: $(cat "$log")" >&2; return 1; }
  MIOSA_BASE_URL=$(sed -n 's/.* base_url=\([^ ]*\).*/\1/p' <<<"$line")
  MIOSA_API_KEY=$(sed -n 's/.* api_key=\([^ ]*\).*/\1/p' <<<"$line")
  export MIOSA_BASE_URL MIOSA_API_KEY
}
stop_emulator() { kill "$emu"; wait "$emu" 2>/dev/null || true; emu=""; }

echo "--- emulator: the bare binary, then the wheel's console command"
start_emulator "$DIST/emulator/miosa-emulator"
check "bare miosa-emulator binary starts on 127.0.0.1" "http://127.0.0.1" "${MIOSA_BASE_URL%:*}"
stop_emulator
python3 -m venv "$work/emu-venv"
"$work/emu-venv/bin/pip" install --quiet --no-index "$DIST"/emulator/miosa_emulator-*.whl
start_emulator "$work/emu-venv/bin/miosa-emulator"
check "pip-installed miosa-emulator command starts" "http://127.0.0.1" "${MIOSA_BASE_URL%:*}"

echo "--- python: the wheel in a fresh venv"
mkdir "$work/python"
cp examples/python/quickstart.py examples/python/local_emulator.py "$work/python/"
python3 -m venv "$work/py-venv"
"$work/py-venv/bin/pip" install --quiet --no-index "$DIST"/python/miosa_native-*.whl
tag=$("$work/py-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("miosa-native"))')
check "installed miosa-native version" "$VERSION" "$tag"
check "wheel quickstart prints 2" "2" "$(cd "$work/python" && "$work/py-venv/bin/python" quickstart.py)"

echo "--- node: main and platform tarballs in a fresh folder"
mkdir "$work/node"
cp examples/node/quickstart.mjs examples/node/connect.mjs "$work/node/"
(
  cd "$work/node"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --loglevel=error \
    "$DIST/node/miosa-native-$VERSION.tgz" "$DIST/node/miosa-native-linux-x64-gnu-$VERSION.tgz"
)
check "main package holds no binary" "0" "$(find "$work/node/node_modules/miosa-native" -name '*.node' | wc -l)"
check "platform package holds the addon" "1" "$(find "$work/node/node_modules/miosa-native-linux-x64-gnu" -name 'miosa.linux-x64-gnu.node' | wc -l)"
check "require('miosa-native')" "function" \
  "$(cd "$work/node" && node -e "process.stdout.write(typeof require('miosa-native').Client)")"
check "import quickstart prints 2" "2" "$(cd "$work/node" && node quickstart.mjs 2>/dev/null)"

echo "--- node: main package without its platform package"
mkdir "$work/node-bare"
(
  cd "$work/node-bare"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --loglevel=error --omit=optional "$DIST/node/miosa-native-$VERSION.tgz"
)
# `require` loads the addon lazily: the first use of `Client` is what must fail clearly.
message=$(cd "$work/node-bare" && node -e "
  try { require('miosa-native').Client; console.log('loaded') } catch (e) { console.log(e.code + ': ' + e.message) }")
echo "$message"
check "loader error names this platform" "yes" \
  "$(grep -q 'for linux-x64-gnu: its package miosa-native-linux-x64-gnu' <<<"$message" && echo yes || echo no)"
check "loader error lists the supported platforms" "yes" \
  "$(grep -q 'darwin-arm64, win32-x64-msvc' <<<"$message" && echo yes || echo no)"

echo "--- kotlin: a separate Maven project depending on ai.miosa:miosa-kotlin:$VERSION"
# What an earlier run resolved must not stand in for the repository in dist/.
rm -rf "${HOME}/.m2/repository/ai/miosa/miosa-kotlin/$VERSION"
mkdir -p "$work/kotlin/src/main/kotlin"
sed -e "s|@VERSION@|$VERSION|" -e "s|@REPO@|file://$DIST/maven|" tests/package/kotlin/pom.xml.in > "$work/kotlin/pom.xml"
cp tests/package/kotlin/Main.kt "$work/kotlin/src/main/kotlin/"
# Maven prints its errors on stdout: keep everything, show it all on failure.
(cd "$work/kotlin" && mvn -B -ntp -q -Dstyle.color=never compile exec:java) >"$work/kotlin.log" 2>&1 \
  || cat "$work/kotlin.log" >&2
# Maven may still wrap the program's output in colour resets.
out=$(sed -e 's/\x1b\[[0-9;]*m//g' "$work/kotlin.log" | grep -v '^$' | tail -n 1)
check "kotlin quickstart prints 2" "2" "$out"

echo "--- c: the prefix moved elsewhere, pkg-config and CMake"
cp -a "$DIST/c" "$work/prefix"
mkdir "$work/c"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
check "pkg-config --modversion miosa" "$VERSION" "$(pkg-config --modversion miosa)"
# shellcheck disable=SC2046 # word splitting is what the flags need
cc -std=c11 -Wall -Werror examples/c/quickstart.c $(pkg-config --cflags --libs miosa) -o "$work/c/quickstart"
check "quickstart links libmiosa by SONAME" "libmiosa.so.${VERSION%%.*}" \
  "$(readelf -d "$work/c/quickstart" | sed -n 's/.*(NEEDED).*\[\(libmiosa[^]]*\)\]/\1/p')"
out=$(LD_LIBRARY_PATH="$work/prefix/lib" "$work/c/quickstart")
check "C quickstart (pkg-config, shared) prints 2" "yes" "$(grep -q 'output: 2' <<<"$out" && echo yes || echo no)"
if command -v cmake >/dev/null; then
  cmake -S tests/package/cmake -B "$work/cmake" -DCMAKE_PREFIX_PATH="$work/prefix" \
    -DMIOSA_VERSION="$VERSION" -DQUICKSTART="$ROOT/examples/c/quickstart.c" >/dev/null
  cmake --build "$work/cmake" >/dev/null
  out=$("$work/cmake/quickstart_static")
  check "C quickstart (CMake, miosa::miosa_static) prints 2" "yes" "$(grep -q 'output: 2' <<<"$out" && echo yes || echo no)"
else
  echo "cmake is not installed: the CMake package config is not exercised"
fi

echo "--- python: the sdist built from source by pip (last: it compiles the crate again)"
python3 -m venv "$work/sdist-venv"
# pip fetches maturin into an isolated build environment; the Rust build shares
# this checkout's target/ so it reuses the release dependencies.
CARGO_TARGET_DIR="$ROOT/target" "$work/sdist-venv/bin/pip" install --quiet "$DIST/python/miosa_native-$VERSION.tar.gz"
check "sdist quickstart prints 2" "2" "$(cd "$work/python" && "$work/sdist-venv/bin/python" quickstart.py)"

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
