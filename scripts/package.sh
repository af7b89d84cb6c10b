#!/usr/bin/env bash
# Builds the release artefacts into dist/. This script is the single source of
# what a release contains: the release workflows call it, part by part and
# platform by platform, and publish what it leaves in dist/.
#
#   bash scripts/package.sh [PART...]     # PART: python emulator node kotlin c swift
#                                         # (default: all; swift only on macOS)
#
# For the host target (x86_64-unknown-linux-gnu here) it writes:
#   dist/python/    miosa_native-V-cp39-abi3-manylinux_2_17_x86_64...whl, miosa_native-V.tar.gz
#   dist/emulator/  miosa_emulator-V-py3-none-manylinux_2_17_x86_64...whl, miosa-emulator (binary)
#   dist/node/      miosa-native-V.tgz (JS, typings, no binary) and
#                   miosa-native-linux-x64-gnu-V.tgz (the addon)
#   dist/maven/     a Maven repository: ai.miosa:miosa-kotlin:V (jar carrying
#                   linux-x86-64/libmiosa_uniffi.so, sources jar, pom)
#   dist/c/         a movable prefix: include/, lib/libmiosa.so.V (+ .so.MAJOR, .so),
#                   lib/libmiosa.a, lib/pkgconfig/miosa.pc, lib/cmake/miosa/
#   dist/swift/     MiosaFFI.xcframework.zip (macOS only)
#   dist/SHA256SUMS
#
# CARGO_BUILD_TARGET picks another target (the release matrix does). For the
# jar with every platform's library, MIOSA_JVM_NATIVE_DIR names a folder that
# already holds them in JNA's layout (linux-x86-64/, darwin-aarch64/, ...).
#
# One version for everything: [workspace.package] version in Cargo.toml. The
# package.json files, the npm/ platform packages, the pom and the Swift release
# manifest must say the same; this script stops when one does not.
#
# Release profile: Cargo.toml's (no LTO, 16 codegen units, debuginfo stripped),
# chosen for build time on 2-core CI machines.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
TRIPLE=$CARGO_BUILD_TARGET
RELEASE="$ROOT/target/$TRIPLE/release"
DIST="$ROOT/dist"
STAGE="$ROOT/target/package"
start=$(date +%s)

step() { echo "--- $* ($(( $(date +%s) - start )) s)"; }
fail() { echo "package.sh: $*" >&2; exit 1; }

# napi's platform name (npm package suffix), JNA's resource folder and the
# shared library's file name for each target the release builds.
case "$TRIPLE" in
  x86_64-unknown-linux-gnu)   NAPI=linux-x64-gnu    JNA=linux-x86-64   DYLIB=libmiosa_uniffi.so ;;
  aarch64-unknown-linux-gnu)  NAPI=linux-arm64-gnu  JNA=linux-aarch64  DYLIB=libmiosa_uniffi.so ;;
  x86_64-unknown-linux-musl)  NAPI=linux-x64-musl   JNA=linux-x86-64   DYLIB=libmiosa_uniffi.so ;;
  aarch64-unknown-linux-musl) NAPI=linux-arm64-musl JNA=linux-aarch64  DYLIB=libmiosa_uniffi.so ;;
  x86_64-apple-darwin)        NAPI=darwin-x64       JNA=darwin-x86-64  DYLIB=libmiosa_uniffi.dylib ;;
  aarch64-apple-darwin)       NAPI=darwin-arm64     JNA=darwin-aarch64 DYLIB=libmiosa_uniffi.dylib ;;
  x86_64-pc-windows-msvc)     NAPI=win32-x64-msvc   JNA=win32-x86-64   DYLIB=miosa_uniffi.dll ;;
  *) fail "no release target $TRIPLE (see bindings-node/package.json napi.targets)" ;;
esac

