// swift-tools-version:5.9
// The Swift binding of the MIOSA client: UniFFI-generated sources (Sources/Miosa/Miosa.swift,
// Sources/MiosaFFI) over the Rust library libmiosa_uniffi, plus hand-written Extensions.swift.
//
// Build the Rust library first, from the repository root:
//     cargo build -p miosa-uniffi -p miosa-emulator      # -> target/debug/libmiosa_uniffi.dylib
// then here: `swift build`, `swift test` (the tests start target/debug/miosa-emulator).
// MIOSA_LIB_DIR overrides where the library is looked up (e.g. target/<triple>/debug).
//
// This is the development manifest. Users add the release manifest at the repository root, which
// takes the library as an XCFramework (built on macOS by build-xcframework.sh beside this file).
// This project's CI has no Swift toolchain: this package is generated and checked in, not compiled there.
import Foundation
import PackageDescription

let packageDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let libDir = ProcessInfo.processInfo.environment["MIOSA_LIB_DIR"]
    ?? packageDir.appendingPathComponent("../../target/debug").standardized.path

let package = Package(
    name: "Miosa",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "Miosa", targets: ["Miosa"]),
    ],
    targets: [
        // The C declarations of the library's FFI (header + modulemap from uniffi-bindgen).
        .systemLibrary(name: "MiosaFFI", path: "Sources/MiosaFFI"),
        .target(
            name: "Miosa",
            dependencies: ["MiosaFFI"],
            path: "Sources/Miosa",
            linkerSettings: [
                .linkedLibrary("miosa_uniffi"),
                .unsafeFlags(["-L", libDir, "-Xlinker", "-rpath", "-Xlinker", libDir]),
            ]
        ),
        .testTarget(
            name: "MiosaTests",
            dependencies: ["Miosa"],
            path: "Tests/MiosaTests"
        ),
    ]
)
