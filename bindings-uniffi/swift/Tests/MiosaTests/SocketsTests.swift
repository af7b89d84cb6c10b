// WebSockets through the Swift surface, like the Kotlin SocketsTest: a terminal
// round trip on the sandbox handle, interactive exec with its exit code, and
// close() from another task ending a pending next().
import Foundation
import XCTest
@testable import Miosa

final class SocketsTests: XCTestCase {
    /// Reads until `want` has arrived `times` times (at most 200 messages).
    private func readUntil(_ socket: Socket, _ want: String, times: Int = 1) async throws -> String {
        var seen = ""
        for _ in 0..<200 where seen.components(separatedBy: want).count - 1 < times {
            guard let message = try await socket.next() else { break }
            seen += message.text
        }
        XCTAssertGreaterThanOrEqual(seen.components(separatedBy: want).count - 1, times, "got \(seen)")
        return seen
    }

    func testTerminalRoundTripOnTheSandboxHandle() async throws {
        try await withEmulator { emu in
            let sandbox = try emu.client().connectSandbox(id: "sbx_fixture")
            let term = try await sandbox.terminal.stream(params: SandboxTerminalStreamParams(cols: 80, rows: 24))
            defer { term.close() }
            XCTAssertEqual(term.frames(), "terminal")
            try await term.sendText(text: "echo hi-term\n")
            _ = try await readUntil(term, "hi-term\r\n", times: 2)
            try await term.resize(cols: 120, rows: 33)
            try await term.sendBytes(data: Data("stty size\n".utf8))
            _ = try await readUntil(term, "33 120")
            term.close()
            XCTAssertTrue(term.isClosed())
            let after = try await term.next()
            XCTAssertNil(after)
        }
    }

    func testInteractiveExecReturnsItsExitCode() async throws {
        try await withEmulator { emu in
            let run = try await emu.client().exec().spawn(id: "sbx_fixture", command: "read name; echo hello-$name; exit 3")
            try await run.sendText(text: "swift\n")
            var out = ""
            for try await message in run where message.channel == .stdout {
                out += message.text
            }
            XCTAssertEqual(out, "hello-swift\n")
            XCTAssertEqual(run.exitCode(), 3)
        }
    }

    func testCloseFromAnotherTaskEndsAPendingNext() async throws {
        try await withEmulator { emu in
            let sleeper = try await emu.client().exec().spawn(id: "sbx_fixture", command: "sleep 20")
            let closer = Task {
                try await Task.sleep(nanoseconds: 300_000_000)
                sleeper.close()
            }
            let started = Date()
            let got = try await sleeper.next()
            XCTAssertNil(got)
            XCTAssertLessThan(Date().timeIntervalSince(started), 5)
            try await closer.value
        }
    }
}