if [ $# -gt 0 ]; then
  parts=("$@")
else
  parts=(python emulator node kotlin c)
  [ "$(uname -s)" != Darwin ] || parts+=(swift)
fi

VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[ -n "$VERSION" ] || fail "no [workspace.package] version in Cargo.toml"

step "version $VERSION everywhere"
for manifest in bindings-node/package.json bindings-node/npm/*/package.json; do
  v=$(node -p "require('$ROOT/$manifest').version")
  [ "$v" = "$VERSION" ] || fail "$manifest says $v, the workspace $VERSION"
done
pom_version=$(sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' bindings-uniffi/kotlin/pom.xml)
[ "$pom_version" = "$VERSION" ] || fail "bindings-uniffi/kotlin/pom.xml says $pom_version, the workspace $VERSION"
swift_version=$(sed -n 's/^let version = "\(.*\)"/\1/p' Package.swift)
[ "$swift_version" = "$VERSION" ] || fail "Package.swift says $swift_version, the workspace $VERSION"

rm -rf "$DIST" "$STAGE"
mkdir -p "$DIST" "$STAGE"

# maturin, and on Linux zig to link against glibc 2.17 (manylinux2014) and auditwheel to prove it.
python_tools() {
  TOOLS="$ROOT/.venv-package"
  [ -x "$TOOLS/bin/python" ] || python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check maturin==1.16.0 ziglang==0.17.1 auditwheel==6.8.2
  export PATH="$TOOLS/bin:$PATH" # maturin --zig runs `python -m ziglang`
}

wheel() {
  case "$TRIPLE" in
    *-linux-gnu) maturin build --release --locked --zig --compatibility manylinux2014 "$@"
      local w report
      for w in "$out"/*.whl; do
        report=$(auditwheel show "$w")
        [[ "$report" == *'"manylinux_2_17_'* ]] || fail "$(basename "$w") is not manylinux2014: $report"
      done ;;
    *-linux-musl) maturin build --release --locked --zig --compatibility musllinux_1_2 "$@" ;;
    *) maturin build --release --locked "$@" ;;
  esac
}

part_python() {
  step "python: miosa-native wheel and sdist"
  python_tools
  out="$DIST/python"
  wheel -m bindings-python/Cargo.toml -i "$TOOLS/bin/python" -o "$out"
  maturin sdist -m bindings-python/Cargo.toml -o "$out"
}

part_emulator() {
  step "emulator: miosa-emulator wheel (console command) and bare binary"
  python_tools
  out="$DIST/emulator"
  wheel -m emulator/Cargo.toml -o "$out"
  local exe=miosa-emulator
  [[ "$TRIPLE" != *-windows-* ]] || exe=miosa-emulator.exe
  cp "$RELEASE/$exe" "$out/"
}

part_node() {
  step "node: main package and the $NAPI platform package"
  (cd bindings-node && npm ci --no-audit --no-fund --loglevel=error \
    && npx napi build --platform --release --no-js --output-dir "$STAGE/node-bin" --dts "$STAGE/node-bin/unused.d.ts")
  mkdir -p "$DIST/node"
  local main="$STAGE/node-main" platform="$STAGE/node-$NAPI"
  mkdir -p "$main" "$platform"
  cp -r bindings-node/lib bindings-node/native.js bindings-node/native.d.ts bindings-node/README.md "$main/"
  # The published main package holds no binary: npm installs the platform
  # package that matches (os/cpu/libc) from optionalDependencies.
  node - "$ROOT/bindings-node" "$main/package.json" <<'EOF'
const fs = require('fs')
const [dir, dest] = process.argv.slice(2)
const pkg = JSON.parse(fs.readFileSync(`${dir}/package.json`, 'utf8'))
pkg.files = pkg.files.filter((f) => !f.endsWith('.node'))
pkg.optionalDependencies = {}
for (const platform of fs.readdirSync(`${dir}/npm`).sort()) {
  const sub = JSON.parse(fs.readFileSync(`${dir}/npm/${platform}/package.json`, 'utf8'))
  pkg.optionalDependencies[sub.name] = sub.version
}
delete pkg.devDependencies
delete pkg.scripts
fs.writeFileSync(dest, JSON.stringify(pkg, null, 2) + '\n')
EOF
  cp "bindings-node/npm/$NAPI/package.json" "bindings-node/npm/$NAPI/README.md" "$platform/"
  cp "$STAGE/node-bin/miosa.$NAPI.node" "$platform/"
  (cd "$main" && npm pack --silent --pack-destination "$DIST/node" >/dev/null)
  (cd "$platform" && npm pack --silent --pack-destination "$DIST/node" >/dev/null)
  local listing
  listing=$(tar -tzf "$DIST/node/miosa-native-$VERSION.tgz")
  [[ "$listing" != *.node* ]] || fail "the main npm package carries a binary: $listing"
}

part_kotlin() {
  step "kotlin: ai.miosa:miosa-kotlin:$VERSION in a Maven repository"
  local natives="${MIOSA_JVM_NATIVE_DIR:-}"
  if [ -z "$natives" ]; then
    cargo build --release --locked -p miosa-uniffi
    natives="$STAGE/jvm"
    mkdir -p "$natives/$JNA"
    cp "$RELEASE/$DYLIB" "$natives/$JNA/"
  fi
  # A JDK and Maven, as scripts/test-kotlin.sh installs them.
  if ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven openjdk-17-jdk-headless >/dev/null
  fi
  mvn -B -ntp -q -f bindings-uniffi/kotlin/pom.xml -Pdist \
    -Dmiosa.native.resources="$natives" -Dmaven.test.skip=true \
    -DaltDeploymentRepository="dist::file://$DIST/maven" clean deploy
  local jar="$DIST/maven/ai/miosa/miosa-kotlin/$VERSION/miosa-kotlin-$VERSION.jar"
  local listing
  listing=$(unzip -l "$jar")
  [[ "$listing" == *" $JNA/$DYLIB"* ]] || fail "$jar lacks $JNA/$DYLIB"
}

part_c() {
  step "c: install prefix"
  [[ "$TRIPLE" == *-linux-* ]] || fail "the C prefix is built on Linux only"
  make -s -C bindings-c install TRIPLE="$TRIPLE" PREFIX="$DIST/c" PC_PREFIX='$${pcfiledir}/../..'
  local soname
  soname=$(readelf -d "$DIST/c/lib/libmiosa.so.$VERSION" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [ "$soname" = "libmiosa.so.${VERSION%%.*}" ] || fail "libmiosa.so has SONAME '$soname'"
  # Neither library may export anything but the miosa_ API (no Rust std, no compiler builtins).
  local foreign
  foreign=$( { nm -D --defined-only "$DIST/c/lib/libmiosa.so.$VERSION"; nm -g --defined-only "$DIST/c/lib/libmiosa.a" 2>/dev/null; } \
    | awk 'NF == 3 && $3 !~ /^miosa_/ {print $3}' | head -n 5)
  [ -z "$foreign" ] || fail "libmiosa exports symbols outside the miosa_ API: $foreign"
}

part_swift() {
  step "swift: MiosaFFI.xcframework"
  bindings-uniffi/swift/build-xcframework.sh "$DIST/swift"
}

for part in "${parts[@]}"; do
  declare -F "part_$part" >/dev/null || fail "no part '$part' (python emulator node kotlin c swift)"
  "part_$part"
done
[ "$(uname -s)" = Darwin ] || echo "(swift: the XCFramework needs macOS and Xcode, see bindings-uniffi/swift/build-xcframework.sh)"

(cd "$DIST" && find . -type f ! -name SHA256SUMS ! -path './maven/*' | sort | xargs -r sha256sum > SHA256SUMS)
step "dist/"
find "$DIST" -type f \( -name '*.whl' -o -name '*.tar.gz' -o -name '*.tgz' -o -name 'miosa-emulator' \
  -o -name 'miosa-kotlin-*.jar' -o -name 'libmiosa.so.*' -o -name 'libmiosa.a' \) -printf '%8k KiB  %P\n' | sort -k3
echo "package: version $VERSION, ${parts[*]} built in $(( $(date +%s) - start )) s"
