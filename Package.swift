// swift-tools-version:5.9
// The Swift package of the MIOSA client, as users add it:
//
//     .package(url: "https://github.com/miosa-native/miosa-native", from: "0.1.0")
//     .product(name: "Miosa", package: "miosa-native")
//
// The Rust library comes prebuilt as an XCFramework (macOS arm64/x86_64, iOS,
// iOS simulator) attached to the GitHub release; the Swift sources are the
// UniFFI-generated ones in bindings-uniffi/swift. The release workflow builds
// the XCFramework with bindings-uniffi/swift/build-xcframework.sh on macOS and
// writes its checksum below on the release tag. To try an XCFramework built
// locally, set MIOSA_LOCAL_XCFRAMEWORK=1 (uses dist/swift/MiosaFFI.xcframework).
//
// Development against a library built from this checkout uses the manifest in
// bindings-uniffi/swift/ instead. No Swift toolchain exists on this project's
// Linux CI: neither manifest is compiled there.
import Foundation
import PackageDescription

let version = "0.1.0"
let checksum = "0000000000000000000000000000000000000000000000000000000000000000"

let ffi: Target = ProcessInfo.processInfo.environment["MIOSA_LOCAL_XCFRAMEWORK"] == "1"
    ? .binaryTarget(name: "MiosaFFI", path: "dist/swift/MiosaFFI.xcframework")
    : .binaryTarget(
        name: "MiosaFFI",
        url: "https://github.com/miosa-native/miosa-native/releases/download/v\(version)/MiosaFFI.xcframework.zip",
        checksum: checksum
    )

let package = Package(
    name: "miosa-native",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "Miosa", targets: ["Miosa"]),
    ],
    targets: [
        ffi,
        .target(
            name: "Miosa",
            dependencies: ["MiosaFFI"],
            path: "bindings-uniffi/swift/Sources/Miosa"
        ),
    ]
)
