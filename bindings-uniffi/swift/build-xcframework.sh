#!/usr/bin/env bash
# Builds MiosaFFI.xcframework (the Rust library libmiosa_uniffi as static
# libraries plus the UniFFI header and module map) for the release Package.swift
# at the repository root, zips it and prints the SwiftPM checksum.
#
#   bindings-uniffi/swift/build-xcframework.sh [OUT_DIR]     # default dist/swift
#
# Needs macOS with Xcode (xcodebuild, lipo, swift) and rustup; it cannot run on
# this project's Linux CI. scripts/package.sh calls it when run on macOS.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT="${1:-$ROOT/dist/swift}"
[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS and Xcode" >&2; exit 1; }
unset CARGO_BUILD_TARGET

targets=(aarch64-apple-darwin x86_64-apple-darwin aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${targets[@]}"
for t in "${targets[@]}"; do
  # A static library for every Apple platform: iOS apps may not ship loose dylibs.
  cargo rustc --release --locked -p miosa-uniffi --lib --crate-type staticlib --target "$t"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lib=libmiosa_uniffi.a
mkdir -p "$work/macos" "$work/ios-sim" "$work/headers"
lipo -create target/aarch64-apple-darwin/release/$lib target/x86_64-apple-darwin/release/$lib \
  -output "$work/macos/$lib"
lipo -create target/aarch64-apple-ios-sim/release/$lib target/x86_64-apple-ios/release/$lib \
  -output "$work/ios-sim/$lib"
cp bindings-uniffi/swift/Sources/MiosaFFI/MiosaFFI.h bindings-uniffi/swift/Sources/MiosaFFI/module.modulemap \
  "$work/headers/"

rm -rf "$OUT/MiosaFFI.xcframework" "$OUT/MiosaFFI.xcframework.zip"
mkdir -p "$OUT"
xcodebuild -create-xcframework \
  -library "$work/macos/$lib" -headers "$work/headers" \
  -library target/aarch64-apple-ios/release/$lib -headers "$work/headers" \
  -library "$work/ios-sim/$lib" -headers "$work/headers" \
  -output "$OUT/MiosaFFI.xcframework"
(cd "$OUT" && ditto -c -k --sequesterRsrc --keepParent MiosaFFI.xcframework MiosaFFI.xcframework.zip)
echo "checksum $(swift package compute-checksum "$OUT/MiosaFFI.xcframework.zip")"
