#!/usr/bin/env bash
# Builds the Android library: dist/android/miosa-android-<version>.aar and its
# .pom, for Gradle projects (`implementation("ai.miosa:miosa-android:<version>")`).
#
# The AAR holds the Kotlin classes (classes.jar, compiled by the Maven project in
# bindings-uniffi/kotlin), libmiosa_uniffi.so for each ABI under jni/<abi>/ (the
# AAR's name for a module's jniLibs/<abi>/), the consumer R8/ProGuard rules
# (proguard.txt) and a manifest asking for INTERNET. Its .pom depends on
# net.java.dev.jna:jna as an `aar`, which carries JNA's own Android natives.
#
# Needs what this project's Linux CI does not have, so it runs on a maintainer's
# machine or a release runner:
#   - the Android NDK, found through ANDROID_NDK_HOME (or ANDROID_NDK_ROOT);
#   - the Rust targets: rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
#   - cargo-ndk: cargo install cargo-ndk
#   - a JDK 17 and Maven.
# It stops at once, saying what is missing, when any of these is absent.
#
#   scripts/build-android.sh [ABI...]     (default: arm64-v8a armeabi-v7a x86_64)
set -euo pipefail
cd "$(dirname "$0")/.."

abis=("$@")
[ ${#abis[@]} -gt 0 ] || abis=(arm64-v8a armeabi-v7a x86_64)

missing=()
ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
if [ -z "$ndk" ] || [ ! -d "$ndk/toolchains/llvm" ]; then
  missing+=("the Android NDK (set ANDROID_NDK_HOME to it)")
fi
command -v cargo-ndk >/dev/null || missing+=("cargo-ndk (cargo install cargo-ndk)")
command -v mvn >/dev/null || missing+=("Maven")
command -v jar >/dev/null || missing+=("a JDK (the jar tool)")
installed="$(rustup target list --installed 2>/dev/null || true)"
for abi in "${abis[@]}"; do
  case "$abi" in
    arm64-v8a) triple=aarch64-linux-android ;;
    armeabi-v7a) triple=armv7-linux-androideabi ;;
    x86_64) triple=x86_64-linux-android ;;
    x86) triple=i686-linux-android ;;
    *) echo "build-android: unknown ABI $abi (arm64-v8a, armeabi-v7a, x86_64, x86)" >&2; exit 2 ;;
  esac
  grep -qx "$triple" <<<"$installed" || missing+=("the Rust target $triple (rustup target add $triple)")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-android: cannot build the Android library here; missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
out=dist/android
work=target/android-aar
rm -rf "$work" && mkdir -p "$work/aar" "$out"

# Native libraries, one directory per ABI. CARGO_BUILD_TARGET is the host's
# elsewhere in this repository; cargo-ndk picks each Android target itself.
unset CARGO_BUILD_TARGET
ndk_targets=()
for abi in "${abis[@]}"; do ndk_targets+=(-t "$abi"); done
cargo ndk "${ndk_targets[@]}" -o "$work/jniLibs" build --locked --release -p miosa-uniffi
for abi in "${abis[@]}"; do
  test -f "$work/jniLibs/$abi/libmiosa_uniffi.so" || { echo "build-android: no library for $abi" >&2; exit 1; }
done

# The Kotlin classes, without tests (they need the host library and the emulator).
(cd bindings-uniffi/kotlin && mvn -B -ntp -q -DskipTests -Dmaven.test.skip=true package)
cp "bindings-uniffi/kotlin/target/miosa-kotlin-$version.jar" "$work/aar/classes.jar"

cp bindings-uniffi/kotlin/android/AndroidManifest.xml "$work/aar/AndroidManifest.xml"
cp bindings-uniffi/kotlin/android/consumer-rules.pro "$work/aar/proguard.txt"
mkdir -p "$work/aar/jni"
cp -r "$work/jniLibs/." "$work/aar/jni/"
: > "$work/aar/R.txt"
(cd "$work/aar" && jar cfM "../miosa-android-$version.aar" .)
mv "$work/miosa-android-$version.aar" "$out/"

pom_version() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" bindings-uniffi/kotlin/pom.xml | head -1; }
cat > "$out/miosa-android-$version.pom" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>ai.miosa</groupId>
  <artifactId>miosa-android</artifactId>
  <version>$version</version>
  <packaging>aar</packaging>
  <dependencies>
    <dependency>
      <groupId>net.java.dev.jna</groupId>
      <artifactId>jna</artifactId>
      <version>$(pom_version jna.version)</version>
      <type>aar</type>
    </dependency>
    <dependency>
      <groupId>org.jetbrains.kotlin</groupId>
      <artifactId>kotlin-stdlib</artifactId>
      <version>$(pom_version kotlin.stdlib.version)</version>
    </dependency>
    <dependency>
      <groupId>org.jetbrains.kotlinx</groupId>
      <artifactId>kotlinx-coroutines-android</artifactId>
      <version>$(pom_version coroutines.version)</version>
    </dependency>
    <dependency>
      <groupId>org.jetbrains.kotlinx</groupId>
      <artifactId>kotlinx-serialization-json</artifactId>
      <version>$(pom_version serialization.version)</version>
    </dependency>
  </dependencies>
</project>
EOF
echo "built $out/miosa-android-$version.aar (${abis[*]}) and its .pom"
