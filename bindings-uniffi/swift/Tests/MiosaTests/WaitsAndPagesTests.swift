// The waits' `onState` closure and `client.nextPage(page)`, mirroring the
// Kotlin WaitStatesTest and NextPageTest.
import Foundation
import XCTest

@testable import Miosa

/// States a closure saw, from the client's I/O thread.
final class SeenStates: @unchecked Sendable {
    private let lock = NSLock()
    private var states: [String] = []

    func add(_ state: String) {
        lock.lock()
        states.append(state)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return states
    }
}

final class WaitsAndPagesTests: XCTestCase {
    func testABootingSandboxReportsEachStateOnce() async throws {
        try await withEmulator { emu in
            let client = try emu.client()
            let sandbox = try await client.sandboxes().create(params: SandboxesCreateParams(name: "watched"))
            let seen = SeenStates()
            let ready = try await client.sandboxes().waitUntilReady(
                id: sandbox.id, params: SandboxesWaitUntilReadyParams(timeout: 10)) { seen.add($0) }
            XCTAssertTrue(ready)
            XCTAssertEqual(seen.all.first, "creating", "\(seen.all)")
            XCTAssertEqual(seen.all.last, "running", "\(seen.all)")
            XCTAssertFalse(zip(seen.all, seen.all.dropFirst()).contains { $0 == $1 }, "\(seen.all)")

            let handle = try await client.createSandbox(params: SandboxesCreateParams(name: "watched-handle"))
            let states = SeenStates()
            XCTAssertTrue(try await handle.waitUntilReady(params: SandboxesWaitUntilReadyParams(timeout: 10)) { states.add($0) })
            XCTAssertEqual(states.all.last, "running", "\(states.all)")
            _ = try await handle.destroy()
        }
    }

    func testAPageNumberedListWalksThreePagesWithNextPage() async throws {
        try await withEmulator { emu in
            let client = try emu.client()
            for i in 0..<3 {
                _ = try await client.sandboxes().create(params: SandboxesCreateParams(name: "billed-\(i)"))
            }
            var everything: [String] = []
            for try await session in try client.usage().sessionsIter() {
                everything.append(session.id)
            }
            let perPage = (everything.count + 2) / 3
            let first = try await client.usage().sessions(params: UsageSessionsParams(perPage: perPage))
            let second = try await client.nextPage(first)
            let third = try await client.nextPage(XCTUnwrap(second))
            let walked = try [first, XCTUnwrap(second), XCTUnwrap(third)].flatMap { $0.items.map(\.id) }
            XCTAssertEqual(walked, everything)
            let after = try await client.nextPage(XCTUnwrap(third))
            XCTAssertNil(after)
        }
    }
}
